// SyntheticPeer in answerer mode against a recorded Janus 1.1 streaming-plugin offer
// (data/janus_streaming_offer.sdp): the answer it builds, the ICE checks it answers, and
// the DTLS handshake it starts after the nomination, against our own DtlsTransport server
// standing in for Janus. No sockets; time is a FakeClock.
#include "media/client/synthetic_peer.h"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <sstream>

#include "media/sdp/session_description.h"
#include "media/stun/stun_packet.h"
#include "media_test_util.h"

namespace media {
namespace {

using media::testing::read_fixture;
using media::testing::replace_all;

constexpr const char* kJanusFingerprint =
    "D7:CA:E1:75:06:78:B1:52:BC:6C:C3:35:B3:3C:BF:6C:BF:26:AC:95:66:8B:98:A6:34:B0:0C:F9:B6:B6:"
    "F7:E0";

struct Outbox : SyntheticPeer::Sender {
  void send_to_sfu(ByteSpan d) override { sent.emplace_back(d.begin(), d.end()); }
  std::deque<std::vector<uint8_t>> sent;
};

class AnswererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    peer_ = SyntheticPeer::create(&out_, &clock_, random_, false).value();
    offer_ = read_fixture("janus_streaming_offer.sdp");
    ASSERT_FALSE(offer_.empty());
    local_ = SocketAddress::ipv4(192, 0, 2, 2, 40000);
  }

  // Janus's connectivity check to our candidate, signed with our password.
  std::vector<uint8_t> check(bool use_candidate, const std::string& pwd) {
    auto a = sdp::parse(peer_->answer(local_)).value();
    stun::StunMessage m;
    for (size_t i = 0; i < m.transaction_id.size(); ++i) m.transaction_id[i] = uint8_t(i + 1);
    m.username = a.media[0].ice_ufrag + ":5VrI";
    m.priority = 1853824767;
    m.ice_controlling = 42;
    m.use_candidate = use_candidate;
    return stun::serialize(m, pwd, true);
  }
  std::string our_pwd() { return sdp::parse(peer_->answer(local_)).value().media[0].ice_pwd; }

  base::FakeClock clock_;
  base::SeededRandom random_{7};
  Outbox out_;
  std::unique_ptr<SyntheticPeer> peer_;
  std::string offer_;
  SocketAddress local_;
};

TEST_F(AnswererTest, AnswersJanusOfferRecvonlyIceLiteActive) {
  ASSERT_TRUE(peer_->set_offer(offer_).is_ok());
  EXPECT_EQ(peer_->remote_candidate(), SocketAddress::ipv4(192, 0, 2, 2, 35911));

  std::string text = peer_->answer(local_);
  EXPECT_NE(text.find("\r\na=ice-lite\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=candidate:1 1 udp 2130706431 192.0.2.2 40000 typ host\r\n"),
            std::string::npos);
  auto a = sdp::parse(text);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(a->bundle_mids, (std::vector<std::string>{"a", "v"}));
  ASSERT_EQ(a->media.size(), 2u);
  const auto& audio = a->media[0];
  const auto& video = a->media[1];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(audio.mid, "a");
  EXPECT_EQ(audio.formats, (std::vector<std::string>{"111"}));
  EXPECT_EQ(video.kind, "video");
  EXPECT_EQ(video.mid, "v");
  EXPECT_EQ(video.formats, (std::vector<std::string>{"96"}));  // no RTX
  ASSERT_NE(video.find_codec("VP8"), nullptr);
  EXPECT_TRUE(video.extmap_id(sdp::kExtMid).has_value());
  for (const auto& m : a->media) {
    EXPECT_EQ(m.direction, sdp::Direction::kRecvOnly);
    EXPECT_EQ(m.setup, "active");
    EXPECT_TRUE(m.rtcp_mux);
    EXPECT_EQ(m.fingerprint_algorithm, "sha-256");
    EXPECT_FALSE(m.ice_ufrag.empty());
    EXPECT_GE(m.ice_pwd.size(), 22u);
    EXPECT_EQ(m.port, 40000);
  }
}

