// ws::Frame — WebSocket frames as the live send path writes and reads them (RFC 6455 §5).
//
// A server's frames are neither masked nor compressed, so a room event's frame is the same
// bytes for every receiver: it is built once (header + payload in one immutable buffer) and
// shared by reference by every connection's send queue. Client frames are parsed here too,
// header by header, so that the connection can read without a per-connection read buffer.
// No Asio, no I/O: the connection (LiveSession) does the reading and writing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ws {

// One whole frame, ready for the wire (header + payload). Immutable once built; shared.
using Frame = std::shared_ptr<const std::string>;

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// A final text frame carrying `payload` (valid UTF-8 is the caller's promise).
Frame text_frame(std::string_view payload);
// A control frame (ping, pong); `payload` is cut to 125 bytes.
Frame control_frame(Opcode op, std::string_view payload);
// A close frame with `code` and `reason` (cut to 123 bytes on a UTF-8 boundary).
Frame close_frame(uint16_t code, std::string_view reason);
// How many bytes of `frame` are header (2, 4 or 10).
size_t frame_header_size(std::string_view frame);

// The header of a frame received from a client.
struct FrameHeader {
  bool fin = false;
  uint8_t rsv = 0;  // RSV1..3 bits; must be 0 (no extension is negotiated)
  Opcode opcode = Opcode::kText;
  bool masked = false;
  uint8_t mask[4] = {0, 0, 0, 0};
  uint64_t payload_size = 0;
  size_t header_size = 0;  // bytes before the payload
};

enum class ParseResult {
  kNeedMore,   // not even the whole header yet
  kHeader,     // `out` holds the header (the payload may still be on its way)
  kMalformed,  // a 64-bit length with the top bit set
};

// Reads a frame header at the start of `data`.
ParseResult parse_frame_header(std::string_view data, FrameHeader* out);

// XORs `data` (the payload's bytes from `offset` on) with the frame's mask.
void unmask(char* data, size_t n, const uint8_t mask[4], size_t offset = 0);

// Is `op` one this server understands (RFC 6455's six)?
bool is_known_opcode(uint8_t op);
inline bool is_control(Opcode op) { return (uint8_t(op) & 0x8) != 0; }

// May a peer's close frame carry `code` (RFC 6455 §7.4, as Beast's websocket stream decides)?
// 1000-1003, 1007-1013 and 3000 up; never 0-999, 1004-1006 (1005 and 1006 mean "no code" and
// "cut" and are never sent), 1014-2999.
bool is_valid_close_code(uint16_t code);

}  // namespace ws
