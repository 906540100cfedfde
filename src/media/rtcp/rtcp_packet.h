// RTCP (RFC 3550 section 6) and the feedback messages an SFU needs (RFC 4585 generic NACK
// and PLI, RFC 5104 FIR, draft-alvestrand-rmcat-remb REMB, transport-wide congestion control
// feedback): one struct per packet type,
// a parser for compound (and RFC 5506 reduced-size) packets, and serializers.
//
// Values, not views: RTCP is a few packets per second per stream, so clarity wins over
// zero-copy here. Unknown types (SDES, APP, XR) are reported as Unknown so the
// caller can count them; SDES is never forwarded, so its items are not decoded.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "base/status.h"
#include "media/common/bytes.h"

namespace media::rtcp {

enum PacketType : uint8_t {
  kSenderReport = 200,
  kReceiverReport = 201,
  kSdes = 202,
  kBye = 203,
  kApp = 204,
  kRtpFeedback = 205,      // RTPFB
  kPayloadFeedback = 206,  // PSFB
};

struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;         // of 256
  int32_t cumulative_lost = 0;       // 24-bit signed on the wire
  uint32_t highest_seq = 0;          // extended highest sequence number received
  uint32_t jitter = 0;               // in RTP timestamp units
  uint32_t last_sr = 0;              // middle 32 bits of the last SR's NTP time
  uint32_t delay_since_last_sr = 0;  // in 1/65536 s
  bool operator==(const ReportBlock&) const = default;
};

struct SenderReport {
  uint32_t ssrc = 0;
  uint64_t ntp_time = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_time = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  std::vector<ReportBlock> reports;  // at most 31
  bool operator==(const SenderReport&) const = default;
};

struct ReceiverReport {
  uint32_t ssrc = 0;
  std::vector<ReportBlock> reports;  // at most 31
  bool operator==(const ReceiverReport&) const = default;
};

struct Bye {
  std::vector<uint32_t> ssrcs;  // at most 31
  bool operator==(const Bye&) const = default;
};

// Picture Loss Indication (RFC 4585 section 6.3.1).
struct Pli {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  bool operator==(const Pli&) const = default;
};

// Full Intra Request (RFC 5104 section 4.3.1).
struct Fir {
  struct Entry {
    uint32_t ssrc = 0;
    uint8_t seq = 0;
    bool operator==(const Entry&) const = default;
  };
  uint32_t sender_ssrc = 0;
  std::vector<Entry> entries;
  bool operator==(const Fir&) const = default;
};

// Generic NACK (RFC 4585 section 6.2.1), with the PID/BLP pairs expanded to a list.
struct Nack {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  std::vector<uint16_t> lost;  // in the order the FCIs give them
  bool operator==(const Nack&) const = default;
};

// Receiver Estimated Maximum Bitrate (an application-layer PSFB, FMT 15, "REMB").
struct Remb {
  uint32_t sender_ssrc = 0;
  uint64_t bitrate_bps = 0;  // the encoding keeps 18 bits of mantissa: serialize rounds down
  std::vector<uint32_t> ssrcs;
  bool operator==(const Remb&) const = default;
};

// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 section 3.1; RTPFB FMT 15): for each transport-wide sequence number from
// `base_seq` on, whether it arrived and, if so, its arrival time as a delta from the
// previous one. The chunks (run length, 1-bit and 2-bit status vectors) are expanded.
struct TransportFeedback {
  struct Status {
    uint16_t seq = 0;
    bool received = false;
    int32_t delta_250us = 0;  // arrival minus the previous arrival (or the reference time)
    bool operator==(const Status&) const = default;
  };
  static constexpr size_t kMaxStatuses = 16384;  // larger counts are refused (hostile input)
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  uint16_t base_seq = 0;
  int32_t reference_time_64ms = 0;  // 24-bit signed on the wire, in units of 64 ms
  uint8_t feedback_count = 0;
  std::vector<Status> packets;  // base_seq, base_seq + 1, ... (the packet status count)
  bool operator==(const TransportFeedback&) const = default;
  // Packets reported received.
  size_t received_count() const;
};

// Any other packet (SDES, APP, unknown feedback): type and FMT/count only.
struct Unknown {
  uint8_t type = 0;
  uint8_t fmt = 0;
  bool operator==(const Unknown&) const = default;
};

using Packet = std::variant<SenderReport, ReceiverReport, Bye, Pli, Fir, Nack, Remb,
                            TransportFeedback, Unknown>;

// Parses a compound packet (one or more RTCP packets back to back, unencrypted). Fails when
// any header is malformed or a length overruns; the packets parsed before that are lost.
base::Result<std::vector<Packet>> parse_compound(ByteSpan data);

// Appends one packet in wire format to `out` (a compound packet is successive appends).
void append(std::vector<uint8_t>& out, const Packet& packet);

// Convenience: the wire bytes of one or more packets.
std::vector<uint8_t> serialize(const std::vector<Packet>& packets);

}  // namespace media::rtcp
