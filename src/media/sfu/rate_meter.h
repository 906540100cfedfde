// RateMeter: bits per second over the last whole second, in 100 ms buckets, for the SFU's
// per-layer and per-subscriber rates (layer selection, the retransmission budget).
// The second is the ten buckets before the one `now` falls in (so it lags by under 100 ms):
// counting the bucket still filling as a tenth of the second read up to 10 % low, which the
// layer selector's up-probe (estimate >= 1.3x this rate) took for headroom.
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
  static constexpr int64_t kWindowNs = kBucketNs * int64_t(kBuckets);

  // Counts `bytes` at `now_ns` (base::Clock monotonic time; must not go backwards).
  void add(int64_t now_ns, size_t bytes) {
    advance(now_ns);
    buckets_[size_t(bucket_of(now_ns) % int64_t(kSlots))] += bytes;
  }
  // Bits per second over the whole second before the bucket of `now_ns` (0 when nothing was
  // counted in it).
  uint64_t bps(int64_t now_ns) {
    advance(now_ns);
    const size_t filling = size_t(last_ % int64_t(kSlots));
    uint64_t bytes = 0;
    for (size_t i = 0; i < kSlots; ++i) {
      if (i != filling) bytes += buckets_[i];
    }
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
    if (gap >= int64_t(kSlots)) {
      buckets_.fill(0);
    } else {
      for (int64_t b = last_ + 1; b <= now; ++b) buckets_[size_t(b % int64_t(kSlots))] = 0;
    }
    last_ = now;
  }
  static constexpr size_t kSlots = kBuckets + 1;  // the second, and the bucket filling now
  std::array<uint64_t, kSlots> buckets_{};
  int64_t last_ = 0;  // the newest bucket counted into
  bool started_ = false;
};

}  // namespace media
