// glob.match and glob.quote_meta (gobwas/glob semantics, see glob_pattern.h).
#include <memory>
#include <string>
#include <vector>

#include "policy/builtins/glob_pattern.h"
#include "policy/builtins/utf8.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

BuiltinResult match(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "glob.match";
  EC_ASSIGN_OR_RETURN(std::string_view pattern, arg_string(kName, args, 1));
  std::vector<char32_t> delims;
  std::string key = "glob:";
  if (args[1].is_null()) {
    key += "null";
  } else {
    EC_RETURN_IF_ERROR(check_types(kName, args, 2, {Type::kArray, Type::kNull}));
    for (const Value& d : args[1].array_items()) {
      if (!d.is_string()) {
        return type_error(kName, "operand 2 must be array of strings but got array containing " +
                                     std::string(type_name(d.type())));
      }
      std::u32string u = utf8_decode(d.as_string());
      if (!u.empty()) delims.push_back(u[0]);
      key += d.as_string();
      key.push_back('\0');
    }
    // An empty list means the default delimiter ".".
    if (args[1].array_items().empty()) delims.push_back('.');
  }
  EC_ASSIGN_OR_RETURN(std::string_view text, arg_string(kName, args, 3));
  key += '\x01';
  key += pattern;
  std::shared_ptr<const GlobPattern> glob;
  auto it = ctx.cache.find(key);
  if (it != ctx.cache.end()) {
    glob = std::static_pointer_cast<const GlobPattern>(it->second);
  } else {
    auto compiled = GlobPattern::compile(pattern, std::move(delims));
    if (!compiled.is_ok()) return builtin_error(kName, compiled.status().message());
    auto owned = std::make_shared<GlobPattern>(std::move(compiled).value());
    ctx.cache.emplace(std::move(key), owned);
    glob = std::move(owned);
  }
  return ok(Value::boolean(glob->matches(text)));
}

BuiltinResult quote_meta(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("glob.quote_meta", args, 1));
  return ok(Value::string(glob_quote_meta(s)));
}

}  // namespace

void register_glob_builtins(BuiltinRegistry& r) {
  r.add("glob.match", 3, match);
  r.add("glob.quote_meta", 1, quote_meta);
}

}  // namespace policy::builtins
