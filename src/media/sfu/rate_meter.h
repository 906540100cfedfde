// RateMeter: bits per second over the last second, in ten 100 ms buckets, for the SFU's
// per-layer and per-subscriber rates (layer selection, the retransmission budget).
//
// Pure and allocation-free; not thread-safe (one owner, the media thread).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace media {

class RateMeter {
 public:
  static constexpr int64_t kBucketNs = 100'000'000;
  static constexpr size_t kBuckets = 10;  // the window: one second

  // Counts `bytes` at `now_ns` (base::Clock monotonic time; must not go backwards).
  void add(int64_t now_ns, size_t bytes) {
    advance(now_ns);
    buckets_[size_t(bucket_of(now_ns) % kBuckets)] += bytes;
  }
  // Bits per second over the last second up to `now_ns` (0 when nothing was counted).
  uint64_t bps(int64_t now_ns) {
    advance(now_ns);
    uint64_t bytes = 0;
    for (uint64_t b : buckets_) bytes += b;
    return bytes * 8;
  }

 private:
  static int64_t bucket_of(int64_t ns) { return ns / kBucketNs; }
  // Clears the buckets that fell out of the window since the last call.
  void advance(int64_t now_ns) {
    int64_t now = bucket_of(now_ns);
    if (!started_) {
      started_ = true;
      last_ = now;
      return;
    }
    if (now <= last_) return;
    int64_t gap = now - last_;
    if (gap >= int64_t(kBuckets)) {
      buckets_.fill(0);
    } else {
      for (int64_t b = last_ + 1; b <= now; ++b) buckets_[size_t(b % kBuckets)] = 0;
    }
    last_ = now;
  }
  std::array<uint64_t, kBuckets> buckets_{};
  int64_t last_ = 0;  // the newest bucket counted into
  bool started_ = false;
};

}  // namespace media
