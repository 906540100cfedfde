// The shared UDP socket on loopback: a STUN Binding request from a real socket reaches the
// right transport by its ufrag and the success response comes back with our address.
#include "media/transport/udp_server.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "media/stun/stun_packet.h"
#include "media_test_util.h"

namespace media {
namespace {

namespace asio = boost::asio;

class NullSfuListener : public Sfu::Listener {
  void OnSfuTrackAdded(const std::string&, const std::string&, const std::string&,
                       MediaKind) override {}
  void OnSfuTrackRemoved(const std::string&, const std::string&, const std::string&,
                         MediaKind) override {}
  void OnSfuParticipantDisconnected(const std::string&, const std::string&, bool,
                                    const std::string&, std::string_view) override {}
};

// A UdpServer bound to `bind_ip` on a free port and an Sfu on it that announces
// `public_ip` (empty: SfuConfig's default), with one subscriber transport made from the
// recorded Chromium offer; `media` is its answer's first section (ICE ufrag and password).
struct LoopbackSfu {
  LoopbackSfu(const std::string& bind_ip, const std::string& public_ip) {
    bound = server.bind(bind_ip, 0).is_ok();
    config.port = server.local_port();
    if (!public_ip.empty()) config.public_ip = public_ip;
    sfu.emplace(config, &listener, &server, &base::SystemClock::instance(), &random,
                *DtlsCertificate::generate());
    server.start(&*sfu);
    answer = sfu->subscribe("r", "p", testing::read_fixture("chromium_subscribe_offer.sdp"));
    if (answer.is_ok()) {
      if (auto parsed = sdp::parse(*answer); parsed.is_ok()) media = parsed->media[0];
    }
  }

  // A STUN Binding request for the subscriber's transport, as a controlling browser sends it.
  std::vector<uint8_t> binding_request(uint8_t transaction_byte, stun::StunMessage* sent) const {
    stun::StunMessage req;
    req.username = media.ice_ufrag + ":pT3c";
    req.priority = 100;
    req.ice_controlling = 1;
    req.transaction_id[11] = transaction_byte;
    if (sent) *sent = req;
    return stun::serialize(req, media.ice_pwd, true);
  }

  asio::io_context io;
  UdpServer server{io, &base::SystemClock::instance()};
  bool bound = false;
  SfuConfig config;
  NullSfuListener listener;
  base::SeededRandom random{1};
  std::optional<Sfu> sfu;
  base::Result<std::string> answer = std::string();
  sdp::MediaSection media;
};

TEST(UdpServer, AnswersBindingRequestOnLoopback) {
  LoopbackSfu s("127.0.0.1", "");
  ASSERT_TRUE(s.bound);
  ASSERT_NE(s.config.port, 0);
  ASSERT_TRUE(s.answer.is_ok()) << s.answer.status().to_string();
  ASSERT_FALSE(s.media.ice_ufrag.empty());
  EXPECT_NE(s.answer->find("127.0.0.1 " + std::to_string(s.config.port) + " typ host"),
            std::string::npos);

  asio::ip::udp::socket client(s.io,
                               asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  stun::StunMessage req;
  auto bytes = s.binding_request(9, &req);
  client.send_to(asio::buffer(bytes),
                 asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), s.config.port));

