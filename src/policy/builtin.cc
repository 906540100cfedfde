#include "policy/builtin.h"

#include <algorithm>

namespace policy {

void BuiltinRegistry::add(std::string name, int arity, BuiltinFn fn, bool deterministic) {
  Builtin b{name, arity, fn, deterministic};
  builtins_[std::move(name)] = std::move(b);
}

const Builtin* BuiltinRegistry::find(std::string_view name) const {
  auto it = builtins_.find(name);
  return it == builtins_.end() ? nullptr : &it->second;
}

std::vector<std::string_view> BuiltinRegistry::names() const {
  std::vector<std::string_view> out;
  out.reserve(builtins_.size());
  for (const auto& [name, b] : builtins_) out.push_back(name);
  return out;
}

const BuiltinRegistry& BuiltinRegistry::standard() {
  static const BuiltinRegistry* registry = [] {
    auto r = std::make_unique<BuiltinRegistry>();
    register_core_builtins(*r);
    register_library_builtins(*r);
    return r.release();
  }();
  return *registry;
}

base::Status type_error(std::string_view name, std::string_view message) {
  std::string m(name);
  m += ": ";
  m += message;
  return base::Status(base::Code::kInvalidArgument, std::move(m), std::string(kTypeError));
}

base::Status builtin_error(std::string_view name, std::string_view message) {
  std::string m(name);
  m += ": ";
  m += message;
  return base::Status(base::Code::kInvalidArgument, std::move(m), std::string(kBuiltinError));
}

bool is_type_error(const base::Status& s) { return !s.is_ok() && s.reason() == kTypeError; }
bool is_builtin_error(const base::Status& s) {
  return !s.is_ok() && s.reason() == kBuiltinError;
}

base::Status operand_error(std::string_view name, int pos, std::string_view want,
                           const Value& got) {
  std::string m = "operand " + std::to_string(pos) + " must be ";
  m += want;
  m += " but got ";
  m += type_name(got.type());
  return type_error(name, m);
}

base::Status check_type(std::string_view name, std::span<const Value> args, int pos, Type t) {
  const Value& v = args[static_cast<size_t>(pos - 1)];
  if (v.type() == t) return base::Status::ok();
  return operand_error(name, pos, type_name(t), v);
}

base::Status check_types(std::string_view name, std::span<const Value> args, int pos,
                         std::initializer_list<Type> types) {
  const Value& v = args[static_cast<size_t>(pos - 1)];
  for (Type t : types) {
    if (v.type() == t) return base::Status::ok();
  }
  std::vector<std::string_view> names;
  for (Type t : types) names.push_back(type_name(t));
  std::string want = "one of {";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) want += ", ";
    want += names[i];
  }
  want += "}";
  return operand_error(name, pos, want, v);
}

base::Result<std::string_view> arg_string(std::string_view name, std::span<const Value> args,
                                          int pos) {
  EC_RETURN_IF_ERROR(check_type(name, args, pos, Type::kString));
  return std::string_view(args[static_cast<size_t>(pos - 1)].as_string());
}

base::Result<double> arg_number(std::string_view name, std::span<const Value> args, int pos) {
  EC_RETURN_IF_ERROR(check_type(name, args, pos, Type::kNumber));
  return args[static_cast<size_t>(pos - 1)].as_double();
}

base::Result<int64_t> arg_int(std::string_view name, std::span<const Value> args, int pos) {
  EC_RETURN_IF_ERROR(check_type(name, args, pos, Type::kNumber));
  auto i = args[static_cast<size_t>(pos - 1)].as_int();
  if (!i) {
    return type_error(name, "operand " + std::to_string(pos) +
                                " must be integer but got floating-point number");
  }
  return *i;
}

base::Result<bool> arg_bool(std::string_view name, std::span<const Value> args, int pos) {
  EC_RETURN_IF_ERROR(check_type(name, args, pos, Type::kBoolean));
  return args[static_cast<size_t>(pos - 1)].as_bool();
}

}  // namespace policy
