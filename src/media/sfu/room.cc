#include "media/sfu/room.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

namespace media {
namespace {

constexpr int64_t kReportIntervalNs = 1'000'000'000;

// abs-send-time: 6.18 fixed-point seconds, 24 bits, wrapping every 64 s.
uint32_t abs_send_time(int64_t now_ns) {
  uint64_t us = uint64_t(now_ns / 1000) % 64'000'000ull;
  return uint32_t((us << 18) / 1'000'000) & 0xFFFFFF;
}

bool same_codec(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(uint8_t(a[i])) != std::tolower(uint8_t(b[i]))) return false;
  }
  return true;
}

}  // namespace

const char* to_string(MediaKind kind) { return kind == MediaKind::kAudio ? "audio" : "video"; }

Room::Room(Listener* listener, const base::Clock* clock, uint64_t video_bitrate_cap_bps)
    : listener_(listener), clock_(clock), video_bitrate_cap_bps_(video_bitrate_cap_bps) {
  scratch_.reserve(1500 + kSendHeadroom);
}
Room::~Room() = default;

std::string Room::feed_key(std::string_view feed, MediaKind kind) {
  return std::string(feed) + (kind == MediaKind::kAudio ? "/audio" : "/video");
}

base::Status Room::set_producer(std::string_view feed, const ProducerParams& params) {
  auto it = by_producer_ssrc_.find(params.ssrc);
  Feed& f = feeds_[feed_key(feed, params.kind)];
  if (it != by_producer_ssrc_.end() && it->second != &f) {
    return base::conflict("SSRC " + std::to_string(params.ssrc) + " is already published",
                          "ssrc_in_use");
  }
  f.kind = params.kind;
  if (f.producer) by_producer_ssrc_.erase(f.producer->params.ssrc);
  f.producer = std::make_unique<Producer>(params);
  by_producer_ssrc_[params.ssrc] = &f;
  // Subscribers already attached need a key frame from the new source.
  if (params.kind == MediaKind::kVideo && !f.consumers.empty()) {
    request_keyframe(*f.producer, clock_->now_mono_ns());
  }
  return base::Status::ok();
}

void Room::remove_producer(std::string_view feed, MediaKind kind) {
  auto it = feeds_.find(feed_key(feed, kind));
  if (it == feeds_.end() || !it->second.producer) return;
  by_producer_ssrc_.erase(it->second.producer->params.ssrc);
  it->second.producer.reset();
}

base::Status Room::add_consumer(std::string_view feed, MediaKind kind,
                                const ConsumerParams& params) {
  if (by_consumer_ssrc_.count(params.ssrc)) {
    return base::conflict("consumer SSRC " + std::to_string(params.ssrc) + " is in use",
                          "ssrc_in_use");
  }
  Feed& f = feeds_[feed_key(feed, kind)];
  f.kind = kind;
  uint32_t clock_rate = kind == MediaKind::kAudio ? 48000 : 90000;
  f.consumers.push_back(std::make_unique<Consumer>(params, kind, clock_rate));
  f.consumers.back()->paused = params.start_paused;
  by_consumer_ssrc_[params.ssrc] = {&f, f.consumers.back().get()};
  if (kind == MediaKind::kVideo && f.producer && !params.start_paused) {
    request_keyframe(*f.producer, clock_->now_mono_ns());
  }
  return base::Status::ok();
}

void Room::remove_participant(const std::string& participant_id) {
  for (auto& [key, f] : feeds_) {
    if (f.producer && f.producer->params.participant_id == participant_id) {
      by_producer_ssrc_.erase(f.producer->params.ssrc);
      f.producer.reset();
    }
    auto& cs = f.consumers;
    for (auto& c : cs) {
      if (c->params.participant_id == participant_id) by_consumer_ssrc_.erase(c->params.ssrc);
    }
    cs.erase(
        std::remove_if(cs.begin(), cs.end(),
                       [&](const auto& c) { return c->params.participant_id == participant_id; }),
        cs.end());
  }
}

