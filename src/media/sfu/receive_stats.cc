#include "media/sfu/receive_stats.h"

#include <algorithm>
#include <cstdlib>

namespace media {

void ReceiveStats::on_packet(uint16_t seq, uint32_t rtp_timestamp, int64_t arrival_ns) {
  if (!seen_) {
    seen_ = true;
    max_seq_ = seq;
    base_seq_ = seq;
  } else {
    uint16_t delta = uint16_t(seq - max_seq_);
    if (delta != 0 && delta < 0x8000) {
      if (seq < max_seq_) cycles_ += 1u << 16;  // wrapped
      max_seq_ = seq;
    }
  }
  ++received_;
  // Jitter (RFC 3550 A.8): transit time differences in timestamp units.
  int64_t arrival_ts = arrival_ns / 1000 * int64_t(clock_rate_) / 1'000'000;
  int64_t transit = arrival_ts - int64_t(rtp_timestamp);
  if (have_transit_) {
    double d = double(std::llabs(transit - last_transit_));
    // Ignore absurd jumps (timestamp reset) rather than poisoning the estimate.
    if (d < double(clock_rate_) * 10) jitter_ += (d - jitter_) / 16.0;
  }
  last_transit_ = transit;
  have_transit_ = true;
}

void ReceiveStats::on_sender_report(uint64_t ntp_time, int64_t arrival_ns) {
  last_sr_ = uint32_t(ntp_time >> 16);
  last_sr_arrival_ns_ = arrival_ns;
}

rtcp::ReportBlock ReceiveStats::report(uint32_t ssrc, int64_t now_ns) {
  rtcp::ReportBlock b;
  b.ssrc = ssrc;
  if (!seen_) return b;
  uint32_t extended_max = cycles_ + max_seq_;
  uint64_t expected = uint64_t(extended_max) - base_seq_ + 1;
  int64_t lost = int64_t(expected) - int64_t(received_);
  b.cumulative_lost = int32_t(std::clamp<int64_t>(lost, -0x800000, 0x7FFFFF));
  uint64_t expected_interval = expected - expected_prior_;
  uint64_t received_interval = received_ - received_prior_;
  expected_prior_ = expected;
  received_prior_ = received_;
  int64_t lost_interval = int64_t(expected_interval) - int64_t(received_interval);
  b.fraction_lost =
      (expected_interval == 0 || lost_interval <= 0)
          ? 0
          : uint8_t(std::min<int64_t>(255, (lost_interval << 8) / int64_t(expected_interval)));
  b.highest_seq = extended_max;
  b.jitter = uint32_t(jitter_);
  if (last_sr_arrival_ns_ != 0 || last_sr_ != 0) {
    b.last_sr = last_sr_;
    b.delay_since_last_sr = uint32_t((now_ns - last_sr_arrival_ns_) * 65536 / 1'000'000'000);
  }
  return b;
}

}  // namespace media
