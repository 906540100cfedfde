// Cryptographic primitives for tokens and ids: SHA-256, HMAC-SHA-256, base64url and a
// constant-time comparison. The only place in base that uses OpenSSL (libcrypto); nothing
// here allocates OpenSSL state that outlives a call, so every function is safe from any
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace base {

// A SHA-256 digest (32 bytes).
using Sha256Digest = std::array<uint8_t, 32>;

// SHA-256 of `data`.
Sha256Digest sha256(std::string_view data);

// HMAC-SHA-256 of `data` under `key` (RFC 2104; keys of any length, including empty).
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

// Starts the crypto library (OpenSSL: its configuration and default provider) on the calling
// thread. Call before other threads use OpenSSL: its first fetches racing the configuration load
// are not safe. sha256 and hmac_sha256 above do not need it (they use no provider), so tokens
// can be checked on other threads while it runs. A no-op without OpenSSL.
void init_crypto();

// OpenSSL's base initialisation alone (no configuration, no provider), which sets the CPU
// capability vector that picks its digests' and ciphers' assembly. The server's binary defers
// that detection from exec to here (app/main.cc, EDGECLASS_DEFER_OPENSSL_CPUID); until it
// runs, digests take their baseline code. Call on the only running thread (the vector is
// written without synchronisation) or before the first other thread uses OpenSSL; init_crypto()
// does it too. Idempotent. A no-op without OpenSSL.
void init_crypto_base();

// Lowercase hex of `bytes`, e.g. for logging digests.
std::string hex_encode(std::string_view bytes);

// The digest as a string_view over its bytes (valid while `d` lives).
inline std::string_view as_bytes(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// base64url (RFC 4648 section 5) without padding, as used by JWTs.
std::string base64url_encode(std::string_view bytes);

// Strict inverse of base64url_encode: accepts only the url-safe alphabet, no padding, no
// whitespace, and rejects lengths that are 1 mod 4 and non-zero trailing bits (so that every
// byte string has exactly one accepted encoding). nullopt on any violation.
std::optional<std::string> base64url_decode(std::string_view text);

// True when `a` and `b` are equal. The time taken depends only on the lengths, not on where
// the contents differ (for comparing MACs).
bool constant_time_equal(std::string_view a, std::string_view b);

// The JWS signature (RFC 7515, raw bytes) of `data` with a PEM private key (PKCS#8 or
// traditional): RS256/384/512 and PS256/384/512 with an RSA key, ES256/384/512 with an EC key
// of the matching curve (r||s, as JWS wants, not DER). Errors say what does not fit.
Result<std::string> jws_sign_pem(std::string_view alg, std::string_view pem_private_key,
                                 std::string_view data);

}  // namespace base
