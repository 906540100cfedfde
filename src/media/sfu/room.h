// Room: the forwarding core of one live session. Pure logic over decrypted RTP/RTCP, driven
// by calls and a base::Clock, so it is unit-tested without sockets or crypto.
//
// Media flows through feeds. A feed is a named slot ("main" for the teacher, "stage" for the
// student given the stage, or any name the caller picks) with at most one audio and one
// video producer. Consumers (one per subscriber per feed and kind) are attached to the feed,
// not to the producer: when the producer is replaced (the teacher reconnects, the stage
// passes to another student), every consumer keeps its SSRC and continues its sequence
// numbers and timestamps (RtpRewriter), and video resumes at the next key frame, which the
// room requests. No renegotiation is needed for either.
//
// Simulcast: a video producer may send several layers (RTP streams told apart by their RID,
// lowest first). Each video consumer receives one layer, chosen from its subscriber's own
// bandwidth estimate (REMB, less what it already gets) and reported loss (LayerSelector),
// and switches only at a key frame of the new layer, which it requests; the RtpRewriter makes
// the switch invisible (one SSRC, continuous sequence numbers and timestamps).
//
// RTCP handled here: PLI/FIR from subscribers, throttled per subscriber
// (KeyframeRequestBackoff) and passed to the layer that subscriber receives, then coalesced
// to one PLI per second per publisher layer (KeyframeThrottle); generic NACKs answered from
// the layer's PacketCache, as RTX when the subscriber negotiated it, and only while the
// subscriber's estimated budget allows (what it was sent in the last second plus the resent
// packet must stay within its estimate); REMB and receiver reports from subscribers (their
// estimate and loss); publishers' sender reports translated for each subscriber (for lip
// sync); receiver reports and a REMB bitrate cap sent to publishers every second.
//
// Who may publish is the caller's decision (policy); the room only enforces shape: one
// producer per feed and kind, unique SSRCs. Not thread-safe: a room belongs to one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "media/common/bytes.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtp/rtp_packet.h"
#include "media/sfu/keyframe_throttle.h"
#include "media/sfu/layer_selector.h"
#include "media/sfu/media_metrics.h"
#include "media/sfu/nack_generator.h"
#include "media/sfu/packet_cache.h"
#include "media/sfu/rate_meter.h"
#include "media/sfu/receive_stats.h"
#include "media/sfu/rtp_rewriter.h"
#include "media/sfu/vp8_rewriter.h"

namespace media {

enum class MediaKind { kAudio, kVideo };
const char* to_string(MediaKind kind);

// A publisher's stream as negotiated in its SDP.
struct ProducerParams {
  std::string participant_id;  // the publishing transport
  std::string owner;           // the user it belongs to (empty: unknown)
  MediaKind kind = MediaKind::kVideo;
  uint32_t ssrc = 0;  // the stream's SSRC; unused with `rids`
  uint8_t payload_type = 0;
  uint32_t clock_rate = 90000;
  std::string codec = "VP8";       // from a=rtpmap: "VP8", "H264", "opus"
  uint8_t ext_audio_level_id = 0;  // 0 when not negotiated
  // Simulcast (video): the layers' RIDs, lowest first (a=simulcast order), and the id of
  // the RID header extension, from which each layer's SSRC is learnt on its first packets.
  std::vector<std::string> rids;
  uint8_t ext_rid_id = 0;
  // Layers known by SSRC in advance, lowest first (video): a relay leg from another replica's
  // SFU, whose streams are numbered by the leg, not learnt from RIDs. Overrides ssrc and rids.
  std::vector<uint32_t> layer_ssrcs;
};

// A subscriber's receiving stream as negotiated in its SDP.
struct ConsumerParams {
  std::string participant_id;  // the subscribing transport
  // The user it belongs to: a consumer never gets its owner's own stream back (the teacher's
  // page, or the student on stage, shows its camera locally). Empty: unknown.
  std::string owner;
  uint32_t ssrc = 0;  // what the subscriber sees; unique in the room
  uint8_t payload_type = 0;
  std::string codec = "VP8";  // packets of a producer with another codec are not forwarded
  std::string mid;            // written in the mid extension when ext_mid_id != 0
  uint8_t ext_mid_id = 0;
  uint8_t ext_abs_send_time_id = 0;
  uint8_t ext_audio_level_id = 0;
  // RTX (RFC 4588), when negotiated: retransmissions go out on this SSRC and payload type,
  // with the original sequence number in front of the payload. 0: resend as the original.
  uint32_t rtx_ssrc = 0;
  uint8_t rtx_payload_type = 0;
  // Start paused (see set_paused): the subscriber's transport is not connected yet, so no
  // key frame is requested for it until it is.
  bool start_paused = false;
  // A relay leg to another replica's SFU (>= 0): forwards exactly this layer of the feed,
  // never switches (the other SFU picks each of its students' layers itself), and its key
  // frame requests skip the per-subscriber backoff (that SFU coalesces its students' already;
  // the per-layer KeyframeThrottle still applies). A layer the producer does not have is
  // never sent. -1: an ordinary subscriber.
  int fixed_layer = -1;
};

class Room {
 public:
  // Bytes after the packet in every buffer handed to the Listener, so the transport can
  // SRTP-protect in place (covers SrtpSession::kMaxOverhead).
  static constexpr size_t kSendHeadroom = 160;
  // The SSRC the room uses as RTCP sender toward publishers.
  static constexpr uint32_t kRtcpSsrc = 0x45444743;  // "EDGC"

