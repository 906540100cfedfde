// Library builtins (strings, regex, encodings, crypto, time, ...). Owned by the builtins
// work; each group registers itself from here.
#include "policy/builtin.h"

namespace policy {

void register_library_builtins(BuiltinRegistry& registry) {}

}  // namespace policy