void Room::set_paused(const std::string& participant_id, bool paused) {
  int64_t now = clock_->now_mono_ns();
  for (auto& [key, f] : feeds_) {
    bool resumed_video = false;
    for (auto& c : f.consumers) {
      if (c->params.participant_id != participant_id || c->paused == paused) continue;
      c->paused = paused;
      if (!paused) {
        c->rewriter.restart();
        resumed_video |= f.kind == MediaKind::kVideo;
      }
    }
    if (resumed_video && f.producer) request_keyframe(*f.producer, now);
  }
}

void Room::on_rtp(const std::string& participant_id, std::span<uint8_t> bytes, int64_t arrival_ns) {
  auto parsed = RtpPacket::parse(bytes);
  if (!parsed.is_ok()) {
    ++counters_.packets_dropped;
    return;
  }
  RtpPacket& in = *parsed;
  auto it = by_producer_ssrc_.find(in.ssrc());
  if (it == by_producer_ssrc_.end() || !it->second->producer ||
      it->second->producer->params.participant_id != participant_id) {
    ++counters_.packets_dropped;
    return;
  }
  Feed& f = *it->second;
  Producer& p = *f.producer;
  ++counters_.rtp_packets_in;
  counters_.rtp_bytes_in += bytes.size();
  int64_t now = clock_->now_mono_ns();
  p.stats.on_packet(in.sequence_number(), in.timestamp(), arrival_ns);
  bool is_video = p.params.kind == MediaKind::kVideo;
  bool keyframe = is_video && is_keyframe(p.params.codec, in.payload());
  if (is_video) {
    p.cache.store(in.ssrc(), in.sequence_number(), bytes, now);
    if (keyframe) p.keyframes.on_keyframe();
    if (p.nacks.on_packet(in.sequence_number(), now)) send_upstream_nacks(p, now);
  }
  bool someone_waits = false;
  for (auto& c : f.consumers) {
    if (c->paused) continue;
    if (!p.params.owner.empty() && c->params.owner == p.params.owner) continue;
    if (!same_codec(c->params.codec, p.params.codec)) {
      ++counters_.packets_dropped;
      continue;
    }
    RtpRewriter::Input ri{in.ssrc(), in.sequence_number(), in.timestamp(), keyframe};
    auto out = c->rewriter.rewrite(ri, now);
    if (!out) {
      ++counters_.packets_dropped;
      someone_waits |= c->rewriter.waiting_for_keyframe();
      continue;
    }
    send_to_consumer(*c, p, in, out->seq, out->timestamp, arrival_ns);
  }
  if (someone_waits) request_keyframe(p, now);
}

void Room::send_to_consumer(Consumer& c, const Producer& p, const RtpPacket& in, uint16_t seq,
                            uint32_t timestamp, int64_t arrival_ns) {
  // Header: no CSRCs; the extension block is rebuilt with the subscriber's ids.
  std::vector<uint8_t>& out = scratch_;
  out.clear();
  out.resize(12);
  out[0] = uint8_t(0x80 | (in.has_padding() ? 0x20 : 0));
  out[1] = uint8_t((in.marker() ? 0x80 : 0) | (c.params.payload_type & 0x7F));
  set_u16(&out[2], seq);
  set_u32(&out[4], timestamp);
  set_u32(&out[8], c.params.ssrc);

  uint8_t ext[64];
  size_t n = 0;
  auto add = [&](uint8_t id, const uint8_t* v, size_t len) {
    if (id == 0 || id > 14 || len == 0 || len > 16 || n + 1 + len > sizeof ext) return;
    ext[n++] = uint8_t(id << 4 | (len - 1));
    std::memcpy(ext + n, v, len);
    n += len;
  };
  if (c.params.ext_mid_id) {
    add(c.params.ext_mid_id, reinterpret_cast<const uint8_t*>(c.params.mid.data()),
        c.params.mid.size());
  }
  if (c.params.ext_abs_send_time_id) {
    uint8_t v[3];
    set_u24(v, abs_send_time(clock_->now_mono_ns()));
    add(c.params.ext_abs_send_time_id, v, 3);
  }
  if (c.params.ext_audio_level_id && p.params.ext_audio_level_id) {
    auto level = in.extension(p.params.ext_audio_level_id);
    if (level.size() == 1) add(c.params.ext_audio_level_id, level.data(), 1);
  }
  if (n > 0) {
    while (n % 4) ext[n++] = 0;
    out[0] |= 0x10;
    out.push_back(0xBE), out.push_back(0xDE);
    put_u16(out, uint16_t(n / 4));
    out.insert(out.end(), ext, ext + n);
  }
  auto payload = in.payload();
  out.insert(out.end(), payload.data(), payload.data() + payload.size() + in.padding_size());
  size_t len = out.size();
  out.resize(len + kSendHeadroom);
  ++c.packets;
  c.octets += payload.size();
  ++counters_.rtp_packets_out;
  counters_.rtp_bytes_out += len;
  if (listener_->OnRoomSendRtp(c.params.participant_id, out, len)) {
    counters_.forward_latency.observe_ns(clock_->now_mono_ns() - arrival_ns);
  }
}

