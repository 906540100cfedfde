// Rego parser: tokens -> ModuleAst. Handles Rego v1 (OPA 1.x) and v0 (OPA 0.x, keywords
// only through `import future.keywords...`).
#pragma once

#include <string_view>

#include "base/status.h"
#include "policy/ast.h"

namespace policy {

enum class Syntax { kAuto, kV0, kV1 };

// Parses one module. kAuto: `import rego.v1` selects v1; `import future.keywords...` (without
// rego.v1) marks an OPA 0.x module and selects v0 when it parses as v0; otherwise v1 is tried
// first and v0 used when only v0 parses. If both fail the v1 error is returned. Errors are
// "file:line:col: rego_parse_error: ..." with reason "rego_parse_error".
base::Result<ModuleAst> parse_module(std::string_view filename, std::string_view source,
                                     Syntax syntax = Syntax::kAuto);

// Parses a query (a body: literals separated by ';' or newlines) in v1 syntax.
base::Result<Body> parse_query(std::string_view source);

}  // namespace policy
