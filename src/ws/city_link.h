// ws::CityLink — what the live rooms need from a city of replicas to run one class across
// them (docs/design.md, "One live class across replicas"). ws does not know Redis: app
// implements this with city::City (app/city_live.h). There is none on a single node.
//
// The course's home replica runs the room (classroom::Room in a ws::RoomHost). Another
// replica ("edge") holding students' sockets keeps a ws::EdgeRoom per session that relays:
// - up: each client message, join, leave and a liveness beat, to the home's upstream
//   (send_to_home), handed to the home's ws::LiveHub::from_edge;
// - down: the home publishes each room event once to the session's ordered channel
//   (publish), with its audience; every edge subscribed gets it once and fans it out to its
//   own sockets. Replies to one connection (welcome, errors, closes) travel the same channel,
//   so they keep their order with the events.
//
// Threading: any thread. Callbacks are posted to the executor given.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ws {

class CityLink {
 public:
  virtual ~CityLink() = default;

  // This replica's id (EDGECLASS_REPLICA_ID).
  virtual const std::string& replica_id() const = 0;
  // The connections to the city's Redis are up.
  virtual bool connected() const = 0;
  // Changes each time the connections come back after one was lost: whatever was relayed
  // over the earlier ones (subscriptions, an edge's leaves) may have been lost with them,
  // however short the outage.
  virtual uint64_t link_epoch() const = 0;
  // This replica is the home of `session_id` (its own store says so; no Redis).
  virtual bool is_home(std::string_view session_id) const = 0;

  // ---- the home's side ----
  // Appends `payload` to the session's channel. Calls made from one thread keep their order
  // on the channel; when Redis is unreachable the payload is dropped (the edges notice: their
  // sockets are closed, see EdgeRoom).
  virtual void publish(const std::string& session_id, std::string payload) = 0;
  // Presence in the city: `user_id` is in the session's room (`entry`, a JSON object), or no
  // longer (`entry` empty). Best effort; the home's room stays the authority.
  virtual void presence(const std::string& session_id, const std::string& user_id,
                        std::string entry) = 0;
  // Replaces the session's whole presence with `entries` (user id, entry): after Redis lost
  // it (came back empty), or empty when this home's room goes away with the replica.
  virtual void presence_reset(const std::string& session_id,
                              std::vector<std::pair<std::string, std::string>> entries) = 0;

  // ---- an edge's side ----
  // The replica id of the home of `session_id`, posted to `ex`. NotFound when no replica
  // claims it; Unavailable "city_unavailable" (Redis) or "course_home_unavailable" (the
  // home is not alive).
  virtual void find_home(std::string session_id, boost::asio::any_io_executor ex,
                         std::function<void(base::Result<std::string>)> done) = 0;
  // Sends `payload` to `home`'s upstream. `done(false)` (posted to `ex`) when nobody received
  // it: Redis is unreachable or the home is not listening.
  virtual void send_to_home(const std::string& home, std::string payload,
                            boost::asio::any_io_executor ex, std::function<void(bool)> done) = 0;

  // A subscription to a session's channel; destroying it ends it.
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };
  // Every payload published on the session's channel after this call, in order, each
  // posted to `ex`. `on_ready(ok)` once it is in place (joins may be sent from then on);
  // `on_gap` when payloads may have been lost (more than the channel keeps came while the
  // subscription was away, or Redis lost them).
  virtual std::unique_ptr<Subscription> subscribe(const std::string& session_id,
                                                  boost::asio::any_io_executor ex,
                                                  std::function<void(std::string_view)> on_payload,
                                                  std::function<void(bool)> on_ready,
                                                  std::function<void()> on_gap) = 0;
};

}  // namespace ws
