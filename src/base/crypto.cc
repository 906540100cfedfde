// base/crypto.h's digests on OpenSSL (libcrypto), in the native build. The wasm32-wasi build,
// which has no OpenSSL, uses crypto_portable.cc instead; tests/base/crypto_test.cc holds both
// to the same vectors.
//
// SHA-256 and HMAC-SHA-256 use OpenSSL's low-level SHA256_* functions (deprecated in OpenSSL 3,
// still built, the same assembly as EVP's): they need no provider, no configuration and no
// algorithm fetch, so a token can be checked before (or while) init_crypto() runs, and each
// call allocates nothing (HMAC() fetched the MAC and made a context per call).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "base/crypto.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>

namespace base {

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

// RFC 2104: H((K ^ opad) || H((K ^ ipad) || data)), K hashed first when longer than a block.
Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  constexpr size_t kBlock = SHA256_CBLOCK;  // 64
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    Sha256Digest hk = sha256(key);
    std::memcpy(k, hk.data(), hk.size());
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
  Sha256Digest inner;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad, kBlock);
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(inner.data(), &ctx);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
  Sha256Digest out;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad, kBlock);
  SHA256_Update(&ctx, inner.data(), inner.size());
  SHA256_Final(out.data(), &ctx);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  return out;
}

void init_crypto() { OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, nullptr); }

// OPENSSL_init_crypto(0) would return at once (no option asked for is missing); ATFORK is an
// option that does nothing since OpenSSL 3.0 but still takes the call through the base
// initialisation (run once), and loads neither the configuration nor a provider.
void init_crypto_base() { OPENSSL_init_crypto(OPENSSL_INIT_ATFORK, nullptr); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> jws_sign_pem(std::string_view alg, std::string_view pem_private_key,
                                 std::string_view data) {
  if (alg.size() != 5) return invalid_argument("unsupported signing algorithm " + std::string(alg));
  std::string_view family = alg.substr(0, 2), bits = alg.substr(2);
  const EVP_MD* md = bits == "256"   ? EVP_sha256()
                     : bits == "384" ? EVP_sha384()
                     : bits == "512" ? EVP_sha512()
                                     : nullptr;
  if (md == nullptr || (family != "RS" && family != "PS" && family != "ES")) {
    return invalid_argument("unsupported signing algorithm " + std::string(alg) +
                            " (RS256/384/512, PS256/384/512, ES256/384/512 sign with PEM keys)");
  }
  BIO* bio = BIO_new_mem_buf(pem_private_key.data(), static_cast<int>(pem_private_key.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (key == nullptr) return invalid_argument("the signing key is not a PEM private key");
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key_owner(key, EVP_PKEY_free);
  int type = EVP_PKEY_base_id(key);
  if ((family == "ES") != (type == EVP_PKEY_EC) || (family != "ES" && type != EVP_PKEY_RSA)) {
    return invalid_argument(std::string(alg) + " needs " + (family == "ES" ? "an EC" : "an RSA") +
                            " private key");
  }
  size_t coord = 0;  // bytes of r and s for ES*
  if (family == "ES") {
    coord = bits == "256" ? 32 : bits == "384" ? 48 : 66;
    int key_bits = EVP_PKEY_bits(key);
    if ((key_bits + 7) / 8 != static_cast<int>(coord)) {
      return invalid_argument(std::string(alg) + " needs a P-" +
                              (bits == "512" ? std::string("521") : std::string(bits)) +
                              " key, not a " + std::to_string(key_bits) + "-bit one");
    }
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return internal_error("cannot start signing with " + std::string(alg));
  }
  if (family == "PS" && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return internal_error("cannot set PSS padding");
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    return internal_error("cannot sign with " + std::string(alg));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    return internal_error("cannot sign with " + std::string(alg));
  }
  sig.resize(len);
  if (family != "ES") return sig;
  // DER ECDSA-Sig-Value to JWS's fixed-width r||s.
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  if (es == nullptr) return internal_error("cannot read the ECDSA signature");
  std::string out(2 * coord, '\0');
  const BIGNUM* r = ECDSA_SIG_get0_r(es);
  const BIGNUM* s = ECDSA_SIG_get0_s(es);
  bool ok =
      BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(coord)) > 0 &&
      BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + coord,
                   static_cast<int>(coord)) > 0;
  ECDSA_SIG_free(es);
  if (!ok) return internal_error("cannot encode the ECDSA signature");
  return out;
}

}  // namespace base
