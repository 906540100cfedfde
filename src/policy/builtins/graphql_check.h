// What the GraphQL validators share (graphql_check.cc): reading the parser's trees
// (graphql_parser.h), the schema as SchemaChecker (graphql.cc) builds it, and the query
// validation of graphql_query.cc.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/value.h"

namespace policy::builtins::graphql {

// The string member `key` of a tree node ("" when absent).
std::string_view str_of(const Value& obj, std::string_view key);
// The array member `key` of a tree node (empty when absent).
std::span<const Value> list_of(const Value& obj, std::string_view key);
// The innermost named type of a type reference ({"NamedType", "Elem", "NonNull"}).
std::string_view named_type(const Value& type);
// "[Int!]!" from a type reference.
std::string type_string(const Value& t);

// One named type of a schema, its definition and extensions merged.
struct TypeInfo {
  std::string kind;  // "SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM", "INPUT_OBJECT"
  std::vector<Value> fields, values, directives;
  std::vector<std::string> interfaces, members;
};

struct DirectiveInfo {
  std::vector<std::string> locations;
};

// A checked schema, as the query validator reads it. The introspection types (__Schema,
// __Type, ...) are among `types`.
struct SchemaView {
  const std::map<std::string, TypeInfo>& types;
  const std::map<std::string, DirectiveInfo>& directives;
  const std::map<std::string, std::string>& roots;  // "query" -> "Query"
};

// The first problem of an executable document (parsed with positions) against a schema, in
// gqlparser's words; an empty message when the document is valid.
struct QueryProblem {
  std::string message;
  int line = 0, col = 0;
};
QueryProblem check_query(const SchemaView& schema, const Value& doc);

// The fields every query root type has (__schema, __type(name:)) by name; nullptr for others.
const Value* root_field(std::string_view name);
// __typename's definition (String!, on every composite type).
const Value& typename_field();
// gqlparser's suggestion: " Did you mean "a", "b", or "c"?" (`prefix` first) for the options
// close to `typed` (lexical distance), quoted or not; "" when none is close.
std::string suggest(std::string_view prefix, std::string_view typed,
                    const std::vector<std::string>& options, bool quoted);
// gqlparser's Value.String() for a value node: how messages print a literal.
std::string value_string(const Value& v);
// A value node's gqlparser kind (Variable 0, Int 1, Float 2, String 3, Block 4, Boolean 5,
// Null 6, Enum 7, List 8, Object 9); -1 when absent.
int value_kind(const Value& v);
// True when a type reference is non-null ("T!").
bool non_null(const Value& type);

// The introspection types of the GraphQL spec (section 4.5), as a schema document to merge
// into every schema.
const Value& introspection_types();

}  // namespace policy::builtins::graphql
