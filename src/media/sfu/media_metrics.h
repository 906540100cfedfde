// The media plane's counters, described once: each Room counts into a MediaCounters; the
// owner of the SFU sums the rooms into a MediaStats (add_since, so rooms that closed keep
// what they counted); the metrics exporter registers one metric per row of
// kMediaCounterRows and kMediaGaugeRows and reads the MediaStats at scrape time. A new counter
// is a field here and a row below, nothing else. (The SFU does not depend on the metrics
// layer: the rows are names and help texts only.) Plain integers: each Room is touched only by
// its owning thread, which copies the struct for a snapshot.
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
  // What was observed since `before` (this histogram at an earlier time), or everything when
  // this one started again (fewer observations than `before`).
  LatencyHistogram since(const LatencyHistogram& before) const {
    if (count_ < before.count_) return *this;
    LatencyHistogram d;
    for (size_t i = 0; i < counts_.size(); ++i) d.counts_[i] = counts_[i] - before.counts_[i];
    d.count_ = count_ - before.count_;
    d.sum_us_ = sum_us_ - before.sum_us_;
    return d;
  }

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
  uint64_t nacks_received = 0;               // NACKed packets, counted one per sequence number
  uint64_t retransmissions_sent = 0;         // NACKs answered from the cache
  uint64_t nacks_sent = 0;                   // sequence numbers requested from publishers
  uint64_t keyframe_requests_received = 0;   // PLI and FIR from subscribers
  uint64_t keyframe_requests_sent = 0;       // PLI toward publishers, after coalescing
  uint64_t packets_dropped = 0;              // waiting for a key frame, stale, or duplicate
  uint64_t retransmissions_skipped = 0;      // NACKs not answered: over the subscriber's budget
  uint64_t keyframe_requests_throttled = 0;  // a subscriber's PLI/FIR inside its backoff
  uint64_t layer_switches = 0;               // simulcast layer changes made for subscribers
  LatencyHistogram forward_latency;
};

// One exported counter: its field, its /metrics name (a Prometheus counter) and help text.
struct MediaCounterRow {
  uint64_t MediaCounters::*field;
  const char* metric;
  const char* help;
};

inline constexpr MediaCounterRow kMediaCounterRows[] = {
    {&MediaCounters::rtp_packets_in, "edgeclass_media_received_packets_total",
     "RTP packets from publishers"},
    {&MediaCounters::rtp_bytes_in, "edgeclass_media_received_bytes_total",
     "RTP bytes from publishers"},
    {&MediaCounters::rtp_packets_out, "edgeclass_media_sent_packets_total",
     "RTP packets to subscribers (with retransmissions)"},
    {&MediaCounters::rtp_bytes_out, "edgeclass_media_sent_bytes_total", "RTP bytes to subscribers"},
    {&MediaCounters::nacks_received, "edgeclass_media_nacks_received_total",
     "Sequence numbers NACKed by subscribers"},
    {&MediaCounters::nacks_sent, "edgeclass_media_nacks_sent_total",
     "Sequence numbers NACKed toward publishers"},
    {&MediaCounters::retransmissions_sent, "edgeclass_media_retransmissions_total",
     "NACKs answered from the packet cache"},
    {&MediaCounters::keyframe_requests_received, "edgeclass_media_plis_received_total",
     "Key frame requests (PLI/FIR) from subscribers"},
    {&MediaCounters::keyframe_requests_sent, "edgeclass_media_plis_sent_total",
     "Key frame requests sent to publishers"},
    {&MediaCounters::packets_dropped, "edgeclass_media_packets_dropped_total",
     "RTP packets dropped (no key frame yet, stale, duplicate)"},
    {&MediaCounters::retransmissions_skipped, "edgeclass_media_retransmissions_skipped_total",
     "NACKs not answered because the subscriber's estimated bandwidth was used up"},
    {&MediaCounters::keyframe_requests_throttled, "edgeclass_media_plis_throttled_total",
     "Key frame requests from subscribers dropped by their per-subscriber backoff"},
    {&MediaCounters::layer_switches, "edgeclass_media_layer_switches_total",
     "Simulcast layer switches for subscribers"},
};

// Adds to `total` what a room counted between `before` (its counters at the previous
// snapshot; zero for a room not seen before) and `now`. A room recreated under the same id
// counts from zero again: a counter below its previous value adds all of itself.
inline void add_since(MediaCounters& total, const MediaCounters& now, const MediaCounters& before) {
  for (const MediaCounterRow& row : kMediaCounterRows) {
    uint64_t v = now.*row.field, was = before.*row.field;
    total.*row.field += v >= was ? v - was : v;
  }
}

// The SFU as /metrics shows it: counters summed over every room, closed ones included, and
// the current gauges.
struct MediaStats {
  MediaCounters totals;        // forward_latency is exported separately, as a histogram
  uint64_t rooms = 0;          // rooms with media
  uint64_t subscribers = 0;    // subscribing PeerConnections
  uint64_t transports = 0;     // WebRTC transports
  uint64_t srtp_failures = 0;  // over the transports alive now
  // Transports that failed since the start (counters; exported with a label by the owner as
  // edgeclass_media_ice_failures_total{reason} and edgeclass_media_dtls_failures_total).
  uint64_t ice_timeouts = 0;         // no valid ICE check within the timeout
  uint64_t consent_expirations = 0;  // ICE consent lost
  uint64_t dtls_failures = 0;        // DTLS handshake or SRTP setup failed
  // Relay legs between replicas' SFUs (sfu/relay.h): gauges, then counters since the start
  // (exported by the owner as edgeclass_media_relay_packets_total{direction} and
  // edgeclass_media_relay_bytes_total{direction}).
  uint64_t relay_legs_out = 0;  // legs this SFU sends to edges (it is the session's home)
  uint64_t relay_legs_in = 0;   // legs this SFU receives from a home (it is an edge)
  uint64_t relay_packets_out = 0;
  uint64_t relay_bytes_out = 0;
  uint64_t relay_packets_in = 0;
  uint64_t relay_bytes_in = 0;
};

// One exported gauge of MediaStats.
struct MediaGaugeRow {
  uint64_t MediaStats::*field;
  const char* metric;
  const char* help;
};

inline constexpr MediaGaugeRow kMediaGaugeRows[] = {
    {&MediaStats::rooms, "edgeclass_media_rooms", "Rooms with media on the SFU"},
    {&MediaStats::subscribers, "edgeclass_media_subscribers",
     "Subscribing PeerConnections on the SFU"},
    {&MediaStats::transports, "edgeclass_media_transports", "WebRTC transports on the SFU"},
    {&MediaStats::srtp_failures, "edgeclass_media_srtp_failures",
     "SRTP authentication/replay failures (live transports)"},
    {&MediaStats::relay_legs_out, "edgeclass_media_relay_legs_out",
     "Relay legs this SFU sends to other replicas' SFUs (one per live session and edge replica)"},
    {&MediaStats::relay_legs_in, "edgeclass_media_relay_legs_in",
     "Relay legs this SFU receives from the home replica's SFU (one per live session watched "
     "here)"},
};

}  // namespace media
