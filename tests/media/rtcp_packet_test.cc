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

// Transport-wide feedback for 19 packets from 100: a run of 3 received (small deltas), a
// 1-bit status vector (14 symbols: 1 0 1 0 1 1 0 0 0 0 0 0 0 0), a 2-bit vector (2 of its 7
// used: large delta, lost).
const std::vector<uint8_t> kTransportCc = {
    0x8f, 205,  0x00, 0x08,                          // RTPFB FMT 15, length 8
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // sender, media SSRC
    0x00, 0x64, 0x00, 0x13,                          // base 100, count 19
    0xff, 0xff, 0xfe, 0x07,                          // reference time -2 (x 64 ms), feedback #7
    0x20, 0x03, 0xab, 0x00, 0xe0, 0x00,              // chunks
    0x04, 0x08, 0x0c, 0x01, 0x02, 0x03, 0x04, 0xff, 0x9c,  // deltas
    0x00};                                                 // to 32 bits

TEST(Rtcp, TransportFeedbackExpandsEveryChunkKind) {
  auto r = parse_compound(kTransportCc);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 1u);
  auto& fb = std::get<TransportFeedback>((*r)[0]);
  EXPECT_EQ(fb.sender_ssrc, 0x01020304u);
  EXPECT_EQ(fb.media_ssrc, 0x05060708u);
  EXPECT_EQ(fb.base_seq, 100);
  EXPECT_EQ(fb.reference_time_64ms, -2);
  EXPECT_EQ(fb.feedback_count, 7);
  ASSERT_EQ(fb.packets.size(), 19u);
  std::vector<bool> received;
  std::vector<int32_t> deltas;
  for (const auto& p : fb.packets) {
    received.push_back(p.received);
    if (p.received) deltas.push_back(p.delta_250us);
  }
  EXPECT_EQ(received, (std::vector<bool>{1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}));
  EXPECT_EQ(deltas, (std::vector<int32_t>{4, 8, 12, 1, 2, 3, 4, -100}));
  EXPECT_EQ(fb.packets[18].seq, 118);
  EXPECT_EQ(fb.received_count(), 8u);
  // Serialized (2-bit chunks only) it reads back the same.
  auto again = parse_compound(serialize({fb}));
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(std::get<TransportFeedback>((*again)[0]), fb);
  // Cut short, or a reserved symbol, or a count beyond the bound: refused.
  auto b = kTransportCc;
  b[3] = 0x07;  // one word shorter: the deltas overrun
  b.resize(32);
  EXPECT_FALSE(parse_compound(b).is_ok());
  b = kTransportCc;
  b[20] = 0x60;  // run-length chunk with the reserved symbol 3
  EXPECT_FALSE(parse_compound(b).is_ok());
  b = kTransportCc;
  b[14] = 0x7f, b[15] = 0xff;  // 32767 packets
  EXPECT_FALSE(parse_compound(b).is_ok());
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
