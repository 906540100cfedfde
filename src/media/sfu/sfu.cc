#include "media/sfu/sfu.h"

#include <algorithm>
#include <cstdlib>

#include "base/log.h"
#include "base/strings.h"
#include "media/sfu/fanout_pool.h"
#include "media/sfu/video_quality.h"
#include "media/stun/stun_packet.h"

namespace media {

struct Sfu::Endpoint {
  std::unique_ptr<WebRtcTransport> transport;
  int lane = 0;  // FanoutPool lane, round-robin
  std::string room_id;
  std::string participant_id;
  bool publisher = false;
  std::string feed;  // a publisher's feed ("main", "stage", "screen"); empty for a subscription
  std::vector<std::pair<std::string, MediaKind>> published;  // feeds this endpoint filled
};

struct Sfu::RoomState {
  RoomState(Room::Listener* l, const base::Clock* c, uint64_t cap) : room(l, c, cap) {}
  Room room;
  // A participant's PeerConnections: one per feed it publishes (the camera in "main" or
  // "stage", a shared screen in "screen") and its subscription; transport ids.
  struct Transports {
    std::map<std::string, std::string> publish;  // feed -> transport id
    std::string subscribe;
  };
  std::map<std::string, Transports> participants;
};

base::Result<SfuConfig> SfuConfig::from_env() {
  SfuConfig c;
  if (const char* port = std::getenv("EDGECLASS_MEDIA_PORT")) {
    auto p = base::parse_int(port);
    if (!p || *p < 1 || *p > 65535) {
      return base::invalid_argument("EDGECLASS_MEDIA_PORT must be a port number, got '" +
                                    std::string(port) + "'");
    }
    c.port = uint16_t(*p);
  }
  if (const char* ip = std::getenv("EDGECLASS_PUBLIC_IP"); ip && *ip) {
    SocketAddress a;
    if (!SocketAddress::parse_ip(ip, &a)) {
      return base::invalid_argument("EDGECLASS_PUBLIC_IP must be an IP address, got '" +
                                    std::string(ip) + "'");
    }
    c.public_ip = ip;
  }
  if (const char* q = std::getenv("VIDEO_QUALITY"); q && *q) {
    EC_ASSIGN_OR_RETURN(c.video_bitrate_cap_bps, video_bitrate_cap(q));
  }
  return c;
}

Sfu::Sfu(SfuConfig config, Listener* listener, PacketSender* sender, const base::Clock* clock,
         base::Random* random, std::shared_ptr<const DtlsCertificate> certificate)
    : config_(std::move(config)),
      listener_(listener),
      sender_(sender),
      clock_(clock),
      random_(random),
      certificate_(std::move(certificate)) {
  if (config_.fanout_threads > 1) {
    pool_ = std::make_unique<FanoutPool>(config_.fanout_threads, sender_, clock_);
  }
}

Sfu::~Sfu() = default;

base::Result<Sfu::Endpoint*> Sfu::new_endpoint(const std::string& room_id,
                                               const std::string& participant_id, bool publisher,
                                               const std::string& feed, std::string_view offer_sdp,
                                               sdp::SessionDescription* offer) {
  EC_ASSIGN_OR_RETURN(*offer, sdp::parse(offer_sdp));
  auto& rs = rooms_[room_id];
  if (!rs) rs = std::make_unique<RoomState>(this, clock_, config_.video_bitrate_cap_bps);
  // A second publish into the same feed, or a second subscribe, replaces the previous
  // PeerConnection of that kind.
  auto& ids = rs->participants[participant_id];
  std::string old = publisher ? ids.publish[feed] : ids.subscribe;
  if (!old.empty()) destroy_endpoint(old);
  std::string id = "t";
  id += std::to_string(next_id_++);
  EC_ASSIGN_OR_RETURN(auto transport,
                      WebRtcTransport::create(id, this, clock_, *random_, certificate_));
  transport->set_ice_timeout_ms(config_.ice_timeout_ms);
  auto ep = std::make_unique<Endpoint>();
  ep->transport = std::move(transport);
  ep->lane = int((next_id_ - 1) % uint64_t(std::max(1, config_.fanout_threads)));
  ep->room_id = room_id;
  ep->participant_id = participant_id;
  ep->publisher = publisher;
  if (publisher) ep->feed = feed;
  Endpoint* raw = ep.get();
  by_ufrag_[raw->transport->local_ufrag()] = raw->transport.get();
  transports_[id] = std::move(ep);
  (publisher ? ids.publish[feed] : ids.subscribe) = id;
  return raw;
}

sdp::AnswerOptions Sfu::answer_options(const Endpoint& ep) {
  sdp::AnswerOptions o;
  o.ice_ufrag = ep.transport->local_ufrag();
  o.ice_pwd = ep.transport->local_password();
  o.fingerprint_sha256 = certificate_->fingerprint_sha256();
  o.candidate_ip = config_.public_ip;
  o.extra_candidate_ips = config_.extra_candidate_ips;
  o.candidate_port = config_.port;
  o.session_id = random_->next_u64() >> 2;
  return o;
}

base::Result<std::string> Sfu::publish(const std::string& room_id,
                                       const std::string& participant_id, const std::string& feed,
                                       std::string_view offer_sdp) {
  sdp::SessionDescription offer;
  EC_ASSIGN_OR_RETURN(Endpoint * ep,
                      new_endpoint(room_id, participant_id, true, feed, offer_sdp, &offer));
  const std::string id = ep->transport->id();
  sdp::AnswerOptions o = answer_options(*ep);
  auto answer = sdp::build_answer(offer, o);
  if (!answer.is_ok()) {
    destroy_endpoint(id);
    return answer.status();
  }
  ep->transport->set_remote_parameters(answer->remote_ufrag, answer->remote_fingerprint);
  Room& room = rooms_[room_id]->room;
  bool any = false;
  std::vector<std::pair<std::string, MediaKind>> replaced;  // (participant, kind)
  for (const auto& m : answer->media) {
    if (!m.accepted || m.our_direction != sdp::Direction::kRecvOnly ||
        (m.remote_ssrcs.empty() && m.rids.empty())) {
      continue;
    }
    ProducerParams p;
    p.participant_id = id;
    p.owner = participant_id;
    p.kind = m.kind == "audio" ? MediaKind::kAudio : MediaKind::kVideo;
    p.ssrc = m.remote_ssrcs.empty() ? 0 : m.remote_ssrcs.front();
    if (p.kind == MediaKind::kVideo && !m.rids.empty()) {
      p.rids = m.rids;
      p.ext_rid_id = m.ext_rid.value_or(0);
    }
    p.payload_type = m.codec.payload_type;
    p.clock_rate = m.codec.clock_rate;
    p.codec = m.codec.name;
    p.ext_audio_level_id = m.ext_audio_level.value_or(0);
    // Taking over a feed (the stage passes to another student) ends the previous
    // publisher's track in it; its transport stays until the caller unpublishes it.
    if (const std::string* prev = room.producer_of(feed, p.kind); prev && *prev != id) {
      auto it = transports_.find(*prev);
      if (it != transports_.end()) replaced.emplace_back(it->second->participant_id, p.kind);
    }
    base::Status s = room.set_producer(feed, p);
    if (!s.is_ok()) {
      destroy_endpoint(id);
      return s;
    }
    ep->published.emplace_back(feed, p.kind);
    any = true;
  }
  if (!any) {
    destroy_endpoint(id);
    return base::invalid_argument(
        "publish offer sends no Opus or VP8 stream with an a=ssrc or RID simulcast",
        "nothing_to_publish");
  }
  for (const auto& [who, kind] : replaced) listener_->OnSfuTrackRemoved(room_id, feed, who, kind);
  for (const auto& [f, kind] : ep->published) {
    listener_->OnSfuTrackAdded(room_id, f, participant_id, kind);
  }
  return std::move(answer->sdp);
}

base::Result<std::string> Sfu::subscribe(const std::string& room_id,
                                         const std::string& participant_id,
                                         std::string_view offer_sdp) {
  sdp::SessionDescription offer;
  EC_ASSIGN_OR_RETURN(Endpoint * ep,
                      new_endpoint(room_id, participant_id, false, {}, offer_sdp, &offer));
  const std::string id = ep->transport->id();
  sdp::AnswerOptions o = answer_options(*ep);
  // The n-th recvonly section of each kind gets feed n.
  std::vector<std::string> section_feed(offer.media.size());
  size_t audio_n = 0, video_n = 0;
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const auto& m = offer.media[i];
    sdp::AnswerMedia am;
    if (m.direction == sdp::Direction::kRecvOnly && (m.kind == "audio" || m.kind == "video")) {
      size_t& n = m.kind == "audio" ? audio_n : video_n;
      if (n < config_.subscribe_feeds.size()) {
        section_feed[i] = config_.subscribe_feeds[n];
        am.send_ssrc = uint32_t(random_->next_u64() % 0xFFFFFFF0u) + 1;
        if (m.kind == "video") {
          do {
            am.send_rtx_ssrc = uint32_t(random_->next_u64() % 0xFFFFFFF0u) + 1;
          } while (am.send_rtx_ssrc == am.send_ssrc);
        }
        am.send_msid = section_feed[i] + " " + section_feed[i] + "-" + m.kind;
      }
      ++n;
    }
    o.media.push_back(std::move(am));
  }
  auto answer = sdp::build_answer(offer, o);
  if (!answer.is_ok()) {
    destroy_endpoint(id);
    return answer.status();
  }
  ep->transport->set_remote_parameters(answer->remote_ufrag, answer->remote_fingerprint);
  Room& room = rooms_[room_id]->room;
  for (size_t i = 0; i < answer->media.size(); ++i) {
    const auto& m = answer->media[i];
    if (!m.accepted || m.our_direction != sdp::Direction::kSendOnly) continue;
    ConsumerParams c;
    c.participant_id = id;
    c.owner = participant_id;
    c.ssrc = o.media[i].send_ssrc;
    if (m.rtx_payload_type != 0) {
      c.rtx_ssrc = o.media[i].send_rtx_ssrc;
      c.rtx_payload_type = m.rtx_payload_type;
    }
    c.payload_type = m.codec.payload_type;
    c.codec = m.codec.name;
    c.mid = m.mid;
    c.ext_mid_id = m.ext_mid.value_or(0);
    c.ext_abs_send_time_id = m.ext_abs_send_time.value_or(0);
    c.ext_audio_level_id = m.ext_audio_level.value_or(0);
    // Nothing can reach the browser before DTLS completes; it starts at a key frame then.
    c.start_paused = true;
    MediaKind kind = m.kind == "audio" ? MediaKind::kAudio : MediaKind::kVideo;
    base::Status s = room.add_consumer(section_feed[i], kind, c);
    if (!s.is_ok()) {
      destroy_endpoint(id);
      return s;
    }
  }
  return std::move(answer->sdp);
}

