// OPA's compile-time type check of builtin calls, for the arguments whose type is known
// before evaluation.
//
// OPA's type checker rejects `count(1)` or `upper(1)` when the policy compiles
// (rego_type_error), where evaluation would fail later with an eval_type_error. We check the
// same thing for the calls whose every argument has a type known at compile time: scalar
// literals (number, string, boolean, null), string templates, and references into `input`
// (of type any, as OPA types an input without a schema). Other calls are left to evaluation.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "policy/ast.h"

namespace policy {

// Empty when `args` fit the declared operand types of builtin `name` (or cannot be judged);
// otherwise OPA's message: "<name>: invalid argument(s)\n\thave: (number)\n\twant: (string)".
// OPA's want line also names each operand ("want: (x: string)"); the names are not in the
// capabilities file and are left out here.
std::string builtin_argument_error(std::string_view name, std::span<const TermPtr> args);

}  // namespace policy
