// Keys and signatures for JWS (RFC 7515/7518) on OpenSSL: HMAC, RSA PKCS#1 v1.5, RSA-PSS,
// ECDSA (raw r||s signatures) and Ed25519. Keys come from PEM (certificates, public or
// private keys) or JWK / JWK Sets.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "policy/value.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace policy::builtins::jose {

struct Key {
  std::shared_ptr<EVP_PKEY> pkey;  // asymmetric keys; null for "oct"
  std::string secret;              // "oct" keys (HMAC)
  std::string kid;
  std::string alg;  // the JWK's "alg", if any
};

// Verification keys from `text` as OPA reads them: one PEM block (CERTIFICATE or PUBLIC KEY;
// another type, or data after the block, is refused with OPA's message), else a JWK or a JWK
// Set (keys whose "alg" is not a JWS algorithm are skipped).
base::Result<std::vector<Key>> parse_public_keys(std::string_view text);
// A key from a JWK object (public or private; "oct" gives a secret).
base::Result<Key> parse_jwk(const Value& jwk);
// The bytes of a JWK's base64url field (unpadded, or padded as some issuers write it);
// "JWK is missing" when it is absent and `required`, else empty. Both builds share it.
base::Result<std::string> jwk_bytes_field(const Value& jwk, std::string_view field, bool required);
// The keys of a JWK or a JWK Set in `text` (parse_public_keys without PEM; both builds share it).
base::Result<std::vector<Key>> parse_jwk_text(std::string_view text);

// Digest names: "md5", "sha1", "sha256", "sha384", "sha512". Empty result on unknown names.
std::string digest(std::string_view name, std::string_view data);
std::string hmac(std::string_view name, std::string_view key, std::string_view data);
// Constant-time equality.
bool equal_ct(std::string_view a, std::string_view b);

// True for the JWS algorithms this module implements.
bool known_alg(std::string_view alg);
// Verifies `sig` over `input` with `alg` (HS*, RS*, PS*, ES*, EdDSA).
bool verify(std::string_view alg, const Key& key, std::string_view input, std::string_view sig);
// Signs `input`; ECDSA signatures come back as raw r||s.
base::Result<std::string> sign(std::string_view alg, const Key& key, std::string_view input);

}  // namespace policy::builtins::jose
