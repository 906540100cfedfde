#include "media/dtls/dtls_transport.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>

namespace media {
namespace {

constexpr int kMtu = 1200;  // leaves room for IPv6 + UDP headers under common path MTUs
constexpr const char* kSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string fingerprint_of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  static const char* k = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i) out += ':';
    out += k[md[i] >> 4];
    out += k[md[i] & 15];
  }
  return out;
}

bool fingerprints_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(uint8_t(a[i])) != std::toupper(uint8_t(b[i]))) return false;
  }
  return true;
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslDeleter {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

}  // namespace

struct DtlsCertificate::Impl {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key;
  std::unique_ptr<X509, X509Deleter> cert;
};

DtlsCertificate::DtlsCertificate(std::unique_ptr<Impl> impl, std::string fingerprint)
    : impl_(std::move(impl)), fingerprint_(std::move(fingerprint)) {}
DtlsCertificate::~DtlsCertificate() = default;

base::Result<std::shared_ptr<const DtlsCertificate>> DtlsCertificate::generate() {
  auto impl = std::make_unique<Impl>();
  impl->key.reset(EVP_EC_gen("P-256"));
  if (!impl->key) return base::internal_error("dtls: EC key generation: " + openssl_error());
  impl->cert.reset(X509_new());
  X509* x = impl->cert.get();
  uint32_t serial = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial);
  bool ok = x && X509_set_version(x, 2) &&
            ASN1_INTEGER_set(X509_get_serialNumber(x), long(serial & 0x7FFFFFFF)) &&
            X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
            X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) &&
            X509_set_pubkey(x, impl->key.get());
  if (ok) {
    X509_NAME* name = X509_get_subject_name(x);
    ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    reinterpret_cast<const unsigned char*>("edgeclass"), -1, -1,
                                    0) &&
         X509_set_issuer_name(x, name) && X509_sign(x, impl->key.get(), EVP_sha256()) > 0;
  }
  if (!ok) return base::internal_error("dtls: certificate generation: " + openssl_error());
  std::string fp = fingerprint_of(x);
  return std::shared_ptr<const DtlsCertificate>(
      new DtlsCertificate(std::move(impl), std::move(fp)));
}

struct DtlsTransport::Impl {
  std::shared_ptr<const DtlsCertificate> certificate;
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx;
  std::unique_ptr<SSL, SslDeleter> ssl;  // owns rbio and wbio
  BIO* rbio = nullptr;                   // datagrams from the peer
  BIO* wbio = nullptr;                   // datagrams to the peer
};

DtlsTransport::DtlsTransport(Listener* listener, Role role, std::unique_ptr<Impl> impl)
    : listener_(listener), role_(role), impl_(std::move(impl)) {}
DtlsTransport::~DtlsTransport() = default;

base::Result<std::unique_ptr<DtlsTransport>> DtlsTransport::create(
    Listener* listener, std::shared_ptr<const DtlsCertificate> certificate, Role role) {
  auto impl = std::make_unique<Impl>();
  impl->certificate = std::move(certificate);
  impl->ctx.reset(SSL_CTX_new(role == Role::kServer ? DTLS_server_method() : DTLS_client_method()));
  SSL_CTX* ctx = impl->ctx.get();
  if (!ctx) return base::internal_error("dtls: SSL_CTX_new: " + openssl_error());
  const auto& cert = impl->certificate->impl();
  bool ok = SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) &&
            SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) &&
            SSL_CTX_use_certificate(ctx, cert.cert.get()) == 1 &&
            SSL_CTX_use_PrivateKey(ctx, cert.key.get()) == 1 &&
            SSL_CTX_check_private_key(ctx) == 1 &&
            // Note the inverted convention: 0 means success for this call.
            SSL_CTX_set_tlsext_use_srtp(ctx, kSrtpProfiles) == 0;
  if (!ok) return base::internal_error("dtls: context setup: " + openssl_error());
  // Peers use self-signed certificates; trust comes from the SDP fingerprint, checked after
  // the handshake, so chain verification accepts anything but a certificate is required.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_set_read_ahead(ctx, 1);

  impl->ssl.reset(SSL_new(ctx));
  SSL* ssl = impl->ssl.get();
  if (!ssl) return base::internal_error("dtls: SSL_new: " + openssl_error());
  impl->rbio = BIO_new(BIO_s_mem());
  impl->wbio = BIO_new(BIO_s_mem());
  if (!impl->rbio || !impl->wbio) {
    BIO_free(impl->rbio);
    BIO_free(impl->wbio);
    return base::internal_error("dtls: BIO_new failed");
  }
  BIO_set_mem_eof_return(impl->rbio, -1);
  BIO_set_mem_eof_return(impl->wbio, -1);
  SSL_set_bio(ssl, impl->rbio, impl->wbio);
  SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl, kMtu);
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
  return std::unique_ptr<DtlsTransport>(new DtlsTransport(listener, role, std::move(impl)));
}

void DtlsTransport::set_remote_fingerprint(std::string fp) { remote_fingerprint_ = std::move(fp); }

void DtlsTransport::start() {
  if (state_ != State::kNew) return;
  state_ = State::kConnecting;
  if (role_ == Role::kClient) after_io(SSL_do_handshake(impl_->ssl.get()));
}