void Sfu::unpublish(const std::string& room_id, const std::string& participant_id,
                    const std::string& feed) {
  auto r = rooms_.find(room_id);
  if (r == rooms_.end()) return;
  auto p = r->second->participants.find(participant_id);
  if (p == r->second->participants.end()) return;
  std::vector<std::string> doomed;
  for (const auto& [f, id] : p->second.publish) {
    if (!id.empty() && (feed.empty() || f == feed)) doomed.push_back(id);
  }
  for (const auto& id : doomed) destroy_endpoint(id);
}

void Sfu::leave(const std::string& room_id, const std::string& participant_id) {
  auto r = rooms_.find(room_id);
  if (r == rooms_.end()) return;
  auto p = r->second->participants.find(participant_id);
  if (p == r->second->participants.end()) return;
  std::vector<std::string> doomed;
  for (const auto& [f, id] : p->second.publish) {
    if (!id.empty()) doomed.push_back(id);
  }
  if (!p->second.subscribe.empty()) doomed.push_back(p->second.subscribe);
  for (const auto& id : doomed) destroy_endpoint(id);
  r->second->participants.erase(participant_id);
  if (r->second->participants.empty()) rooms_.erase(r);
}

void Sfu::destroy_endpoint(std::string transport_id) {
  auto it = transports_.find(transport_id);
  if (it == transports_.end()) return;
  Endpoint& ep = *it->second;
  WebRtcTransport* t = ep.transport.get();
  by_ufrag_.erase(t->local_ufrag());
  for (auto a = by_address_.begin(); a != by_address_.end();) {
    a = a->second == t ? by_address_.erase(a) : std::next(a);
  }
  auto r = rooms_.find(ep.room_id);
  if (r != rooms_.end()) {
    Room& room = r->second->room;
    std::vector<std::pair<std::string, MediaKind>> removed;
    for (const auto& [feed, kind] : ep.published) {
      const std::string* owner = room.producer_of(feed, kind);
      if (owner && *owner == transport_id) removed.emplace_back(feed, kind);
    }
    room.remove_participant(transport_id);
    auto p = r->second->participants.find(ep.participant_id);
    if (p != r->second->participants.end()) {
      std::erase_if(p->second.publish, [&](const auto& kv) { return kv.second == transport_id; });
      if (p->second.subscribe == transport_id) p->second.subscribe.clear();
    }
    for (const auto& [feed, kind] : removed) {
      listener_->OnSfuTrackRemoved(ep.room_id, feed, ep.participant_id, kind);
    }
  }
  transports_.erase(it);
}

