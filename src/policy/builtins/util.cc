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

}  // namespace policy::builtins
