// base/crypto.h's digests on OpenSSL (libcrypto), in the native build. The wasm32-wasi build,
// which has no OpenSSL, uses crypto_portable.cc instead; tests/base/crypto_test.cc holds both
// to the same vectors.
#include "base/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cassert>

namespace base {

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  Sha256Digest out;
  unsigned int len = 0;
  // HMAC() with an empty key needs a non-null pointer on some OpenSSL versions.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  unsigned char* r =
      HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  // HMAC only fails on allocation failure or an unavailable digest; neither is recoverable.
  assert(r != nullptr && len == out.size());
  (void)r;
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace base
