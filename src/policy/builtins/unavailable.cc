// The builtins of regex.cc (RE2) and x509.cc (OpenSSL) for the wasm32-wasi build, which has
// neither library: each name is registered, so a policy that uses it still compiles (the
// same capabilities in both builds), and a call fails with a builtin error that says why.
// The native build compiles regex.cc and x509.cc instead.
#include <utility>

#include "policy/builtin.h"
#include "policy/builtins/util.h"

namespace policy::builtins {
namespace {

struct Missing {
  const char* name;
  int arity;
  const char* needs;
};

constexpr Missing kMissing[] = {
    {"regex.match", 2, "RE2"},
    {"re_match", 2, "RE2"},
    {"regex.is_valid", 1, "RE2"},
    {"regex.split", 2, "RE2"},
    {"regex.find_n", 3, "RE2"},
    {"regex.find_all_string_submatch_n", 3, "RE2"},
    {"regex.replace", 3, "RE2"},
    {"regex.template_match", 4, "RE2"},
    {"crypto.x509.parse_certificates", 1, "OpenSSL"},
    {"crypto.x509.parse_certificate_request", 1, "OpenSSL"},
    {"crypto.x509.parse_rsa_private_key", 1, "OpenSSL"},
    {"crypto.x509.parse_keypair", 2, "OpenSSL"},
    {"crypto.parse_private_keys", 1, "OpenSSL"},
    {"crypto.x509.parse_and_verify_certificates", 1, "OpenSSL"},
    {"crypto.x509.parse_and_verify_certificates_with_options", 2, "OpenSSL"},
};

// BuiltinFn is a plain function pointer: one instantiation per table row knows its name.
template <size_t I>
BuiltinResult unavailable(BuiltinContext&, Args) {
  return builtin_error(kMissing[I].name, std::string("not available in the wasm32-wasi build "
                                                     "(needs ") +
                                             kMissing[I].needs + "); run the native server");
}

template <size_t... I>
void add_all(BuiltinRegistry& r, std::string_view needs, std::index_sequence<I...>) {
  ((std::string_view(kMissing[I].needs) == needs
        ? r.add(kMissing[I].name, kMissing[I].arity, &unavailable<I>)
        : void()),
   ...);
}

}  // namespace

void register_regex_builtins(BuiltinRegistry& r) {
  add_all(r, "RE2", std::make_index_sequence<std::size(kMissing)>());
}

void register_x509_builtins(BuiltinRegistry& r) {
  add_all(r, "OpenSSL", std::make_index_sequence<std::size(kMissing)>());
}

}  // namespace policy::builtins
