// city::parse_peer_url: the advertised URLs the forwarder accepts (EDGECLASS_ADVERTISE_URL).
#include "city/peer_url.h"

#include <gtest/gtest.h>

namespace {

TEST(PeerUrlTest, HttpAndHttpsWithDefaults) {
  auto plain = city::parse_peer_url("http://10.0.0.5:8080");
  ASSERT_TRUE(plain.is_ok()) << plain.status().message();
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->host, "10.0.0.5");
  EXPECT_EQ(plain->port, "8080");
  auto tls =
      city::parse_peer_url("https://edgeclass-0.edgeclass-peers.education.svc.cluster.local:8080/");
  ASSERT_TRUE(tls.is_ok()) << tls.status().message();
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->host, "edgeclass-0.edgeclass-peers.education.svc.cluster.local");
  EXPECT_EQ(tls->port, "8080");
  EXPECT_EQ(city::parse_peer_url("https://h")->port, "443");
  EXPECT_EQ(city::parse_peer_url("http://h")->port, "80");
  auto v6 = city::parse_peer_url("https://[::1]:9000");
  ASSERT_TRUE(v6.is_ok()) << v6.status().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "9000");
}

TEST(PeerUrlTest, RejectsWhatItCannotUse) {
  for (const char* bad :
       {"h:80", "ftp://h:1", "https://", "https://:80", "http://h:0", "http://h:99999",
        "http://h:8x", "http://h:1/api", "http://u@h:1", "http://::1:80", "http://[::1:80"}) {
    auto u = city::parse_peer_url(bad);
    EXPECT_FALSE(u.is_ok()) << bad;
    if (!u.is_ok()) {
      EXPECT_NE(u.status().message().find(bad), std::string::npos);
    }
  }
}

}  // namespace