  class Listener {
   public:
    virtual ~Listener() = default;
    // An RTP packet for subscriber `participant_id`: buffer[0, len) is the packet and
    // buffer.size() >= len + kSendHeadroom. Valid only during the call. Returns true when
    // the packet went to the socket layer now (the room records its forwarding latency);
    // false when the listener queued it and reports the latency later through
    // observe_forward_latency().
    virtual bool OnRoomSendRtp(const std::string& participant_id, std::span<uint8_t> buffer,
                               size_t len) = 0;
    // An RTCP compound packet for any participant, same buffer contract.
    virtual void OnRoomSendRtcp(const std::string& participant_id, std::span<uint8_t> buffer,
                                size_t len) = 0;
  };

  // `listener` and `clock` must outlive the room. `video_bitrate_cap_bps` goes to video
  // publishers in REMB (see video_bitrate_cap()).
  Room(Listener* listener, const base::Clock* clock, uint64_t video_bitrate_cap_bps);
  ~Room();

  // Installs (or replaces) the producer of `feed`/`params.kind`. Fails when the SSRC is
  // already used by another producer in the room.
  base::Status set_producer(std::string_view feed, const ProducerParams& params);
  // Removes the producer of `feed`/`kind`; its consumers stay and resume with the next one.
  void remove_producer(std::string_view feed, MediaKind kind);
  // Attaches a subscriber to `feed`/`kind`. Fails on a duplicate outgoing SSRC.
  base::Status add_consumer(std::string_view feed, MediaKind kind, const ConsumerParams& params);
  // Removes every producer and consumer of the participant.
  void remove_participant(const std::string& participant_id);
  // While paused, the participant's consumers get nothing (its transport is not connected
  // yet, or is reconnecting). Unpausing restarts them at the next key frame, which is
  // requested. Consumers start unpaused.
  void set_paused(const std::string& participant_id, bool paused);

  // A decrypted RTP packet from a publisher; `arrival_ns` is base::Clock monotonic time at
  // the socket (for the latency histogram). Unknown SSRCs are dropped.
  void on_rtp(const std::string& participant_id, std::span<uint8_t> packet, int64_t arrival_ns);
  // A decrypted RTCP compound packet from any participant.
  void on_rtcp(const std::string& participant_id, ByteSpan packet);
  // Periodic work: deferred key frame requests, receiver reports and REMB each second.
  // Call every 100 ms or so.
  void on_timer();

  size_t consumer_count() const;
  // Distinct participants with at least one consumer (relay legs, fixed_layer >= 0, are not
  // counted: they are other replicas' SFUs).
  size_t subscriber_count() const;
  bool has_producer(std::string_view feed, MediaKind kind) const;
  // The endpoint whose producer fills `feed`/`kind`, or nullptr.
  const std::string* producer_of(std::string_view feed, MediaKind kind) const;
  // The user whose stream the feed's producer of `kind` is (empty: none, or unknown).
  std::string owner_of(std::string_view feed, MediaKind kind) const;
  // Sets who the feed's producers (both kinds) belong to: a relay leg's producers, whose
  // publisher the home tells (sfu/relay.h). A consumer of that user gets nothing of them.
  void set_owner(std::string_view feed, const std::string& owner);
  // The simulcast layer (0 = lowest) the subscriber's consumer of `feed`'s video forwards now;
  // -1 when it forwards none yet or does not exist.
  int video_layer_of(const std::string& participant_id, std::string_view feed) const;
  const MediaCounters& counters() const { return counters_; }
  // A packet the listener queued (OnRoomSendRtp returned false) has been sent, `ns` after
  // its arrival.
  void observe_forward_latency(int64_t ns) { counters_.forward_latency.observe_ns(ns); }

