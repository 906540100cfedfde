// WebRtcTransport on its own: what it refuses. (The positive path is in sfu_e2e_test.)
#include "media/transport/webrtc_transport.h"

#include <gtest/gtest.h>

#include <deque>

#include "media/stun/stun_packet.h"

namespace media {
namespace {

struct Out {
  std::vector<uint8_t> bytes;
  SocketAddress to;
};

class TransportTest : public ::testing::Test,
                      public WebRtcTransport::Listener,
                      public DtlsTransport::Listener {
 protected:
  TransportTest() : random_(3) {
    auto cert = DtlsCertificate::generate().value();
    client_cert_ = DtlsCertificate::generate().value();
    transport_ = WebRtcTransport::create("t1", this, &clock_, random_, cert).value();
    transport_->set_remote_parameters("brwz", client_cert_->fingerprint_sha256());
    client_ = DtlsTransport::create(this, client_cert_, DtlsTransport::Role::kClient).value();
    client_->set_remote_fingerprint(cert->fingerprint_sha256());
  }

  // WebRtcTransport::Listener
  void OnTransportSendPacket(const WebRtcTransport*, ByteSpan d, const SocketAddress& to) override {
    to_client_.push_back({{d.begin(), d.end()}, to});
  }
  void OnTransportTupleAdded(const WebRtcTransport*, const SocketAddress& a) override {
    tuples_.push_back(a);
  }
  void OnTransportTupleRemoved(const WebRtcTransport*, const SocketAddress&) override {}
  void OnTransportConnected(const WebRtcTransport*) override { connected_ = true; }
  void OnTransportClosed(const WebRtcTransport*, std::string_view r) override {
    closed_ = std::string(r);
  }
  void OnTransportRtp(const WebRtcTransport*, std::span<uint8_t>, int64_t) override { ++rtp_; }
  void OnTransportRtcp(const WebRtcTransport*, ByteSpan) override { ++rtcp_; }
  // DtlsTransport::Listener (the browser side)
  void OnDtlsTransportSendData(const DtlsTransport*, ByteSpan d) override {
    to_server_.emplace_back(d.begin(), d.end());
  }
  void OnDtlsTransportConnected(const DtlsTransport*, const SrtpKeys& k) override {
    client_out_ =
        SrtpSession::create(SrtpSession::Direction::kOutbound, k.profile, k.local_master).value();
  }
  void OnDtlsTransportFailed(const DtlsTransport*, std::string_view) override {}
  void OnDtlsTransportClosed(const DtlsTransport*) override {}

  void ice_check(const SocketAddress& from) {
    stun::StunMessage m;
    m.username = transport_->local_ufrag() + ":brwz";
    m.priority = 1;
    m.ice_controlling = 1;
    m.use_candidate = true;
    auto bytes = stun::serialize(m, transport_->local_password(), true);
    transport_->receive(bytes, from, 0);
  }
  // Runs the DTLS handshake with datagrams from `from`.
  void handshake(const SocketAddress& from) {
    client_->start();
    for (int i = 0; i < 10; ++i) {
      while (!to_server_.empty()) {
        auto d = std::move(to_server_.front());
        to_server_.pop_front();
        transport_->receive(d, from, 0);
      }
      while (!to_client_.empty()) {
        auto o = std::move(to_client_.front());
        to_client_.pop_front();
        if (looks_like_dtls(o.bytes)) client_->process_data(o.bytes);
      }
    }
  }
  std::vector<uint8_t> srtp_packet() {
    std::vector<uint8_t> p = {0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 1, 2, 3, 4};
    size_t len = p.size();
    p.resize(len + SrtpSession::kMaxOverhead);
    EXPECT_TRUE(client_out_->protect_rtp(p, &len).is_ok());
    p.resize(len);
    return p;
  }

  base::FakeClock clock_;
  base::SeededRandom random_;
  std::shared_ptr<const DtlsCertificate> client_cert_;
  std::unique_ptr<WebRtcTransport> transport_;
  std::unique_ptr<DtlsTransport> client_;
  std::unique_ptr<SrtpSession> client_out_;
  std::deque<Out> to_client_;
  std::deque<std::vector<uint8_t>> to_server_;
  std::vector<SocketAddress> tuples_;
  bool connected_ = false;
  std::string closed_;
  int rtp_ = 0, rtcp_ = 0;
  SocketAddress browser_ = SocketAddress::ipv4(192, 168, 0, 2, 50000);
  SocketAddress stranger_ = SocketAddress::ipv4(192, 168, 0, 66, 50000);
};

TEST_F(TransportTest, CredentialsLookRandomAndLongEnough) {
  EXPECT_EQ(transport_->local_ufrag().size(), 8u);
  EXPECT_EQ(transport_->local_password().size(), 24u);
  EXPECT_NE(transport_->local_ufrag(), transport_->local_password().substr(0, 8));
}

TEST_F(TransportTest, DtlsFromAnUncheckedAddressIsIgnored) {
  handshake(stranger_);
  EXPECT_FALSE(connected_);
  EXPECT_TRUE(to_client_.empty());  // not even a HelloVerify or ServerHello
}

TEST_F(TransportTest, MediaOnlyFromCheckedAddressesAndOnlyWhenAuthentic) {
  ice_check(browser_);
  ASSERT_EQ(tuples_.size(), 1u);
  to_client_.clear();
  handshake(browser_);
  ASSERT_TRUE(connected_);
  ASSERT_TRUE(client_out_);

  auto good = srtp_packet();
  auto from_stranger = good;
  transport_->receive(from_stranger, stranger_, 0);  // a valid packet, wrong address
  EXPECT_EQ(rtp_, 0);
  transport_->receive(good, browser_, 0);
  EXPECT_EQ(rtp_, 1);
  auto forged = srtp_packet();
  forged[13] ^= 0xFF;  // tampered ciphertext
  transport_->receive(forged, browser_, 0);
  EXPECT_EQ(rtp_, 1);
  EXPECT_EQ(transport_->srtp_failures(), 1u);

  // Sends go to the nominated tuple.
  std::vector<uint8_t> out = {0x80, 0x60, 0, 9, 0, 0, 0, 1, 0, 0, 0, 8, 5, 6};
  size_t len = out.size();
  out.resize(len + SrtpSession::kMaxOverhead);
  to_client_.clear();
  ASSERT_TRUE(transport_->send_rtp(out, len).is_ok());
  ASSERT_EQ(to_client_.size(), 1u);
  EXPECT_EQ(to_client_[0].to, browser_);
}

TEST_F(TransportTest, SendBeforeConnectFails) {
  std::vector<uint8_t> out(200);
  EXPECT_FALSE(transport_->send_rtp(out, 20).is_ok());
}

}  // namespace
}  // namespace media
