// Helpers shared by the library builtins: operand checks with OPA's messages, registration
// hooks of each builtin family.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "policy/builtin.h"
#include "policy/value.h"

namespace policy::builtins {

using Args = std::span<const Value>;

// Integral number operand; a fractional number gives OPA's
// "<name>: operand <pos> must be integer number but got floating-point number".
base::Result<int64_t> int_operand(std::string_view name, Args args, int pos);

// "operand <pos> must be <want> but got <type>" as a builtin (not type) error, for the few
// builtins where OPA reports operand problems that way.
base::Status operand_builtin_error(std::string_view name, int pos, std::string_view want,
                                   const Value& got);

// Members of an array or set operand (OPA's "one of {array, set}" check).
base::Result<std::span<const Value>> collection_operand(std::string_view name, Args args,
                                                        int pos);

// JSON text as Go's json.Marshal writes it (OPA's json.marshal, JWT and AWS bodies): compact,
// with '<', '>', '&', U+2028 and U+2029 escaped as \u003c, \u003e, \u0026, \u2028, \u2029.
std::string go_json(const Value& v);
// Applies the same escaping to JSON text produced elsewhere.
std::string go_json_escape(std::string json);

// Registration of each family (one per .cc file).
void register_string_builtins(BuiltinRegistry& r);
void register_graphql_builtins(BuiltinRegistry& r);
void register_sprintf_builtins(BuiltinRegistry& r);
void register_regex_builtins(BuiltinRegistry& r);
void register_glob_builtins(BuiltinRegistry& r);
void register_encoding_builtins(BuiltinRegistry& r);
void register_serialization_builtins(BuiltinRegistry& r);
void register_crypto_builtins(BuiltinRegistry& r);
void register_jwt_builtins(BuiltinRegistry& r);
void register_time_builtins(BuiltinRegistry& r);
void register_net_builtins(BuiltinRegistry& r);
void register_semver_builtins(BuiltinRegistry& r);
void register_object_builtins(BuiltinRegistry& r);
void register_json_path_builtins(BuiltinRegistry& r);
void register_collection_builtins(BuiltinRegistry& r);
void register_misc_builtins(BuiltinRegistry& r);
void register_graph_builtins(BuiltinRegistry& r);
void register_x509_builtins(BuiltinRegistry& r);
void register_aws_builtins(BuiltinRegistry& r);
void register_jsonschema_builtins(BuiltinRegistry& r);
void register_template_builtins(BuiltinRegistry& r);
void register_globs_builtins(BuiltinRegistry& r);
void register_deprecated_builtins(BuiltinRegistry& r);

}  // namespace policy::builtins
