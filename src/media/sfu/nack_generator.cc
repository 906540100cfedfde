#include "media/sfu/nack_generator.h"

#include <algorithm>

#include "media/rtp/rtp_packet.h"

namespace media {

bool NackGenerator::on_packet(uint16_t seq, int64_t now_ns) {
  if (!started_) {
    started_ = true;
    max_seq_ = seq;
    return false;
  }
  if (seq_newer(seq, max_seq_)) {
    uint16_t gap = uint16_t(seq - max_seq_ - 1);
    bool opened = false;
    if (gap > kMaxMissing) {
      missing_.clear();  // the stream jumped (publisher restart): nothing to repair
    } else {
      for (uint16_t s = uint16_t(max_seq_ + 1); s != seq; ++s) {
        missing_.push_back({s, now_ns, 0, 0});
        opened = true;
      }
      if (missing_.size() > kMaxMissing) {
        missing_.erase(missing_.begin(), missing_.end() - kMaxMissing);
      }
    }
    max_seq_ = seq;
    return opened;
  }
  if (far_behind(seq)) {
    missing_.clear();  // the stream started again lower
    max_seq_ = seq;
    return false;
  }
  if (auto it = find_missing(seq); it != missing_.end()) missing_.erase(it);
  return false;
}

bool NackGenerator::far_behind(uint16_t seq) const {
  return !seq_newer(seq, max_seq_) && uint16_t(max_seq_ - seq) > kMaxMissing;
}

std::vector<NackGenerator::Missing>::const_iterator NackGenerator::find_missing(
    uint16_t seq) const {
  return std::find_if(missing_.begin(), missing_.end(),
                      [&](const Missing& m) { return m.seq == seq; });
}

bool NackGenerator::jumps(uint16_t seq) const {
  if (!started_) return false;
  return seq_newer(seq, max_seq_) ? uint16_t(seq - max_seq_ - 1) > kMaxMissing : far_behind(seq);
}

bool NackGenerator::expected(uint16_t seq) const {
  if (!started_ || seq_newer(seq, max_seq_) || far_behind(seq)) return true;
  return find_missing(seq) != missing_.end();
}

std::vector<uint16_t> NackGenerator::due(int64_t now_ns) {
  std::vector<uint16_t> out;
  const int64_t max_age = kMaxAgeMs * 1'000'000;
  const int64_t interval = kRetryIntervalMs * 1'000'000;
  missing_.erase(std::remove_if(missing_.begin(), missing_.end(),
                                [&](const Missing& m) { return now_ns - m.since_ns > max_age; }),
                 missing_.end());
  for (Missing& m : missing_) {
    if (m.retries >= kMaxRetries) continue;  // given up asking, still awaited (expected())
    if (m.retries > 0 && now_ns - m.last_sent_ns < interval) continue;
    out.push_back(m.seq);
    m.last_sent_ns = now_ns;
    ++m.retries;
  }
  return out;
}

}  // namespace media
