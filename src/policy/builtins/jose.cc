#include "policy/builtins/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <optional>

#include "policy/builtins/codec.h"

namespace policy::builtins::jose {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) { return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free); }

const EVP_MD* md_for(std::string_view name) {
  if (name == "md5") return EVP_md5();
  if (name == "sha1") return EVP_sha1();
  if (name == "sha256") return EVP_sha256();
  if (name == "sha384") return EVP_sha384();
  if (name == "sha512") return EVP_sha512();
  return nullptr;
}

const EVP_MD* md_for_alg(std::string_view alg) {
  if (alg.size() < 5) return nullptr;
  std::string_view bits = alg.substr(2);
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return nullptr;
}

BIGNUM* bn(const std::string& bytes) {
  return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                   static_cast<int>(bytes.size()), nullptr);
}

base::Result<std::shared_ptr<EVP_PKEY>> from_params(const char* type, OSSL_PARAM_BLD* bld,
                                                    bool priv) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) <= 0) {
    return base::invalid_argument(std::string("invalid ") + type + " JWK");
  }
  return own(pkey);
}

}  // namespace

base::Result<Key> parse_jwk(const Value& jwk) {
  if (!jwk.is_object()) return base::invalid_argument("JWK must be an object");
  const Value* kty_v = jwk.find("kty");
  if (kty_v == nullptr || !kty_v->is_string())
    return base::invalid_argument("JWK is missing \"kty\"");
  const std::string& kty = kty_v->as_string();
  Key key;
  if (const Value* kid = jwk.find("kid"); kid && kid->is_string()) key.kid = kid->as_string();
  if (const Value* alg = jwk.find("alg"); alg && alg->is_string()) key.alg = alg->as_string();
  if (kty == "oct") {
    EC_ASSIGN_OR_RETURN(key.secret, jwk_bytes_field(jwk, "k", true));
    return key;
  }
  if (kty == "RSA") {
    EC_ASSIGN_OR_RETURN(std::string n, jwk_bytes_field(jwk, "n", true));
    EC_ASSIGN_OR_RETURN(std::string e, jwk_bytes_field(jwk, "e", true));
    EC_ASSIGN_OR_RETURN(std::string d, jwk_bytes_field(jwk, "d", false));
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    std::vector<BnPtr> nums;
    auto push = [&](const char* name, const std::string& bytes) {
      nums.emplace_back(bn(bytes));
      OSSL_PARAM_BLD_push_BN(bld.get(), name, nums.back().get());
    };
    push(OSSL_PKEY_PARAM_RSA_N, n);
    push(OSSL_PKEY_PARAM_RSA_E, e);
    bool priv = !d.empty();
    if (priv) {
      push(OSSL_PKEY_PARAM_RSA_D, d);
      static constexpr std::pair<const char*, const char*> kCrt[] = {
          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
          {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
          {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
          {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
          {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
      for (auto [field, param] : kCrt) {
        EC_ASSIGN_OR_RETURN(std::string v, jwk_bytes_field(jwk, field, false));
        if (!v.empty()) push(param, v);
      }
    }
    EC_ASSIGN_OR_RETURN(key.pkey, from_params("RSA", bld.get(), priv));
    return key;
  }
  if (kty == "EC") {
    const Value* crv = jwk.find("crv");
    std::string group;
    if (crv && crv->is_string()) {
      if (crv->as_string() == "P-256") group = "prime256v1";
      if (crv->as_string() == "P-384") group = "secp384r1";
      if (crv->as_string() == "P-521") group = "secp521r1";
    }
    if (group.empty()) return base::invalid_argument("unsupported EC curve");
    EC_ASSIGN_OR_RETURN(std::string x, jwk_bytes_field(jwk, "x", true));
    EC_ASSIGN_OR_RETURN(std::string y, jwk_bytes_field(jwk, "y", true));
    EC_ASSIGN_OR_RETURN(std::string d, jwk_bytes_field(jwk, "d", false));
    std::string point = "\x04" + x + y;
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
    BnPtr priv(d.empty() ? nullptr : bn(d));
    if (priv) OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
    EC_ASSIGN_OR_RETURN(key.pkey, from_params("EC", bld.get(), priv != nullptr));
    return key;
  }
  if (kty == "OKP") {
    const Value* crv = jwk.find("crv");
    if (!crv || !crv->is_string() || crv->as_string() != "Ed25519") {
      return base::invalid_argument("unsupported OKP curve");
    }
    EC_ASSIGN_OR_RETURN(std::string x, jwk_bytes_field(jwk, "x", true));
    EC_ASSIGN_OR_RETURN(std::string d, jwk_bytes_field(jwk, "d", false));
    EVP_PKEY* pkey = d.empty() ? EVP_PKEY_new_raw_public_key(
                                     EVP_PKEY_ED25519, nullptr,
                                     reinterpret_cast<const unsigned char*>(x.data()), x.size())
                               : EVP_PKEY_new_raw_private_key(
                                     EVP_PKEY_ED25519, nullptr,
                                     reinterpret_cast<const unsigned char*>(d.data()), d.size());
    if (pkey == nullptr) return base::invalid_argument("invalid Ed25519 JWK");
    key.pkey = own(pkey);
    return key;
  }
  return base::invalid_argument("unsupported JWK key type " + kty);
}

namespace {

struct PemBlock {
  std::string type;
  std::string der;
};

// Go's pem.Decode: the first "-----BEGIN T-----" ... "-----END T-----" block whose body is
// valid base64 (header lines "Key: value" are skipped); `rest` is what follows the END line.
std::optional<PemBlock> pem_decode(std::string_view text, std::string_view& rest) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  size_t pos = 0;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    size_t type_start = pos + kBegin.size();
    size_t type_end = text.find("-----", type_start);
    pos = type_start;
    if (type_end == std::string_view::npos) return std::nullopt;
    std::string type(text.substr(type_start, type_end - type_start));
    if (type.find('\n') != std::string::npos) continue;
    std::string end_marker = "-----END " + type + "-----";
    size_t body_start = type_end + 5;
    size_t end = text.find(end_marker, body_start);
    if (end == std::string_view::npos) continue;
    std::string b64;
    std::string_view body = text.substr(body_start, end - body_start);
    size_t line_start = 0;
    while (line_start <= body.size()) {
      size_t nl = body.find('\n', line_start);
      std::string_view line =
          body.substr(line_start, nl == std::string_view::npos ? body.npos : nl - line_start);
      if (line.find(':') == std::string_view::npos) {
        for (char c : line) {
          if (c != ' ' && c != '\t' && c != '\r') b64.push_back(c);
        }
      }
      if (nl == std::string_view::npos) break;
      line_start = nl + 1;
    }
    auto der = codec::base64_decode(b64, false, true);
    if (!der.is_ok()) continue;
    rest = text.substr(end + end_marker.size());
    size_t i = 0;
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\r')) ++i;
    if (i < rest.size() && rest[i] == '\n') ++i;
    rest = rest.substr(i);
    return PemBlock{std::move(type), std::move(der).value()};
  }
  return std::nullopt;
}

}  // namespace

base::Result<std::vector<Key>> parse_public_keys(std::string_view text) {
  std::string_view rest;
  if (std::optional<PemBlock> block = pem_decode(text, rest)) {
    if (!rest.empty()) return base::invalid_argument("extra data after a PEM certificate block");
    const auto* p = reinterpret_cast<const unsigned char*>(block->der.data());
    long len = static_cast<long>(block->der.size());
    if (block->type == "CERTIFICATE") {
      X509Ptr cert(d2i_X509(nullptr, &p, len));
      EVP_PKEY* pkey = cert ? X509_get_pubkey(cert.get()) : nullptr;
      if (pkey == nullptr) {
        return base::invalid_argument(
            "failed to parse a PEM certificate: x509: malformed certificate");
      }
      return std::vector<Key>{Key{own(pkey), {}, {}, {}}};
    }
    if (block->type == "PUBLIC KEY") {
      EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, len);
      if (pkey == nullptr) {
        return base::invalid_argument(
            "failed to parse a PEM public key: x509: malformed public key");
      }
      return std::vector<Key>{Key{own(pkey), {}, {}, {}}};
    }
    return base::invalid_argument("failed to extract a Key from the PEM certificate");
  }
  return parse_jwk_text(text);
}

std::string digest(std::string_view name, std::string_view data) {
  const EVP_MD* md = md_for(name);
  if (md == nullptr) return {};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string hmac(std::string_view name, std::string_view key, std::string_view data) {
  const EVP_MD* md = md_for(name);
  if (md == nullptr) return {};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

bool equal_ct(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool known_alg(std::string_view alg) {
  static constexpr std::string_view kAlgs[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                               "RS512", "PS256", "PS384", "PS512", "ES256",
                                               "ES384", "ES512", "EdDSA"};
  for (auto a : kAlgs) {
    if (a == alg) return true;
  }
  return false;
}

namespace {

size_t ec_size(std::string_view alg) { return alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66; }

bool key_fits(std::string_view alg, const Key& key) {
  if (!key.pkey) return false;
  int id = EVP_PKEY_get_base_id(key.pkey.get());
  if (alg[0] == 'R' || alg[0] == 'P') return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS;
  if (alg[0] == 'E' && alg[1] == 'S') {
    return id == EVP_PKEY_EC &&
           static_cast<size_t>((EVP_PKEY_get_bits(key.pkey.get()) + 7) / 8) == ec_size(alg);
  }
  return alg == "EdDSA" && id == EVP_PKEY_ED25519;
}

// Sets up a DigestSign/DigestVerify context for `alg`.
bool init_ctx(EVP_MD_CTX* mctx, std::string_view alg, EVP_PKEY* pkey, bool signing) {
  const EVP_MD* md = alg == "EdDSA" ? nullptr : md_for_alg(alg);
  EVP_PKEY_CTX* pctx = nullptr;
  int rc = signing ? EVP_DigestSignInit(mctx, &pctx, md, nullptr, pkey)
                   : EVP_DigestVerifyInit(mctx, &pctx, md, nullptr, pkey);
  if (rc <= 0) return false;
  if (alg[0] == 'P') {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0) return false;
    if (EVP_PKEY_CTX_set_rsa_pss_saltlen(
            pctx, signing ? RSA_PSS_SALTLEN_DIGEST : RSA_PSS_SALTLEN_AUTO) <= 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool verify(std::string_view alg, const Key& key, std::string_view input, std::string_view sig) {
  if (alg.size() == 5 && alg[0] == 'H' && alg[1] == 'S') {
    if (key.pkey) return false;
    std::string mac = hmac(alg == "HS256"   ? "sha256"
                           : alg == "HS384" ? "sha384"
                                            : "sha512",
                           key.secret, input);
    return !mac.empty() && equal_ct(mac, sig);
  }
  if (!known_alg(alg) || !key_fits(alg, key)) return false;
  std::string der;
  if (alg[0] == 'E' && alg[1] == 'S') {
    size_t n = ec_size(alg);
    if (sig.size() != 2 * n) return false;
    SigPtr s(ECDSA_SIG_new());
    BIGNUM* r =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), static_cast<int>(n), nullptr);
    BIGNUM* ss = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data() + n),
                           static_cast<int>(n), nullptr);
    ECDSA_SIG_set0(s.get(), r, ss);
    unsigned char* buf = nullptr;
    int len = i2d_ECDSA_SIG(s.get(), &buf);
    if (len <= 0) return false;
    der.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    sig = der;
  }
  MdCtxPtr mctx(EVP_MD_CTX_new());
  if (!init_ctx(mctx.get(), alg, key.pkey.get(), false)) return false;
  return EVP_DigestVerify(mctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                          sig.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

base::Result<std::string> sign(std::string_view alg, const Key& key, std::string_view input) {
  if (alg.size() == 5 && alg[0] == 'H' && alg[1] == 'S') {
    if (key.pkey) return base::invalid_argument("HMAC algorithms need an \"oct\" key");
    return hmac(alg == "HS256"   ? "sha256"
                : alg == "HS384" ? "sha384"
                                 : "sha512",
                key.secret, input);
  }
  if (!known_alg(alg)) return base::invalid_argument("unknown JWS algorithm: " + std::string(alg));
  if (!key_fits(alg, key))
    return base::invalid_argument("key does not fit algorithm " + std::string(alg));
  MdCtxPtr mctx(EVP_MD_CTX_new());
  if (!init_ctx(mctx.get(), alg, key.pkey.get(), true))
    return base::invalid_argument("failed to sign");
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(mctx.get(), nullptr, &len, in, input.size()) <= 0) {
    return base::invalid_argument("failed to sign");
  }
  std::string out(len, '\0');
  if (EVP_DigestSign(mctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in,
                     input.size()) <= 0) {
    return base::invalid_argument("failed to sign");
  }
  out.resize(len);
  if (alg[0] == 'E' && alg[1] == 'S') {
    const auto* p = reinterpret_cast<const unsigned char*>(out.data());
    SigPtr s(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(out.size())));
    if (!s) return base::invalid_argument("failed to sign");
    size_t n = ec_size(alg);
    std::string raw(2 * n, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(s.get()), reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(n));
    BN_bn2binpad(ECDSA_SIG_get0_s(s.get()), reinterpret_cast<unsigned char*>(raw.data() + n),
                 static_cast<int>(n));
    return raw;
  }
  return out;
}

}  // namespace policy::builtins::jose
