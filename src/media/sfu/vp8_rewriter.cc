#include "media/sfu/vp8_rewriter.h"

namespace media {

Vp8Rewriter::Fields Vp8Rewriter::locate(std::span<const uint8_t> p) {
  Fields f;
  if (p.empty() || !(p[0] & 0x80)) return f;  // no X: no extensions
  if (p.size() < 2) return f;
  uint8_t x = p[1];
  size_t at = 2;
  if (x & 0x80) {  // I: PictureID
    if (at >= p.size()) return f;
    f.pid_long = p[at] & 0x80;
    if (f.pid_long && at + 1 >= p.size()) return Fields{};
    f.pid_at = int(at);
    at += f.pid_long ? 2 : 1;
  }
  if (x & 0x40) {  // L: TL0PICIDX
    if (at >= p.size()) return Fields{};
    f.tl0_at = int(at);
  }
  return f;
}

void Vp8Rewriter::write(std::span<uint8_t> p, const Fields& f, bool track) const {
  if (f.pid_at >= 0) {
    uint8_t* b = p.data() + f.pid_at;
    if (f.pid_long) {
      uint16_t in = uint16_t((b[0] & 0x7F) << 8 | b[1]);
      uint16_t out = uint16_t(in + pid_offset_) & 0x7FFF;
      b[0] = uint8_t(0x80 | out >> 8);
      b[1] = uint8_t(out);
      if (track && uint16_t(out - last_pid_) & 0x7FFF &&
          (uint16_t(out - last_pid_) & 0x7FFF) < 0x4000) {
        last_pid_ = out;
      }
    } else {
      uint8_t out = uint8_t(b[0] + pid_offset_) & 0x7F;
      b[0] = out;
      if (track && uint8_t(out - last_pid_) & 0x7F && (uint8_t(out - last_pid_) & 0x7F) < 0x40) {
        last_pid_ = out;
      }
    }
  }
  if (f.tl0_at >= 0) {
    uint8_t& b = p[size_t(f.tl0_at)];
    b = uint8_t(b + tl0_offset_);
    if (track && uint8_t(b - last_tl0_) != 0 && uint8_t(b - last_tl0_) < 0x80) last_tl0_ = b;
  }
}

void Vp8Rewriter::rewrite(std::span<uint8_t> p, bool new_source) {
  Fields f = locate(p);
  if (new_source) {
    if (f.pid_at >= 0) {
      const uint8_t* b = p.data() + f.pid_at;
      uint16_t in = f.pid_long ? uint16_t((b[0] & 0x7F) << 8 | b[1]) : b[0] & 0x7F;
      uint16_t mask = f.pid_long ? 0x7FFF : 0x7F;
      pid_offset_ = started_ ? uint16_t((last_pid_ + 1 - in) & mask) : 0;
      if (!started_) last_pid_ = in;
    }
    if (f.tl0_at >= 0) {
      uint8_t in = p[size_t(f.tl0_at)];
      tl0_offset_ = started_ ? uint8_t(last_tl0_ + 1 - in) : 0;
      if (!started_) last_tl0_ = in;
    }
    started_ = true;
  }
  write(p, f, true);
}

void Vp8Rewriter::apply(std::span<uint8_t> p) const { write(p, locate(p), false); }

}  // namespace media
