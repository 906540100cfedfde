#include "policy/builtin.h"

namespace policy {

void register_core_builtins(BuiltinRegistry& registry) {}

}  // namespace policy
