#include "policy/builtins/util.h"

namespace policy::builtins {

base::Result<int64_t> int_operand(std::string_view name, Args args, int pos) {
  EC_RETURN_IF_ERROR(check_type(name, args, pos, Type::kNumber));
  auto i = args[static_cast<size_t>(pos - 1)].as_int();
  if (!i) {
    return type_error(name, "operand " + std::to_string(pos) +
                                " must be integer number but got floating-point number");
  }
  return *i;
}

base::Status operand_builtin_error(std::string_view name, int pos, std::string_view want,
                                   const Value& got) {
  return builtin_error(name, "operand " + std::to_string(pos) + " must be " + std::string(want) +
                                 " but got " + std::string(type_name(got.type())));
}

base::Result<std::span<const Value>> collection_operand(std::string_view name, Args args,
                                                        int pos) {
  EC_RETURN_IF_ERROR(check_types(name, args, pos, {Type::kArray, Type::kSet}));
  return args[static_cast<size_t>(pos - 1)].elements();
}

std::string go_json_escape(std::string json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    // These characters can only occur inside JSON strings, so replacing them is safe.
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string go_json(const Value& v) { return go_json_escape(v.to_json()); }

}  // namespace policy::builtins
