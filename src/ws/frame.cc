#include "ws/frame.h"

#include <algorithm>
#include <cstring>

namespace ws {

namespace {

// Header bytes for an unmasked frame of `n` payload bytes.
size_t header_size_for(size_t n) { return n < 126 ? 2 : n <= 0xFFFF ? 4 : 10; }

void write_header(char* out, bool fin, Opcode op, size_t n) {
  out[0] = char((fin ? 0x80 : 0) | uint8_t(op));
  if (n < 126) {
    out[1] = char(n);
  } else if (n <= 0xFFFF) {
    out[1] = char(126);
    out[2] = char((n >> 8) & 0xFF);
    out[3] = char(n & 0xFF);
  } else {
    out[1] = char(127);
    for (int i = 0; i < 8; ++i) out[2 + i] = char((uint64_t(n) >> (8 * (7 - i))) & 0xFF);
  }
}

Frame make_frame(Opcode op, std::string_view a, std::string_view b = {}) {
  const size_t n = a.size() + b.size();
  const size_t h = header_size_for(n);
  std::string s;
  s.resize(h + n);
  write_header(s.data(), true, op, n);
  if (!a.empty()) std::memcpy(s.data() + h, a.data(), a.size());
  if (!b.empty()) std::memcpy(s.data() + h + a.size(), b.data(), b.size());
  return std::make_shared<const std::string>(std::move(s));
}

}  // namespace

Frame text_frame(std::string_view payload) { return make_frame(Opcode::kText, payload); }

Frame control_frame(Opcode op, std::string_view payload) {
  return make_frame(op, payload.substr(0, 125));
}

Frame close_frame(uint16_t code, std::string_view reason) {
  // 125 bytes of payload at most: the code's 2 and 123 of reason, not cutting a UTF-8
  // sequence (continuation bytes are 10xxxxxx).
  if (reason.size() > 123) {
    size_t cut = 123;
    while (cut > 0 && (uint8_t(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  const char code_bytes[2] = {char(code >> 8), char(code & 0xFF)};
  return make_frame(Opcode::kClose, std::string_view(code_bytes, 2), reason);
}

size_t frame_header_size(std::string_view frame) {
  if (frame.size() < 2) return frame.size();
  uint8_t len = uint8_t(frame[1]) & 0x7F;
  return len < 126 ? 2 : len == 126 ? 4 : 10;
}

bool is_known_opcode(uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

bool is_valid_close_code(uint16_t code) {
  if (code >= 3000) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1013);
}

ParseResult parse_frame_header(std::string_view data, FrameHeader* out) {
  if (data.size() < 2) return ParseResult::kNeedMore;
  const uint8_t b0 = uint8_t(data[0]), b1 = uint8_t(data[1]);
  FrameHeader h;
  h.fin = (b0 & 0x80) != 0;
  h.rsv = (b0 >> 4) & 0x7;
  h.opcode = Opcode(b0 & 0x0F);
  h.masked = (b1 & 0x80) != 0;
  const uint8_t len7 = b1 & 0x7F;
  size_t pos = 2;
  if (len7 < 126) {
    h.payload_size = len7;
  } else if (len7 == 126) {
    if (data.size() < 4) return ParseResult::kNeedMore;
    h.payload_size = (uint64_t(uint8_t(data[2])) << 8) | uint8_t(data[3]);
    pos = 4;
  } else {
    if (data.size() < 10) return ParseResult::kNeedMore;
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n = (n << 8) | uint8_t(data[2 + i]);
    if (n >> 63) return ParseResult::kMalformed;
    h.payload_size = n;
    pos = 10;
  }
  if (h.masked) {
    if (data.size() < pos + 4) return ParseResult::kNeedMore;
    std::memcpy(h.mask, data.data() + pos, 4);
    pos += 4;
  }
  h.header_size = pos;
  *out = h;
  return ParseResult::kHeader;
}

void unmask(char* data, size_t n, const uint8_t mask[4], size_t offset) {
  for (size_t i = 0; i < n; ++i) data[i] = char(uint8_t(data[i]) ^ mask[(offset + i) & 3]);
}

}  // namespace ws