Sfu::Endpoint* Sfu::endpoint_of(const WebRtcTransport* t) {
  auto it = transports_.find(t->id());
  return it == transports_.end() ? nullptr : it->second.get();
}

void Sfu::on_udp_packet(std::span<uint8_t> data, const SocketAddress& from, int64_t arrival_ns) {
  if (data.empty()) return;
  WebRtcTransport* t = nullptr;
  if (data[0] < 4) {
    // STUN: the USERNAME names the transport; this is how a new address is first routed.
    auto msg = stun::parse(data);
    if (msg.is_ok()) {
      auto it = by_ufrag_.find(std::string(IceServer::local_ufrag_of(*msg)));
      if (it != by_ufrag_.end()) t = it->second;
    }
  }
  if (!t) {
    auto it = by_address_.find(from);
    if (it != by_address_.end()) t = it->second;
  }
  if (!t) {
    ++unroutable_;
    return;
  }
  Endpoint* ep = pool_ ? endpoint_of(t) : nullptr;
  auto room = ep ? rooms_.find(ep->room_id) : rooms_.end();
  if (room == rooms_.end()) {
    t->receive(data, from, arrival_ns);
    return;
  }
  // Subscriber RTP this datagram causes (its fan-out, or retransmissions a NACK asks for)
  // is queued and then protected and sent on the pool's threads together.
  collect_room_ = &room->second->room;
  collect_arrival_ns_ = arrival_ns;
  t->receive(data, from, arrival_ns);
  collect_room_ = nullptr;
  pool_->run();
}

