// DTLS handshake between DtlsTransport (server) and an independent DTLS client written here
// directly against OpenSSL, both in memory; then SRTP with the exported keys.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <deque>
#include <thread>

#include "media/dtls/dtls_transport.h"
#include "media/srtp/srtp_session.h"

namespace media {
namespace {

std::string fingerprint_of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  char buf[4];
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    snprintf(buf, sizeof buf, i ? ":%02X" : "%02X", md[i]);
    out += buf;
  }
  return out;
}

// A browser stand-in: OpenSSL DTLS 1.2 client with its own self-signed certificate.
class RawClient {
 public:
  explicit RawClient(const char* profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 3600);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("browser"), -1, -1, 0);
    X509_set_issuer_name(cert_, name);
    X509_sign(cert_, key_, EVP_sha256());
    fingerprint = fingerprint_of(cert_);

    ctx_ = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_use_certificate(ctx_, cert_);
    SSL_CTX_use_PrivateKey(ctx_, key_);
    SSL_CTX_set_tlsext_use_srtp(ctx_, profiles);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    ssl_ = SSL_new(ctx_);
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    SSL_set_bio(ssl_, rbio_, wbio_);
    SSL_set_connect_state(ssl_);
  }
  ~RawClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }

  // Runs the handshake step; returns the datagrams to send.
  std::vector<std::vector<uint8_t>> step() {
    SSL_do_handshake(ssl_);
    std::vector<std::vector<uint8_t>> out;
    while (size_t n = BIO_ctrl_pending(wbio_)) {
      std::vector<uint8_t> d(n);
      BIO_read(wbio_, d.data(), int(n));
      out.push_back(std::move(d));
    }
    return out;
  }
  void receive(const std::vector<uint8_t>& d) { BIO_write(rbio_, d.data(), int(d.size())); }
  bool done() const { return SSL_is_init_finished(ssl_); }
  std::string server_fingerprint() const {
    X509* peer = SSL_get1_peer_certificate(ssl_);
    std::string fp = peer ? fingerprint_of(peer) : "";
    X509_free(peer);
    return fp;
  }
  // The client's own view of the exported keys: client key||salt, server key||salt.
  std::pair<std::vector<uint8_t>, std::vector<uint8_t>> keys(size_t salt_len) const {
    std::vector<uint8_t> km(2 * (16 + salt_len));
    SSL_export_keying_material(ssl_, km.data(), km.size(), "EXTRACTOR-dtls_srtp", 19, nullptr, 0,
                               0);
    std::vector<uint8_t> c(km.begin(), km.begin() + 16), s(km.begin() + 16, km.begin() + 32);
    c.insert(c.end(), km.begin() + 32, km.begin() + 32 + salt_len);
    s.insert(s.end(), km.begin() + 32 + salt_len, km.end());
    return {c, s};
  }
  int profile_id() const {
    auto* p = SSL_get_selected_srtp_profile(ssl_);
    return p ? int(p->id) : 0;
  }

  std::string fingerprint;

 private:
  EVP_PKEY* key_;
  X509* cert_;
  SSL_CTX* ctx_;
  SSL* ssl_;
  BIO* rbio_;
  BIO* wbio_;
};

class Collector : public DtlsTransport::Listener {
 public:
  void OnDtlsTransportSendData(const DtlsTransport*, ByteSpan d) override {
    out.emplace_back(d.begin(), d.end());
  }
  void OnDtlsTransportConnected(const DtlsTransport*, const SrtpKeys& k) override {
    connected = true;
    keys = k;
  }
  void OnDtlsTransportFailed(const DtlsTransport*, std::string_view r) override {
    failed = std::string(r);
  }
  void OnDtlsTransportClosed(const DtlsTransport*) override { closed = true; }
  std::deque<std::vector<uint8_t>> out;
  bool connected = false;
  bool closed = false;
  std::string failed;
  SrtpKeys keys;
};