void Room::send_upstream_nacks(Producer& p, int64_t now_ns) {
  std::vector<uint16_t> lost = p.nacks.due(now_ns);
  if (lost.empty()) return;
  counters_.nacks_sent += lost.size();
  send_rtcp(p.params.participant_id, {rtcp::Nack{kRtcpSsrc, p.params.ssrc, std::move(lost)}});
}

void Room::request_keyframe(Producer& p, int64_t now_ns) {
  if (p.params.kind != MediaKind::kVideo || !p.keyframes.request(now_ns)) return;
  ++counters_.keyframe_requests_sent;
  send_rtcp(p.params.participant_id, {rtcp::Pli{kRtcpSsrc, p.params.ssrc}});
}

void Room::send_rtcp(const std::string& participant_id, const std::vector<rtcp::Packet>& packets) {
  std::vector<uint8_t>& out = scratch_;
  out.clear();
  for (const auto& p : packets) rtcp::append(out, p);
  size_t len = out.size();
  out.resize(len + kSendHeadroom);
  listener_->OnRoomSendRtcp(participant_id, out, len);
}

void Room::on_rtcp(const std::string& participant_id, ByteSpan packet) {
  auto parsed = rtcp::parse_compound(packet);
  if (!parsed.is_ok()) return;
  int64_t now = clock_->now_mono_ns();
  for (const rtcp::Packet& p : *parsed) {
    if (auto* sr = std::get_if<rtcp::SenderReport>(&p)) {
      auto it = by_producer_ssrc_.find(sr->ssrc);
      if (it != by_producer_ssrc_.end() && it->second->producer &&
          it->second->producer->params.participant_id == participant_id) {
        handle_sender_report(*it->second, *sr, now);
      }
      continue;
    }
    uint32_t media_ssrc = 0;
    if (auto* pli = std::get_if<rtcp::Pli>(&p)) media_ssrc = pli->media_ssrc;
    if (auto* fir = std::get_if<rtcp::Fir>(&p)) {
      if (!fir->entries.empty()) media_ssrc = fir->entries[0].ssrc;
    }
    if (auto* nack = std::get_if<rtcp::Nack>(&p)) media_ssrc = nack->media_ssrc;
    if (media_ssrc == 0) continue;
    auto it = by_consumer_ssrc_.find(media_ssrc);
    if (it == by_consumer_ssrc_.end()) continue;
    auto [feed, consumer] = it->second;
    if (consumer->params.participant_id != participant_id) continue;
    if (auto* nack = std::get_if<rtcp::Nack>(&p)) {
      handle_nack(*consumer, *feed, *nack, now);
    } else {
      ++counters_.keyframe_requests_received;
      if (feed->producer) request_keyframe(*feed->producer, now);
    }
  }
}

