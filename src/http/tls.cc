#include "http/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>

namespace http {

namespace ssl = boost::asio::ssl;

namespace {

// What OpenSSL's error queue says, emptied.
std::string openssl_error() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// ALPN: we speak HTTP/1.1 only (WebSocket upgrades included). A client that offers only
// other protocols (h2 alone) continues without ALPN rather than failing the handshake.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kHttp11, sizeof kHttp11, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

std::string asn1_time_iso(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string name_line(X509_NAME* name) {
  if (!name) return "";
  BIO* b = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, size_t(n));
  BIO_free(b);
  return s;
}

}  // namespace

base::Result<std::shared_ptr<ssl::context>> make_server_context(const std::string& cert_path,
                                                                const std::string& key_path) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  SSL_CTX_set_options(
      h, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2: ECDHE key exchange with AEAD ciphers only; TLS 1.3 suites are all AEAD.
  SSL_CTX_set_cipher_list(h,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_ciphersuites(h,
                           "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                           "TLS_CHACHA20_POLY1305_SHA256");
  SSL_CTX_set_alpn_select_cb(h, select_alpn, nullptr);
  SSL_CTX_set_session_cache_mode(h, SSL_SESS_CACHE_SERVER);
  static const unsigned char kSessionContext[] = "edgeclass";
  SSL_CTX_set_session_id_context(h, kSessionContext, sizeof kSessionContext - 1);
  if (SSL_CTX_use_certificate_chain_file(h, cert_path.c_str()) != 1) {
    return base::invalid_argument("cannot load the TLS certificate " + cert_path +
                                  " (PEM, leaf first, then the chain): " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(h, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return base::invalid_argument("cannot load the TLS key " + key_path +
                                  " (PEM, unencrypted): " + openssl_error());
  }
  if (SSL_CTX_check_private_key(h) != 1) {
    return base::invalid_argument("the TLS key " + key_path +
                                  " does not belong to the certificate " + cert_path + ": " +
                                  openssl_error());
  }
  return ctx;
}

TlsCertificates::Stamp TlsCertificates::stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {uint64_t(st.st_ino), uint64_t(st.st_size),
          int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

base::Result<std::unique_ptr<TlsCertificates>> TlsCertificates::load(std::string cert_path,
                                                                     std::string key_path) {
  std::unique_ptr<TlsCertificates> c(
      new TlsCertificates(std::move(cert_path), std::move(key_path)));
  EC_RETURN_IF_ERROR(c->reload());
  return c;
}

base::Status TlsCertificates::reload() {
  // Stamps first: a change while we read is then seen again on the next check.
  Stamp cs = stamp_of(cert_path_), ks = stamp_of(key_path_);
  auto ctx = make_server_context(cert_path_, key_path_);
  std::lock_guard lock(mu_);
  cert_stamp_ = cs;  // a broken pair is not retried until the files change again
  key_stamp_ = ks;
  if (!ctx.is_ok()) return ctx.status();
  ctx_ = std::move(ctx).value();
  X509* leaf = SSL_CTX_get0_certificate(ctx_->native_handle());
  subject_ = leaf ? name_line(X509_get_subject_name(leaf)) : "";
  not_after_ = leaf ? asn1_time_iso(X509_get0_notAfter(leaf)) : "";
  struct tm tm {};
  not_after_unix_ =
      leaf && ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1 ? int64_t(timegm(&tm)) : 0;
  return base::Status::ok();
}

bool TlsCertificates::files_changed() const {
  Stamp cs = stamp_of(cert_path_), ks = stamp_of(key_path_);
  std::lock_guard lock(mu_);
  return !(cs == cert_stamp_) || !(ks == key_stamp_);
}

std::shared_ptr<ssl::context> TlsCertificates::current() const {
  std::lock_guard lock(mu_);
  return ctx_;
}

std::string TlsCertificates::subject() const {
  std::lock_guard lock(mu_);
  return subject_;
}

int64_t TlsCertificates::not_after_unix() const {
  std::lock_guard lock(mu_);
  return not_after_unix_;
}

std::string TlsCertificates::not_after() const {
  std::lock_guard lock(mu_);
  return not_after_;
}

base::Result<SelfSigned> make_self_signed(const std::vector<std::string>& hosts, int days) {
  if (hosts.empty()) return base::invalid_argument("at least one --host is needed");
  ERR_clear_error();
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  auto cleanup = [&] {
    EVP_PKEY_free(key);
    X509_free(x);
  };
  auto fail = [&](const std::string& what) {
    std::string msg = what + ": " + openssl_error();
    cleanup();
    return base::internal_error(msg);
  };
  if (!key || !x) return fail("cannot create a key");
  X509_set_version(x, 2);  // v3
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);  // an hour of clock skew
  X509_gmtime_adj(X509_getm_notAfter(x), int64_t(days) * 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("edgeclass (self-signed)"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(hosts[0].c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  std::string san;
  for (const std::string& h : hosts) {
    unsigned char buf[16];
    bool ip = inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
    if (!san.empty()) san += ",";
    san += (ip ? "IP:" : "DNS:") + h;
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  const std::pair<int, std::string> exts[] = {
      {NID_subject_alt_name, san},
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_key_identifier, "hash"},
  };
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (!ext) return fail("bad certificate extension '" + value + "'");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, key, EVP_sha256()) == 0) return fail("cannot sign the certificate");
  auto pem = [](auto write) {
    BIO* b = BIO_new(BIO_s_mem());
    write(b);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string s(data, size_t(n));
    BIO_free(b);
    return s;
  };
  SelfSigned out;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(x, EVP_sha256(), md, &md_len);
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned int i = 0; i < md_len; ++i) {
    if (i) out.fingerprint_sha256 += ':';
    out.fingerprint_sha256 += kHex[md[i] >> 4];
    out.fingerprint_sha256 += kHex[md[i] & 15];
  }
  out.cert_pem = pem([&](BIO* b) { PEM_write_bio_X509(b, x); });
  out.key_pem =
      pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  cleanup();
  return out;
}

}  // namespace http
