#include "base/log_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

using base::LogHistogram;

// The nearest-rank percentile of sorted samples, the definition LogHistogram promises.
uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double q) {
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

TEST(LogHistogramTest, EmptyReportsZero) {
  LogHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.percentile(1.0), 0u);
}

TEST(LogHistogramTest, SmallValuesAreExact) {
  LogHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 50u);
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.percentile(0.999), 100u);
  EXPECT_EQ(h.percentile(0.0), 1u);
  EXPECT_EQ(h.max(), 100u);
}

TEST(LogHistogramTest, BucketsTileTheRangeWithoutGaps) {
  // Every bucket starts one past the previous one's end, and each value lands in the bucket
  // whose range holds it; the last bucket ends at UINT64_MAX.
  for (size_t b = 1; b < LogHistogram::kBuckets; ++b) {
    ASSERT_EQ(LogHistogram::lower_of(b), LogHistogram::upper_of(b - 1) + 1) << "bucket " << b;
    ASSERT_EQ(LogHistogram::bucket_of(LogHistogram::lower_of(b)), b);
    ASSERT_EQ(LogHistogram::bucket_of(LogHistogram::upper_of(b)), b);
  }
  EXPECT_EQ(LogHistogram::upper_of(LogHistogram::kBuckets - 1),
            std::numeric_limits<uint64_t>::max());
}

TEST(LogHistogramTest, BucketWidthIsWithinOneSixtyFourth) {
  for (size_t b = 128; b < LogHistogram::kBuckets; ++b) {
    uint64_t lo = LogHistogram::lower_of(b), hi = LogHistogram::upper_of(b);
    ASSERT_LE(static_cast<double>(hi - lo), static_cast<double>(lo) / 64.0) << "bucket " << b;
  }
}

TEST(LogHistogramTest, PercentilesOfLatencyLikeSamplesAreWithinTheBucketError) {
  // Latencies in ns spread over four decades with a long tail, as a load run produces.
  std::vector<uint64_t> samples;
  uint64_t x = 88172645463325252ull;  // xorshift64: deterministic
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double u = static_cast<double>(x % 1000000) / 1e6;
    samples.push_back(static_cast<uint64_t>(20000.0 * std::pow(500.0, u * u * u)));
  }
  LogHistogram h;
  for (uint64_t v : samples) h.record(v);
  std::sort(samples.begin(), samples.end());
  EXPECT_EQ(h.count(), samples.size());
  EXPECT_EQ(h.max(), samples.back());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    uint64_t want = exact_percentile(samples, q), got = h.percentile(q);
    EXPECT_GE(got, want) << "q=" << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(want) * (1.0 + 1.0 / 64.0))
        << "q=" << q;
  }
  EXPECT_EQ(h.percentile(1.0), samples.back());
}

TEST(LogHistogramTest, MergeEqualsRecordingEverythingInOne) {
  LogHistogram a, b, both;
  for (uint64_t v = 0; v < 5000; v += 7) {
    a.record(v * 1000);
    both.record(v * 1000);
  }
  for (uint64_t v = 0; v < 3000; v += 3) {
    b.record(v * 999 + 5);
    both.record(v * 999 + 5);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.max(), both.max());
  for (double q : {0.25, 0.5, 0.99, 0.999}) EXPECT_EQ(a.percentile(q), both.percentile(q)) << q;
}

TEST(LogHistogramTest, HugeValuesDoNotOverflow) {
  LogHistogram h;
  h.record(std::numeric_limits<uint64_t>::max());
  h.record(1);
  EXPECT_EQ(h.percentile(0.5), 1u);
  EXPECT_EQ(h.percentile(1.0), std::numeric_limits<uint64_t>::max());
}

}  // namespace
