// A class relayed between replicas' SFUs (docs/design.md, "A class relayed between
// replicas"): what an edge replica's Sfu and the home replica's Sfu agree on for one relay leg.
//
// One leg per (live session, edge replica): the home's SFU sends every stream of the session's
// feeds once to the edge's SFU (all simulcast layers: the edge picks each of its students'
// layers itself), and the edge's SFU fans them out to its own students. The edge sends its
// students' key frame requests and NACKs (already coalesced by its own Room), its receiver
// reports and a keep-alive up the same leg.
//
// The leg is SRTP (AEAD_AES_128_GCM) over UDP between the two replicas' media sockets, keyed
// by the edge: it draws both master keys and the SSRCs of every stream and sends them in a
// RelayOffer over the internal replica-to-replica HTTP (authenticated by the city credential,
// TLS when the replicas listen with it). Each side routes the other's datagrams by SSRC (the
// SSRCs the edge drew are unique among its legs, the home refuses an up SSRC it already
// routes), so any number of legs share the one media port.
//
// Plain structs: the wire encoding of the offer and answer (JSON) is the caller's. On the leg
// itself the home also says who publishes each feed (relay_owners_packet): the edge's Room
// then never sends a student its own stream back, as the home's does not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "media/common/bytes.h"
#include "media/common/socket_address.h"
#include "media/sfu/room.h"

namespace media {

// Streams per video feed on a leg: the publisher's simulcast layers (lowest first). A feed
// published without simulcast uses the first only; the others stay silent (never chosen).
inline constexpr int kRelayVideoLayers = 3;
// Fixed RTP parameters of a leg: the home writes every relayed packet with these.
inline constexpr uint8_t kRelayVp8PayloadType = 96;
inline constexpr uint8_t kRelayOpusPayloadType = 111;
inline constexpr uint8_t kRelayAudioLevelId = 1;
// A leg that heard nothing (not even a keep-alive, sent every second) this long is dead.
inline constexpr int64_t kRelaySilentNs = 6'000'000'000;

struct RelayStream {
  std::string feed;  // "main", "stage", "screen"
  MediaKind kind = MediaKind::kVideo;
  int layer = 0;      // 0 = lowest; always 0 for audio
  uint32_t ssrc = 0;  // as the home sends it
};

// Edge -> home: open (or replace) the leg of `room_id` for `edge`.
struct RelayOffer {
  std::string room_id;
  std::string edge;               // the edge replica's id: one leg per room and edge
  SocketAddress edge_address;     // the edge's media socket, where the home sends
  std::vector<uint8_t> down_key;  // master key || salt the home protects with (28 bytes)
  std::vector<uint8_t> up_key;    // master key || salt the edge protects with
  uint32_t up_ssrc = 0;           // the edge's RTCP sender SSRC on this leg
  std::vector<RelayStream> streams;
};

// Home -> edge.
struct RelayAnswer {
  SocketAddress home_address;  // the home's media socket, where the edge sends its RTCP
};

// Who publishes each feed now, as the home tells the edge on the leg: (feed, the publishing
// user's participant id), feeds nobody publishes left out.
using RelayOwners = std::vector<std::pair<std::string, std::string>>;
// An RTCP APP packet (RFC 3550 section 6.7, name "ECOW") from `ssrc` with `owners`: per feed,
// a length byte and the feed's name, a length byte and the owner; zero padding to a 32-bit
// boundary. Names longer than 255 bytes are cut (ids are far shorter). Appended to the home's
// keep-alive RR each second and sent at once when a feed's publisher changes.
std::vector<uint8_t> relay_owners_packet(uint32_t ssrc, const RelayOwners& owners);
// The owners in an RTCP compound packet, if it holds a well-formed "ECOW" APP packet; nullopt
// otherwise (no such packet, or malformed: the edge keeps what it knew).
std::optional<RelayOwners> parse_relay_owners(ByteSpan compound);

// How a datagram that matched no browser is routed on the media port: the SSRC it is looked up
// by (RTP: its SSRC; RTCP: the first packet's sender SSRC) and whether it is RTCP. nullopt: too
// short, or not RTP/RTCP version 2.
struct RelayRoute {
  uint32_t ssrc = 0;
  bool rtcp = false;
};
std::optional<RelayRoute> relay_route(ByteSpan datagram);

}  // namespace media