void Room::handle_nack(Consumer& c, Feed& f, const rtcp::Nack& nack, int64_t now_ns) {
  counters_.nacks_received += nack.lost.size();
  if (!f.producer) return;
  Producer& p = *f.producer;
  for (uint16_t out_seq : nack.lost) {
    auto src_seq = c.rewriter.source_seq_for(out_seq);
    if (!src_seq) continue;
    auto cached = p.cache.find(c.rewriter.source_ssrc(), *src_seq, now_ns);
    if (cached.empty()) continue;
    retransmit_.assign(cached.begin(), cached.end());
    auto in = RtpPacket::parse(retransmit_);
    if (!in.is_ok()) continue;
    ++counters_.retransmissions_sent;
    send_to_consumer(c, p, *in, out_seq, in->timestamp() + c.rewriter.timestamp_offset(), now_ns);
  }
}

void Room::handle_sender_report(Feed& f, const rtcp::SenderReport& sr, int64_t now_ns) {
  f.producer->stats.on_sender_report(sr.ntp_time, now_ns);
  for (auto& c : f.consumers) {
    if (!c->rewriter.started() || c->rewriter.source_ssrc() != sr.ssrc) continue;
    rtcp::SenderReport out;
    out.ssrc = c->params.ssrc;
    out.ntp_time = sr.ntp_time;
    out.rtp_time = sr.rtp_time + c->rewriter.timestamp_offset();
    out.packet_count = uint32_t(c->packets);
    out.octet_count = uint32_t(c->octets);
    send_rtcp(c->params.participant_id, {out});
  }
}

void Room::on_timer() {
  int64_t now = clock_->now_mono_ns();
  for (auto& [key, f] : feeds_) {
    if (f.producer && f.producer->params.kind == MediaKind::kVideo) {
      send_upstream_nacks(*f.producer, now);
    }
    if (f.producer && f.producer->keyframes.poll(now)) {
      ++counters_.keyframe_requests_sent;
      send_rtcp(f.producer->params.participant_id, {rtcp::Pli{kRtcpSsrc, f.producer->params.ssrc}});
    }
  }
  if (now - last_report_ns_ >= kReportIntervalNs) {
    last_report_ns_ = now;
    send_reports(now);
  }
}

void Room::send_reports(int64_t now_ns) {
  // One compound per publisher: RR with a block per stream, then REMB for its video.
  std::map<std::string, std::vector<rtcp::Packet>> per_publisher;
  for (auto& [key, f] : feeds_) {
    if (!f.producer || f.producer->stats.packets() == 0) continue;
    Producer& p = *f.producer;
    auto& packets = per_publisher[p.params.participant_id];
    if (packets.empty()) packets.push_back(rtcp::ReceiverReport{kRtcpSsrc, {}});
    auto& rr = std::get<rtcp::ReceiverReport>(packets.front());
    if (rr.reports.size() < 31) rr.reports.push_back(p.stats.report(p.params.ssrc, now_ns));
    if (p.params.kind == MediaKind::kVideo && video_bitrate_cap_bps_ > 0) {
      packets.push_back(rtcp::Remb{kRtcpSsrc, video_bitrate_cap_bps_, {p.params.ssrc}});
    }
  }
  for (auto& [participant, packets] : per_publisher) send_rtcp(participant, packets);
}

size_t Room::consumer_count() const {
  size_t n = 0;
  for (const auto& [key, f] : feeds_) n += f.consumers.size();
  return n;
}

size_t Room::subscriber_count() const {
  std::set<std::string_view> who;
  for (const auto& [key, f] : feeds_) {
    for (const auto& c : f.consumers) who.insert(c->params.participant_id);
  }
  return who.size();
}

bool Room::has_producer(std::string_view feed, MediaKind kind) const {
  auto it = feeds_.find(feed_key(feed, kind));
  return it != feeds_.end() && it->second.producer != nullptr;
}

const std::string* Room::producer_of(std::string_view feed, MediaKind kind) const {
  auto it = feeds_.find(feed_key(feed, kind));
  if (it == feeds_.end() || !it->second.producer) return nullptr;
  return &it->second.producer->params.participant_id;
}

}  // namespace media
