#include "media/sfu/sfu.h"

#include <algorithm>
#include <cstdlib>

#include "base/log.h"
#include "base/strings.h"
#include "media/common/bytes.h"
#include "media/sfu/fanout_pool.h"
#include "media/sfu/video_quality.h"
#include "media/srtp/srtp_session.h"
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
  // Relaying (sfu/relay.h). The home: the legs it sends, by edge replica. The edge: the
  // replica its media comes from (empty: none, the media is published here), its leg (asked
  // for or answered; empty: none), and when to ask again after a failure.
  std::map<std::string, std::string> legs_out;
  std::string relay_home;
  std::string leg_in;
  int64_t relay_retry_ns = 0;
  int relay_failures = 0;
  int64_t unwatched_since_ns = -1;  // the edge: no subscriber here since (-1: some)
  bool idle() const { return participants.empty() && legs_out.empty() && leg_in.empty(); }
};

struct Sfu::RelayLeg {
  std::string id;  // "r<n>": the leg's participant id in the Room
  std::string room_id;
  std::string peer;      // the other replica
  bool to_edge = false;  // true on the home (it sends the media), false on the edge
  bool up = false;       // the edge: the home answered
  uint64_t offer_id = 0;
  bool have_to = false;
  SocketAddress to;  // the other replica's media socket
  std::unique_ptr<SrtpSession> in, out;
  std::vector<uint32_t> ssrcs;  // routed here (relay_by_ssrc_)
  uint32_t rtcp_ssrc = 0;       // sender SSRC of the RTCP this side sends on the leg
  int64_t created_ns = 0;
  int64_t last_heard_ns = 0;
  int64_t last_keepalive_ns = 0;
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

base::Result<sdp::Answer> Sfu::answer_endpoint(Endpoint& ep, const sdp::SessionDescription& offer,
                                               const sdp::AnswerOptions& o) {
  auto answer = sdp::build_answer(offer, o);
  if (!answer.is_ok()) {
    destroy_endpoint(ep.transport->id());
    return answer.status();
  }
  ep.transport->set_remote_parameters(answer->remote_ufrag, answer->remote_fingerprint);
  return answer;
}

base::Result<std::string> Sfu::publish(const std::string& room_id,
                                       const std::string& participant_id, const std::string& feed,
                                       std::string_view offer_sdp) {
  sdp::SessionDescription offer;
  EC_ASSIGN_OR_RETURN(Endpoint * ep,
                      new_endpoint(room_id, participant_id, true, feed, offer_sdp, &offer));
  const std::string id = ep->transport->id();
  sdp::AnswerOptions o = answer_options(*ep);
  auto answer = answer_endpoint(*ep, offer, o);
  if (!answer.is_ok()) return answer.status();
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
  // The edges' Rooms learn the feed's new publisher before its first packet reaches them.
  send_relay_owners(room_id);
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
  auto answer = answer_endpoint(*ep, offer, o);
  if (!answer.is_ok()) return answer.status();
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
  if (r->second->participants.empty() && !r->second->leg_in.empty()) {
    close_relay(r->second->leg_in, "no_subscribers", true);
  }
  if (r->second->idle()) rooms_.erase(r);
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
    if (!legs_.empty() && route_relay(data, from, arrival_ns)) return;
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
  relay_timer(clock_->now_mono_ns());
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
  if (it == transports_.end()) {
    // A relay leg to an edge (its consumers are the only ones not on a transport).
    auto l = legs_.find(endpoint);
    if (l == legs_.end() || !l->second->to_edge || !l->second->have_to) return true;
    RelayLeg& leg = *l->second;
    size_t n = len;
    if (!leg.out->protect_rtp(buffer, &n).is_ok()) return true;
    ++relay_.packets_out;
    relay_.bytes_out += len;
    sender_->send_udp(buffer.first(n), leg.to);
    return true;
  }
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
  if (it != transports_.end()) {
    (void)it->second->transport->send_rtcp(buffer, len);
    return;
  }
  auto l = legs_.find(endpoint);
  if (l != legs_.end()) send_relay_rtcp(*l->second, buffer, len);
}

// ---- a class relayed between replicas ----------------------------------------------------------

namespace {

constexpr SrtpProfile kRelayProfile = SrtpProfile::kAeadAes128Gcm;
constexpr int64_t kRelayKeepaliveNs = 1'000'000'000;
constexpr int64_t kRelayAnswerTimeoutNs = 10'000'000'000;
constexpr int64_t kRelayMaxBackoffNs = 10'000'000'000;
// A room without subscribers keeps its leg this long (a page replacing its subscription).
constexpr int64_t kRelayUnwatchedNs = 5'000'000'000;
constexpr uint8_t kRtcpBye = 203;
constexpr uint8_t kRtcpRr = 201;

// An RTCP packet on its own: RR with no report blocks (the keep-alive) or BYE.
std::vector<uint8_t> bare_rtcp(uint8_t type, uint32_t ssrc) {
  std::vector<uint8_t> p(8 + SrtpSession::kMaxOverhead);
  p[0] = type == kRtcpBye ? 0x81 : 0x80;  // BYE names one source
  p[1] = type;
  set_u16(&p[2], 1);  // length in words minus one
  set_u32(&p[4], ssrc);
  return p;
}

}  // namespace

SocketAddress Sfu::relay_address() const {
  SocketAddress a;
  const std::string& ip = config_.relay_ip.empty() ? config_.public_ip : config_.relay_ip;
  if (!SocketAddress::parse_ip(ip, &a)) SocketAddress::parse_ip("127.0.0.1", &a);
  a.port = config_.port;
  return a;
}

base::Result<std::string> Sfu::subscribe_relayed(const std::string& room_id,
                                                 const std::string& participant_id,
                                                 const std::string& home,
                                                 std::string_view offer_sdp) {
  if (home.empty()) return base::invalid_argument("no home replica to relay from");
  EC_ASSIGN_OR_RETURN(std::string answer, subscribe(room_id, participant_id, offer_sdp));
  RoomState& rs = *rooms_[room_id];
  if (rs.relay_home != home && !rs.leg_in.empty()) close_relay(rs.leg_in, "home_changed", true);
  rs.relay_home = home;
  rs.unwatched_since_ns = -1;
  if (rs.leg_in.empty()) {
    rs.relay_retry_ns = 0;
    open_relay(room_id, rs, clock_->now_mono_ns());
  }
  return answer;
}

void Sfu::open_relay(const std::string& room_id, RoomState& rs, int64_t now_ns) {
  if (!relay_requester_ || rs.relay_home.empty() || !rs.leg_in.empty()) return;
  auto leg = std::make_unique<RelayLeg>();
  leg->id = "r" + std::to_string(next_id_++);
  leg->room_id = room_id;
  leg->peer = rs.relay_home;
  leg->offer_id = next_id_++;
  leg->created_ns = now_ns;
  leg->last_heard_ns = now_ns;
  RelayOffer offer;
  offer.room_id = room_id;
  offer.edge_address = relay_address();
  offer.down_key.resize(srtp_master_length(kRelayProfile));
  offer.up_key.resize(srtp_master_length(kRelayProfile));
  random_->fill(offer.down_key.data(), offer.down_key.size());
  random_->fill(offer.up_key.data(), offer.up_key.size());
  auto in = SrtpSession::create(SrtpSession::Direction::kInbound, kRelayProfile, offer.down_key);
  auto out = SrtpSession::create(SrtpSession::Direction::kOutbound, kRelayProfile, offer.up_key);
  if (!in.is_ok() || !out.is_ok()) {
    base::log::warn("media.relay_failed").kv("room", room_id).kv("error", "SRTP setup failed");
    return;
  }
  leg->in = std::move(in).value();
  leg->out = std::move(out).value();
  // Every SSRC the home will send, and ours, unique among the legs routed here.
  auto fresh_ssrc = [&] {
    uint32_t v;
    do {
      v = uint32_t(random_->next_u64() % 0xFFFFFFF0u) + 1;
    } while (relay_by_ssrc_.count(v) ||
             std::find(leg->ssrcs.begin(), leg->ssrcs.end(), v) != leg->ssrcs.end());
    return v;
  };
  Room& room = rs.room;
  for (const std::string& feed : config_.subscribe_feeds) {
    uint32_t audio = fresh_ssrc();
    leg->ssrcs.push_back(audio);
    offer.streams.push_back({feed, MediaKind::kAudio, 0, audio});
    ProducerParams a;
    a.participant_id = leg->id;
    a.kind = MediaKind::kAudio;
    a.ssrc = audio;
    a.payload_type = kRelayOpusPayloadType;
    a.clock_rate = 48000;
    a.codec = "opus";
    a.ext_audio_level_id = kRelayAudioLevelId;
    ProducerParams v;
    v.participant_id = leg->id;
    v.kind = MediaKind::kVideo;
    v.payload_type = kRelayVp8PayloadType;
    v.clock_rate = 90000;
    v.codec = "VP8";
    for (int layer = 0; layer < kRelayVideoLayers; ++layer) {
      uint32_t ssrc = fresh_ssrc();
      leg->ssrcs.push_back(ssrc);
      v.layer_ssrcs.push_back(ssrc);
      offer.streams.push_back({feed, MediaKind::kVideo, layer, ssrc});
    }
    // This replica's students get the feed from the leg (a fresh SSRC each time: their
    // consumers continue seamlessly across legs, as across publishers).
    (void)room.set_producer(feed, a);
    (void)room.set_producer(feed, v);
  }
  leg->rtcp_ssrc = fresh_ssrc();
  offer.up_ssrc = leg->rtcp_ssrc;
  for (uint32_t ssrc : leg->ssrcs) relay_by_ssrc_[ssrc] = leg.get();
  rs.leg_in = leg->id;
  const uint64_t offer_id = leg->offer_id;
  const std::string home = rs.relay_home;
  base::log::info("media.relay_asked")
      .kv("room", room_id)
      .kv("home", home)
      .kv("leg", leg->id)
      .kv("streams", uint64_t(offer.streams.size()));
  legs_[leg->id] = std::move(leg);
  relay_requester_(home, offer_id, offer);
}

void Sfu::relay_answered(const std::string& room_id, uint64_t offer_id,
                         base::Result<RelayAnswer> answer) {
  auto r = rooms_.find(room_id);
  if (r == rooms_.end() || r->second->leg_in.empty()) return;
  RoomState& rs = *r->second;
  auto l = legs_.find(rs.leg_in);
  if (l == legs_.end() || l->second->offer_id != offer_id || l->second->up) return;
  RelayLeg& leg = *l->second;
  int64_t now = clock_->now_mono_ns();
  if (!answer.is_ok()) {
    ++rs.relay_failures;
    int64_t backoff = std::min<int64_t>(kRelayMaxBackoffNs, int64_t(500'000'000)
                                                                << std::min(rs.relay_failures, 5));
    rs.relay_retry_ns = now + backoff;
    base::log::warn("media.relay_failed")
        .kv("room", room_id)
        .kv("home", leg.peer)
        .kv("leg", leg.id)
        .kv("error", answer.status().message())
        .kv("retry_ms", backoff / 1'000'000);
    close_relay(leg.id, "refused", false);
    return;
  }
  leg.up = true;
  leg.to = answer->home_address;
  leg.have_to = true;
  leg.last_heard_ns = now;
  rs.relay_failures = 0;
  ++relay_.legs_opened;
  base::log::info("media.relay_up")
      .kv("room", room_id)
      .kv("home", leg.peer)
      .kv("leg", leg.id)
      .kv("direction", "in")
      .kv("home_address", leg.to.to_string());
}

base::Result<RelayAnswer> Sfu::relay_serve(const RelayOffer& offer) {
  const size_t key_len = srtp_master_length(kRelayProfile);
  if (offer.room_id.empty() || offer.edge.empty()) {
    return base::invalid_argument("a relay offer names its room and edge replica",
                                  "bad_relay_offer");
  }
  if (offer.down_key.size() != key_len || offer.up_key.size() != key_len) {
    return base::invalid_argument(
        "relay keys must be " + std::to_string(key_len) + " bytes (AEAD_AES_128_GCM key || salt)",
        "bad_relay_offer");
  }
  if (offer.up_ssrc == 0 || offer.streams.empty() || offer.streams.size() > 64 ||
      offer.edge_address.port == 0) {
    return base::invalid_argument("a relay offer needs an up SSRC, 1 to 64 streams and an address",
                                  "bad_relay_offer");
  }
  for (const RelayStream& st : offer.streams) {
    if (st.ssrc == 0 || st.feed.empty() || st.layer < 0 || st.layer >= kRelayVideoLayers ||
        (st.kind == MediaKind::kAudio && st.layer != 0)) {
      return base::invalid_argument("a relay stream needs a feed, an SSRC and a layer 0 to " +
                                        std::to_string(kRelayVideoLayers - 1),
                                    "bad_relay_offer");
    }
  }
  auto& slot = rooms_[offer.room_id];
  if (!slot) slot = std::make_unique<RoomState>(this, clock_, config_.video_bitrate_cap_bps);
  RoomState& rs = *slot;
  if (auto old = rs.legs_out.find(offer.edge); old != rs.legs_out.end()) {
    close_relay(old->second, "replaced", false);
  }
  if (relay_by_ssrc_.count(offer.up_ssrc)) {
    if (rs.idle()) rooms_.erase(offer.room_id);
    return base::conflict("the relay's up SSRC is in use here; ask again with another",
                          "ssrc_in_use");
  }
  auto leg = std::make_unique<RelayLeg>();
  leg->id = "r" + std::to_string(next_id_++);
  leg->room_id = offer.room_id;
  leg->peer = offer.edge;
  leg->to_edge = true;
  leg->up = true;
  leg->to = offer.edge_address;
  leg->have_to = true;
  leg->rtcp_ssrc = offer.streams.front().ssrc;
  leg->ssrcs = {offer.up_ssrc};
  int64_t now = clock_->now_mono_ns();
  leg->created_ns = leg->last_heard_ns = now;
  auto in = SrtpSession::create(SrtpSession::Direction::kInbound, kRelayProfile, offer.up_key);
  auto out = SrtpSession::create(SrtpSession::Direction::kOutbound, kRelayProfile, offer.down_key);
  if (!in.is_ok()) return in.status();
  if (!out.is_ok()) return out.status();
  leg->in = std::move(in).value();
  leg->out = std::move(out).value();
  const std::string id = leg->id;
  relay_by_ssrc_[offer.up_ssrc] = leg.get();
  legs_[id] = std::move(leg);
  rs.legs_out[offer.edge] = id;
  // One consumer per stream, pinned to its layer: the edge chooses for its students.
  for (const RelayStream& st : offer.streams) {
    ConsumerParams c;
    c.participant_id = id;
    c.ssrc = st.ssrc;
    c.fixed_layer = st.layer;
    if (st.kind == MediaKind::kAudio) {
      c.payload_type = kRelayOpusPayloadType;
      c.codec = "opus";
      c.ext_audio_level_id = kRelayAudioLevelId;
    } else {
      c.payload_type = kRelayVp8PayloadType;
      c.codec = "VP8";
    }
    base::Status s = rs.room.add_consumer(st.feed, st.kind, c);
    if (!s.is_ok()) {
      close_relay(id, "refused", false);
      if (rs.idle()) rooms_.erase(offer.room_id);
      return s;
    }
  }
  ++relay_.legs_opened;
  send_relay_owners(*legs_[id]);
  base::log::info("media.relay_up")
      .kv("room", offer.room_id)
      .kv("edge", offer.edge)
      .kv("leg", id)
      .kv("direction", "out")
      .kv("edge_address", offer.edge_address.to_string())
      .kv("streams", uint64_t(offer.streams.size()));
  return RelayAnswer{relay_address()};
}

void Sfu::close_relay(std::string leg_id, std::string_view reason, bool bye) {
  auto l = legs_.find(leg_id);
  if (l == legs_.end()) return;
  RelayLeg& leg = *l->second;
  if (bye && leg.have_to) {
    std::vector<uint8_t> p = bare_rtcp(kRtcpBye, leg.rtcp_ssrc);
    size_t n = 8;
    if (leg.out->protect_rtcp(p, &n).is_ok()) sender_->send_udp(ByteSpan(p.data(), n), leg.to);
  }
  for (uint32_t ssrc : leg.ssrcs) {
    auto it = relay_by_ssrc_.find(ssrc);
    if (it != relay_by_ssrc_.end() && it->second == &leg) relay_by_ssrc_.erase(it);
  }
  auto r = rooms_.find(leg.room_id);
  if (r != rooms_.end()) {
    RoomState& rs = *r->second;
    rs.room.remove_participant(leg.id);
    if (rs.leg_in == leg.id) rs.leg_in.clear();
    std::erase_if(rs.legs_out, [&](const auto& kv) { return kv.second == leg.id; });
  }
  if (leg.up) {
    base::log::info("media.relay_down")
        .kv("room", leg.room_id)
        .kv(leg.to_edge ? "edge" : "home", leg.peer)
        .kv("leg", leg.id)
        .kv("direction", leg.to_edge ? "out" : "in")
        .kv("reason", reason);
  }
  legs_.erase(l);
}

bool Sfu::route_relay(std::span<uint8_t> data, const SocketAddress& from, int64_t arrival_ns) {
  auto route = relay_route(data);
  if (!route) return false;
  const bool rtcp = route->rtcp;
  auto it = relay_by_ssrc_.find(route->ssrc);
  if (it == relay_by_ssrc_.end()) return false;
  RelayLeg& leg = *it->second;
  size_t len = data.size();
  base::Status s = rtcp ? leg.in->unprotect_rtcp(data, &len) : leg.in->unprotect_rtp(data, &len);
  if (!s.is_ok()) {
    ++relay_.srtp_failures;
    return true;
  }
  leg.last_heard_ns = clock_->now_mono_ns();
  auto r = rooms_.find(leg.room_id);
  if (r == rooms_.end()) return true;
  Room& room = r->second->room;
  if (rtcp) {
    if (len >= 8 && data[1] == kRtcpBye) {
      std::string id = leg.id;
      close_relay(id, "closed_by_peer", false);
      if (r->second->idle()) rooms_.erase(r);
      return true;
    }
    if (!leg.to_edge) {
      // Who publishes each feed at the home: their own feeds never go back to them here.
      if (auto owners = parse_relay_owners(ByteSpan(data.data(), len))) {
        for (const std::string& feed : config_.subscribe_feeds) {
          auto o = std::find_if(owners->begin(), owners->end(),
                                [&](const auto& fo) { return fo.first == feed; });
          room.set_owner(feed, o == owners->end() ? std::string() : o->second);
        }
      }
    }
    room.on_rtcp(leg.id, ByteSpan(data.data(), len));
    return true;
  }
  if (leg.to_edge) return true;  // the home receives no media on a leg
  ++relay_.packets_in;
  relay_.bytes_in += len;
  if (!pool_) {
    room.on_rtp(leg.id, data.first(len), arrival_ns);
    return true;
  }
  // The edge's big fan-out: on the pool's threads, as for a browser's packet.
  collect_room_ = &room;
  collect_arrival_ns_ = arrival_ns;
  room.on_rtp(leg.id, data.first(len), arrival_ns);
  collect_room_ = nullptr;
  pool_->run();
  return true;
}

void Sfu::send_relay_rtcp(RelayLeg& leg, std::span<uint8_t> buffer, size_t len) {
  if (!leg.have_to) return;
  if (!leg.to_edge) {
    // The edge's Room writes its own RTCP sender SSRC; the home routes the leg by ours.
    for (size_t at = 0; at + 8 <= len;) {
      set_u32(&buffer[at + 4], leg.rtcp_ssrc);
      at += (size_t(get_u16(&buffer[at + 2])) + 1) * 4;
    }
  }
  size_t n = len;
  if (leg.out->protect_rtcp(buffer, &n).is_ok()) sender_->send_udp(buffer.first(n), leg.to);
}

void Sfu::relay_timer(int64_t now_ns) {
  if (legs_.empty() && !relay_requester_) return;
  std::vector<std::pair<std::string, const char*>> dead;
  for (auto& [id, leg] : legs_) {
    if (leg->up && now_ns - leg->last_heard_ns > kRelaySilentNs) {
      dead.emplace_back(id, leg->to_edge ? "edge_silent" : "home_silent");
    } else if (!leg->up && now_ns - leg->created_ns > kRelayAnswerTimeoutNs) {
      dead.emplace_back(id, "no_answer");
    } else if (leg->up && now_ns - leg->last_keepalive_ns >= kRelayKeepaliveNs) {
      leg->last_keepalive_ns = now_ns;
      if (leg->to_edge) {
        send_relay_owners(*leg);
        continue;
      }
      std::vector<uint8_t> p = bare_rtcp(kRtcpRr, leg->rtcp_ssrc);
      size_t n = 8;
      if (leg->out->protect_rtcp(p, &n).is_ok()) {
        sender_->send_udp(ByteSpan(p.data(), n), leg->to);
      }
    }
  }
  for (const auto& [id, why] : dead) close_relay(id, why, false);
  // The edge: a leg while someone watches here; ask again when it is gone.
  std::vector<std::string> idle;
  for (auto& [room_id, rs] : rooms_) {
    if (rs->relay_home.empty()) {
      if (rs->idle()) idle.push_back(room_id);
      continue;
    }
    if (rs->room.subscriber_count() == 0) {
      if (rs->unwatched_since_ns < 0) rs->unwatched_since_ns = now_ns;
      if (!rs->leg_in.empty() && now_ns - rs->unwatched_since_ns >= kRelayUnwatchedNs) {
        close_relay(rs->leg_in, "no_subscribers", true);
      }
    } else {
      rs->unwatched_since_ns = -1;
      if (rs->leg_in.empty() && now_ns >= rs->relay_retry_ns) open_relay(room_id, *rs, now_ns);
    }
    if (rs->idle()) idle.push_back(room_id);
  }
  for (const auto& id : idle) rooms_.erase(id);
}

void Sfu::send_relay_owners(RelayLeg& leg) {
  auto r = rooms_.find(leg.room_id);
  if (r == rooms_.end() || !leg.have_to) return;
  RelayOwners owners;
  for (const std::string& feed : config_.subscribe_feeds) {
    std::string owner = r->second->room.owner_of(feed, MediaKind::kVideo);
    if (owner.empty()) owner = r->second->room.owner_of(feed, MediaKind::kAudio);
    if (!owner.empty()) owners.emplace_back(feed, std::move(owner));
  }
  std::vector<uint8_t> p = bare_rtcp(kRtcpRr, leg.rtcp_ssrc);
  p.resize(8);
  std::vector<uint8_t> app = relay_owners_packet(leg.rtcp_ssrc, owners);
  p.insert(p.end(), app.begin(), app.end());
  size_t n = p.size();
  p.resize(n + SrtpSession::kMaxOverhead);
  if (leg.out->protect_rtcp(p, &n).is_ok()) sender_->send_udp(ByteSpan(p.data(), n), leg.to);
}

void Sfu::send_relay_owners(const std::string& room_id) {
  auto r = rooms_.find(room_id);
  if (r == rooms_.end()) return;
  for (const auto& [edge, leg_id] : r->second->legs_out) {
    if (auto l = legs_.find(leg_id); l != legs_.end()) send_relay_owners(*l->second);
  }
}

Sfu::RelayCounters Sfu::relay_counters() const {
  RelayCounters c = relay_;
  for (const auto& [id, leg] : legs_) {
    if (leg->to_edge) {
      ++c.legs_out;
    } else if (leg->up) {
      ++c.legs_in;
    }
  }
  return c;
}

}  // namespace media
