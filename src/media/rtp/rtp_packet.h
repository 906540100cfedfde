// RtpPacket: a parsed view over one RTP packet (RFC 3550 section 5.1) held in a caller's
// buffer, with header extensions in both RFC 8285 forms (one-byte 0xBEDE and two-byte
// 0x100X). The forwarding path parses once and then rewrites SSRC, sequence number,
// timestamp, payload type and extension values in place, so no per-packet allocation.
//
// A view: the buffer must outlive the RtpPacket and must not be resized while it is used.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/status.h"
#include "media/common/bytes.h"

namespace media {

// RFC 7983 / RFC 5761 demultiplexing on one port: first byte 128..191 is RTP or RTCP;
// with rtcp-mux, RTCP packet types 192..223 occupy the second byte.
bool looks_like_rtp_or_rtcp(ByteSpan data);
bool looks_like_rtcp(ByteSpan data);  // includes the check above
inline bool looks_like_rtp(ByteSpan data) {
  return looks_like_rtp_or_rtcp(data) && !looks_like_rtcp(data);
}

class RtpPacket {
 public:
  static constexpr size_t kFixedHeaderSize = 12;
  static constexpr uint8_t kMaxExtensionId = 255;

  // Parses `data`. Fails when the version is not 2, a length overruns (CSRCs, extension,
  // padding) or an extension element is malformed.
  static base::Result<RtpPacket> parse(std::span<uint8_t> data);

  bool marker() const { return data_[1] & 0x80; }
  uint8_t payload_type() const { return data_[1] & 0x7F; }
  uint16_t sequence_number() const { return get_u16(data_.data() + 2); }
  uint32_t timestamp() const { return get_u32(data_.data() + 4); }
  uint32_t ssrc() const { return get_u32(data_.data() + 8); }
  size_t csrc_count() const { return data_[0] & 0x0F; }
  bool has_padding() const { return data_[0] & 0x20; }

  void set_marker(bool m) { data_[1] = uint8_t((data_[1] & 0x7F) | (m ? 0x80 : 0)); }
  void set_payload_type(uint8_t pt) { data_[1] = uint8_t((data_[1] & 0x80) | (pt & 0x7F)); }
  void set_sequence_number(uint16_t v) { set_u16(data_.data() + 2, v); }
  void set_timestamp(uint32_t v) { set_u32(data_.data() + 4, v); }
  void set_ssrc(uint32_t v) { set_u32(data_.data() + 8, v); }

  // True when the packet carries a header extension block; `two_byte` tells which form.
  bool has_extensions() const { return ext_profile_ != 0; }
  bool two_byte_extensions() const { return (ext_profile_ & 0xFFF0) == 0x1000; }
  // The value bytes of extension `id`, or an empty span when absent. Writable in place
  // (the length is fixed by the sender).
  std::span<uint8_t> extension(uint8_t id) const;

  // The payload (after header, CSRCs and extensions; before padding).
  std::span<uint8_t> payload() const { return data_.subspan(payload_offset_, payload_size_); }
  size_t padding_size() const { return padding_size_; }
  // The whole packet.
  std::span<uint8_t> bytes() const { return data_; }
  size_t size() const { return data_.size(); }

 private:
  struct Ext {
    uint8_t id = 0;
    uint8_t len = 0;
    uint16_t offset = 0;  // of the value, from the start of the packet
  };

  std::span<uint8_t> data_;  // not owned
  uint16_t ext_profile_ = 0;
  uint8_t ext_count_ = 0;
  std::array<Ext, 16> exts_{};  // the first 16 elements; more are ignored
  size_t payload_offset_ = 0;
  size_t payload_size_ = 0;
  size_t padding_size_ = 0;
};

// Interprets RFC 3550 16-bit sequence numbers with wrap-around: true when `a` comes after
// `b` (within half the number space).
inline bool seq_newer(uint16_t a, uint16_t b) { return a != b && uint16_t(a - b) < 0x8000; }
inline bool ts_newer(uint32_t a, uint32_t b) { return a != b && uint32_t(a - b) < 0x80000000u; }

// VP8 (RFC 7741): true when `payload` (an RTP payload with the VP8 payload descriptor)
// starts a key frame: start of partition 0 and the P bit of the frame header clear.
bool is_vp8_keyframe(std::span<const uint8_t> payload);

// H.264 (RFC 6184): true when `payload` starts a key frame: an IDR slice or an SPS, alone,
// inside a STAP-A aggregate, or at the start of an FU-A fragment.
bool is_h264_keyframe(std::span<const uint8_t> payload);

// Dispatches on the codec name from SDP ("VP8", "H264"; case-insensitive). False for others.
bool is_keyframe(std::string_view codec, std::span<const uint8_t> payload);

}  // namespace media
