// Shared pieces of the GraphQL validators: reading the parser's trees, the spec's
// introspection types, gqlparser's value printing and "Did you mean" suggestions.
#include "policy/builtins/graphql_check.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "policy/builtins/graphql_parser.h"

namespace policy::builtins::graphql {

std::string_view str_of(const Value& obj, std::string_view key) {
  const Value* v = obj.find(key);
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

std::span<const Value> list_of(const Value& obj, std::string_view key) {
  const Value* v = obj.find(key);
  return v != nullptr && v->is_array() ? v->array_items() : std::span<const Value>();
}

// The innermost named type of a type reference ({"NamedType", "Elem", "NonNull"}).
std::string_view named_type(const Value& type) {
  const Value* t = &type;
  while (t != nullptr && str_of(*t, "NamedType").empty()) t = t->find("Elem");
  return t != nullptr ? str_of(*t, "NamedType") : std::string_view();
}

// "[Int!]!" from a type reference.
std::string type_string(const Value& t) {
  std::string out;
  if (const Value* elem = t.find("Elem")) {
    out = "[" + type_string(*elem) + "]";
  } else {
    out = std::string(str_of(t, "NamedType"));
  }
  const Value* nn = t.find("NonNull");
  if (nn != nullptr && nn->is_boolean() && nn->as_bool()) out += "!";
  return out;
}

const Value& introspection_types() {
  // The spec's introspection schema (GraphQL, October 2021, section 4.5), plus the two fields
  // every query root type offers (__QueryRoot, not a type of its own: see root_field()).
  static const Value* types = new Value(*parse_schema(R"(
type __Schema {
  description: String
  types: [__Type!]!
  queryType: __Type!
  mutationType: __Type
  subscriptionType: __Type
  directives: [__Directive!]!
}
type __Type {
  kind: __TypeKind!
  name: String
  description: String
  fields(includeDeprecated: Boolean = false): [__Field!]
  interfaces: [__Type!]
  possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields(includeDeprecated: Boolean = false): [__InputValue!]
  ofType: __Type
  specifiedByURL: String
}
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
type __Field {
  name: String!
  description: String
  args(includeDeprecated: Boolean = false): [__InputValue!]!
  type: __Type!
  isDeprecated: Boolean!
  deprecationReason: String
}
type __InputValue {
  name: String!
  description: String
  type: __Type!
  defaultValue: String
  isDeprecated: Boolean!
  deprecationReason: String
}
type __EnumValue {
  name: String!
  description: String
  isDeprecated: Boolean!
  deprecationReason: String
}
type __Directive {
  name: String!
  description: String
  locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean = false): [__InputValue!]!
  isRepeatable: Boolean!
}
enum __DirectiveLocation {
  QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT
  VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE UNION
  ENUM ENUM_VALUE INPUT_OBJECT INPUT_FIELD_DEFINITION
}
)"));
  return *types;
}

// The introspection fields of the query root type: __schema and __type(name:).
const Value* root_field(std::string_view name) {
  static const Value* fields = new Value(
      *parse_schema("type __QueryRoot { __schema: __Schema! __type(name: String!): __Type }"));
  for (const Value& f : list_of(list_of(*fields, "Definitions")[0], "Fields")) {
    if (str_of(f, "Name") == name) return &f;
  }
  return nullptr;
}

// __typename on every composite type.
const Value& typename_field() {
  static const Value* field = new Value(list_of(
      list_of(*parse_schema("type T { __typename: String! }"), "Definitions")[0], "Fields")[0]);
  return *field;
}

namespace {

// gqlparser's lexical distance (Damerau-Levenshtein, case-insensitive, a case-only difference
// is 1) for "Did you mean" suggestions; -1 beyond `threshold`.
int lexical_distance(std::string_view a, std::string_view b, int threshold) {
  if (a == b) return 0;
  std::string la(a), lb(b);
  for (char& c : la) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : lb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (la == lb) return 1;
  int n = static_cast<int>(la.size()), m = static_cast<int>(lb.size());
  if (std::abs(n - m) > threshold) return -1;
  std::vector<std::vector<int>> d(static_cast<size_t>(n + 1), std::vector<int>(m + 1));
  for (int i = 0; i <= n; ++i) d[i][0] = i;
  for (int j = 0; j <= m; ++j) d[0][j] = j;
  for (int i = 1; i <= n; ++i) {
    for (int j = 1; j <= m; ++j) {
      int cost = la[i - 1] == lb[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && la[i - 1] == lb[j - 2] && la[i - 2] == lb[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m] <= threshold ? d[n][m] : -1;
}

}  // namespace

// " Did you mean "a", "b", or "c"?" for the options close to `typed` (none: "").
std::string suggest(std::string_view prefix, std::string_view typed,
                    const std::vector<std::string>& options, bool quoted) {
  int threshold = static_cast<int>(typed.size() * 4 / 10) + 1;
  std::vector<std::pair<int, std::string>> close;
  for (const std::string& o : options) {
    int d = lexical_distance(typed, o, threshold);
    if (d >= 0) close.emplace_back(d, o);
  }
  if (close.empty()) return "";
  std::sort(close.begin(), close.end());
  if (close.size() > 5) close.resize(5);
  std::string out = " " + std::string(prefix) + " ";
  for (size_t i = 0; i < close.size(); ++i) {
    if (i > 0 && close.size() > 2) out += ", ";
    if (i > 0 && i + 1 == close.size()) out += close.size() > 2 ? "or " : " or ";
    out += quoted ? "\"" + close[i].second + "\"" : close[i].second;
  }
  return out + "?";
}

namespace {

// Go's strconv.Quote, for the string values messages print.
std::string go_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\x";
          out += hex[(c >> 4) & 0xF];
          out += hex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

// gqlparser's Value.String(): how messages print a value literal.
std::string value_string(const Value& v) {
  const Value* k = v.find("Kind");
  int kind = k != nullptr ? static_cast<int>(k->as_int().value_or(-1)) : -1;
  std::string raw(str_of(v, "Raw"));
  switch (kind) {
    case 0:
      return "$" + raw;
    case 3:
    case 4:
      return go_quoted(raw);
    case 8:
    case 9: {
      std::string out = kind == 8 ? "[" : "{";
      bool first = true;
      for (const Value& c : list_of(v, "Children")) {
        if (!first) out += ",";
        first = false;
        if (kind == 9) out += std::string(str_of(c, "Name")) + ":";
        if (const Value* cv = c.find("Value")) out += value_string(*cv);
      }
      return out + (kind == 8 ? "]" : "}");
    }
    default:
      return raw;
  }
}

int value_kind(const Value& v) {
  const Value* k = v.find("Kind");
  return k != nullptr ? static_cast<int>(k->as_int().value_or(-1)) : -1;
}

bool non_null(const Value& type) {
  const Value* nn = type.find("NonNull");
  return nn != nullptr && nn->is_boolean() && nn->as_bool();
}

}  // namespace policy::builtins::graphql
