// A histogram of non-negative integers (latencies in nanoseconds, say) in log-linear buckets,
// after HdrHistogram: values below 128 are counted exactly; every octave above, [2^e, 2^(e+1)),
// is split into 64 equal buckets, so a percentile read back is the true one or at most 1/64
// (1.6 %) above it. Fixed size (about 30 KB, any uint64_t fits), no allocation when recording.
// Not thread-safe: keep one per thread and merge() them at the end.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace base {

class LogHistogram {
 public:
  static constexpr int kSubBits = 7;  // 2^kSubBits exact values; 2^(kSubBits-1) buckets per octave
  // Octaves of shift 1..64-kSubBits after the exact values: the last bucket ends at UINT64_MAX.
  static constexpr size_t kBuckets = (64 - kSubBits + 2) << (kSubBits - 1);

  void record(uint64_t v) {
    ++counts_[bucket_of(v)];
    ++count_;
    if (v > max_) max_ = v;
  }

  void merge(const LogHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    if (other.max_ > max_) max_ = other.max_;
  }

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }  // exact; 0 when empty

  // The nearest-rank percentile: the smallest recorded value v with at least ceil(q * count())
  // values <= v, reported as the upper end of v's bucket (never more than max()). q in [0, 1];
  // 0 when empty.
  uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    if (rank < 1) rank = 1;
    if (rank > count_) rank = count_;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return upper_of(i) < max_ ? upper_of(i) : max_;
    }
    return max_;  // not reached: the counts add up to count_
  }

  // The bucket holding v and the range of values it holds (exposed for the tests).
  static size_t bucket_of(uint64_t v) {
    if (v < (uint64_t{1} << kSubBits)) return static_cast<size_t>(v);
    // v's top kSubBits bits are `top` in [2^(kSubBits-1), 2^kSubBits); `shift` bits are dropped.
    int shift = std::bit_width(v) - kSubBits;
    uint64_t top = v >> shift;
    return (static_cast<size_t>(shift) << (kSubBits - 1)) + static_cast<size_t>(top);
  }
  static uint64_t lower_of(size_t bucket) {
    if (bucket < (size_t{1} << kSubBits)) return bucket;
    auto [shift, top] = split(bucket);
    return top << shift;
  }
  static uint64_t upper_of(size_t bucket) {
    if (bucket < (size_t{1} << kSubBits)) return bucket;
    auto [shift, top] = split(bucket);
    return ((top + 1) << shift) - 1;  // wraps to UINT64_MAX for the very last bucket, as wanted
  }

 private:
  struct Split {
    int shift;
    uint64_t top;
  };
  // The inverse of bucket_of for bucket >= 2^kSubBits.
  static Split split(size_t bucket) {
    constexpr size_t kHalf = size_t{1} << (kSubBits - 1);
    return {static_cast<int>(bucket / kHalf) - 1, bucket % kHalf + kHalf};
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace base