void Sfu::on_timer() {
  for (const auto& id : std::exchange(doomed_, {})) destroy_endpoint(id);
  for (auto& [id, ep] : transports_) ep->transport->on_timer();
  for (auto& [id, rs] : rooms_) rs->room.on_timer();
}

const MediaCounters* Sfu::room_counters(const std::string& room_id) const {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : &it->second->room.counters();
}

void Sfu::for_each_room(
    const std::function<void(const std::string&, const MediaCounters&, size_t)>& visit) const {
  for (const auto& [id, rs] : rooms_) {
    visit(id, rs->room.counters(), rs->room.subscriber_count());
  }
}

uint64_t Sfu::srtp_failures() const {
  uint64_t n = 0;
  for (const auto& [id, ep] : transports_) n += ep->transport->srtp_failures();
  return n;
}

size_t Sfu::subscriber_count(const std::string& room_id) const {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? 0 : it->second->room.subscriber_count();
}

void Sfu::OnTransportSendPacket(const WebRtcTransport*, ByteSpan data, const SocketAddress& to) {
  sender_->send_udp(data, to);
}

void Sfu::OnTransportTupleAdded(const WebRtcTransport* t, const SocketAddress& remote) {
  by_address_[remote] = const_cast<WebRtcTransport*>(t);
}

