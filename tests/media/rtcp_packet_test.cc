#include "media/rtcp/rtcp_packet.h"

#include <gtest/gtest.h>

namespace media::rtcp {
namespace {

// A compound packet as Chromium sends from a receiver: RR + SDES(CNAME) + REMB, then
// separately a NACK. Bytes written out by hand from RFC 3550/4585 layouts.
const std::vector<uint8_t> kRrSdesRemb = {
    0x81,
    0xc9,
    0x00,
    0x07,  // RR, 1 block, length 7
    0x00,
    0x00,
    0x00,
    0x01,  // sender SSRC 1
    0xca,
    0xfe,
    0xba,
    0xbe,  // block: source SSRC
    0x19,
    0x00,
    0x00,
    0x05,  // fraction 25/256, cumulative lost 5
    0x00,
    0x01,
    0x1a,
    0x2b,  // extended highest seq
    0x00,
    0x00,
    0x00,
    0x20,  // jitter 32
    0x12,
    0x34,
    0x56,
    0x78,  // LSR
    0x00,
    0x01,
    0x00,
    0x00,  // DLSR = 1 s
    0x81,
    0xca,
    0x00,
    0x03,  // SDES, 1 chunk, length 3
    0x00,
    0x00,
    0x00,
    0x01,
    0x01,
    0x04,
    'a',
    'b',
    'c',
    'd',
    0x00,
    0x00,
    0x8f,
    0xce,
    0x00,
    0x05,  // PSFB FMT 15 (REMB), length 5
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x00,
    'R',
    'E',
    'M',
    'B',
    0x01,
    0x13,
    0x12,
    0xd0,  // 1 SSRC, exp 4, mantissa 0x312d0 -> 201936*16 =
           // 3230976 bps
    0xca,
    0xfe,
    0xba,
    0xbe,
};

TEST(Rtcp, ParsesChromiumStyleCompound) {
  auto r = parse_compound(kRrSdesRemb);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 3u);
  auto& rr = std::get<ReceiverReport>((*r)[0]);
  EXPECT_EQ(rr.ssrc, 1u);
  ASSERT_EQ(rr.reports.size(), 1u);
  EXPECT_EQ(rr.reports[0].ssrc, 0xcafebabeu);
  EXPECT_EQ(rr.reports[0].fraction_lost, 0x19);
  EXPECT_EQ(rr.reports[0].cumulative_lost, 5);
  EXPECT_EQ(rr.reports[0].delay_since_last_sr, 65536u);
  auto& sdes = std::get<Unknown>((*r)[1]);
  EXPECT_EQ(sdes.type, kSdes);
  auto& remb = std::get<Remb>((*r)[2]);
  EXPECT_EQ(remb.bitrate_bps, 0x312d0ull << 4);
  ASSERT_EQ(remb.ssrcs.size(), 1u);
  EXPECT_EQ(remb.ssrcs[0], 0xcafebabeu);
}

TEST(Rtcp, NackExpandsBitmask) {
  std::vector<uint8_t> nack = {
      0x81, 0xcd, 0x00, 0x03, 0,    0,    0,    1,
      0xca, 0xfe, 0xba, 0xbe, 0xff, 0xfe, 0x00, 0x05};  // PID 65534, BLP bits 0 and 2
  auto r = parse_compound(nack);
  ASSERT_TRUE(r.is_ok());
  auto& n = std::get<Nack>((*r)[0]);
  EXPECT_EQ(n.lost, (std::vector<uint16_t>{65534, 65535, 1}));
  // Round trip: serialize packs the same FCI.
  EXPECT_EQ(serialize({n}), nack);
}

TEST(Rtcp, RoundTripsEveryType) {
  SenderReport sr{0x11, 0x0123456789abcdefull, 90000, 10, 1000, {{7, 1, -3, 100, 4, 5, 6}}};
  ReceiverReport rr{0x22, {{8, 2, 3, 200, 5, 6, 7}, {9, 0, 0, 1, 0, 0, 0}}};
  Bye bye{{1, 2, 3}};
  Pli pli{1, 2};
  Fir fir{1, {{5, 9}, {6, 10}}};
  Nack nack{1, 2, {10, 11, 27, 28, 100}};
  Remb remb{1, 1'500'000 & ~uint64_t(0xF), {5, 6}};
  std::vector<Packet> all = {sr, rr, bye, pli, fir, nack, remb};
  auto bytes = serialize(all);
  auto back = parse_compound(bytes);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  ASSERT_EQ(back->size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_TRUE((*back)[i] == all[i]) << "packet " << i;
}

TEST(Rtcp, RembKeepsEighteenBitsOfMantissa) {
  Remb remb{1, 2'500'001, {}};
  auto back = parse_compound(serialize({remb}));
  ASSERT_TRUE(back.is_ok());
  uint64_t got = std::get<Remb>((*back)[0]).bitrate_bps;
  EXPECT_LE(got, 2'500'001u);
  EXPECT_GT(got, 2'500'001u - 2'500'001u / (1 << 17));
}

TEST(Rtcp, RejectsMalformed) {
  auto b = kRrSdesRemb;
  b[3] = 0x40;  // RR length past the datagram
  EXPECT_FALSE(parse_compound(b).is_ok());
  b = kRrSdesRemb;
  b[0] = 0x9f;  // RR claims 31 report blocks
  EXPECT_FALSE(parse_compound(b).is_ok());
  b = kRrSdesRemb;
  b[0] = 0x41;  // version 1
  EXPECT_FALSE(parse_compound(b).is_ok());
  b = kRrSdesRemb;
  b[0] |= 0x20;  // padding on a packet that is not the last
  EXPECT_FALSE(parse_compound(b).is_ok());
  EXPECT_FALSE(parse_compound(std::vector<uint8_t>{0x80, 0xc8}).is_ok());
}

}  // namespace
}  // namespace media::rtcp
