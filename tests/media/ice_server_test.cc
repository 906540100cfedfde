#include "media/ice/ice_server.h"

#include <gtest/gtest.h>

namespace media {
namespace {

class Recorder : public IceServer::Listener {
 public:
  void OnIceServerSendStunPacket(const IceServer*, ByteSpan packet,
                                 const SocketAddress& to) override {
    sent.emplace_back(packet.begin(), packet.end());
    sent_to.push_back(to);
  }
  void OnIceServerSelectedTuple(const IceServer*, const SocketAddress& remote) override {
    selected.push_back(remote);
  }
  void OnIceServerStateChanged(const IceServer*, IceServer::State s) override {
    states.push_back(s);
  }
  std::vector<std::vector<uint8_t>> sent;
  std::vector<SocketAddress> sent_to;
  std::vector<SocketAddress> selected;
  std::vector<IceServer::State> states;
};

class IceServerTest : public ::testing::Test {
 protected:
  IceServerTest() : ice_(&rec_, &clock_, "srvufrag", "serverpassword0123456789") {
    ice_.set_remote_ufrag("brwz");
  }

  // A browser-style Binding request, as Chromium sends it.
  std::vector<uint8_t> request(bool use_candidate, std::string username = "srvufrag:brwz",
                               std::string password = "serverpassword0123456789",
                               uint8_t txid_seed = 1) {
    stun::StunMessage m;
    m.cls = stun::Class::kRequest;
    for (size_t i = 0; i < 12; ++i) m.transaction_id[i] = uint8_t(txid_seed + i);
    m.username = username;
    m.priority = 1853817087;
    m.ice_controlling = 0x1122334455667788ull;
    m.use_candidate = use_candidate;
    return stun::serialize(m, password, true);
  }

  void deliver(const std::vector<uint8_t>& bytes, const SocketAddress& from) {
    auto m = stun::parse(bytes);
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    ice_.process_stun(bytes, *m, from);
  }

  stun::StunMessage last_response() {
    auto m = stun::parse(rec_.sent.back());
    EXPECT_TRUE(m.is_ok());
    return *m;
  }

  base::FakeClock clock_;
  Recorder rec_;
  IceServer ice_;
  SocketAddress a_ = SocketAddress::ipv4(192, 168, 1, 10, 50000);
  SocketAddress b_ = SocketAddress::ipv4(10, 0, 0, 7, 40000);
};

TEST_F(IceServerTest, AnswersValidRequestWithMappedAddressAndIntegrity) {
  deliver(request(false), a_);
  ASSERT_EQ(rec_.sent.size(), 1u);
  EXPECT_EQ(rec_.sent_to[0], a_);
  auto r = last_response();
  EXPECT_EQ(r.cls, stun::Class::kSuccessResponse);
  EXPECT_EQ(*r.xor_mapped_address, a_);
  EXPECT_TRUE(stun::verify_integrity(rec_.sent.back(), r, "serverpassword0123456789"));
  EXPECT_TRUE(r.has_fingerprint);
  EXPECT_EQ(ice_.state(), IceServer::State::kConnected);
  EXPECT_TRUE(ice_.has_tuple(a_));
  EXPECT_FALSE(ice_.has_selected_tuple());
}

TEST_F(IceServerTest, NominationSelectsTuple) {
  deliver(request(true), a_);
  ASSERT_TRUE(ice_.has_selected_tuple());
  EXPECT_EQ(ice_.selected_tuple(), a_);
  EXPECT_EQ(ice_.state(), IceServer::State::kCompleted);
  ASSERT_EQ(rec_.selected.size(), 1u);
}

TEST_F(IceServerTest, WrongPasswordGets401WithoutState) {
  deliver(request(true, "srvufrag:brwz", "not the password"), a_);
  auto r = last_response();
  EXPECT_EQ(r.cls, stun::Class::kErrorResponse);
  EXPECT_EQ(*r.error_code, 401);
  EXPECT_FALSE(r.has_integrity());
  EXPECT_FALSE(ice_.has_tuple(a_));
  EXPECT_EQ(ice_.state(), IceServer::State::kNew);
}

TEST_F(IceServerTest, WrongUsernameGets401) {
  deliver(request(true, "other:brwz"), a_);
  EXPECT_EQ(*last_response().error_code, 401);
  deliver(request(true, "srvufrag:someoneelse"), a_);
  EXPECT_EQ(*last_response().error_code, 401);
  EXPECT_FALSE(ice_.has_selected_tuple());
}

TEST_F(IceServerTest, ControlledPeerGetsRoleConflict) {
  stun::StunMessage m;
  m.username = "srvufrag:brwz";
  m.priority = 1;
  m.ice_controlled = 5;
  auto bytes = stun::serialize(m, "serverpassword0123456789", true);
  deliver(bytes, a_);
  EXPECT_EQ(*last_response().error_code, 487);
}

TEST_F(IceServerTest, AddressChangeMovesSelectedTuple) {
  deliver(request(true), a_);
  deliver(request(true, "srvufrag:brwz", "serverpassword0123456789", 50), b_);
  EXPECT_EQ(ice_.selected_tuple(), b_);
  ASSERT_EQ(rec_.selected.size(), 2u);
  EXPECT_EQ(rec_.selected[1], b_);
  // Both stay acceptable sources (late packets from the old path are not dropped).
  EXPECT_TRUE(ice_.has_tuple(a_));
}

TEST_F(IceServerTest, ConsentExpiresAfterThirtySecondsOfSilence) {
  deliver(request(true), a_);
  clock_.advance_ms(20'000);
  deliver(request(false), a_);  // a consent check refreshes
  clock_.advance_ms(20'000);
  ice_.on_timer();
  EXPECT_EQ(ice_.state(), IceServer::State::kCompleted);
  clock_.advance_ms(11'000);
  ice_.on_timer();
  EXPECT_EQ(ice_.state(), IceServer::State::kDisconnected);
  // The browser comes back: consent is restored.
  deliver(request(false), a_);
  EXPECT_EQ(ice_.state(), IceServer::State::kCompleted);
}

TEST_F(IceServerTest, LocalUfragOfUsername) {
  stun::StunMessage m;
  m.username = "abc:def";
  EXPECT_EQ(IceServer::local_ufrag_of(m), "abc");
  m.username.reset();
  EXPECT_EQ(IceServer::local_ufrag_of(m), "");
}

}  // namespace
}  // namespace media
