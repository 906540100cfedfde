// jose.h without OpenSSL, for the wasm32-wasi build: SHA-256 and HMAC-SHA-256 from base's
// portable implementation, so crypto.sha256, crypto.hmac.sha256 and HS256 tokens (io.jwt.*
// with "oct" JWKs or plain secrets) work; every other digest, MAC and algorithm (md5, sha1,
// sha384/512, RSA, ECDSA, EdDSA, PEM keys) is refused or reported unknown, as jose.h's
// contract allows. The native build compiles jose.cc instead.
#include "base/crypto.h"
#include "policy/builtins/jose.h"

namespace policy::builtins::jose {
base::Result<Key> parse_jwk(const Value& jwk) {
  if (!jwk.is_object()) return base::invalid_argument("JWK must be an object");
  const Value* kty = jwk.find("kty");
  if (kty == nullptr || !kty->is_string()) return base::invalid_argument("JWK is missing \"kty\"");
  Key key;
  if (const Value* kid = jwk.find("kid"); kid && kid->is_string()) key.kid = kid->as_string();
  if (const Value* alg = jwk.find("alg"); alg && alg->is_string()) key.alg = alg->as_string();
  if (kty->as_string() != "oct") {
    return base::invalid_argument("JWK of type \"" + kty->as_string() +
                                  "\": only \"oct\" keys in the wasm32-wasi build");
  }
  EC_ASSIGN_OR_RETURN(key.secret, jwk_bytes_field(jwk, "k", true));
  return key;
}

base::Result<std::vector<Key>> parse_public_keys(std::string_view text) {
  if (text.find("-----BEGIN") != std::string_view::npos)
    return base::invalid_argument("PEM keys are not available in the wasm32-wasi build");
  return parse_jwk_text(text);
}

std::string digest(std::string_view name, std::string_view data) {
  if (name != "sha256") return {};
  return std::string(base::as_bytes(base::sha256(data)));
}

std::string hmac(std::string_view name, std::string_view key, std::string_view data) {
  if (name != "sha256") return {};
  return std::string(base::as_bytes(base::hmac_sha256(key, data)));
}

bool equal_ct(std::string_view a, std::string_view b) { return base::constant_time_equal(a, b); }

bool known_alg(std::string_view alg) { return alg == "HS256"; }

bool verify(std::string_view alg, const Key& key, std::string_view input, std::string_view sig) {
  if (alg != "HS256" || key.pkey) return false;
  return equal_ct(hmac("sha256", key.secret, input), sig);
}

base::Result<std::string> sign(std::string_view alg, const Key& key, std::string_view input) {
  if (alg != "HS256")
    return base::invalid_argument("only HS256 signatures in the wasm32-wasi build");
  if (key.pkey) return base::invalid_argument("HMAC algorithms need an \"oct\" key");
  return hmac("sha256", key.secret, input);
}

}  // namespace policy::builtins::jose
