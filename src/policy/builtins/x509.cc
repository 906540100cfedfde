// crypto.x509.* and crypto.parse_private_keys. Certificates are shown with the field names of
// Go's x509.Certificate JSON (Subject.CommonName, DNSNames, NotAfter, ...), the subset that
// policies read; keys as JWKs.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "policy/builtins/codec.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

// PEM text as is; anything else is base64 of PEM or DER (OPA's rules and messages).
base::Result<std::string> pem_or_der(std::string_view name, std::string_view s) {
  if (s.substr(0, 10) == "-----BEGIN") return std::string(s);
  auto raw = codec::base64_decode(s, false, true);
  if (!raw.is_ok()) return builtin_error(name, raw.status().message());
  return std::move(raw).value();
}

bool is_pem(std::string_view s) { return s.substr(0, 10) == "-----BEGIN"; }

Value strings_or_null(std::vector<Value> v) {
  if (v.empty()) return Value::null();
  return Value::array(std::move(v));
}

Value name_value(X509_NAME* n) {
  auto all = [&](int nid) {
    std::vector<Value> out;
    for (int i = X509_NAME_get_index_by_NID(n, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(n, nid, i)) {
      ASN1_STRING* d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
      unsigned char* utf8 = nullptr;
      int len = ASN1_STRING_to_UTF8(&utf8, d);
      if (len >= 0) {
        out.push_back(Value::string(std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len))));
        OPENSSL_free(utf8);
      }
    }
    return out;
  };
  auto last = [&](int nid) {
    auto v = all(nid);
    return v.empty() ? Value::string("") : v.back();
  };
  return Value::object({
      {Value::string("CommonName"), last(NID_commonName)},
      {Value::string("Country"), strings_or_null(all(NID_countryName))},
      {Value::string("Locality"), strings_or_null(all(NID_localityName))},
      {Value::string("Organization"), strings_or_null(all(NID_organizationName))},
      {Value::string("OrganizationalUnit"), strings_or_null(all(NID_organizationalUnitName))},
      {Value::string("PostalCode"), strings_or_null(all(NID_postalCode))},
      {Value::string("Province"), strings_or_null(all(NID_stateOrProvinceName))},
      {Value::string("SerialNumber"), last(NID_serialNumber)},
      {Value::string("StreetAddress"), strings_or_null(all(NID_streetAddress))},
  });
}

std::string asn1_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Value serial_value(const ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  char* dec = BN_bn2dec(bn);
  std::string s = dec ? dec : "0";
  OPENSSL_free(dec);
  BN_free(bn);
  auto v = Value::parse_json(s);
  return v.is_ok() ? *v : Value::string(s);
}

std::string der_of(X509* c) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(c, &buf);
  std::string out(reinterpret_cast<char*>(buf), len > 0 ? static_cast<size_t>(len) : 0);
  OPENSSL_free(buf);
  return out;
}

Value cert_value(X509* c) {
  std::vector<Value> dns, emails, ips, uris;
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      auto text = [](ASN1_STRING* s) {
        return Value::string(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<size_t>(ASN1_STRING_length(s))));
      };
      if (g->type == GEN_DNS) dns.push_back(text(g->d.dNSName));
      if (g->type == GEN_EMAIL) emails.push_back(text(g->d.rfc822Name));
      if (g->type == GEN_URI) uris.push_back(text(g->d.uniformResourceIdentifier));
      if (g->type == GEN_IPADD) {
        const unsigned char* p = ASN1_STRING_get0_data(g->d.iPAddress);
        int n = ASN1_STRING_length(g->d.iPAddress);
        char buf[64] = "";
        if (n == 4) std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
        if (n == 16) {
          std::string s;
          for (int k = 0; k < 16; k += 2) {
            char g2[8];
            std::snprintf(g2, sizeof g2, "%s%x", k ? ":" : "", p[k] << 8 | p[k + 1]);
            s += g2;
          }
          std::snprintf(buf, sizeof buf, "%s", s.c_str());
        }
        ips.push_back(Value::string(buf));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  BASIC_CONSTRAINTS* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(c, NID_basic_constraints, nullptr, nullptr));
  bool is_ca = bc != nullptr && bc->ca;
  BASIC_CONSTRAINTS_free(bc);
  return Value::object({
      {Value::string("Raw"), Value::string(codec::base64_encode(der_of(c), false, true))},
      {Value::string("Version"), Value::integer(X509_get_version(c) + 1)},
      {Value::string("SerialNumber"), serial_value(X509_get0_serialNumber(c))},
      {Value::string("Subject"), name_value(X509_get_subject_name(c))},
      {Value::string("Issuer"), name_value(X509_get_issuer_name(c))},
      {Value::string("NotBefore"), Value::string(asn1_time(X509_get0_notBefore(c)))},
      {Value::string("NotAfter"), Value::string(asn1_time(X509_get0_notAfter(c)))},
      {Value::string("DNSNames"), strings_or_null(std::move(dns))},
      {Value::string("EmailAddresses"), strings_or_null(std::move(emails))},
      {Value::string("IPAddresses"), strings_or_null(std::move(ips))},
      {Value::string("URIStrings"), strings_or_null(std::move(uris))},
      {Value::string("IsCA"), Value::boolean(is_ca)},
      {Value::string("BasicConstraintsValid"), Value::boolean(X509_get_extension_flags(c) & EXFLAG_BCONS)},
  });
}

