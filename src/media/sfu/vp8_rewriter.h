// Vp8Rewriter: keeps the VP8 payload descriptor's PictureID and TL0PICIDX (RFC 7741 section
// 4.2) continuous for one subscriber across simulcast layer switches.
//
// Each layer numbers its pictures on its own; after a switch the receiver would see the
// picture id jump (backwards, as often as not) and may take the new pictures for stale ones.
// So, like the RtpRewriter for sequence numbers and timestamps, the subscriber's picture ids
// continue from the last one it was sent: at a switch (a new source, always at a key frame)
// the offset is re-based so the first picture gets last + 1. The descriptor's size never
// changes (a 7-bit id stays 7 bits). Pure logic; one per video consumer.
#pragma once

#include <cstdint>
#include <span>

namespace media {

class Vp8Rewriter {
 public:
  // Rewrites the descriptor at the start of `payload` (a VP8 RTP payload) in place.
  // `new_source`: this packet starts a new mapping (the first packet, or a layer switch).
  // Payloads without PictureID/TL0PICIDX, or too short, are left alone.
  void rewrite(std::span<uint8_t> payload, bool new_source);
  // Applies the current mapping only (a retransmission): never re-bases.
  void apply(std::span<uint8_t> payload) const;

 private:
  struct Fields {
    int pid_at = -1;  // offset of the PictureID in the payload, -1: absent
    bool pid_long = false;
    int tl0_at = -1;  // offset of TL0PICIDX, -1: absent
  };
  static Fields locate(std::span<const uint8_t> payload);
  void write(std::span<uint8_t> payload, const Fields& f, bool track) const;

  bool started_ = false;
  uint16_t pid_offset_ = 0;
  uint8_t tl0_offset_ = 0;
  mutable uint16_t last_pid_ = 0;  // the newest picture id sent (15 bits)
  mutable uint8_t last_tl0_ = 0;
};

}  // namespace media
