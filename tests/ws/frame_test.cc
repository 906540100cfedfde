// ws/frame.h: the frames the live send path builds once per event, and the client frames it
// parses without Beast.
#include "ws/frame.h"

#include <gtest/gtest.h>

#include <string>

namespace ws {
namespace {

// A client frame as a browser sends it: masked.
std::string client_frame(uint8_t b0, const std::string& payload, const uint8_t mask[4]) {
  std::string f;
  f.push_back(char(b0));
  const size_t n = payload.size();
  if (n < 126) {
    f.push_back(char(0x80 | n));
  } else if (n <= 0xFFFF) {
    f.push_back(char(0x80 | 126));
    f.push_back(char(n >> 8));
    f.push_back(char(n & 0xFF));
  } else {
    f.push_back(char(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(char((uint64_t(n) >> (8 * i)) & 0xFF));
  }
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < n; ++i) f.push_back(char(uint8_t(payload[i]) ^ mask[i & 3]));
  return f;
}

TEST(FrameTest, TextFramesCarryTheLengthInTheShortestForm) {
  for (size_t n : {size_t(0), size_t(125), size_t(126), size_t(65535), size_t(65536)}) {
    std::string payload(n, 'x');
    Frame f = text_frame(payload);
    const size_t header = n < 126 ? 2 : n <= 65535 ? 4 : 10;
    ASSERT_EQ(f->size(), header + n) << n;
    EXPECT_EQ(uint8_t((*f)[0]), 0x81) << n;  // FIN, text
    EXPECT_EQ(uint8_t((*f)[1]) & 0x80, 0) << "server frames are not masked";
    EXPECT_EQ(frame_header_size(*f), header);
    FrameHeader h;
    ASSERT_EQ(parse_frame_header(*f, &h), ParseResult::kHeader);
    EXPECT_EQ(h.payload_size, n);
    EXPECT_EQ(h.header_size, header);
    EXPECT_EQ(f->substr(header), payload);
  }
}

TEST(FrameTest, CloseFramesHoldTheCodeAndACutReason) {
  Frame f = close_frame(4008, "too slow");
  ASSERT_EQ(f->size(), 2u + 2 + 8);
  EXPECT_EQ(uint8_t((*f)[0]), 0x88);
  EXPECT_EQ((uint8_t((*f)[2]) << 8) | uint8_t((*f)[3]), 4008);
  EXPECT_EQ(f->substr(4), "too slow");
  // 200 bytes of two-byte characters: cut to 123 bytes at most, on a character boundary.
  std::string long_reason;
  for (int i = 0; i < 100; ++i) long_reason += "\xc3\xa9";
  Frame g = close_frame(1000, long_reason);
  const size_t reason = g->size() - 4;
  EXPECT_LE(reason, 123u);
  EXPECT_EQ(reason % 2, 0u);
}

TEST(FrameTest, ClientFramesParseHeaderFirstAndUnmask) {
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  for (size_t n : {size_t(5), size_t(300), size_t(70000)}) {
    std::string payload(n, 'a');
    for (size_t i = 0; i < n; ++i) payload[i] = char('a' + i % 26);
    std::string wire = client_frame(0x81, payload, mask);
    FrameHeader h;
    // One byte short of the header: need more.
    const size_t header = n < 126 ? 6 : n <= 65535 ? 8 : 14;
    EXPECT_EQ(parse_frame_header(std::string_view(wire).substr(0, header - 1), &h),
              ParseResult::kNeedMore);
    ASSERT_EQ(parse_frame_header(std::string_view(wire).substr(0, header), &h),
              ParseResult::kHeader);
    EXPECT_TRUE(h.fin);
    EXPECT_TRUE(h.masked);
    EXPECT_EQ(h.opcode, Opcode::kText);
    EXPECT_EQ(h.payload_size, n);
    EXPECT_EQ(h.header_size, header);
    // Unmasked in two pieces (as when the payload arrives in two reads).
    std::string data = wire.substr(header);
    size_t half = n / 2 + 1;
    unmask(data.data(), half, h.mask, 0);
    unmask(data.data() + half, n - half, h.mask, half);
    EXPECT_EQ(data, payload);
  }
}

TEST(FrameTest, FlagsAndBadLengthsAreReported) {
  const uint8_t mask[4] = {1, 2, 3, 4};
  FrameHeader h;
  // A continuation without FIN, RSV1 set, unknown opcode 3.
  ASSERT_EQ(parse_frame_header(client_frame(0x00, "x", mask), &h), ParseResult::kHeader);
  EXPECT_FALSE(h.fin);
  EXPECT_EQ(h.opcode, Opcode::kContinuation);
  ASSERT_EQ(parse_frame_header(client_frame(0xC1, "x", mask), &h), ParseResult::kHeader);
  EXPECT_EQ(h.rsv, 4);
  EXPECT_FALSE(is_known_opcode(0x3));
  EXPECT_TRUE(is_known_opcode(0x9));
  EXPECT_TRUE(is_control(Opcode::kPing));
  EXPECT_FALSE(is_control(Opcode::kText));
  // Unmasked (a server's frame arriving at the server) parses, marked unmasked.
  ASSERT_EQ(parse_frame_header(*text_frame("hi"), &h), ParseResult::kHeader);
  EXPECT_FALSE(h.masked);
  // A 64-bit length with the top bit set.
  std::string bad = "\x81\xff";
  bad += std::string("\x80\0\0\0\0\0\0\0", 8);
  bad += "abcd";
  EXPECT_EQ(parse_frame_header(bad, &h), ParseResult::kMalformed);
  // Control frame payload is cut to 125 bytes.
  EXPECT_EQ(control_frame(Opcode::kPing, std::string(300, 'p'))->size(), 2u + 125);
}

// What a client's close may carry (RFC 6455 §7.4, as Beast's stream checks it): the server
// fails the connection with 1002 on any other code rather than echo it.
TEST(FrameTest, CloseCodesAPeerMaySend) {
  for (uint16_t ok :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999}) {
    EXPECT_TRUE(is_valid_close_code(ok)) << ok;
  }
  for (uint16_t bad : {0, 1, 999, 1004, 1005, 1006, 1014, 1015, 1016, 2000, 2999}) {
    EXPECT_FALSE(is_valid_close_code(bad)) << bad;
  }
}

}  // namespace
}  // namespace ws