TEST_F(AnswererTest, RejectsUnusableOffers) {
  std::string no_candidates = offer_;
  replace_all(no_candidates, "a=candidate:1 1 udp 2015363327 192.0.2.2 35911 typ host\r\n", "");
  EXPECT_FALSE(peer_->set_offer(no_candidates).is_ok());

  std::string active = offer_;
  replace_all(active, "a=setup:actpass", "a=setup:active");
  EXPECT_FALSE(peer_->set_offer(active).is_ok());

  std::string no_fingerprint = offer_;
  replace_all(no_fingerprint, "a=fingerprint:sha-256 ", "a=x-fingerprint:sha-256 ");
  EXPECT_FALSE(peer_->set_offer(no_fingerprint).is_ok());

  auto publisher = SyntheticPeer::create(&out_, &clock_, random_, true).value();
  EXPECT_FALSE(publisher->set_offer(offer_).is_ok());
}

TEST_F(AnswererTest, AnswersValidChecksOnly) {
  ASSERT_TRUE(peer_->set_offer(offer_).is_ok());
  auto bad = check(false, "not-our-password-at-all");
  peer_->receive(bad);
  EXPECT_TRUE(out_.sent.empty());

  auto req = check(false, our_pwd());
  peer_->receive(req);
  ASSERT_EQ(out_.sent.size(), 1u);
  auto& bytes = out_.sent.front();
  auto resp = stun::parse(bytes);
  ASSERT_TRUE(resp.is_ok());
  EXPECT_EQ(resp->cls, stun::Class::kSuccessResponse);
  EXPECT_EQ(resp->transaction_id[0], 1);
  EXPECT_TRUE(resp->has_fingerprint);
  EXPECT_TRUE(stun::verify_integrity(bytes, *resp, our_pwd()));
  ASSERT_TRUE(resp->xor_mapped_address.has_value());
  EXPECT_EQ(*resp->xor_mapped_address, peer_->remote_candidate());
  EXPECT_FALSE(peer_->nominated());
}

// A DTLS server with Janus's role (setup:actpass answered with active) in memory.
struct FakeJanusDtls : DtlsTransport::Listener {
  void OnDtlsTransportSendData(const DtlsTransport*, ByteSpan d) override {
    sent.emplace_back(d.begin(), d.end());
  }
  void OnDtlsTransportConnected(const DtlsTransport*, const SrtpKeys&) override {
    connected = true;
  }
  void OnDtlsTransportFailed(const DtlsTransport*, std::string_view) override { failed = true; }
  void OnDtlsTransportClosed(const DtlsTransport*) override {}
  std::deque<std::vector<uint8_t>> sent;
  bool connected = false, failed = false;
};

TEST_F(AnswererTest, StartsDtlsAfterNominationAndConnects) {
  auto cert = DtlsCertificate::generate().value();
  FakeJanusDtls janus;
  auto server = DtlsTransport::create(&janus, cert, DtlsTransport::Role::kServer).value();
  replace_all(offer_, kJanusFingerprint, cert->fingerprint_sha256());
  ASSERT_TRUE(peer_->set_offer(offer_).is_ok());
  auto answer = sdp::parse(peer_->answer(local_)).value();
  server->set_remote_fingerprint(answer.media[0].fingerprint);
  server->start();

  auto req = check(true, our_pwd());
  peer_->receive(req);
  EXPECT_TRUE(peer_->nominated());
  ASSERT_EQ(out_.sent.size(), 1u);  // the response only: DTLS waits a little
  out_.sent.clear();
  peer_->on_timer();
  EXPECT_TRUE(out_.sent.empty());
  clock_.advance_ms(60);
  peer_->on_timer();
  ASSERT_FALSE(out_.sent.empty());
  EXPECT_TRUE(looks_like_dtls(out_.sent.front()));

  for (int round = 0; round < 20 && !(peer_->connected() && janus.connected); ++round) {
    while (!out_.sent.empty()) {
      server->process_data(out_.sent.front());
      out_.sent.pop_front();
    }
    while (!janus.sent.empty()) {
      peer_->receive(janus.sent.front());
      janus.sent.pop_front();
    }
  }
  EXPECT_TRUE(peer_->connected());
  EXPECT_TRUE(janus.connected);
  EXPECT_FALSE(janus.failed);
}

TEST_F(AnswererTest, StartsDtlsWithoutNominationAfterASecond) {
  ASSERT_TRUE(peer_->set_offer(offer_).is_ok());
  auto req = check(false, our_pwd());
  peer_->receive(req);
  out_.sent.clear();
  clock_.advance_ms(500);
  peer_->on_timer();
  EXPECT_TRUE(out_.sent.empty());
  clock_.advance_ms(600);
  peer_->on_timer();
  ASSERT_FALSE(out_.sent.empty());
  EXPECT_TRUE(looks_like_dtls(out_.sent.front()));
}

}  // namespace
}  // namespace media