void Sfu::OnTransportTupleRemoved(const WebRtcTransport* t, const SocketAddress& remote) {
  auto it = by_address_.find(remote);
  if (it != by_address_.end() && it->second == t) by_address_.erase(it);
}

void Sfu::OnTransportConnected(const WebRtcTransport* t) {
  if (Endpoint* ep = endpoint_of(t)) {
    auto r = rooms_.find(ep->room_id);
    if (!ep->publisher && r != rooms_.end()) r->second->room.set_paused(t->id(), false);
    base::log::info("media transport connected")
        .kv("room", ep->room_id)
        .kv("participant", ep->participant_id)
        .kv("publisher", ep->publisher);
  }
}

void Sfu::OnTransportClosed(const WebRtcTransport* t, std::string_view reason) {
  Endpoint* ep = endpoint_of(t);
  if (!ep) return;
  base::log::info("media transport closed")
      .kv("room", ep->room_id)
      .kv("participant", ep->participant_id)
      .kv("reason", reason);
  doomed_.push_back(t->id());
  const WebRtcTransport::Failure failure = t->failure();
  switch (failure) {
    case WebRtcTransport::Failure::kNone:
      break;
    case WebRtcTransport::Failure::kIceTimeout:
      ++ice_timeouts_;
      break;
    case WebRtcTransport::Failure::kConsentExpired:
      ++consent_expirations_;
      break;
    case WebRtcTransport::Failure::kDtls:
      ++dtls_failures_;
      break;
  }
  // The browser closing its own PeerConnection (DTLS close_notify: a page that replaces its
  // subscription, reloads or leaves) is no news to that page: its tracks go (destroy_endpoint)
  // but no disconnect is reported. Told "disconnected" while it was already negotiating the
  // replacement, a page would tear that down too.
  if (failure == WebRtcTransport::Failure::kNone) return;
  listener_->OnSfuTransportFailed(ep->room_id, ep->participant_id, ep->publisher, ep->feed, failure,
                                  reason);
  listener_->OnSfuParticipantDisconnected(ep->room_id, ep->participant_id, ep->publisher, ep->feed,
                                          reason);
}

void Sfu::OnTransportRtp(const WebRtcTransport* t, std::span<uint8_t> packet, int64_t arrival_ns) {
  Endpoint* ep = endpoint_of(t);
  if (!ep || !ep->publisher) return;
  auto r = rooms_.find(ep->room_id);
  if (r != rooms_.end()) r->second->room.on_rtp(t->id(), packet, arrival_ns);
}

void Sfu::OnTransportRtcp(const WebRtcTransport* t, ByteSpan packet) {
  Endpoint* ep = endpoint_of(t);
  if (!ep) return;
  auto r = rooms_.find(ep->room_id);
  if (r != rooms_.end()) r->second->room.on_rtcp(t->id(), packet);
}

bool Sfu::OnRoomSendRtp(const std::string& endpoint, std::span<uint8_t> buffer, size_t len) {
  auto it = transports_.find(endpoint);
  if (it == transports_.end()) return true;
  Endpoint& ep = *it->second;
  if (collect_room_) {
    pool_->add(ep.lane, ep.transport.get(), collect_room_, collect_arrival_ns_, buffer.first(len));
    return false;
  }
  (void)ep.transport->send_rtp(buffer, len);
  return true;
}

void Sfu::OnRoomSendRtcp(const std::string& endpoint, std::span<uint8_t> buffer, size_t len) {
  auto it = transports_.find(endpoint);
  if (it != transports_.end()) (void)it->second->transport->send_rtcp(buffer, len);
}

}  // namespace media