base::Result<std::vector<X509Ptr>> load_certs(std::string_view name, std::string_view input) {
  EC_ASSIGN_OR_RETURN(std::string data, pem_or_der(name, input));
  std::vector<X509Ptr> out;
  if (is_pem(data)) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    const auto* end = p + data.size();
    while (p < end) {
      X509* c = d2i_X509(nullptr, &p, static_cast<long>(end - p));
      if (c == nullptr) return builtin_error(name, "x509: malformed certificate");
      out.emplace_back(c);
    }
  }
  if (out.empty()) return builtin_error(name, "x509: malformed certificate");
  return out;
}

BuiltinResult parse_certificates(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "crypto.x509.parse_certificates";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(auto certs, load_certs(kName, s));
  std::vector<Value> out;
  for (auto& c : certs) out.push_back(cert_value(c.get()));
  return ok(Value::array(std::move(out)));
}

BuiltinResult parse_certificate_request(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "crypto.x509.parse_certificate_request";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string data, pem_or_der(kName, s));
  ReqPtr req;
  if (is_pem(data)) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!req) {
    // Go's encoding/asn1 reports undecodable DER this way.
    return builtin_error(kName, "asn1: structure error: malformed certificate request");
  }
  return ok(Value::object({
      {Value::string("Version"), Value::integer(X509_REQ_get_version(req.get()))},
      {Value::string("Subject"), name_value(X509_REQ_get_subject_name(req.get()))},
  }));
}

std::string bn_b64(const EVP_PKEY* k, const char* param) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, param, &bn) != 1) return "";
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return codec::base64_encode(bytes, true, false);
}

