// Library builtins (strings, regex, encodings, crypto, time, ...). Owned by the builtins
// work; each group registers itself from here.
#include "policy/builtin.h"
#include "policy/builtins/util.h"

namespace policy {

void register_library_builtins(BuiltinRegistry& registry) {
  using namespace builtins;
  register_string_builtins(registry);
  register_sprintf_builtins(registry);
  register_regex_builtins(registry);
  register_glob_builtins(registry);
  register_time_builtins(registry);
  register_encoding_builtins(registry);
  register_serialization_builtins(registry);
  register_object_builtins(registry);
  register_json_path_builtins(registry);
  register_collection_builtins(registry);
  register_crypto_builtins(registry);
  register_jwt_builtins(registry);
  register_net_builtins(registry);
  register_semver_builtins(registry);
  register_misc_builtins(registry);
  register_graph_builtins(registry);
  register_x509_builtins(registry);
  register_aws_builtins(registry);
  register_jsonschema_builtins(registry);
  register_template_builtins(registry);
  register_globs_builtins(registry);
  register_graphql_builtins(registry);
  register_deprecated_builtins(registry);
}

}  // namespace policy