void handshake(RawClient& client, DtlsTransport& server, Collector& sc) {
  server.start();
  for (int round = 0; round < 10 && !(client.done() && sc.connected); ++round) {
    for (auto& d : client.step()) {
      EXPECT_TRUE(looks_like_dtls(d));
      server.process_data(d);
    }
    while (!sc.out.empty()) {
      client.receive(sc.out.front());
      sc.out.pop_front();
    }
  }
  client.step();
}

TEST(DtlsCertificate, FingerprintFormat) {
  auto cert = DtlsCertificate::generate();
  ASSERT_TRUE(cert.is_ok()) << cert.status().to_string();
  const std::string& fp = (*cert)->fingerprint_sha256();
  EXPECT_EQ(fp.size(), 32u * 3 - 1);
  EXPECT_EQ(fp[2], ':');
  auto other = DtlsCertificate::generate();
  EXPECT_NE((*other)->fingerprint_sha256(), fp);
}

TEST(DtlsTransport, ServerHandshakeWithOpenSslClientExportsSameKeys) {
  auto cert = DtlsCertificate::generate();
  ASSERT_TRUE(cert.is_ok());
  RawClient client;
  Collector sc;
  auto server = DtlsTransport::create(&sc, *cert, DtlsTransport::Role::kServer);
  ASSERT_TRUE(server.is_ok()) << server.status().to_string();
  (*server)->set_remote_fingerprint(client.fingerprint);
  handshake(client, **server, sc);
  ASSERT_TRUE(sc.connected) << sc.failed;
  ASSERT_TRUE(client.done());
  EXPECT_EQ((*server)->state(), DtlsTransport::State::kConnected);
  // The client saw the certificate whose fingerprint the server announces in SDP.
  EXPECT_EQ(client.server_fingerprint(), (*cert)->fingerprint_sha256());
  // Server preference: AEAD_AES_128_GCM (SRTP profile id 7).
  EXPECT_EQ(sc.keys.profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(client.profile_id(), 0x0007);
  auto [client_master, server_master] = client.keys(12);
  EXPECT_EQ(sc.keys.local_master, server_master);
  EXPECT_EQ(sc.keys.remote_master, client_master);
  EXPECT_NE(sc.keys.local_master, sc.keys.remote_master);
  EXPECT_FALSE((*server)->next_timeout_ms().has_value());
}

TEST(DtlsTransport, NegotiatesAesCmWhenThatIsAllTheClientOffers) {
  auto cert = DtlsCertificate::generate();
  RawClient client("SRTP_AES128_CM_SHA1_80");
  Collector sc;
  auto server = DtlsTransport::create(&sc, *cert, DtlsTransport::Role::kServer);
  (*server)->set_remote_fingerprint(client.fingerprint);
  handshake(client, **server, sc);
  ASSERT_TRUE(sc.connected) << sc.failed;
  EXPECT_EQ(sc.keys.profile, SrtpProfile::kAes128CmSha1_80);
  auto [client_master, server_master] = client.keys(14);
  EXPECT_EQ(sc.keys.local_master, server_master);
  EXPECT_EQ(sc.keys.remote_master.size(), 30u);
}

TEST(DtlsTransport, FingerprintMismatchFails) {
  auto cert = DtlsCertificate::generate();
  RawClient client;
  Collector sc;
  auto server = DtlsTransport::create(&sc, *cert, DtlsTransport::Role::kServer);
  (*server)->set_remote_fingerprint(std::string(95, 'A'));
  handshake(client, **server, sc);
  EXPECT_FALSE(sc.connected);
  EXPECT_NE(sc.failed.find("does not match"), std::string::npos) << sc.failed;
  EXPECT_EQ((*server)->state(), DtlsTransport::State::kFailed);
}

// The caller-driven timer: a lost flight is resent when on_timer() runs after
// next_timeout_ms(). OpenSSL's DTLS timer runs on real time (1 s initially), so this waits.
TEST(DtlsTransport, LostFlightIsRetransmittedOnTimer) {
  auto cert = DtlsCertificate::generate();
  RawClient client;
  Collector sc;
  auto server = DtlsTransport::create(&sc, *cert, DtlsTransport::Role::kServer);
  (*server)->set_remote_fingerprint(client.fingerprint);
  (*server)->start();
  for (auto& d : client.step()) (*server)->process_data(d);
  ASSERT_FALSE(sc.out.empty());
  sc.out.clear();  // the server's flight is lost
  auto due = (*server)->next_timeout_ms();
  ASSERT_TRUE(due.has_value());
  EXPECT_GT(*due, 0);
  EXPECT_LE(*due, 1000);
  (*server)->on_timer();  // not yet due: nothing resent
  EXPECT_TRUE(sc.out.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(*due + 20));
  EXPECT_EQ((*server)->next_timeout_ms().value_or(-1), 0);
  (*server)->on_timer();
  ASSERT_FALSE(sc.out.empty());  // the flight again
  handshake(client, **server, sc);
  EXPECT_TRUE(sc.connected) << sc.failed;
}

// Garbage that looks like DTLS records is discarded (RFC 6347 §4.1.2.7: invalid records are
// dropped silently): it neither connects nor fails the transport, and a real handshake that
// follows still completes.
TEST(DtlsTransport, GarbageIsDiscardedAndTheHandshakeStillWorks) {
  auto cert = DtlsCertificate::generate();
  RawClient client;
  Collector sc;
  auto server = DtlsTransport::create(&sc, *cert, DtlsTransport::Role::kServer);
  (*server)->set_remote_fingerprint(client.fingerprint);
  (*server)->start();
  for (uint8_t b : {uint8_t(0x16), uint8_t(0x17), uint8_t(0x15), uint8_t(0x00)}) {
    std::vector<uint8_t> junk(100, b);
    (*server)->process_data(junk);
  }
  std::vector<uint8_t> truncated = {0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  (*server)->process_data(truncated);
  EXPECT_FALSE(sc.connected);
  EXPECT_NE((*server)->state(), DtlsTransport::State::kFailed) << sc.failed;
  handshake(client, **server, sc);
  EXPECT_TRUE(sc.connected) << sc.failed;
}

// Both ends are DtlsTransports (the client role is what the load tester will use), then
// SRTP protects on one side and unprotects on the other with the exported keys.
TEST(DtlsSrtp, EndToEndRtpAndRtcp) {
  auto server_cert = DtlsCertificate::generate();
  auto client_cert = DtlsCertificate::generate();
  Collector sc, cc;
  auto server = DtlsTransport::create(&sc, *server_cert, DtlsTransport::Role::kServer);
  auto client = DtlsTransport::create(&cc, *client_cert, DtlsTransport::Role::kClient);
  (*server)->set_remote_fingerprint((*client_cert)->fingerprint_sha256());
  (*client)->set_remote_fingerprint((*server_cert)->fingerprint_sha256());
  (*server)->start();
  (*client)->start();
  ASSERT_TRUE((*client)->next_timeout_ms().has_value());  // ClientHello retransmit timer
  for (int i = 0; i < 10 && !(sc.connected && cc.connected); ++i) {
    while (!cc.out.empty()) {
      (*server)->process_data(cc.out.front());
      cc.out.pop_front();
    }
    while (!sc.out.empty()) {
      (*client)->process_data(sc.out.front());
      sc.out.pop_front();
    }
  }
  ASSERT_TRUE(sc.connected && cc.connected) << sc.failed << cc.failed;
  EXPECT_EQ(sc.keys.local_master, cc.keys.remote_master);
  EXPECT_EQ(sc.keys.remote_master, cc.keys.local_master);

  auto out =
      SrtpSession::create(SrtpSession::Direction::kOutbound, sc.keys.profile, sc.keys.local_master);
  auto in =
      SrtpSession::create(SrtpSession::Direction::kInbound, cc.keys.profile, cc.keys.remote_master);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  ASSERT_TRUE(in.is_ok()) << in.status().to_string();

  std::vector<uint8_t> rtp = {0x80, 0x60, 0x00, 0x01, 0,   0,   0,   1,   0xca, 0xfe, 0xba,
                              0xbe, 'h',  'e',  'l',  'l', 'o', ' ', 'v', 'p',  '8'};
  std::vector<uint8_t> buf(rtp);
  buf.resize(rtp.size() + SrtpSession::kMaxOverhead);
  size_t len = rtp.size();
  ASSERT_TRUE((*out)->protect_rtp(buf, &len).is_ok());
  EXPECT_EQ(len, rtp.size() + 16);  // GCM tag
  EXPECT_NE(std::vector<uint8_t>(buf.begin() + 12, buf.begin() + 21),
            std::vector<uint8_t>(rtp.begin() + 12, rtp.end()));
  std::vector<uint8_t> wire(buf.begin(), buf.begin() + len);
  ASSERT_TRUE((*in)->unprotect_rtp(buf, &len).is_ok());
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + len), rtp);
  // A replay of the same SRTP packet is refused.
  std::vector<uint8_t> replay = wire;
  size_t rlen = replay.size();
  EXPECT_FALSE((*in)->unprotect_rtp(replay, &rlen).is_ok());
  // A tampered packet is refused.
  rtp[3] = 2;
  buf.assign(rtp.begin(), rtp.end());
  buf.resize(rtp.size() + SrtpSession::kMaxOverhead);
  len = rtp.size();
  ASSERT_TRUE((*out)->protect_rtp(buf, &len).is_ok());
  buf[14] ^= 1;
  EXPECT_FALSE((*in)->unprotect_rtp(buf, &len).is_ok());

  std::vector<uint8_t> rtcp = {0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1};  // RR, no blocks
  buf.assign(rtcp.begin(), rtcp.end());
  buf.resize(rtcp.size() + SrtpSession::kMaxOverhead);
  len = rtcp.size();
  ASSERT_TRUE((*out)->protect_rtcp(buf, &len).is_ok());
  EXPECT_GT(len, rtcp.size());
  ASSERT_TRUE((*in)->unprotect_rtcp(buf, &len).is_ok());
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + len), rtcp);

  // close_notify reaches the other side.
  (*client)->close();
  while (!cc.out.empty()) {
    (*server)->process_data(cc.out.front());
    cc.out.pop_front();
  }
  EXPECT_TRUE(sc.closed);
}

