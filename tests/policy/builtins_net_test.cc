#include "builtins_test_util.h"

namespace policy::testing {
namespace {

TEST(BuiltinsNet, Cidr) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("net.cidr_contains", {J("\"10.0.0.0/8\""), J("\"10.1.2.3\"")}), "true");
  EXPECT_EQ(b.show("net.cidr_contains", {J("\"10.0.0.0/8\""), J("\"11.0.0.0/24\"")}), "false");
  EXPECT_EQ(b.show("net.cidr_intersects", {J("\"fd1e:5bfe:8af3:9ddc::/64\""), J("\"fd1e:5bfe:8af3:9ddc:1111::/72\"")}), "true");
  EXPECT_EQ(b.show("net.cidr_intersects", {J("\"192.168.1.0/24\""), J("\"192.168.2.0/24\"")}), "false");
  EXPECT_EQ(b.show("net.cidr_is_valid", {J("\"2002::1234:abcd:ffff:c0a8:101/64\"")}), "true");
  EXPECT_EQ(b.show("net.cidr_is_valid", {J("\"192.168.1.2\"")}), "false");
  EXPECT_EQ(b.show("net.cidr_expand", {J("\"172.16.100.255/30\"")}),
            "[\"172.16.100.252\",\"172.16.100.253\",\"172.16.100.254\",\"172.16.100.255\"]");
  EXPECT_EQ(b.show("net.cidr_expand", {J("\"192.168.1.1/33\"")}),
            "error: net.cidr_expand: invalid CIDR address: 192.168.1.1/33");
  EXPECT_EQ(b.show("net.cidr_contains_matches", {J("[\"1.1.2.0/24\", \"1.1.1.0/24\"]"), J("[\"1.1.1.1\", \"1.1.2.1\"]")}),
            "[[0,1],[1,0]]");
  EXPECT_EQ(b.show("net.cidr_contains_matches", {J("[\"1.1.2.0/24\"]"), J("[\"1.1.1.1\", 1]")}),
            "error: net.cidr_contains_matches: operand 2: element must be string or non-empty array");
  EXPECT_EQ(b.show("net.cidr_merge", {J("[\"192.0.128.0/24\", \"192.0.129.0/24\", \"10.0.0.1\"]")}),
            "[\"10.0.0.1/8\",\"192.0.128.0/23\"]");
  EXPECT_EQ(b.show("net.lookup_ip_addr", {J("\"::\"")}), "[\"::\"]");
}

TEST(BuiltinsMisc, UuidSemver) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("uuid.parse", {J("\"urn:uuid:000003e8-48b9-21ee-b200-325096b39f47\"")}),
            "{\"clocksequence\":12800,\"domain\":\"Person\",\"id\":1000,\"macvariables\":\"local:unicast\","
            "\"nodeid\":\"32-50-96-b3-9f-47\",\"time\":1693566990121469600,\"variant\":\"RFC4122\",\"version\":2}");
  EXPECT_EQ(b.show("uuid.parse", {J("\"6bea8ef2d3d33cd184e09bab06a52ece\"")}), "{\"variant\":\"RFC4122\",\"version\":3}");
  EXPECT_EQ(b.show("uuid.parse", {J("\"nope\"")}), "undefined");
  std::string u1 = b.show("uuid.rfc4122", {J("\"k\"")});
  EXPECT_EQ(u1, b.show("uuid.rfc4122", {J("\"k\"")}));
  EXPECT_NE(u1, b.show("uuid.rfc4122", {J("\"other\"")}));
  EXPECT_EQ(u1.size(), 38u);
  EXPECT_EQ(u1[15], '4');
  EXPECT_EQ(b.show("semver.is_valid", {J("\"1.0.0-alpha.1+build\"")}), "true");
  EXPECT_EQ(b.show("semver.is_valid", {J("\"01.0.0\"")}), "false");
  EXPECT_EQ(b.show("semver.compare", {J("\"1.0.0-alpha\""), J("\"1.0.0-alpha.1\"")}), "-1");
  EXPECT_EQ(b.show("semver.compare", {J("\"1.0.0\""), J("\"1.0.0-rc.1\"")}), "1");
  EXPECT_EQ(b.show("semver.compare", {J("\"1.2.3+x\""), J("\"1.2.3\"")}), "0");
}

}  // namespace
}  // namespace policy::testing
