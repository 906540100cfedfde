// Builtins that OPA deprecated but still accepts in Rego v0 policies: any, all, set_diff,
// cast_*, net.cidr_overlap. (The compiler decides whether v1 modules may call them.)
#include <string>
#include <vector>

#include "policy/builtins/ip.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

template <bool All>
BuiltinResult any_all(BuiltinContext&, Args args) {
  std::string_view name = All ? "all" : "any";
  EC_RETURN_IF_ERROR(check_types(name, args, 1, {Type::kArray, Type::kSet}));
  for (const Value& v : args[0].elements()) {
    bool is_true = v.is_boolean() && v.as_bool();
    if (All && !is_true) return ok(Value::boolean(false));
    if (!All && is_true) return ok(Value::boolean(true));
  }
  return ok(Value::boolean(All));
}

BuiltinResult set_diff(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("set_diff", args, 1, Type::kSet));
  EC_RETURN_IF_ERROR(check_type("set_diff", args, 2, Type::kSet));
  std::vector<Value> out;
  for (const Value& v : args[0].set_items()) {
    if (!args[1].contains(v)) out.push_back(v);
  }
  return ok(Value::set_sorted(std::move(out)));
}

BuiltinResult cast_array(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_types("cast_array", args, 1, {Type::kArray, Type::kSet}));
  if (args[0].is_array()) return ok(args[0]);
  return ok(Value::array(std::vector<Value>(args[0].set_items().begin(), args[0].set_items().end())));
}

BuiltinResult cast_set(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_types("cast_set", args, 1, {Type::kArray, Type::kSet}));
  if (args[0].is_set()) return ok(args[0]);
  return ok(Value::set(std::vector<Value>(args[0].array_items().begin(), args[0].array_items().end())));
}

template <Type T>
BuiltinResult cast_identity(BuiltinContext&, Args args) {
  std::string name = "cast_" + std::string(type_name(T));
  EC_RETURN_IF_ERROR(check_type(name, args, 1, T));
  return ok(args[0]);
}

BuiltinResult cidr_overlap(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "net.cidr_overlap";
  EC_ASSIGN_OR_RETURN(std::string_view c, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view a, arg_string(kName, args, 2));
  auto net = ip::parse_prefix(c);
  if (!net) return builtin_error(kName, "invalid CIDR address: " + std::string(c));
  auto addr = ip::parse_addr(a);
  if (!addr) return builtin_error(kName, "invalid IP address: " + std::string(a));
  return ok(Value::boolean(net->contains(*addr)));
}

}  // namespace

void register_deprecated_builtins(BuiltinRegistry& r) {
  r.add("any", 1, any_all<false>);
  r.add("all", 1, any_all<true>);
  r.add("set_diff", 2, set_diff);
  r.add("cast_array", 1, cast_array);
  r.add("cast_set", 1, cast_set);
  r.add("cast_string", 1, cast_identity<Type::kString>);
  r.add("cast_boolean", 1, cast_identity<Type::kBoolean>);
  r.add("cast_null", 1, cast_identity<Type::kNull>);
  r.add("cast_object", 1, cast_identity<Type::kObject>);
  r.add("net.cidr_overlap", 2, cidr_overlap);
}

}  // namespace policy::builtins