void DtlsTransport::process_data(ByteSpan data) {
  if (state_ == State::kFailed || state_ == State::kClosed || data.empty()) return;
  if (state_ == State::kNew) state_ = State::kConnecting;
  SSL* ssl = impl_->ssl.get();
  if (BIO_write(impl_->rbio, data.data(), int(data.size())) != int(data.size())) return;
  if (state_ == State::kConnecting) {
    after_io(SSL_do_handshake(ssl));
    return;
  }
  // Connected: drain application data (WebRTC sends none over DTLS without SCTP) so that
  // alerts such as close_notify are processed.
  uint8_t buf[2048];
  for (;;) {
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n > 0) continue;
    int err = SSL_get_error(ssl, n);
    if (err == SSL_ERROR_ZERO_RETURN) {
      state_ = State::kClosed;
      flush_output();
      listener_->OnDtlsTransportClosed(this);
      return;
    }
    if (err == SSL_ERROR_SSL) {
      fail("dtls: " + openssl_error());
      return;
    }
    break;
  }
  flush_output();
}

std::optional<int64_t> DtlsTransport::next_timeout_ms() const {
  if (state_ != State::kConnecting) return std::nullopt;
  timeval tv{};
  if (DTLSv1_get_timeout(impl_->ssl.get(), &tv) != 1) return std::nullopt;
  return int64_t(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

void DtlsTransport::on_timer() {
  if (state_ != State::kConnecting) return;
  if (DTLSv1_handle_timeout(impl_->ssl.get()) < 0) {
    fail("dtls: handshake timed out: " + openssl_error());
    return;
  }
  flush_output();
}

void DtlsTransport::close() {
  if (state_ == State::kClosed || state_ == State::kFailed) return;
  if (state_ == State::kConnected) {
    SSL_shutdown(impl_->ssl.get());
    flush_output();
  }
  state_ = State::kClosed;
}

void DtlsTransport::flush_output() {
  BIO* w = impl_->wbio;
  size_t pending;
  while ((pending = BIO_ctrl_pending(w)) > 0) {
    std::vector<uint8_t> out(pending);
    int n = BIO_read(w, out.data(), int(out.size()));
    if (n <= 0) break;
    out.resize(size_t(n));
    listener_->OnDtlsTransportSendData(this, out);
  }
}

void DtlsTransport::after_io(int ret) {
  SSL* ssl = impl_->ssl.get();
  if (ret <= 0) {
    int err = SSL_get_error(ssl, ret);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      flush_output();  // an alert, if OpenSSL produced one
      fail("dtls: handshake failed: " + openssl_error());
      return;
    }
  }
  flush_output();
  if (SSL_is_init_finished(ssl) && state_ == State::kConnecting) on_handshake_done();
}

void DtlsTransport::on_handshake_done() {
  SSL* ssl = impl_->ssl.get();
  std::unique_ptr<X509, X509Deleter> peer(SSL_get1_peer_certificate(ssl));
  if (!peer) return fail("dtls: peer sent no certificate");
  if (remote_fingerprint_.empty()) return fail("dtls: no remote fingerprint to check against");
  std::string got = fingerprint_of(peer.get());
  if (!fingerprints_equal(got, remote_fingerprint_)) {
    return fail("dtls: peer certificate fingerprint " + got + " does not match the SDP");
  }
  SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl);
  if (!p) return fail("dtls: no SRTP profile negotiated (use_srtp)");
  SrtpKeys keys;
  size_t key_len = 16, salt_len;
  if (p->id == SRTP_AEAD_AES_128_GCM) {
    keys.profile = SrtpProfile::kAeadAes128Gcm;
    salt_len = 12;
  } else if (p->id == SRTP_AES128_CM_SHA1_80) {
    keys.profile = SrtpProfile::kAes128CmSha1_80;
    salt_len = 14;
  } else {
    return fail("dtls: unexpected SRTP profile");
  }
  // RFC 5764 section 4.2: client key, server key, client salt, server salt.
  std::vector<uint8_t> km(2 * (key_len + salt_len));
  static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(ssl, km.data(), km.size(), kLabel, sizeof kLabel - 1, nullptr, 0,
                                 0) != 1) {
    return fail("dtls: keying material export: " + openssl_error());
  }
  const uint8_t* client_key = km.data();
  const uint8_t* server_key = client_key + key_len;
  const uint8_t* client_salt = server_key + key_len;
  const uint8_t* server_salt = client_salt + salt_len;
  auto master = [&](const uint8_t* key, const uint8_t* salt) {
    std::vector<uint8_t> m(key, key + key_len);
    m.insert(m.end(), salt, salt + salt_len);
    return m;
  };
  bool server = role_ == Role::kServer;
  keys.local_master = server ? master(server_key, server_salt) : master(client_key, client_salt);
  keys.remote_master = server ? master(client_key, client_salt) : master(server_key, server_salt);
  OPENSSL_cleanse(km.data(), km.size());
  state_ = State::kConnected;
  listener_->OnDtlsTransportConnected(this, keys);
}

void DtlsTransport::fail(std::string reason) {
  if (state_ == State::kFailed) return;
  state_ = State::kFailed;
  listener_->OnDtlsTransportFailed(this, reason);
}

}  // namespace media
