// NackGenerator: asks a publisher to resend what the SFU did not receive (RFC 4585 generic
// NACK), so that loss on the publisher's uplink is repaired once, at the SFU, instead of by
// every subscriber. Without RTX negotiated, Chromium resends on the original SSRC and
// sequence number, and the resent packet is forwarded like a late one.
//
// Tracks gaps in the sequence numbers; each missing number is requested at most kMaxRetries
// times, kRetryIntervalMs apart, and forgotten after kMaxAgeMs (too late to be useful).
// The same bookkeeping tells a late packet that fills a hole from a duplicate (expected()).
// Not thread-safe; one per video producer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace media {

class NackGenerator {
 public:
  static constexpr size_t kMaxMissing = 256;  // a larger jump is a restart, not loss
  static constexpr int kMaxRetries = 3;
  static constexpr int64_t kRetryIntervalMs = 100;
  static constexpr int64_t kMaxAgeMs = 1000;

  // False for a packet that can only be a duplicate or too late to matter: at or behind the
  // highest number seen, and not one of the missing numbers still awaited (each is awaited
  // for kMaxAgeMs, also after its last request). A number more than kMaxMissing behind is a
  // restart of the stream, so it is expected.
  bool expected(uint16_t seq) const;
  // True when `seq` is more than kMaxMissing from the highest number seen, either way: the
  // stream started again, or lost more than NACKs can repair. A decoder then needs a key
  // frame, and a subscriber's numbering must not jump with it (Room restarts its rewriters).
  bool jumps(uint16_t seq) const;
  // Records an arrival. True when it opened a new gap (the caller may NACK at once).
  bool on_packet(uint16_t seq, int64_t now_ns);
  // The sequence numbers to request now; marks them as requested.
  std::vector<uint16_t> due(int64_t now_ns);
  size_t missing_count() const { return missing_.size(); }

 private:
  struct Missing {
    uint16_t seq;
    int64_t since_ns;
    int64_t last_sent_ns;
    int retries;
  };
  // More than kMaxMissing behind the highest number seen (started_ only).
  bool far_behind(uint16_t seq) const;
  std::vector<Missing>::const_iterator find_missing(uint16_t seq) const;

  bool started_ = false;
  uint16_t max_seq_ = 0;
  std::vector<Missing> missing_;  // oldest first
};

}  // namespace media
