// Big-endian reads and writes over byte buffers, shared by the wire parsers. Callers check
// bounds before calling; these helpers do not.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace media {

using ByteSpan = std::span<const uint8_t>;

inline uint16_t get_u16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t get_u24(const uint8_t* p) { return uint32_t(p[0]) << 16 | p[1] << 8 | p[2]; }
inline uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t get_u64(const uint8_t* p) { return uint64_t(get_u32(p)) << 32 | get_u32(p + 4); }

inline void set_u16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void set_u24(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 16);
  p[1] = uint8_t(v >> 8);
  p[2] = uint8_t(v);
}
inline void set_u32(uint8_t* p, uint32_t v) {
  set_u16(p, uint16_t(v >> 16));
  set_u16(p + 2, uint16_t(v));
}
inline void set_u64(uint8_t* p, uint64_t v) {
  set_u32(p, uint32_t(v >> 32));
  set_u32(p + 4, uint32_t(v));
}

inline void put_u8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
inline void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}
inline void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  put_u16(out, uint16_t(v >> 16));
  put_u16(out, uint16_t(v));
}
inline void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  put_u32(out, uint32_t(v >> 32));
  put_u32(out, uint32_t(v));
}

}  // namespace media