TEST(SrtpSession, AesCmRoundTripAndWrongKey) {
  std::vector<uint8_t> master(30);
  for (size_t i = 0; i < master.size(); ++i) master[i] = uint8_t(i * 7 + 1);
  auto out =
      SrtpSession::create(SrtpSession::Direction::kOutbound, SrtpProfile::kAes128CmSha1_80, master);
  auto in =
      SrtpSession::create(SrtpSession::Direction::kInbound, SrtpProfile::kAes128CmSha1_80, master);
  auto master2 = master;
  master2[0] ^= 1;
  auto wrong =
      SrtpSession::create(SrtpSession::Direction::kInbound, SrtpProfile::kAes128CmSha1_80, master2);
  ASSERT_TRUE(out.is_ok() && in.is_ok() && wrong.is_ok());
  for (uint16_t seq = 1; seq < 50; ++seq) {
    std::vector<uint8_t> rtp = {
        0x80, 0x6f, uint8_t(seq >> 8), uint8_t(seq), 0, 0, 3, 0xc0, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6,
        7,    8};
    std::vector<uint8_t> buf(rtp);
    buf.resize(rtp.size() + SrtpSession::kMaxOverhead);
    size_t len = rtp.size();
    ASSERT_TRUE((*out)->protect_rtp(buf, &len).is_ok());
    EXPECT_EQ(len, rtp.size() + 10);  // HMAC-SHA1-80 tag
    auto copy = buf;
    size_t copy_len = len;
    EXPECT_FALSE((*wrong)->unprotect_rtp(copy, &copy_len).is_ok());
    ASSERT_TRUE((*in)->unprotect_rtp(buf, &len).is_ok());
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + len), rtp);
  }
  EXPECT_FALSE(
      SrtpSession::create(SrtpSession::Direction::kInbound, SrtpProfile::kAeadAes128Gcm, master)
          .is_ok());  // 30 bytes is the wrong length for GCM
  std::vector<uint8_t> small(20);
  size_t len = 20;
  EXPECT_FALSE((*out)->protect_rtp(small, &len).is_ok());  // no room for the tag
}

}  // namespace
}  // namespace media
