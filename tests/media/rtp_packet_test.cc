#include "media/rtp/rtp_packet.h"

#include <gtest/gtest.h>

#include <vector>

namespace media {
namespace {

// A VP8 packet laid out as Chromium sends it: one-byte extensions (ssrc-audio-level is for
// audio; for video: abs-send-time id 2, transport-wide-cc id 3, mid id 4), VP8 descriptor
// with a 15-bit PictureID, start of a key frame.
std::vector<uint8_t> chromium_vp8_keyframe() {
  return {
      0x90, 0xe0, 0x1a, 0x2b,              // V=2, X=1; M=1, PT=96; seq 0x1a2b
      0x00, 0x01, 0xe2, 0x40,              // timestamp 123456
      0xca, 0xfe, 0xba, 0xbe,              // SSRC
      0xbe, 0xde, 0x00, 0x03,              // one-byte extensions, 3 words
      0x22, 0x12, 0x34, 0x56,              // id 2 len 3: abs-send-time
      0x31, 0x00, 0x07,                    // id 3 len 2: transport-wide seq 7
      0x40, 0x30,                          // id 4 len 1: mid "0"
      0x00, 0x00, 0x00,                    // padding to the word
      0x90, 0x80, 0x81, 0x23,              // VP8: X=1 S=1 PID=0; I=1; PictureID 0x0123 (15 bits)
      0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a,  // frame header, P=0 (key frame), start code
  };
}

TEST(RtpPacket, ParsesHeaderAndOneByteExtensions) {
  auto buf = chromium_vp8_keyframe();
  auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_EQ(p->sequence_number(), 0x1a2b);
  EXPECT_EQ(p->timestamp(), 123456u);
  EXPECT_EQ(p->ssrc(), 0xcafebabeu);
  EXPECT_FALSE(p->two_byte_extensions());
  auto abs = p->extension(2);
  ASSERT_EQ(abs.size(), 3u);
  EXPECT_EQ(abs[0], 0x12);
  auto tcc = p->extension(3);
  ASSERT_EQ(tcc.size(), 2u);
  EXPECT_EQ(get_u16(tcc.data()), 7);
  auto mid = p->extension(4);
  ASSERT_EQ(mid.size(), 1u);
  EXPECT_EQ(mid[0], '0');
  EXPECT_TRUE(p->extension(5).empty());
  EXPECT_EQ(p->payload().size(), 10u);
  EXPECT_TRUE(is_vp8_keyframe(p->payload()));
  EXPECT_TRUE(looks_like_rtp(buf));
  EXPECT_FALSE(looks_like_rtcp(buf));
}

TEST(RtpPacket, RewritesInPlace) {
  auto buf = chromium_vp8_keyframe();
  auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p.is_ok());
  p->set_ssrc(0x01020304);
  p->set_sequence_number(0xffff);
  p->set_timestamp(0xdeadbeef);
  p->set_payload_type(100);
  p->set_marker(false);
  p->extension(3)[1] = 9;
  auto q = RtpPacket::parse(buf);
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(q->ssrc(), 0x01020304u);
  EXPECT_EQ(q->sequence_number(), 0xffff);
  EXPECT_EQ(q->timestamp(), 0xdeadbeefu);
  EXPECT_EQ(q->payload_type(), 100);
  EXPECT_FALSE(q->marker());
  EXPECT_EQ(get_u16(q->extension(3).data()), 9);
  EXPECT_EQ(buf[0], 0x90);  // other bits untouched
}

TEST(RtpPacket, TwoByteExtensionsAndPadding) {
  std::vector<uint8_t> buf = {
      0xb0, 0x6f, 0x00, 0x01,  // V=2 P=1 X=1; PT=111
      0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
      0x00, 0x01, 0x10, 0x00, 0x00, 0x02,  // two-byte profile, 2 words
      0x01, 0x03, 'a',  'b',  'c',         // id 1 len 3
      0x00,                                // padding
      0x10, 0x00,                          // id 16 len 0
      0xaa, 0xbb,                          // payload
      0x00, 0x02,                          // RTP padding: 2 bytes
  };
  auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_TRUE(p->two_byte_extensions());
  EXPECT_EQ(p->extension(1).size(), 3u);
  EXPECT_EQ(p->extension(1)[2], 'c');
  EXPECT_EQ(p->payload().size(), 2u);
  EXPECT_EQ(p->payload()[0], 0xaa);
  EXPECT_EQ(p->padding_size(), 2u);
}

TEST(RtpPacket, RejectsMalformed) {
  auto good = chromium_vp8_keyframe();
  {
    auto b = good;
    b[0] = 0x50;  // version 1
    EXPECT_FALSE(RtpPacket::parse(b).is_ok());
  }
  {
    auto b = good;
    b[15] = 0x20;  // extension length far past the end
    EXPECT_FALSE(RtpPacket::parse(b).is_ok());
  }
  {
    auto b = good;
    b[0] = 0x9f;  // 15 CSRCs in a short packet
    EXPECT_FALSE(RtpPacket::parse(b).is_ok());
  }
  {
    auto b = good;
    b[0] |= 0x20;  // padding bit with a last byte of 0x2a = 42 > payload
    EXPECT_FALSE(RtpPacket::parse(b).is_ok());
  }
  {
    std::vector<uint8_t> b(good.begin(), good.begin() + 11);
    EXPECT_FALSE(RtpPacket::parse(b).is_ok());
  }
  // Every truncation of a valid packet either parses or fails cleanly.
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> b(good.begin(), good.begin() + n);
    (void)RtpPacket::parse(b);
  }
}