 private:
  // One RTP stream of a producer: the only one without simulcast, else one layer.
  struct Layer {
    std::string rid;    // empty without simulcast
    uint32_t ssrc = 0;  // 0 until learnt from the RID extension
    PacketCache cache;
    KeyframeThrottle keyframes;
    ReceiveStats stats;
    NackGenerator nacks;          // upstream loss repair (video only)
    RateMeter rate;               // what the publisher sends on it now
    uint64_t last_bps = 0;        // its rate when last measured above 0
    int64_t last_packet_ns = -1;  // when its last packet came
    Layer(std::string r, uint32_t s, bool video, uint32_t clock_rate)
        : rid(std::move(r)), ssrc(s), cache(video ? 1024 : 1), stats(clock_rate) {}
  };
  struct Producer {
    ProducerParams params;
    std::vector<std::unique_ptr<Layer>> layers;  // lowest first; at least one
    int64_t first_packet_ns = -1;                // when its first packet came; -1: none yet
    explicit Producer(const ProducerParams& p);
  };
  // What the room knows of one subscribing transport, shared by its consumers.
  struct Subscriber {
    uint64_t remb_bps = 0;      // its last REMB
    int64_t remb_ns = 0;        // when it came
    int64_t remb_fell_ns = -1;  // when a REMB last came 5 % or more below the one before
    double loss = 0;  // fraction lost in its receiver reports (video, worst stream), smoothed
    bool loss_reported = false;
    RateMeter sent;    // every RTP byte sent to it, retransmissions included
    RateMeter resent;  // the retransmissions among them
    // Its estimated link (REMB), 0 when none came in the last 5 s.
    uint64_t estimate_bps(int64_t now_ns) const;
    // Its estimate fell in the last 2 s.
    bool estimate_falling(int64_t now_ns) const;
  };
  struct Consumer {
    ConsumerParams params;
    Subscriber* subscriber;  // not owned (subscribers_)
    RtpRewriter rewriter;
    Vp8Rewriter vp8;  // picture ids across layer switches (VP8 only)
    LayerSelector selector;
    KeyframeRequestBackoff keyframe_backoff;  // this subscriber's own PLI/FIR
    RateMeter rate;                           // what it was sent on this stream
    int layer = -1;                           // the layer forwarded now; -1: none yet
    int64_t layer_since_ns = -1;              // when `layer` began (its first key frame)
    uint16_t rtx_seq = 0;                     // next RTX sequence number
    uint64_t packets = 0;
    uint64_t octets = 0;
    bool paused = false;
    Consumer(const ConsumerParams& p, Subscriber* s, MediaKind kind, uint32_t clock_rate)
        : params(p), subscriber(s), rewriter(kind == MediaKind::kVideo, clock_rate) {}
  };
  struct Feed {
    MediaKind kind;
    std::unique_ptr<Producer> producer;
    std::vector<std::unique_ptr<Consumer>> consumers;
  };
  struct LayerRef {
    Feed* feed;
    size_t layer;
  };

  static std::string feed_key(std::string_view feed, MediaKind kind);
  // The layer of a producer of `participant_id` whose RID the packet carries, binding its
  // SSRC; nullopt when the packet names none.
  std::optional<LayerRef> bind_rid_layer(const std::string& participant_id, const RtpPacket& in);
  // Writes the consumer's version of `in` into scratch_ and sends it; `rtx` sends it as a
  // retransmission on the consumer's RTX stream.
  // `new_source`: the packet starts a new mapping (re-bases VP8 picture ids).
  void send_to_consumer(Consumer& c, const Producer& p, const RtpPacket& in, uint16_t seq,
                        uint32_t timestamp, int64_t arrival_ns, bool rtx = false,
                        bool new_source = false);
  // Asks the publisher for a key frame on one layer (coalesced per layer).
  void request_keyframe(Producer& p, size_t layer, int64_t now_ns);
  // The layer a consumer wants now (its selector's choice), 0 without simulcast.
  size_t wanted_layer(const Consumer& c, const Producer& p) const;
  // Runs every consumer's layer selection; requests the key frames switches need.
  void select_layers(int64_t now_ns);
  void send_rtcp(const std::string& participant_id, const std::vector<rtcp::Packet>& packets);
  void handle_nack(Consumer& c, Feed& f, const rtcp::Nack& nack, int64_t now_ns);
  void handle_sender_report(Feed& f, const rtcp::SenderReport& sr, int64_t now_ns);
  void handle_subscriber_feedback(const std::string& participant_id, const rtcp::Packet& p,
                                  int64_t now_ns);
  void send_reports(int64_t now_ns);
  void send_upstream_nacks(Producer& p, Layer& l, int64_t now_ns);
  void index_producer(Feed& f);
  void unindex_producer(const Producer& p);

  Listener* listener_;        // not owned
  const base::Clock* clock_;  // not owned
  uint64_t video_bitrate_cap_bps_;
  std::map<std::string, Feed> feeds_;  // by feed_key()
  // Indexes into feeds_ (entries of a std::map are stable): by a producer's SSRC, and by a
  // consumer's outgoing SSRC (the media SSRC of subscribers' feedback).
  std::unordered_map<uint32_t, LayerRef> by_producer_ssrc_;
  // By subscribing transport; entries are stable (consumers point to them).
  std::unordered_map<std::string, Subscriber> subscribers_;
  std::unordered_map<uint32_t, std::pair<Feed*, Consumer*>> by_consumer_ssrc_;
  std::vector<uint8_t> scratch_;     // output buffer, reused for every send
  std::vector<uint8_t> retransmit_;  // copy of a cached packet being resent
  int64_t last_report_ns_ = 0;
  int64_t last_select_ns_ = 0;
  MediaCounters counters_;
};

}  // namespace media
