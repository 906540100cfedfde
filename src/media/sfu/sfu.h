// Sfu: the media plane's narrow interface for the classroom/WebSocket layer.
//
// The caller (which applies policy: who may publish, who is on stage) drives it with SDP
// from the browser and gets SDP back; media then flows over the one UDP port without further
// calls. Every participant uses one PeerConnection to publish and another to subscribe:
//
//   publish(room, participant, feed, offer)  -> answer   browser sends (sendonly/sendrecv)
//   subscribe(room, participant, offer)      -> answer   browser receives (recvonly)
//   unpublish(room, participant[, feed])     stops the participant's streams (in that feed)
//   leave(room, participant)                 drops both of its transports
//
// Feeds: a publish() names the feed it fills, "main" for the teacher, "stage" for the one
// student given the stage, "screen" for a shared screen (names are the caller's). A
// participant has one publishing PeerConnection per feed (the teacher's camera and its screen
// are two), so a screen share starts and stops without touching the camera. A subscribe() offer's
// recvonly sections are attached in order to the feeds in SfuConfig::subscribe_feeds: the first
// audio and the first video section to the first feed, the second ones to the second, and so on. A
// subscriber therefore offers e.g. 2 audio + 2 video recvonly transceivers once; when the
// stage passes to another student the same transceivers carry the new student (continuous
// SSRC/seq/timestamps), with no renegotiation.
//
// Events (Listener) tell the caller when a feed gains or loses its publisher and when a
// participant's transport dies (ICE consent lost, DTLS failure), so it can update clients.
//
// Threading: an Sfu and everything in it belongs to one thread (the media thread). The UDP
// server delivers datagrams on it; other threads post to it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "media/common/socket_address.h"
#include "media/dtls/dtls_transport.h"
#include "media/sdp/session_description.h"
#include "media/sfu/relay.h"
#include "media/sfu/room.h"
#include "media/transport/webrtc_transport.h"

namespace media {

class FanoutPool;
class SrtpSession;

struct SfuConfig {
  std::string public_ip = "127.0.0.1";           // EDGECLASS_PUBLIC_IP: announced ICE candidate
  std::vector<std::string> extra_candidate_ips;  // announced after public_ip (host addresses)
  uint16_t port = 7882;                          // EDGECLASS_MEDIA_PORT
  // Threads that protect and send a big fan-out together (FanoutPool), the media thread
  // included; 1 sends everything from the media thread. EDGECLASS_MEDIA_THREADS.
  int fanout_threads = 1;
  uint64_t video_bitrate_cap_bps = 2'500'000;  // from VIDEO_QUALITY
  // A transport without a valid ICE check this long after its answer fails (counted as an
  // ICE timeout). EDGECLASS_MEDIA_ICE_TIMEOUT.
  int64_t ice_timeout_ms = WebRtcTransport::kIceTimeoutMs;
  // The feeds of a subscription's n-th audio / video sections. A page offering 2 audio and 3
  // video sections gets both pairs and the screen's video; one offering 2 + 2 no screen.
  std::vector<std::string> subscribe_feeds = {"main", "stage", "screen"};
  // Where another replica's SFU sends a relay leg's media (sfu/relay.h): this address and
  // `port`. Empty: public_ip. EDGECLASS_RELAY_IP (e.g. the pod's address in a cluster).
  std::string relay_ip;

