// Fuzzes the GraphQL builtins (src/policy/builtins/graphql*.cc) through the builtin registry:
// the input is a query document, a schema document, or both (split at the first NUL byte).
// Properties:
//  - nothing crashes, hangs or throws, whatever the text;
//  - parse_query / parse_schema either give an object or fail with eval_builtin_error and
//    OPA's "... in GraphQL string at location L:C" text;
//  - is_valid and schema_is_valid always answer a boolean;
//  - parse_and_verify agrees with is_valid.
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/builtin.h"

namespace {

std::optional<policy::Value> call(std::string_view name, std::vector<policy::Value> args,
                                  bool& failed) {
  const policy::Builtin* b = policy::BuiltinRegistry::standard().find(name);
  if (b == nullptr) std::abort();
  policy::BuiltinContext ctx;
  auto r = b->fn(ctx, args);
  failed = !r.is_ok();
  if (failed) {
    if (r.status().reason() != policy::kBuiltinError) std::abort();
    if (r.status().message().find("GraphQL string at location") == std::string::npos &&
        r.status().message().find("Error in gqlparser") == std::string::npos) {
      std::abort();
    }
    return std::nullopt;
  }
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t nul = text.find('\0');
  std::string query = text.substr(0, nul);
  std::string schema = nul == std::string::npos ? text : text.substr(nul + 1);
  using policy::Value;
  bool failed = false;
  for (std::string_view fn : {"graphql.parse_query", "graphql.parse_schema"}) {
    auto v = call(fn, {Value::string(fn == "graphql.parse_query" ? query : schema)}, failed);
    if (!failed && (!v || !v->is_object())) std::abort();
  }
  auto valid = call("graphql.is_valid", {Value::string(query), Value::string(schema)}, failed);
  if (failed || !valid || !valid->is_boolean()) std::abort();
  auto schema_valid = call("graphql.schema_is_valid", {Value::string(schema)}, failed);
  if (failed || !schema_valid || !schema_valid->is_boolean()) std::abort();
  auto verified =
      call("graphql.parse_and_verify", {Value::string(query), Value::string(schema)}, failed);
  if (failed || !verified || !verified->is_array() || verified->array_items().size() != 3) {
    std::abort();
  }
  if (verified->array_items()[0] != *valid) std::abort();
  return 0;
}
