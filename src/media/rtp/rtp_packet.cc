#include "media/rtp/rtp_packet.h"

namespace media {
namespace {
base::Status rtp_error(std::string msg) { return base::invalid_argument("rtp: " + std::move(msg)); }
}  // namespace

bool looks_like_rtp_or_rtcp(ByteSpan data) {
  return data.size() >= RtpPacket::kFixedHeaderSize && data[0] >= 128 && data[0] <= 191;
}

bool looks_like_rtcp(ByteSpan data) {
  return looks_like_rtp_or_rtcp(data) && data[1] >= 192 && data[1] <= 223;
}

base::Result<RtpPacket> RtpPacket::parse(std::span<uint8_t> data) {
  if (data.size() < kFixedHeaderSize) return rtp_error("shorter than the fixed header");
  if ((data[0] >> 6) != 2) return rtp_error("version is not 2");
  RtpPacket p;
  p.data_ = data;
  size_t off = kFixedHeaderSize + 4 * (data[0] & 0x0F);
  if (off > data.size()) return rtp_error("CSRC list overruns the packet");

  if (data[0] & 0x10) {
    if (data.size() - off < 4) return rtp_error("extension header overruns the packet");
    uint16_t profile = get_u16(data.data() + off);
    size_t ext_len = size_t(get_u16(data.data() + off + 2)) * 4;
    size_t start = off + 4;
    if (data.size() - start < ext_len) return rtp_error("extension block overruns the packet");
    size_t end = start + ext_len;
    bool one_byte = profile == 0xBEDE;
    bool two_byte = (profile & 0xFFF0) == 0x1000;
    // Other profiles are legal RTP but carry no RFC 8285 elements; skip them whole.
    if (one_byte || two_byte) {
      p.ext_profile_ = profile;
      size_t i = start;
      while (i < end) {
        uint8_t id;
        size_t len;
        if (one_byte) {
          if (data[i] == 0) {  // padding
            ++i;
            continue;
          }
          id = data[i] >> 4;
          len = size_t(data[i] & 0x0F) + 1;
          if (id == 15) break;  // reserved: stop processing (RFC 8285 section 4.2)
          ++i;
        } else {
          if (data[i] == 0) {
            ++i;
            continue;
          }
          if (end - i < 2) return rtp_error("truncated two-byte extension element");
          id = data[i];
          len = data[i + 1];
          i += 2;
        }
        if (end - i < len) return rtp_error("extension element overruns the block");
        if (p.ext_count_ < p.exts_.size()) {
          p.exts_[p.ext_count_++] = Ext{id, uint8_t(len), uint16_t(i)};
        }
        i += len;
      }
    } else {
      p.ext_profile_ = 0;
    }
    off = end;
  }

  size_t padding = 0;
  if (data[0] & 0x20) {
    if (data.size() == off) return rtp_error("padding bit set without padding");
    padding = data[data.size() - 1];
    if (padding == 0 || padding > data.size() - off) return rtp_error("bad padding length");
  }
  p.payload_offset_ = off;
  p.payload_size_ = data.size() - off - padding;
  p.padding_size_ = padding;
  return p;
}

std::span<uint8_t> RtpPacket::extension(uint8_t id) const {
  for (uint8_t i = 0; i < ext_count_; ++i) {
    if (exts_[i].id == id) return data_.subspan(exts_[i].offset, exts_[i].len);
  }
  return {};
}

bool is_vp8_keyframe(std::span<const uint8_t> payload) {
  // VP8 payload descriptor (RFC 7741 section 4.2).
  size_t i = 0;
  if (payload.empty()) return false;
  uint8_t first = payload[0];
  bool x = first & 0x80;
  bool s = first & 0x10;
  uint8_t pid = first & 0x07;
  ++i;
  if (x) {
    if (i >= payload.size()) return false;
    uint8_t ext = payload[i++];
    if (ext & 0x80) {  // I: PictureID, 7 or 15 bits
      if (i >= payload.size()) return false;
      i += (payload[i] & 0x80) ? 2 : 1;
    }
    if (ext & 0x40) ++i;  // L: TL0PICIDX
    if (ext & 0x30) ++i;  // T or K: TID/Y/KEYIDX
  }
  if (!s || pid != 0 || i >= payload.size()) return false;
  // VP8 payload header: bit 0 of the first byte is P, the inverse key frame flag.
  return (payload[i] & 0x01) == 0;
}

bool is_h264_keyframe(std::span<const uint8_t> payload) {
  if (payload.empty()) return false;
  auto key_nal = [](uint8_t type) { return type == 5 || type == 7; };
  uint8_t type = payload[0] & 0x1F;
  if (type >= 1 && type <= 23) return key_nal(type);
  if (type == 24) {  // STAP-A: 16-bit size, then the NAL unit, repeated
    size_t i = 1;
    while (i + 2 < payload.size()) {
      size_t size = get_u16(&payload[i]);
      if (size == 0 || i + 2 + size > payload.size()) return false;
      if (key_nal(payload[i + 2] & 0x1F)) return true;
      i += 2 + size;
    }
    return false;
  }
  if (type == 28) {  // FU-A: FU header with the start bit and the fragmented NAL's type
    return payload.size() >= 2 && (payload[1] & 0x80) && key_nal(payload[1] & 0x1F);
  }
  return false;
}

bool is_keyframe(std::string_view codec, std::span<const uint8_t> payload) {
  auto is = [&](std::string_view name) {
    if (codec.size() != name.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      char c = codec[i];
      if (c >= 'a' && c <= 'z') c = char(c - 32);
      if (c != name[i]) return false;
    }
    return true;
  };
  if (is("VP8")) return is_vp8_keyframe(payload);
  if (is("H264")) return is_h264_keyframe(payload);
  return false;
}

}  // namespace media