TEST(RtpPacket, SequenceComparisonWraps) {
  EXPECT_TRUE(seq_newer(1, 0xfffe));
  EXPECT_FALSE(seq_newer(0xfffe, 1));
  EXPECT_FALSE(seq_newer(5, 5));
  EXPECT_TRUE(ts_newer(10, 0xfffffff0u));
}

TEST(Vp8, DeltaFrameIsNotKeyframe) {
  std::vector<uint8_t> delta = {0x10, 0x31, 0x00, 0x00};  // S=1, P=1
  EXPECT_FALSE(is_vp8_keyframe(delta));
  std::vector<uint8_t> continuation = {0x00, 0x10};  // S=0
  EXPECT_FALSE(is_vp8_keyframe(continuation));
  std::vector<uint8_t> key = {0x10, 0x10};
  EXPECT_TRUE(is_vp8_keyframe(key));
}

TEST(H264, KeyframeDetection) {
  EXPECT_TRUE(is_h264_keyframe(std::vector<uint8_t>{0x65, 0x88}));   // IDR slice
  EXPECT_TRUE(is_h264_keyframe(std::vector<uint8_t>{0x67, 0x42}));   // SPS
  EXPECT_FALSE(is_h264_keyframe(std::vector<uint8_t>{0x41, 0x9a}));  // non-IDR slice
  // STAP-A with SPS + PPS.
  EXPECT_TRUE(
      is_h264_keyframe(std::vector<uint8_t>{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}));
  EXPECT_FALSE(is_h264_keyframe(std::vector<uint8_t>{0x78, 0x00, 0x09, 0x67}));  // overrun
  // FU-A: start fragment of an IDR, then a middle fragment.
  EXPECT_TRUE(is_h264_keyframe(std::vector<uint8_t>{0x7c, 0x85, 0x00}));
  EXPECT_FALSE(is_h264_keyframe(std::vector<uint8_t>{0x7c, 0x05, 0x00}));
  EXPECT_TRUE(is_keyframe("h264", std::vector<uint8_t>{0x65}));
  EXPECT_TRUE(is_keyframe("VP8", std::vector<uint8_t>{0x10, 0x10}));
  EXPECT_FALSE(is_keyframe("opus", std::vector<uint8_t>{0x10, 0x10}));
}

}  // namespace
}  // namespace media
