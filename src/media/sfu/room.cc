#include "media/sfu/room.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "base/log.h"

namespace media {
namespace {

constexpr int64_t kReportIntervalNs = 1'000'000'000;
constexpr int64_t kSelectIntervalNs = 500'000'000;
constexpr int64_t kRembFreshNs = 5'000'000'000;
constexpr int64_t kRembFallNs = 2'000'000'000;
constexpr int64_t kRatesSettleNs = 1'500'000'000;
constexpr int64_t kLayerPauseNs = 2'000'000'000;

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

Room::Producer::Producer(const ProducerParams& p) : params(p) {
  bool video = p.kind == MediaKind::kVideo;
  if (!p.layer_ssrcs.empty()) {
    for (uint32_t ssrc : p.layer_ssrcs) {
      layers.push_back(std::make_unique<Layer>("", ssrc, video, p.clock_rate));
    }
  } else if (video && !p.rids.empty()) {
    for (const auto& rid : p.rids) {
      layers.push_back(std::make_unique<Layer>(rid, 0, true, p.clock_rate));
    }
  } else {
    layers.push_back(std::make_unique<Layer>("", p.ssrc, video, p.clock_rate));
  }
}

bool Room::Subscriber::estimate_falling(int64_t now_ns) const {
  return remb_fell_ns >= 0 && now_ns - remb_fell_ns < kRembFallNs;
}

uint64_t Room::Subscriber::estimate_bps(int64_t now_ns) const {
  return remb_bps > 0 && now_ns - remb_ns <= kRembFreshNs ? remb_bps : 0;
}

Room::Room(Listener* listener, const base::Clock* clock, uint64_t video_bitrate_cap_bps)
    : listener_(listener), clock_(clock), video_bitrate_cap_bps_(video_bitrate_cap_bps) {
  scratch_.reserve(1500 + kSendHeadroom);
}
Room::~Room() = default;

std::string Room::feed_key(std::string_view feed, MediaKind kind) {
  return std::string(feed) + (kind == MediaKind::kAudio ? "/audio" : "/video");
}

void Room::index_producer(Feed& f) {
  for (size_t i = 0; i < f.producer->layers.size(); ++i) {
    uint32_t ssrc = f.producer->layers[i]->ssrc;
    if (ssrc != 0) by_producer_ssrc_[ssrc] = {&f, i};
  }
}

void Room::unindex_producer(const Producer& p) {
  for (const auto& l : p.layers) {
    if (l->ssrc != 0) by_producer_ssrc_.erase(l->ssrc);
  }
}

base::Status Room::set_producer(std::string_view feed, const ProducerParams& params) {
  Feed& f = feeds_[feed_key(feed, params.kind)];
  bool simulcast = params.kind == MediaKind::kVideo && !params.rids.empty();
  std::vector<uint32_t> known = params.layer_ssrcs;
  if (known.empty() && !simulcast) known.push_back(params.ssrc);
  for (uint32_t ssrc : known) {
    auto it = by_producer_ssrc_.find(ssrc);
    if (it != by_producer_ssrc_.end() && it->second.feed != &f) {
      return base::conflict("SSRC " + std::to_string(ssrc) + " is already published",
                            "ssrc_in_use");
    }
  }
  f.kind = params.kind;
  if (f.producer) unindex_producer(*f.producer);
  f.producer = std::make_unique<Producer>(params);
  index_producer(f);
  // Subscribers already attached start again at a key frame of the new source, from its
  // lowest layer (the new publisher's browser turns its upper layers on as its own estimate
  // grows; their choice waits until the layers' rates are known).
  for (auto& c : f.consumers) {
    c->layer = -1;
    c->selector = LayerSelector();
  }
  if (params.kind == MediaKind::kVideo && !f.consumers.empty()) {
    int64_t now = clock_->now_mono_ns();
    std::set<size_t> wanted;
    for (auto& c : f.consumers) wanted.insert(wanted_layer(*c, *f.producer));
    for (size_t l : wanted) request_keyframe(*f.producer, l, now);
  }
  return base::Status::ok();
}

void Room::remove_producer(std::string_view feed, MediaKind kind) {
  auto it = feeds_.find(feed_key(feed, kind));
  if (it == feeds_.end() || !it->second.producer) return;
  unindex_producer(*it->second.producer);
  it->second.producer.reset();
}

base::Status Room::add_consumer(std::string_view feed, MediaKind kind,
                                const ConsumerParams& params) {
  if (by_consumer_ssrc_.count(params.ssrc) ||
      (params.rtx_ssrc != 0 && by_consumer_ssrc_.count(params.rtx_ssrc))) {
    return base::conflict("consumer SSRC " + std::to_string(params.ssrc) + " is in use",
                          "ssrc_in_use");
  }
  Feed& f = feeds_[feed_key(feed, kind)];
  f.kind = kind;
  uint32_t clock_rate = kind == MediaKind::kAudio ? 48000 : 90000;
  Subscriber* sub = &subscribers_[params.participant_id];
  f.consumers.push_back(std::make_unique<Consumer>(params, sub, kind, clock_rate));
  Consumer& c = *f.consumers.back();
  c.paused = params.start_paused;
  by_consumer_ssrc_[params.ssrc] = {&f, &c};
  if (kind == MediaKind::kVideo && f.producer && !params.start_paused) {
    request_keyframe(*f.producer, wanted_layer(c, *f.producer), clock_->now_mono_ns());
  }
  return base::Status::ok();
}

void Room::remove_participant(const std::string& participant_id) {
  for (auto& [key, f] : feeds_) {
    if (f.producer && f.producer->params.participant_id == participant_id) {
      unindex_producer(*f.producer);
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
  subscribers_.erase(participant_id);
}

void Room::set_paused(const std::string& participant_id, bool paused) {
  int64_t now = clock_->now_mono_ns();
  for (auto& [key, f] : feeds_) {
    std::set<size_t> wanted;
    for (auto& c : f.consumers) {
      if (c->params.participant_id != participant_id || c->paused == paused) continue;
      c->paused = paused;
      if (!paused) {
        c->rewriter.restart();
        c->layer = -1;
        if (f.kind == MediaKind::kVideo && f.producer) {
          wanted.insert(wanted_layer(*c, *f.producer));
        }
      }
    }
    for (size_t l : wanted) request_keyframe(*f.producer, l, now);
  }
}

size_t Room::wanted_layer(const Consumer& c, const Producer& p) const {
  if (c.params.fixed_layer >= 0) return size_t(c.params.fixed_layer);
  if (p.layers.size() <= 1) return 0;
  int t = c.selector.target();
  if (t >= 0 && size_t(t) < p.layers.size()) return size_t(t);
  // No choice made yet: the lowest layer, which every link carries.
  return 0;
}

std::optional<Room::LayerRef> Room::bind_rid_layer(const std::string& participant_id,
                                                   const RtpPacket& in) {
  for (auto& [key, f] : feeds_) {
    if (!f.producer || f.producer->params.participant_id != participant_id) continue;
    Producer& p = *f.producer;
    if (p.params.ext_rid_id == 0 || p.layers.size() <= 1 || p.layers[0]->rid.empty()) continue;
    auto rid = in.extension(p.params.ext_rid_id);
    if (rid.empty()) continue;
    std::string_view name(reinterpret_cast<const char*>(rid.data()), rid.size());
    for (size_t i = 0; i < p.layers.size(); ++i) {
      Layer& l = *p.layers[i];
      if (l.rid != name) continue;
      if (by_producer_ssrc_.count(in.ssrc())) return std::nullopt;  // another stream's SSRC
      if (l.ssrc != 0) by_producer_ssrc_.erase(l.ssrc);
      l.ssrc = in.ssrc();
      by_producer_ssrc_[l.ssrc] = {&f, i};
      return LayerRef{&f, i};
    }
  }
  return std::nullopt;
}

void Room::on_rtp(const std::string& participant_id, std::span<uint8_t> bytes, int64_t arrival_ns) {
  auto parsed = RtpPacket::parse(bytes);
  if (!parsed.is_ok()) {
    ++counters_.packets_dropped;
    return;
  }
  RtpPacket& in = *parsed;
  std::optional<LayerRef> ref;
  auto it = by_producer_ssrc_.find(in.ssrc());
  if (it != by_producer_ssrc_.end()) {
    ref = it->second;
  } else {
    ref = bind_rid_layer(participant_id, in);
  }
  if (!ref || !ref->feed->producer ||
      ref->feed->producer->params.participant_id != participant_id) {
    ++counters_.packets_dropped;
    return;
  }
  Feed& f = *ref->feed;
  Producer& p = *f.producer;
  const size_t li = ref->layer;
  Layer& l = *p.layers[li];
  ++counters_.rtp_packets_in;
  counters_.rtp_bytes_in += bytes.size();
  int64_t now = clock_->now_mono_ns();
  if (p.first_packet_ns < 0) p.first_packet_ns = now;
  l.stats.on_packet(in.sequence_number(), in.timestamp(), arrival_ns);
  l.rate.add(now, bytes.size());
  l.last_packet_ns = now;
  bool is_video = p.params.kind == MediaKind::kVideo;
  bool keyframe = is_video && is_keyframe(p.params.codec, in.payload());
  bool jumped = false;  // the layer's numbering jumped: its subscribers start again
  if (is_video) {
    // A packet behind the newest that fills no awaited hole is a duplicate (the network's, or
    // a late original and the retransmission NACKed for it) or too late to matter: sent on,
    // it would reach every subscriber a second time under a number already used.
    if (!l.nacks.expected(in.sequence_number())) {
      ++counters_.packets_dropped;
      return;
    }
    jumped = l.nacks.jumps(in.sequence_number());
    l.cache.store(in.ssrc(), in.sequence_number(), bytes, now);
    if (keyframe) l.keyframes.on_keyframe();
    if (l.nacks.on_packet(in.sequence_number(), now)) send_upstream_nacks(p, l, now);
  }
  bool someone_waits = false;
  for (auto& cp : f.consumers) {
    Consumer& c = *cp;
    if (c.paused) continue;
    if (!p.params.owner.empty() && c.params.owner == p.params.owner) continue;
    if (!same_codec(c.params.codec, p.params.codec)) {
      ++counters_.packets_dropped;
      continue;
    }
    if (is_video) {
      size_t want = wanted_layer(c, p);
      if (c.layer != int(li)) {
        // Not this consumer's layer, unless it is the one it waits for and this starts a
        // key frame: then the consumer switches here.
        if (want != li) continue;
        if (!keyframe) {
          someone_waits = true;
          continue;
        }
        if (c.layer >= 0) ++counters_.layer_switches;
        c.layer = int(li);
        c.layer_since_ns = now;
      } else if (want != li) {
        // It still gets its old layer until the wanted one sends a key frame.
        request_keyframe(p, want, now);
      }
    }
    // Numbering continues from the last packet sent, at a key frame (the rewriter mapped a
    // jump straight through, and a restart lower onto numbers already used).
    if (jumped) c.rewriter.restart();
    RtpRewriter::Input ri{in.ssrc(), in.sequence_number(), in.timestamp(), keyframe};
    bool new_source = c.rewriter.rebases(in.ssrc());
    auto out = c.rewriter.rewrite(ri, now);
    if (!out) {
      ++counters_.packets_dropped;
      someone_waits |= c.rewriter.waiting_for_keyframe();
      continue;
    }
    send_to_consumer(c, p, in, out->seq, out->timestamp, arrival_ns, false, new_source);
  }
  if (someone_waits) request_keyframe(p, li, now);
}

void Room::send_to_consumer(Consumer& c, const Producer& p, const RtpPacket& in, uint16_t seq,
                            uint32_t timestamp, int64_t arrival_ns, bool rtx, bool new_source) {
  // Header: no CSRCs; the extension block is rebuilt with the subscriber's ids.
  std::vector<uint8_t>& out = scratch_;
  out.clear();
  out.resize(12);
  bool padding = in.has_padding() && !rtx;
  out[0] = uint8_t(0x80 | (padding ? 0x20 : 0));
  uint8_t pt = rtx ? c.params.rtx_payload_type : c.params.payload_type;
  out[1] = uint8_t((in.marker() ? 0x80 : 0) | (pt & 0x7F));
  set_u16(&out[2], rtx ? c.rtx_seq++ : seq);
  set_u32(&out[4], timestamp);
  set_u32(&out[8], rtx ? c.params.rtx_ssrc : c.params.ssrc);

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
  if (rtx) put_u16(out, seq);  // RFC 4588: the original sequence number first
  auto payload = in.payload();
  size_t payload_at = out.size();
  out.insert(out.end(), payload.data(),
             payload.data() + payload.size() + (padding ? in.padding_size() : 0));
  if (p.params.kind == MediaKind::kVideo && same_codec(p.params.codec, "VP8")) {
    // Picture ids continue across layer switches: a receiver takes a key frame whose id
    // went backwards for a stale one and stops decoding until the ids catch up.
    std::span<uint8_t> vp8(out.data() + payload_at, payload.size());
    if (rtx) {
      c.vp8.apply(vp8);
    } else {
      c.vp8.rewrite(vp8, new_source);
    }
  }
  size_t len = out.size();
  out.resize(len + kSendHeadroom);
  ++c.packets;
  c.octets += payload.size();
  int64_t now = clock_->now_mono_ns();
  c.rate.add(now, len);
  c.subscriber->sent.add(now, len);
  ++counters_.rtp_packets_out;
  counters_.rtp_bytes_out += len;
  if (listener_->OnRoomSendRtp(c.params.participant_id, out, len)) {
    counters_.forward_latency.observe_ns(clock_->now_mono_ns() - arrival_ns);
  }
}

void Room::send_upstream_nacks(Producer& p, Layer& l, int64_t now_ns) {
  std::vector<uint16_t> lost = l.nacks.due(now_ns);
  if (lost.empty() || l.ssrc == 0) return;
  counters_.nacks_sent += lost.size();
  send_rtcp(p.params.participant_id, {rtcp::Nack{kRtcpSsrc, l.ssrc, std::move(lost)}});
}

void Room::request_keyframe(Producer& p, size_t layer, int64_t now_ns) {
  if (p.params.kind != MediaKind::kVideo || layer >= p.layers.size()) return;
  Layer& l = *p.layers[layer];
  if (l.ssrc == 0 || !l.keyframes.request(now_ns)) return;
  ++counters_.keyframe_requests_sent;
  send_rtcp(p.params.participant_id, {rtcp::Pli{kRtcpSsrc, l.ssrc}});
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
      if (it != by_producer_ssrc_.end() && it->second.feed->producer &&
          it->second.feed->producer->params.participant_id == participant_id) {
        handle_sender_report(*it->second.feed, *sr, now);
      }
      continue;
    }
    if (std::holds_alternative<rtcp::Remb>(p) || std::holds_alternative<rtcp::ReceiverReport>(p)) {
      handle_subscriber_feedback(participant_id, p, now);
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
      continue;
    }
    ++counters_.keyframe_requests_received;
    if (!feed->producer) continue;
    if (consumer->params.fixed_layer < 0 && !consumer->keyframe_backoff.allow(now)) {
      ++counters_.keyframe_requests_throttled;
      continue;
    }
    // From the layer it receives, or the one it is about to switch to.
    request_keyframe(*feed->producer, wanted_layer(*consumer, *feed->producer), now);
  }
}

void Room::handle_subscriber_feedback(const std::string& participant_id, const rtcp::Packet& p,
                                      int64_t now_ns) {
  auto sub = subscribers_.find(participant_id);
  if (sub == subscribers_.end()) return;
  Subscriber& s = sub->second;
  if (auto* remb = std::get_if<rtcp::Remb>(&p)) {
    if (s.remb_bps > 0 && remb->bitrate_bps * 20 <= s.remb_bps * 19) s.remb_fell_ns = now_ns;
    s.remb_bps = remb->bitrate_bps;
    s.remb_ns = now_ns;
    return;
  }
  const auto& rr = std::get<rtcp::ReceiverReport>(p);
  // The worst video stream it reports on (audio loss says little about the video layer).
  double worst = -1;
  for (const auto& b : rr.reports) {
    auto it = by_consumer_ssrc_.find(b.ssrc);
    if (it == by_consumer_ssrc_.end() ||
        it->second.second->params.participant_id != participant_id ||
        it->second.first->kind != MediaKind::kVideo) {
      continue;
    }
    worst = std::max(worst, b.fraction_lost / 256.0);
  }
  // Smoothed over its reports (0.4 to the newest): at 360p a report covers some 40 packets,
  // so a link with 5 % random loss reports anything from 0 to 15 % from one second to the
  // next, and one report over 10 % sent it down and the next under 2 % up again, two key
  // frames each time. A loss that lasts still counts within two or three reports.
  if (worst >= 0) {
    s.loss = s.loss_reported ? 0.6 * s.loss + 0.4 * worst : worst;
    s.loss_reported = true;
  }
}

void Room::handle_nack(Consumer& c, Feed& f, const rtcp::Nack& nack, int64_t now_ns) {
  counters_.nacks_received += nack.lost.size();
  if (!f.producer) return;
  Producer& p = *f.producer;
  auto layer = by_producer_ssrc_.find(c.rewriter.source_ssrc());
  if (layer == by_producer_ssrc_.end() || layer->second.feed != &f) return;
  Layer& l = *p.layers[layer->second.layer];
  // A retransmission is paid from the subscriber's estimated budget. While it is congested
  // (its estimate just fell, or it reports 10 % loss or more) what it was sent in the last
  // second plus the packet must fit its estimate: a thin link gets a thinner layer, not a
  // retransmission storm. Otherwise (random loss on a link with room, or no estimate yet)
  // retransmissions may take what the estimate leaves, and at least a fifth of what it is
  // sent (or 64 kbit/s).
  Subscriber& s = *c.subscriber;
  uint64_t estimate = s.estimate_bps(now_ns);
  bool congested = estimate > 0 && (s.estimate_falling(now_ns) || s.loss >= 0.10);
  for (uint16_t out_seq : nack.lost) {
    auto src_seq = c.rewriter.source_seq_for(out_seq);
    if (!src_seq) continue;
    auto cached = l.cache.find(l.ssrc, *src_seq, now_ns);
    if (cached.empty()) continue;
    uint64_t bits = uint64_t(cached.size()) * 8;
    uint64_t sent = s.sent.bps(now_ns);
    uint64_t room = estimate > sent ? estimate - sent : 0;
    bool affordable =
        congested ? sent + bits <= estimate
                  : s.resent.bps(now_ns) + bits <= std::max({room, sent / 5, uint64_t(64'000)});
    if (!affordable) {
      ++counters_.retransmissions_skipped;
      continue;
    }
    retransmit_.assign(cached.begin(), cached.end());
    auto in = RtpPacket::parse(retransmit_);
    if (!in.is_ok()) continue;
    ++counters_.retransmissions_sent;
    s.resent.add(now_ns, cached.size());
    send_to_consumer(c, p, *in, out_seq, in->timestamp() + c.rewriter.timestamp_offset(), now_ns,
                     c.params.rtx_ssrc != 0);
  }
}

void Room::handle_sender_report(Feed& f, const rtcp::SenderReport& sr, int64_t now_ns) {
  auto it = by_producer_ssrc_.find(sr.ssrc);
  if (it == by_producer_ssrc_.end()) return;
  f.producer->layers[it->second.layer]->stats.on_sender_report(sr.ntp_time, now_ns);
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

void Room::select_layers(int64_t now_ns) {
  std::vector<uint64_t> rates;
  for (auto& [key, f] : feeds_) {
    if (f.kind != MediaKind::kVideo || !f.producer || f.producer->layers.size() <= 1) continue;
    Producer& p = *f.producer;
    // Layer rates mean something after a second and a half of sending; until then every
    // consumer takes the lowest layer.
    if (p.first_packet_ns < 0 || now_ns - p.first_packet_ns < kRatesSettleNs) continue;
    rates.clear();
    for (auto& l : p.layers) {
      // An encoder pauses a layer for a moment when it reconfigures: a layer silent for
      // under 2 s keeps its last rate, so nobody is moved for that.
      uint64_t bps = l->rate.bps(now_ns);
      if (bps > 0) {
        l->last_bps = bps;
      } else if (l->last_packet_ns >= 0 && now_ns - l->last_packet_ns < kLayerPauseNs) {
        bps = l->last_bps;
      }
      rates.push_back(bps);
    }
    for (auto& cp : f.consumers) {
      Consumer& c = *cp;
      if (c.paused || c.params.fixed_layer >= 0) continue;
      Subscriber& s = *c.subscriber;
      LayerSelector::Input in;
      in.layer_bps = rates;
      in.estimate_bps = s.estimate_bps(now_ns);
      in.estimate_falling = s.estimate_falling(now_ns);
      in.sent_bps = s.sent.bps(now_ns);
      uint64_t mine = c.rate.bps(now_ns);
      in.other_bps = in.sent_bps > mine ? in.sent_bps - mine : 0;
      in.loss = s.loss;
      // Its rates show the layer it was given once that layer has filled a rate window
      // (RateMeter reads the whole second before the bucket filling now).
      in.settled = c.layer >= 0 && c.layer == c.selector.target() &&
                   now_ns - c.layer_since_ns >= RateMeter::kWindowNs + RateMeter::kBucketNs;
      int before = c.selector.target();
      int target = c.selector.select(in, now_ns);
      if (target != before) {
        base::log::info("media.layer")
            .kv("subscriber", c.params.participant_id)
            .kv("layer", int64_t(target))
            .kv("from", int64_t(before))
            .kv("estimate_bps", in.estimate_bps)
            .kv("estimate_falling", in.estimate_falling)
            .kv("sent_bps", in.sent_bps)
            .kv("loss_pct", int64_t(in.loss * 100))
            .kv("layer_bps", std::to_string(rates[0]) + "/" + std::to_string(rates[1]) + "/" +
                                 std::to_string(rates.size() > 2 ? rates[2] : 0));
      }
      if (target >= 0 && target != c.layer && target != before) {
        request_keyframe(p, size_t(target), now_ns);
      }
    }
  }
}

void Room::on_timer() {
  int64_t now = clock_->now_mono_ns();
  if (now - last_select_ns_ >= kSelectIntervalNs) {
    last_select_ns_ = now;
    select_layers(now);
  }
  for (auto& [key, f] : feeds_) {
    if (!f.producer) continue;
    Producer& p = *f.producer;
    for (auto& l : p.layers) {
      if (p.params.kind == MediaKind::kVideo) send_upstream_nacks(p, *l, now);
      if (l->ssrc != 0 && l->keyframes.poll(now)) {
        ++counters_.keyframe_requests_sent;
        send_rtcp(p.params.participant_id, {rtcp::Pli{kRtcpSsrc, l->ssrc}});
      }
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
    if (!f.producer) continue;
    Producer& p = *f.producer;
    std::vector<uint32_t> ssrcs;
    for (auto& l : p.layers) {
      if (l->ssrc == 0 || l->stats.packets() == 0) continue;
      auto& packets = per_publisher[p.params.participant_id];
      if (packets.empty()) packets.push_back(rtcp::ReceiverReport{kRtcpSsrc, {}});
      auto& rr = std::get<rtcp::ReceiverReport>(packets.front());
      if (rr.reports.size() < 31) rr.reports.push_back(l->stats.report(l->ssrc, now_ns));
      ssrcs.push_back(l->ssrc);
    }
    if (p.params.kind == MediaKind::kVideo && video_bitrate_cap_bps_ > 0 && !ssrcs.empty()) {
      per_publisher[p.params.participant_id].push_back(
          rtcp::Remb{kRtcpSsrc, video_bitrate_cap_bps_, std::move(ssrcs)});
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
    for (const auto& c : f.consumers) {
      if (c->params.fixed_layer < 0) who.insert(c->params.participant_id);
    }
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

std::string Room::owner_of(std::string_view feed, MediaKind kind) const {
  auto it = feeds_.find(feed_key(feed, kind));
  if (it == feeds_.end() || !it->second.producer) return {};
  return it->second.producer->params.owner;
}

void Room::set_owner(std::string_view feed, const std::string& owner) {
  for (MediaKind kind : {MediaKind::kAudio, MediaKind::kVideo}) {
    auto it = feeds_.find(feed_key(feed, kind));
    if (it != feeds_.end() && it->second.producer) it->second.producer->params.owner = owner;
  }
}

int Room::video_layer_of(const std::string& participant_id, std::string_view feed) const {
  auto it = feeds_.find(feed_key(feed, MediaKind::kVideo));
  if (it == feeds_.end()) return -1;
  for (const auto& c : it->second.consumers) {
    if (c->params.participant_id == participant_id) return c->layer;
  }
  return -1;
}

}  // namespace media