  // Reads EDGECLASS_MEDIA_PORT, EDGECLASS_PUBLIC_IP and VIDEO_QUALITY over the defaults;
  // fails on a malformed value.
  static base::Result<SfuConfig> from_env();
};

class Sfu final : public WebRtcTransport::Listener, public Room::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnSfuTrackAdded(const std::string& room_id, const std::string& feed,
                                 const std::string& participant_id, MediaKind kind) = 0;
    virtual void OnSfuTrackRemoved(const std::string& room_id, const std::string& feed,
                                   const std::string& participant_id, MediaKind kind) = 0;
    // A transport of the participant died (`publishing`: one it published with, `feed` the
    // feed that one filled, "main", "stage" or "screen"; otherwise its subscription and `feed`
    // is empty); its streams are gone. `reason` is for logs. Not called when the browser
    // closed the PeerConnection itself (DTLS close_notify).
    virtual void OnSfuParticipantDisconnected(const std::string& room_id,
                                              const std::string& participant_id, bool publishing,
                                              const std::string& feed, std::string_view reason) = 0;
    // The transport failed (ICE or DTLS); called just before OnSfuParticipantDisconnected.
    virtual void OnSfuTransportFailed(const std::string& room_id, const std::string& participant_id,
                                      bool publishing, const std::string& feed,
                                      WebRtcTransport::Failure failure, std::string_view reason) {}
  };
  struct Datagram {
    ByteSpan data;
    SocketAddress to;
  };
  // Where datagrams go: the UDP server in production, a router in tests.
  class PacketSender {
   public:
    virtual ~PacketSender() = default;
    // From the media thread.
    virtual void send_udp(ByteSpan data, const SocketAddress& to) = 0;
    // Several datagrams at once, from the fan-out threads: must be safe to call from
    // several threads at the same time (with fanout_threads > 1). The default loops over
    // send_udp() and is only as thread-safe as that.
    virtual void send_udp_batch(std::span<const Datagram> batch) {
      for (const Datagram& d : batch) send_udp(d.data, d.to);
    }
  };

  // All pointers must outlive the Sfu.
  Sfu(SfuConfig config, Listener* listener, PacketSender* sender, const base::Clock* clock,
      base::Random* random, std::shared_ptr<const DtlsCertificate> certificate);
  ~Sfu() override;

  base::Result<std::string> publish(const std::string& room_id, const std::string& participant_id,
                                    const std::string& feed, std::string_view offer_sdp);
  base::Result<std::string> subscribe(const std::string& room_id, const std::string& participant_id,
                                      std::string_view offer_sdp);
  // Drops the participant's publishing PeerConnection of `feed`, or all of them (empty).
  void unpublish(const std::string& room_id, const std::string& participant_id,
                 const std::string& feed = {});
  void leave(const std::string& room_id, const std::string& participant_id);

  // ---- a class relayed between replicas (sfu/relay.h) ----
  // The edge: the requester carries the offer to `home`'s Sfu (relay_serve), naming this
  // replica in its `edge` (the Sfu does not know replica ids), and hands the answer back with
  // relay_answered(room, offer_id, ...) on this thread, never from inside the call.
  using RelayRequester =
      std::function<void(const std::string& home, uint64_t offer_id, const RelayOffer& offer)>;
  void set_relay_requester(RelayRequester requester) { relay_requester_ = std::move(requester); }
  // The edge: subscribe() for a room whose media comes from replica `home`'s SFU. While the
  // room has a subscriber here, one relay leg brings it every stream of every feed (asked for
  // now, or re-asked with backoff when it fails or falls silent); it is closed when the last
  // subscriber leaves.
  base::Result<std::string> subscribe_relayed(const std::string& room_id,
                                              const std::string& participant_id,
                                              const std::string& home, std::string_view offer_sdp);
  // The edge: the home's answer to offer `offer_id` of `room_id` (stale ones are ignored).
  void relay_answered(const std::string& room_id, uint64_t offer_id,
                      base::Result<RelayAnswer> answer);
  // The home: opens (or replaces) the leg the offer asks for; fails on a malformed offer or
  // an SSRC already in use.
  base::Result<RelayAnswer> relay_serve(const RelayOffer& offer);
  struct RelayCounters {
    uint64_t legs_out = 0;     // legs this SFU sends (it is their home)
    uint64_t legs_in = 0;      // legs this SFU receives, answered (it is their edge)
    uint64_t packets_out = 0;  // RTP packets sent on legs (before SRTP)
    uint64_t bytes_out = 0;
    uint64_t packets_in = 0;  // RTP packets received on legs (after SRTP)
    uint64_t bytes_in = 0;
    uint64_t legs_opened = 0;    // legs set up since the start, both directions
    uint64_t srtp_failures = 0;  // leg datagrams that failed authentication
  };
  RelayCounters relay_counters() const;

  // A datagram from the UDP socket. Routed by ICE ufrag (STUN) or by source address.
  void on_udp_packet(std::span<uint8_t> data, const SocketAddress& from, int64_t arrival_ns);
  // Periodic work for every transport and room; call every 100 ms or so.
  void on_timer();

  // Visits every room: id, counters, subscriber count (for a metrics scrape, posted to the
  // Sfu's thread).
  void for_each_room(
      const std::function<void(const std::string& room_id, const MediaCounters& counters,
                               size_t subscribers)>& visit) const;
  // Packets that failed SRTP authentication or replay checks, over all live transports.
  uint64_t srtp_failures() const;
  size_t room_count() const { return rooms_.size(); }

  // Counters of a room (nullptr when it does not exist) and its subscriber count.
  const MediaCounters* room_counters(const std::string& room_id) const;
  size_t subscriber_count(const std::string& room_id) const;
  size_t transport_count() const { return transports_.size(); }
  uint64_t unroutable_packets() const { return unroutable_; }
  // Transports that failed since the start, by kind (WebRtcTransport::Failure).
  uint64_t ice_timeouts() const { return ice_timeouts_; }
  uint64_t consent_expirations() const { return consent_expirations_; }
  uint64_t dtls_failures() const { return dtls_failures_; }

 private:
  struct Endpoint;
  struct RoomState;
  struct RelayLeg;

  // `feed`: the one a publisher fills (one publishing transport per participant and feed).
  base::Result<Endpoint*> new_endpoint(const std::string& room_id,
                                       const std::string& participant_id, bool publisher,
                                       const std::string& feed, std::string_view offer_sdp,
                                       sdp::SessionDescription* offer);
  void destroy_endpoint(std::string transport_id);
  // The SDP answer options every endpoint shares: its ICE credentials, our certificate's
  // fingerprint, the one UDP candidate and a fresh session id.
  sdp::AnswerOptions answer_options(const Endpoint& ep);  // by value: callers pass ids it clears
  // The answer to `offer` under `o`; gives `ep`'s transport the browser's ICE ufrag and DTLS
  // fingerprint from it. When the offer cannot be answered it destroys the endpoint (`ep`
  // dangles then) and returns why.
  base::Result<sdp::Answer> answer_endpoint(Endpoint& ep, const sdp::SessionDescription& offer,
                                            const sdp::AnswerOptions& o);
  Endpoint* endpoint_of(const WebRtcTransport* t);
  // Relaying (sfu/relay.h).
  bool route_relay(std::span<uint8_t> data, const SocketAddress& from, int64_t arrival_ns);
  void relay_timer(int64_t now_ns);
  // The edge: asks for a leg for `room_id` (RoomState::relay_home).
  void open_relay(const std::string& room_id, RoomState& rs, int64_t now_ns);
  // Drops the leg (its consumers on the home, its producers on the edge); `bye` tells the
  // other side at once. `leg_id` by value: callers pass ids that it clears.
  void close_relay(std::string leg_id, std::string_view reason, bool bye);
  void send_relay_rtcp(RelayLeg& leg, std::span<uint8_t> buffer, size_t len);
  // The home: an RR (the keep-alive) and who publishes each feed, on `leg` / on every leg of
  // the room.
  void send_relay_owners(RelayLeg& leg);
  void send_relay_owners(const std::string& room_id);
  SocketAddress relay_address() const;

  // WebRtcTransport::Listener
  void OnTransportSendPacket(const WebRtcTransport*, ByteSpan data,
                             const SocketAddress& to) override;
  void OnTransportTupleAdded(const WebRtcTransport*, const SocketAddress& remote) override;
  void OnTransportTupleRemoved(const WebRtcTransport*, const SocketAddress& remote) override;
  void OnTransportConnected(const WebRtcTransport*) override;
  void OnTransportClosed(const WebRtcTransport*, std::string_view reason) override;
  void OnTransportRtp(const WebRtcTransport*, std::span<uint8_t> packet,
                      int64_t arrival_ns) override;
  void OnTransportRtcp(const WebRtcTransport*, ByteSpan packet) override;
  // Room::Listener: the room addresses endpoints by transport id.
  bool OnRoomSendRtp(const std::string& endpoint, std::span<uint8_t> buffer, size_t len) override;
  void OnRoomSendRtcp(const std::string& endpoint, std::span<uint8_t> buffer, size_t len) override;

  SfuConfig config_;
  Listener* listener_;        // not owned
  PacketSender* sender_;      // not owned
  const base::Clock* clock_;  // not owned
  base::Random* random_;      // not owned
  std::shared_ptr<const DtlsCertificate> certificate_;
  std::map<std::string, std::unique_ptr<RoomState>> rooms_;
  // By transport id; looked up for every subscriber packet (hence hashed).
  std::unordered_map<std::string, std::unique_ptr<Endpoint>> transports_;
  std::unordered_map<std::string, WebRtcTransport*> by_ufrag_;
  std::unordered_map<SocketAddress, WebRtcTransport*, SocketAddressHash> by_address_;
  std::vector<std::string> doomed_;  // transports closed during a callback, freed in on_timer
  // With fanout_threads > 1: subscriber RTP emitted while handling a datagram is queued in
  // the pool (for room `collect_room_`, arrived at `collect_arrival_ns_`) and sent after it.
  std::unique_ptr<FanoutPool> pool_;
  Room* collect_room_ = nullptr;
  int64_t collect_arrival_ns_ = 0;
  uint64_t next_id_ = 1;
  uint64_t unroutable_ = 0;
  uint64_t ice_timeouts_ = 0;
  uint64_t consent_expirations_ = 0;
  uint64_t dtls_failures_ = 0;
  RelayRequester relay_requester_;
  std::unordered_map<std::string, std::unique_ptr<RelayLeg>> legs_;  // by leg id ("r<n>")
  std::unordered_map<uint32_t, RelayLeg*> relay_by_ssrc_;            // the SSRCs sent to us
  RelayCounters relay_;  // legs_out / legs_in are counted by relay_counters()
};

}  // namespace media
