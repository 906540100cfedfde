#include "media/sfu/packet_cache.h"

namespace media {

PacketCache::PacketCache(size_t capacity, int64_t max_age_ms)
    : max_age_ns_(max_age_ms * 1'000'000) {
  size_t n = 1;
  while (n < capacity) n <<= 1;
  slots_.resize(n);
  mask_ = n - 1;
}

void PacketCache::store(uint32_t ssrc, uint16_t seq, std::span<const uint8_t> packet,
                        int64_t now_ns) {
  Slot& s = slots_[seq & mask_];
  s.used = true;
  s.ssrc = ssrc;
  s.seq = seq;
  s.stored_ns = now_ns;
  s.bytes.assign(packet.begin(), packet.end());
}

std::span<const uint8_t> PacketCache::find(uint32_t ssrc, uint16_t seq, int64_t now_ns) const {
  const Slot& s = slots_[seq & mask_];
  if (!s.used || s.ssrc != ssrc || s.seq != seq || now_ns - s.stored_ns > max_age_ns_) return {};
  return s.bytes;
}

}  // namespace media