  std::array<uint8_t, 1500> buf;
  asio::ip::udp::endpoint from;
  size_t got = 0;
  client.async_receive_from(asio::buffer(buf), from,
                            [&](const boost::system::error_code& ec, size_t n) {
                              if (!ec) got = n;
                              s.server.stop();
                            });
  s.io.run_for(std::chrono::seconds(5));
  ASSERT_GT(got, 0u);
  auto resp = stun::parse(std::span<const uint8_t>(buf.data(), got));
  ASSERT_TRUE(resp.is_ok());
  EXPECT_EQ(resp->cls, stun::Class::kSuccessResponse);
  EXPECT_EQ(resp->transaction_id, req.transaction_id);
  EXPECT_EQ(resp->xor_mapped_address->port, client.local_endpoint().port());
  EXPECT_TRUE(
      stun::verify_integrity(std::span<const uint8_t>(buf.data(), got), *resp, s.media.ice_pwd));
}

// Sends a STUN Binding request for a fresh subscriber transport from `client_ip` to
// `target_ip` (the server bound to `bind_ip`) and returns where the success response came
// from; nullopt when none came within 5 s.
std::optional<asio::ip::udp::endpoint> binding_reply_source(const std::string& bind_ip,
                                                            const std::string& client_ip,
                                                            const std::string& target_ip) {
  LoopbackSfu s(bind_ip, target_ip);
  EXPECT_TRUE(s.bound);
  EXPECT_TRUE(s.answer.is_ok());
  if (!s.answer.is_ok()) return std::nullopt;

  asio::ip::udp::socket client(s.io, asio::ip::udp::endpoint(asio::ip::make_address(client_ip), 0));
  auto bytes = s.binding_request(7, nullptr);
  client.send_to(asio::buffer(bytes),
                 asio::ip::udp::endpoint(asio::ip::make_address(target_ip), s.config.port));
  std::array<uint8_t, 1500> buf;
  asio::ip::udp::endpoint from;
  bool got = false;
  client.async_receive_from(asio::buffer(buf), from,
                            [&](const boost::system::error_code& ec, size_t n) {
                              got = !ec && n > 0;
                              s.server.stop();
                            });
  s.io.run_for(std::chrono::seconds(5));
  if (!got) return std::nullopt;
  return from;
}

// Two addresses on one host: the kernel would answer a datagram that arrived at 127.0.0.2
// from 127.0.0.1 (its route to the client), which a browser that checked 127.0.0.2 drops.
// Bound to 0.0.0.0, the answer must leave from the address the request arrived at.
TEST(UdpServer, AnswersFromTheAddressTheRequestArrivedAt) {
  auto from = binding_reply_source("0.0.0.0", "127.0.0.1", "127.0.0.2");
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(from->address().to_string(), "127.0.0.2");
  // And from the other address when the request goes there.
  from = binding_reply_source("0.0.0.0", "127.0.0.2", "127.0.0.1");
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(from->address().to_string(), "127.0.0.1");
}

// The same on addresses of a network namespace (tests/scripts/media_pktinfo_netns.sh):
// EDGECLASS_TEST_PKTINFO="<bind>;<client address>;<server address>" cases separated by
// spaces, e.g. "0.0.0.0;10.1.0.2;10.2.0.1 ::;fd01::2;fd02::1". DISABLED_ in CTest: only that
// script, which makes the namespace, runs it (--gtest_also_run_disabled_tests).
TEST(UdpServer, DISABLED_AnswersFromTheAddressTheRequestArrivedAtInANamespace) {
  const char* cases = std::getenv("EDGECLASS_TEST_PKTINFO");
  ASSERT_NE(cases, nullptr) << "EDGECLASS_TEST_PKTINFO unset (run media_pktinfo_netns.sh)";
  std::istringstream in(cases);
  std::string one;
  int n = 0;
  while (in >> one) {
    std::vector<std::string> parts;
    std::stringstream fields(one);
    for (std::string part; std::getline(fields, part, ';');) parts.push_back(part);
    ASSERT_EQ(parts.size(), 3u) << one;
    auto from = binding_reply_source(parts[0], parts[1], parts[2]);
    ASSERT_TRUE(from.has_value()) << one;
    EXPECT_EQ(from->address(), asio::ip::make_address(parts[2])) << one;
    ++n;
  }
  EXPECT_GT(n, 0);
}

TEST(UdpServer, EndpointConversionRoundTrips) {
  auto v4 = SocketAddress::ipv4(192, 0, 2, 1, 7882);
  EXPECT_EQ(UdpServer::from_endpoint(UdpServer::to_endpoint(v4)), v4);
  SocketAddress v6;
  ASSERT_TRUE(SocketAddress::parse_ip("2001:db8::1", &v6));
  v6.port = 9;
  EXPECT_EQ(UdpServer::from_endpoint(UdpServer::to_endpoint(v6)), v6);
  EXPECT_EQ(v6.to_string(), "[2001:db8::1]:9");
  // IPv4-mapped IPv6 (a dual-stack socket) is reported as plain IPv4.
  asio::ip::udp::endpoint mapped(asio::ip::make_address("::ffff:10.1.2.3"), 5);
  EXPECT_EQ(UdpServer::from_endpoint(mapped), SocketAddress::ipv4(10, 1, 2, 3, 5));
}

}  // namespace
}  // namespace media
