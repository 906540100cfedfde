// Counters the media plane keeps for the metrics layer (which formats and exports them; the
// SFU does not depend on it). Plain integers: each Room is touched only by its owning
// thread, so a scrape posts to that thread and copies the struct.
#pragma once

#include <array>
#include <cstdint>

namespace media {

// Forwarding latency, from a packet's arrival at the UDP socket to its hand-off (SRTP
// protected) to the socket layer for one subscriber. The UdpServer batches a handler's sends
// into sendmmsg calls right after the fan-out, so the wire time follows within that batch.
class LatencyHistogram {
 public:
  // Upper bounds in microseconds; the last bucket is +Inf.
  static constexpr std::array<int64_t, 14> kBoundsUs = {
      25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 25000, 50000};
  void observe_ns(int64_t ns) {
    int64_t us = ns / 1000;
    size_t i = 0;
    while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
    ++counts_[i];
    sum_us_ += uint64_t(us < 0 ? 0 : us);
    ++count_;
  }
  // Non-cumulative count per bucket (kBoundsUs.size() + 1 entries, the last is +Inf).
  const std::array<uint64_t, kBoundsUs.size() + 1>& counts() const { return counts_; }
  uint64_t count() const { return count_; }
  uint64_t sum_us() const { return sum_us_; }

 private:
  std::array<uint64_t, kBoundsUs.size() + 1> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_us_ = 0;
};

struct MediaCounters {
  uint64_t rtp_packets_in = 0;  // from publishers, after SRTP
  uint64_t rtp_bytes_in = 0;
  uint64_t rtp_packets_out = 0;  // to subscribers, before SRTP, retransmissions included
  uint64_t rtp_bytes_out = 0;
  uint64_t nacks_received = 0;              // NACKed packets, counted one per sequence number
  uint64_t retransmissions_sent = 0;        // NACKs answered from the cache
  uint64_t nacks_sent = 0;                  // sequence numbers requested from publishers
  uint64_t keyframe_requests_received = 0;  // PLI and FIR from subscribers
  uint64_t keyframe_requests_sent = 0;      // PLI toward publishers, after coalescing
  uint64_t packets_dropped = 0;             // waiting for a key frame, or stale
  LatencyHistogram forward_latency;
};

}  // namespace media
