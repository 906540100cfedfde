// ws::MediaSignalling — the narrow interface through which live rooms reach the media plane
// (the SFU in src/media), so that ws does not depend on media's internals. app/serve.cc fills
// it in when the media port could be bound; a LiveHub without it answers every media message
// with the error "media_unavailable".
//
// Threading: the functions are called on a room's thread and return at once; the work runs on
// the media thread, and `done` is called there (never inline) with the SDP answer or the
// error. The caller posts the result back to its own thread.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

namespace ws {

struct MediaSignalling {
  using Done = std::function<void(base::Result<std::string>)>;
  // Publishes `participant`'s offer into `feed` ("main" for the teacher, "stage" for a student
  // on stage, "screen" for a shared screen) of room `room`; one PeerConnection per feed.
  std::function<void(std::string room, std::string participant, std::string feed,
                     std::string offer_sdp, Done done)>
      publish;
  // Subscribes `participant` with a recvonly offer; the answer binds the feeds in order.
  std::function<void(std::string room, std::string participant, std::string offer_sdp, Done done)>
      subscribe;
  // On a replica that is not the session's home (an edge, ws::EdgeRoom): subscribes on this
  // replica's SFU, whose streams come relayed from replica `home`'s SFU (one relay leg per
  // session and edge, docs/design.md "A class relayed between replicas"). Empty: an edge's
  // subscriptions go to the home, like everything else.
  std::function<void(std::string room, std::string participant, std::string home,
                     std::string offer_sdp, Done done)>
      subscribe_relayed;
  // Stops the participant's published streams in `feed` (empty: in every feed) / drops all of
  // its transports.
  std::function<void(std::string room, std::string participant, std::string feed)> unpublish;
  std::function<void(std::string room, std::string participant)> leave;
  // The `media.config` message (JSON text) each connection gets after its welcome: how a
  // page publishes (the simulcast layers). Empty: none is sent.
  std::string config_message;
};

// What the media plane reports about a room (posted to the room's thread by LiveHub).
struct MediaEvent {
  // kFailed (ICE or DTLS) comes just before the kDisconnected of the same transport.
  enum class Type { kTrackAdded, kTrackRemoved, kDisconnected, kFailed };
  Type type = Type::kTrackAdded;
  std::string room;         // the live session id
  std::string feed;         // "main", "stage" or "screen"; kDisconnected/kFailed: the feed a
                            // publishing transport filled, empty for a subscription
  std::string participant;  // user id
  std::string kind;         // "audio" or "video" (track events)
  std::string connection;   // kDisconnected, kFailed: "publish" or "subscribe"
  std::string failure;      // kFailed: "ice_timeout", "consent_expired" or "dtls"
  std::string reason;       // kDisconnected, kFailed: for logs
};

}  // namespace ws
