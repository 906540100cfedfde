// ReceiveStats: what the SFU, as the receiver of a publisher's stream, reports back in RTCP
// receiver reports (RFC 3550 section 6.4.1 and appendix A.3/A.8): extended highest
// sequence number, cumulative and interval loss, interarrival jitter, and LSR/DLSR from the
// publisher's last sender report. The publisher's congestion control reads loss and RTT
// from these.
#pragma once

#include <cstdint>

#include "media/rtcp/rtcp_packet.h"

namespace media {

class ReceiveStats {
 public:
  explicit ReceiveStats(uint32_t clock_rate) : clock_rate_(clock_rate) {}

  void on_packet(uint16_t seq, uint32_t rtp_timestamp, int64_t arrival_ns);
  // Remembers a sender report's NTP time (for LSR) and when it arrived (for DLSR).
  void on_sender_report(uint64_t ntp_time, int64_t arrival_ns);
  // Builds the report block for `ssrc` and starts a new loss interval.
  rtcp::ReportBlock report(uint32_t ssrc, int64_t now_ns);

  uint64_t packets() const { return received_; }

 private:
  uint32_t clock_rate_;
  bool seen_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // count of sequence number wraps, shifted by 16
  uint32_t base_seq_ = 0;
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  double jitter_ = 0;  // in timestamp units, RFC 3550 A.8 estimator
  int64_t last_transit_ = 0;
  bool have_transit_ = false;
  uint32_t last_sr_ = 0;  // middle 32 bits of the last SR's NTP time
  int64_t last_sr_arrival_ns_ = 0;
};

}  // namespace media
