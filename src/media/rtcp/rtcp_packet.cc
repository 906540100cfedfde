#include "media/rtcp/rtcp_packet.h"

#include <algorithm>
#include <string>

namespace media::rtcp {
namespace {

constexpr size_t kHeaderSize = 4;
constexpr size_t kReportBlockSize = 24;
constexpr size_t kMaxNackEntries = 4096;  // bounds memory for hostile input

base::Status rtcp_error(std::string msg) { return base::invalid_argument("rtcp: " + std::move(msg)); }

ReportBlock read_block(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = get_u32(p);
  b.fraction_lost = p[4];
  uint32_t lost = get_u24(p + 5);
  b.cumulative_lost = (lost & 0x800000) ? int32_t(lost | 0xFF000000u) : int32_t(lost);
  b.highest_seq = get_u32(p + 8);
  b.jitter = get_u32(p + 12);
  b.last_sr = get_u32(p + 16);
  b.delay_since_last_sr = get_u32(p + 20);
  return b;
}

void write_block(std::vector<uint8_t>& out, const ReportBlock& b) {
  put_u32(out, b.ssrc);
  put_u8(out, b.fraction_lost);
  uint32_t lost = uint32_t(b.cumulative_lost) & 0xFFFFFF;
  put_u8(out, uint8_t(lost >> 16));
  put_u16(out, uint16_t(lost));
  put_u32(out, b.highest_seq);
  put_u32(out, b.jitter);
  put_u32(out, b.last_sr);
  put_u32(out, b.delay_since_last_sr);
}

// Writes a header with a placeholder length; returns its offset for finish().
size_t begin(std::vector<uint8_t>& out, uint8_t count_or_fmt, uint8_t type) {
  size_t at = out.size();
  put_u8(out, uint8_t(0x80 | (count_or_fmt & 0x1F)));
  put_u8(out, type);
  put_u16(out, 0);
  return at;
}

void finish(std::vector<uint8_t>& out, size_t at) {
  set_u16(out.data() + at + 2, uint16_t((out.size() - at) / 4 - 1));
}

// Transport-wide feedback, after the common header (`b`, `n` bytes, padding removed).
base::Result<Packet> parse_transport_feedback(const uint8_t* b, size_t n) {
  if (n < 16) return rtcp_error("transport-cc feedback shorter than its fixed part");
  TransportFeedback fb;
  fb.sender_ssrc = get_u32(b);
  fb.media_ssrc = get_u32(b + 4);
  fb.base_seq = get_u16(b + 8);
  uint16_t count = get_u16(b + 10);
  uint32_t ref = get_u24(b + 12);
  fb.reference_time_64ms = (ref & 0x800000) ? int32_t(ref | 0xFF000000u) : int32_t(ref);
  fb.feedback_count = b[15];
  if (count == 0) return rtcp_error("transport-cc feedback without packets");
  if (count > TransportFeedback::kMaxStatuses) return rtcp_error("transport-cc packet count too large");
  std::vector<uint8_t> symbols;  // 0 not received, 1 small delta, 2 large delta
  symbols.reserve(count);
  size_t at = 16;
  while (symbols.size() < count) {
    if (n - at < 2) return rtcp_error("transport-cc chunks overrun the packet");
    uint16_t chunk = get_u16(b + at);
    at += 2;
    size_t left = count - symbols.size();
    if (!(chunk & 0x8000)) {  // run length: T=0, S (2 bits), length (13 bits)
      uint8_t s = (chunk >> 13) & 0x03;
      size_t run = chunk & 0x1FFF;
      if (s == 3) return rtcp_error("transport-cc reserved status symbol");
      if (run == 0) return rtcp_error("transport-cc empty run");
      symbols.insert(symbols.end(), std::min(run, left), s);
    } else if (!(chunk & 0x4000)) {  // 14 one-bit symbols
      for (int i = 13; i >= 0 && symbols.size() < count; --i) symbols.push_back((chunk >> i) & 1);
    } else {  // 7 two-bit symbols
      for (int i = 6; i >= 0 && symbols.size() < count; --i) {
        uint8_t s = (chunk >> (2 * i)) & 0x03;
        if (s == 3) return rtcp_error("transport-cc reserved status symbol");
        symbols.push_back(s);
      }
    }
  }
  fb.packets.reserve(count);
  for (size_t i = 0; i < symbols.size(); ++i) {
    TransportFeedback::Status st;
    st.seq = uint16_t(fb.base_seq + i);
    if (symbols[i] == 1) {
      if (n - at < 1) return rtcp_error("transport-cc deltas overrun the packet");
      st.received = true;
      st.delta_250us = b[at++];
    } else if (symbols[i] == 2) {
      if (n - at < 2) return rtcp_error("transport-cc deltas overrun the packet");
      st.received = true;
      st.delta_250us = int16_t(get_u16(b + at));
      at += 2;
    }
    fb.packets.push_back(st);
  }
  return Packet(std::move(fb));
}

base::Result<Packet> parse_one(uint8_t count, uint8_t type, const uint8_t* b, size_t n) {
  switch (type) {
    case kSenderReport: {
      if (n < 24 + count * kReportBlockSize) return rtcp_error("SR too short for its report count");
      SenderReport sr;
      sr.ssrc = get_u32(b);
      sr.ntp_time = get_u64(b + 4);
      sr.rtp_time = get_u32(b + 12);
      sr.packet_count = get_u32(b + 16);
      sr.octet_count = get_u32(b + 20);
      for (uint8_t i = 0; i < count; ++i) sr.reports.push_back(read_block(b + 24 + i * 24));
      return Packet(std::move(sr));
    }
    case kReceiverReport: {
      if (n < 4 + count * kReportBlockSize) return rtcp_error("RR too short for its report count");
      ReceiverReport rr;
      rr.ssrc = get_u32(b);
      for (uint8_t i = 0; i < count; ++i) rr.reports.push_back(read_block(b + 4 + i * 24));
      return Packet(std::move(rr));
    }
    case kBye: {
      if (n < 4u * count) return rtcp_error("BYE too short for its SSRC count");
      Bye bye;
      for (uint8_t i = 0; i < count; ++i) bye.ssrcs.push_back(get_u32(b + 4 * i));
      return Packet(std::move(bye));
    }
    case kRtpFeedback:
      if (count == 1) {  // generic NACK
        if (n < 8 || (n - 8) % 4 != 0) return rtcp_error("malformed generic NACK");
        Nack nack;
        nack.sender_ssrc = get_u32(b);
        nack.media_ssrc = get_u32(b + 4);
        for (size_t i = 8; i < n && nack.lost.size() < kMaxNackEntries; i += 4) {
          uint16_t pid = get_u16(b + i);
          uint16_t blp = get_u16(b + i + 2);
          nack.lost.push_back(pid);
          for (int bit = 0; bit < 16; ++bit) {
            if (blp & (1u << bit)) nack.lost.push_back(uint16_t(pid + bit + 1));
          }
        }
        return Packet(std::move(nack));
      }
      if (count == 15) return parse_transport_feedback(b, n);
      return Packet(Unknown{type, count});
    case kPayloadFeedback:
      if (n < 8) return rtcp_error("feedback packet shorter than its SSRCs");
      if (count == 1) return Packet(Pli{get_u32(b), get_u32(b + 4)});
      if (count == 4) {
        if ((n - 8) % 8 != 0) return rtcp_error("malformed FIR");
        Fir fir;
        fir.sender_ssrc = get_u32(b);
        for (size_t i = 8; i < n; i += 8) fir.entries.push_back({get_u32(b + i), b[i + 4]});
        return Packet(std::move(fir));
      }
      if (count == 15 && n >= 16 && b[8] == 'R' && b[9] == 'E' && b[10] == 'M' && b[11] == 'B') {
        Remb remb;
        remb.sender_ssrc = get_u32(b);
        uint8_t num = b[12];
        if (n < 16 + 4u * num) return rtcp_error("REMB too short for its SSRC count");
        uint8_t exp = b[13] >> 2;
        uint64_t mantissa = uint64_t(b[13] & 0x03) << 16 | get_u16(b + 14);
        // Saturate instead of overflowing on absurd exponents.
        remb.bitrate_bps = exp > 45 ? UINT64_MAX : mantissa << exp;
        for (uint8_t i = 0; i < num; ++i) remb.ssrcs.push_back(get_u32(b + 16 + 4 * i));
        return Packet(std::move(remb));
      }
      return Packet(Unknown{type, count});
    default:
      return Packet(Unknown{type, count});
  }
}

}  // namespace

base::Result<std::vector<Packet>> parse_compound(ByteSpan data) {
  std::vector<Packet> out;
  size_t off = 0;
  if (data.size() < kHeaderSize) return rtcp_error("shorter than a header");
  while (off < data.size()) {
    if (data.size() - off < kHeaderSize) return rtcp_error("truncated header");
    const uint8_t* h = data.data() + off;
    if ((h[0] >> 6) != 2) return rtcp_error("version is not 2");
    size_t len = (size_t(get_u16(h + 2)) + 1) * 4;
    if (len > data.size() - off) return rtcp_error("length overruns the datagram");
    size_t body = len - kHeaderSize;
    if (h[0] & 0x20) {  // padding: only valid on the last packet (RFC 3550 section 6.4.1)
      uint8_t pad = h[len - 1];
      if (off + len != data.size() || pad == 0 || pad > body) return rtcp_error("bad padding");
      body -= pad;
    }
    EC_ASSIGN_OR_RETURN(Packet p, parse_one(h[0] & 0x1F, h[1], h + kHeaderSize, body));
    out.push_back(std::move(p));
    off += len;
  }
  return out;
}

void append(std::vector<uint8_t>& out, const Packet& packet) {
  if (auto* sr = std::get_if<SenderReport>(&packet)) {
    size_t at = begin(out, uint8_t(sr->reports.size()), kSenderReport);
    put_u32(out, sr->ssrc);
    put_u64(out, sr->ntp_time);
    put_u32(out, sr->rtp_time);
    put_u32(out, sr->packet_count);
    put_u32(out, sr->octet_count);
    for (const auto& b : sr->reports) write_block(out, b);
    finish(out, at);
  } else if (auto* rr = std::get_if<ReceiverReport>(&packet)) {
    size_t at = begin(out, uint8_t(rr->reports.size()), kReceiverReport);
    put_u32(out, rr->ssrc);
    for (const auto& b : rr->reports) write_block(out, b);
    finish(out, at);
  } else if (auto* bye = std::get_if<Bye>(&packet)) {
    size_t at = begin(out, uint8_t(bye->ssrcs.size()), kBye);
    for (uint32_t s : bye->ssrcs) put_u32(out, s);
    finish(out, at);
  } else if (auto* pli = std::get_if<Pli>(&packet)) {
    size_t at = begin(out, 1, kPayloadFeedback);
    put_u32(out, pli->sender_ssrc);
    put_u32(out, pli->media_ssrc);
    finish(out, at);
  } else if (auto* fir = std::get_if<Fir>(&packet)) {
    size_t at = begin(out, 4, kPayloadFeedback);
    put_u32(out, fir->sender_ssrc);
    put_u32(out, 0);  // media source SSRC: unused for FIR
    for (const auto& e : fir->entries) {
      put_u32(out, e.ssrc);
      put_u8(out, e.seq);
      put_u8(out, 0), put_u16(out, 0);
    }
    finish(out, at);
  } else if (auto* nack = std::get_if<Nack>(&packet)) {
    size_t at = begin(out, 1, kRtpFeedback);
    put_u32(out, nack->sender_ssrc);
    put_u32(out, nack->media_ssrc);
    // Greedy packing: each FCI covers its PID and the 16 numbers after it.
    size_t i = 0;
    while (i < nack->lost.size()) {
      uint16_t pid = nack->lost[i++];
      uint16_t blp = 0;
      while (i < nack->lost.size()) {
        uint16_t d = uint16_t(nack->lost[i] - pid);
        if (d == 0 || d > 16) break;
        blp |= uint16_t(1u << (d - 1));
        ++i;
      }
      put_u16(out, pid);
      put_u16(out, blp);
    }
    finish(out, at);
  } else if (auto* remb = std::get_if<Remb>(&packet)) {
    size_t at = begin(out, 15, kPayloadFeedback);
    put_u32(out, remb->sender_ssrc);
    put_u32(out, 0);
    out.insert(out.end(), {'R', 'E', 'M', 'B'});
    uint64_t mantissa = remb->bitrate_bps;
    uint8_t exp = 0;
    while (mantissa > 0x3FFFF) mantissa >>= 1, ++exp;
    put_u8(out, uint8_t(remb->ssrcs.size()));
    put_u8(out, uint8_t(exp << 2 | (mantissa >> 16)));
    put_u16(out, uint16_t(mantissa));
    for (uint32_t s : remb->ssrcs) put_u32(out, s);
    finish(out, at);
  } else if (auto* fb = std::get_if<TransportFeedback>(&packet)) {
    // Always 2-bit status vector chunks: simple, and able to say every symbol.
    size_t at = begin(out, 15, kRtpFeedback);
    put_u32(out, fb->sender_ssrc);
    put_u32(out, fb->media_ssrc);
    put_u16(out, fb->base_seq);
    put_u16(out, uint16_t(fb->packets.size()));
    uint32_t ref = uint32_t(fb->reference_time_64ms) & 0xFFFFFF;
    put_u8(out, uint8_t(ref >> 16));
    put_u16(out, uint16_t(ref));
    put_u8(out, fb->feedback_count);
    auto symbol = [](const TransportFeedback::Status& s) -> uint16_t {
      if (!s.received) return 0;
      return s.delta_250us >= 0 && s.delta_250us <= 255 ? 1 : 2;
    };
    for (size_t i = 0; i < fb->packets.size(); i += 7) {
      uint16_t chunk = 0xC000;
      for (size_t j = 0; j < 7; ++j) {
        uint16_t s = i + j < fb->packets.size() ? symbol(fb->packets[i + j]) : 0;
        chunk |= uint16_t(s << (2 * (6 - j)));
      }
      put_u16(out, chunk);
    }
    for (const auto& s : fb->packets) {
      if (symbol(s) == 1) put_u8(out, uint8_t(s.delta_250us));
      if (symbol(s) == 2) put_u16(out, uint16_t(int16_t(s.delta_250us)));
    }
    while ((out.size() - at) % 4) put_u8(out, 0);
    finish(out, at);
  }
  // Unknown packets carry no body to re-create; they are not serialized.
}

size_t TransportFeedback::received_count() const {
  size_t n = 0;
  for (const auto& p : packets) n += p.received;
  return n;
}

std::vector<uint8_t> serialize(const std::vector<Packet>& packets) {
  std::vector<uint8_t> out;
  for (const auto& p : packets) append(out, p);
  return out;
}

}  // namespace media::rtcp
