// GraphQL documents as the trees OPA's graphql.* builtins return (see graphql_parser.cc).
#pragma once

#include <string_view>

#include "base/status.h"
#include "policy/value.h"

namespace policy::builtins::graphql {

// An executable document (operations and fragments). With `positions`, fields, fragment
// spreads, inline fragments, operations, directives and variable definitions also carry
// "Position": [line, column] (validation messages need them; OPA's AST has none). A syntax
// error is "<message> in GraphQL string at location <line>:<column>", as OPA words it.
base::Result<Value> parse_query(std::string_view src, bool positions = false);
// A type system document (schema, type and directive definitions, extensions).
base::Result<Value> parse_schema(std::string_view src);

}  // namespace policy::builtins::graphql