// An RSA key as a JWK (private members when present).
Value rsa_jwk(const EVP_PKEY* k) {
  std::vector<ObjectItem> items{{Value::string("kty"), Value::string("RSA")}};
  static constexpr std::pair<const char*, const char*> kFields[] = {
      {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
      {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
      {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
  for (auto [field, param] : kFields) {
    std::string v = bn_b64(k, param);
    if (!v.empty()) items.emplace_back(Value::string(field), Value::string(v));
  }
  return Value::object(std::move(items));
}

std::vector<PkeyPtr> read_private_keys(const std::string& pem) {
  std::vector<PkeyPtr> out;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(k);
  return out;
}

BuiltinResult parse_rsa_private_key(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "crypto.x509.parse_rsa_private_key";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string data, pem_or_der(kName, s));
  auto keys = read_private_keys(data);
  if (keys.empty() || EVP_PKEY_get_base_id(keys[0].get()) != EVP_PKEY_RSA) {
    return builtin_error(kName, "failed to parse RSA private key");
  }
  return ok(rsa_jwk(keys[0].get()));
}

BuiltinResult parse_private_keys(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "crypto.parse_private_keys";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  if (s.empty()) return ok(Value::null());
  std::string data(s);
  if (!is_pem(data)) {
    auto raw = codec::base64_decode(s, false, true);
    if (!raw.is_ok()) return ok(Value::empty_array());
    data = std::move(raw).value();
  }
  std::vector<Value> out;
  for (auto& k : read_private_keys(data)) {
    if (EVP_PKEY_get_base_id(k.get()) == EVP_PKEY_RSA) out.push_back(rsa_jwk(k.get()));
  }
  return ok(Value::array(std::move(out)));
}

BuiltinResult parse_keypair(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "crypto.x509.parse_keypair";
  EC_ASSIGN_OR_RETURN(std::string_view cert_s, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view key_s, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(auto certs, load_certs(kName, cert_s));
  EC_ASSIGN_OR_RETURN(std::string key_pem, pem_or_der(kName, key_s));
  auto keys = read_private_keys(key_pem);
  if (keys.empty()) return builtin_error(kName, "tls: failed to find any PEM data in key input");
  if (X509_check_private_key(certs[0].get(), keys[0].get()) != 1) {
    return builtin_error(kName, "tls: private key does not match public key");
  }
  std::vector<Value> ders;
  for (auto& c : certs) ders.push_back(Value::string(codec::base64_encode(der_of(c.get()), false, true)));
  return ok(Value::object({
      {Value::string("Certificate"), Value::array(std::move(ders))},
      {Value::string("Leaf"), cert_value(certs[0].get())},
  }));
}

// Verifies that `certs` (root first, leaf last) form a chain at `now` (Unix seconds), with an
// optional DNS name for the leaf. On success `chain` is the verified chain from the leaf to the
// root, the order OPA (Go's Certificate.Verify) returns it in.
bool verify_chain(const std::vector<X509Ptr>& certs, int64_t now, const std::string& dns_name,
                  std::vector<Value>& chain) {
  if (certs.size() < 2) return false;
  using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
  using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
  StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), certs.front().get());
  STACK_OF(X509)* intermediates = sk_X509_new_null();
  for (size_t i = 1; i + 1 < certs.size(); ++i) sk_X509_push(intermediates, certs[i].get());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  bool ok = X509_STORE_CTX_init(ctx.get(), store.get(), certs.back().get(), intermediates) == 1;
  if (ok) {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
    if (!dns_name.empty()) X509_VERIFY_PARAM_set1_host(param, dns_name.c_str(), dns_name.size());
    ok = X509_verify_cert(ctx.get()) == 1;
  }
  if (ok) {
    // get0: the chain stays owned by the context.
    STACK_OF(X509)* verified = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; verified != nullptr && i < sk_X509_num(verified); ++i) {
      chain.push_back(cert_value(sk_X509_value(verified, i)));
    }
  }
  sk_X509_free(intermediates);
  return ok;
}

BuiltinResult verify_result(bool valid, std::vector<Value> chain) {
  if (!valid) return ok(Value::array({Value::boolean(false), Value::empty_array()}));
  return ok(Value::array({Value::boolean(true), Value::array(std::move(chain))}));
}

BuiltinResult parse_and_verify(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "crypto.x509.parse_and_verify_certificates";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  auto certs = load_certs(kName, s);
  if (!certs.is_ok()) return ok(Value::array({Value::boolean(false), Value::empty_array()}));
  std::vector<Value> chain;
  bool valid = verify_chain(*certs, ctx.now_ns / 1'000'000'000, "", chain);
  return verify_result(valid, std::move(chain));
}

BuiltinResult parse_and_verify_with_options(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "crypto.x509.parse_and_verify_certificates_with_options";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  EC_RETURN_IF_ERROR(check_type(kName, args, 2, Type::kObject));
  int64_t now = ctx.now_ns / 1'000'000'000;
  std::string dns;
  for (const auto& [k, v] : args[1].object_items()) {
    std::string key = k.is_string() ? k.as_string() : "";
    if (key == "DNSName" && v.is_string()) {
      dns = v.as_string();
    } else if (key == "CurrentTime" && v.as_int()) {
      now = *v.as_int() / 1'000'000'000;
    } else if (key != "KeyUsages" && key != "MaxConstraintComparisons" && key != "DNSName" &&
               key != "CurrentTime") {
      return builtin_error(kName, "invalid option: " + key);
    }
  }
  auto certs = load_certs(kName, s);
  if (!certs.is_ok()) return ok(Value::array({Value::boolean(false), Value::empty_array()}));
  std::vector<Value> chain;
  bool valid = verify_chain(*certs, now, dns, chain);
  return verify_result(valid, std::move(chain));
}

}  // namespace

void register_x509_builtins(BuiltinRegistry& r) {
  r.add("crypto.x509.parse_certificates", 1, parse_certificates);
  r.add("crypto.x509.parse_certificate_request", 1, parse_certificate_request);
  r.add("crypto.x509.parse_rsa_private_key", 1, parse_rsa_private_key);
  r.add("crypto.x509.parse_keypair", 2, parse_keypair);
  r.add("crypto.parse_private_keys", 1, parse_private_keys);
  r.add("crypto.x509.parse_and_verify_certificates", 1, parse_and_verify, /*deterministic=*/false);
  r.add("crypto.x509.parse_and_verify_certificates_with_options", 2, parse_and_verify_with_options,
        /*deterministic=*/false);
}

}  // namespace policy::builtins
