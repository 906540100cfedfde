// STUN codec tests against the RFC 5769 test vectors and the hash test vectors of
// FIPS 180 / RFC 2202.
#include <gtest/gtest.h>

#include <string>

#include "media/stun/stun_crypto.h"
#include "media/stun/stun_packet.h"

namespace media::stun {
namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::string hex(std::span<const uint8_t> d) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) s += k[b >> 4], s += k[b & 15];
  return s;
}

// RFC 5769 section 2.1: sample request, short-term credentials.
const std::vector<uint8_t> kSampleRequest = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

// RFC 5769 section 2.2: sample IPv4 response.
const std::vector<uint8_t> kSampleIpv4Response = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

// RFC 5769 section 2.3: sample IPv6 response.
const std::vector<uint8_t> kSampleIpv6Response = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

const char* kPassword = "VOkJxbRl1RmTxUk/WvJxBt";

TEST(StunCrypto, Sha1Vectors) {
  EXPECT_EQ(hex(sha1(bytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1(bytes(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(StunCrypto, HmacSha1Rfc2202) {
  EXPECT_EQ(hex(hmac_sha1("Jefe", bytes("what do ya want for nothing?"))),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  // Test case 6: an 80-byte key is hashed first.
  std::string key(80, '\xaa');
  EXPECT_EQ(hex(hmac_sha1(key, bytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

TEST(StunCrypto, Crc32CheckValue) { EXPECT_EQ(crc32(bytes("123456789")), 0xCBF43926u); }

TEST(StunPacket, ParsesRfc5769Request) {
  ASSERT_TRUE(is_stun(kSampleRequest));
  auto m = parse(kSampleRequest);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m->cls, Class::kRequest);
  EXPECT_EQ(m->method, kMethodBinding);
  EXPECT_EQ(*m->username, "evtj:h6vY");
  EXPECT_EQ(*m->software, "STUN test client");
  EXPECT_EQ(*m->priority, 0x6e0001ffu);
  EXPECT_EQ(*m->ice_controlled, 0x932ff9b151263b36ull);
  EXPECT_TRUE(m->has_fingerprint);
  ASSERT_TRUE(m->has_integrity());
  EXPECT_TRUE(verify_integrity(kSampleRequest, *m, kPassword));
  EXPECT_FALSE(verify_integrity(kSampleRequest, *m, "wrong password"));
}

TEST(StunPacket, ParsesRfc5769Ipv4Response) {
  auto m = parse(kSampleIpv4Response);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m->cls, Class::kSuccessResponse);
  ASSERT_TRUE(m->xor_mapped_address);
  EXPECT_EQ(m->xor_mapped_address->to_string(), "192.0.2.1:32853");
  EXPECT_TRUE(verify_integrity(kSampleIpv4Response, *m, kPassword));
}

TEST(StunPacket, ParsesRfc5769Ipv6Response) {
  auto m = parse(kSampleIpv6Response);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  ASSERT_TRUE(m->xor_mapped_address);
  EXPECT_EQ(m->xor_mapped_address->to_string(), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  EXPECT_TRUE(verify_integrity(kSampleIpv6Response, *m, kPassword));
}

TEST(StunPacket, SerializeReproducesRfc5769Ipv4Response) {
  StunMessage r;
  r.cls = Class::kSuccessResponse;
  std::copy(kSampleRequest.begin() + 8, kSampleRequest.begin() + 20, r.transaction_id.begin());
  r.software = "test vector";
  r.xor_mapped_address = SocketAddress::ipv4(192, 0, 2, 1, 32853);
  std::vector<uint8_t> out = serialize(r, kPassword, true);
  // Our attribute order puts XOR-MAPPED-ADDRESS before SOFTWARE, so compare semantically
  // and check that integrity and fingerprint verify.
  auto m = parse(out);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(*m->software, "test vector");
  EXPECT_EQ(*m->xor_mapped_address, *r.xor_mapped_address);
  EXPECT_TRUE(verify_integrity(out, *m, kPassword));
  EXPECT_EQ(out.size(), kSampleIpv4Response.size());
}

TEST(StunPacket, RejectsCorruption) {
  // Any flipped bit in the body breaks the FINGERPRINT (or the framing).
  for (size_t i = 20; i < kSampleRequest.size(); ++i) {
    auto copy = kSampleRequest;
    copy[i] ^= 0x01;
    auto m = parse(copy);
    if (m.is_ok()) {
      ADD_FAILURE() << "byte " << i << " flipped but parse succeeded";
    }
  }
  auto truncated = kSampleRequest;
  truncated.resize(truncated.size() - 4);
  EXPECT_FALSE(parse(truncated).is_ok());
  EXPECT_FALSE(is_stun(std::vector<uint8_t>{0x80, 0x01, 0x00, 0x00}));
}

TEST(StunPacket, IntegrityWithoutFingerprintRoundTrips) {
  StunMessage r;
  r.cls = Class::kRequest;
  r.username = "a:b";
  r.priority = 1;
  r.use_candidate = true;
  r.ice_controlling = 42;
  auto out = serialize(r, "pw", false);
  auto m = parse(out);
  ASSERT_TRUE(m.is_ok());
  EXPECT_FALSE(m->has_fingerprint);
  EXPECT_TRUE(m->use_candidate);
  EXPECT_EQ(*m->ice_controlling, 42u);
  EXPECT_TRUE(verify_integrity(out, *m, "pw"));
}

TEST(StunPacket, AttributeAfterIntegrityIsRejected) {
  StunMessage r;
  r.username = "a:b";
  auto out = serialize(r, "pw", false);
  // Append a PRIORITY after MESSAGE-INTEGRITY and fix the length.
  out.insert(out.end(), {0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4});
  set_u16(out.data() + 2, uint16_t(out.size() - kHeaderSize));
  EXPECT_FALSE(parse(out).is_ok());
}

TEST(StunPacket, UnknownRequiredAttributesAreListed) {
  StunMessage r;
  auto out = serialize(r, "", false);
  out.insert(out.end(), {0x00, 0x33, 0x00, 0x01, 7, 0, 0, 0});
  set_u16(out.data() + 2, uint16_t(out.size() - kHeaderSize));
  auto m = parse(out);
  ASSERT_TRUE(m.is_ok());
  ASSERT_EQ(m->unknown_required.size(), 1u);
  EXPECT_EQ(m->unknown_required[0], 0x0033);
}

}  // namespace
}  // namespace media::stun
