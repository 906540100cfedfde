// ws::LiveHub — the live classroom's entry point: takes WebSocket upgrades of
// GET /api/v1/sessions/{id}/live from the HTTP server, asks the classroom who may join
// (classroom::admit_live; it only verifies the token and counts sockets itself), answers a
// refusal with the close code or HTTP status of its kind, and keeps the registry of rooms (session
// id -> RoomHost). Each room is owned by one I/O thread, chosen by hashing the session id. In
// a small room a connection accepted on another thread is moved to the room's thread (its
// socket re-registered with that io_context), so a room and all its connections run on one
// thread without locks. A large room (course capacity above `spread_above_capacity`) is
// spread: its connections stay on the threads that accepted them and the room reaches them
// through a RoomShard per thread (ws/room_shard.h), so one event's writes run on every I/O
// thread at once. In a city, an edge room (EdgeRoom: a class homed on another replica) is
// spread the same way whenever this replica spreads rooms at all (edge_spread_over()).
//
// The hub is the classroom::LiveNotifier of the REST handlers: each committed change that
// affects a live room is posted onto that room's thread.
//
// Wiring (app/serve.cc):
//   ws::LiveHub live(deps);
//   server.set_upgrade_handler([&](auto& stream, auto& req, int t, auto slot) {
//     return live.handle_upgrade(stream, req, t, std::move(slot)); });
//   api_deps.live = &live;
//   ... on shutdown, before server.stop(): live.shutdown();
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "classroom/authz.h"
#include "classroom/live_notifier.h"
#include "classroom/service.h"
#include "store/db.h"
#include "store/writer.h"
#include "ws/city_link.h"
#include "ws/edge_room.h"
#include "ws/live_session.h"
#include "ws/live_traffic.h"
#include "ws/media_signalling.h"
#include "ws/room_host.h"
#include "ws/socket_quota.h"

namespace ws {

struct LiveDeps {
  classroom::Service* service = nullptr;
  store::Writer* writer = nullptr;
  std::vector<store::Db*> readers;  // one read-only connection per I/O thread
  // The I/O threads' contexts, by index (http::Server::context).
  std::function<boost::asio::io_context&(int)> context;
  int threads = 1;
  std::string jwt_secret;
  // The policy in force (same as the Service's); decides action "join_live".
  std::function<std::shared_ptr<const classroom::Authorizer>()> authorizer;
  base::Clock* clock = nullptr;    // nullptr: SystemClock
  base::Random* random = nullptr;  // nullptr: SystemRandom
  SessionLimits limits;
  size_t resume_max_events = 4096;
  // Live sockets one user may hold at once (tabs, devices); one more is answered HTTP 429
  // too_many_live_sockets before the upgrade. 0: no limit.
  size_t max_sockets_per_user = 5;
  // Rooms whose course capacity is above this are spread over the I/O threads (see above);
  // with one I/O thread nothing is spread. SIZE_MAX: no room is (no edge room either).
  size_t spread_above_capacity = 50;
  // The media plane (SFU); empty functions when video is unavailable (media_unavailable).
  MediaSignalling media;
};

// Live counters for /metrics, readable from any thread.
struct LiveCounters {
  int64_t rooms = 0;
  int64_t connections_accepted = 0;
  int64_t connections_refused = 0;
  int64_t too_many_sockets = 0;  // refused for the per-user limit (also in connections_refused)
  // Users present in the live rooms, by role (a user with two tabs counts once per room).
  int64_t students = 0;
  int64_t teachers = 0;
  // Accepted connections of spread rooms (homed here, or edge rooms) served on another thread
  // than their room's (also in connections_accepted).
  int64_t spread_connections = 0;
};

// Holds a connection's place in the HTTP server's connection limits (http::ConnectionSlot);
// kept with the socket for as long as it is open.
using ConnectionSlot = std::shared_ptr<void>;

class LiveHub : public classroom::LiveNotifier {
 public:
  explicit LiveHub(LiveDeps deps);
  // Must run after the I/O threads have stopped (Server::stop); see release_connections().
  ~LiveHub() override;
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // The http::UpgradeHandler. Returns false when the path is not a live endpoint. Otherwise
  // takes the stream: authenticates (Authorization header or ?token=), has the classroom decide
  // (classroom::admit_live on `thread_index`'s reader), then runs the connection on its room's
  // thread — or accepts and closes it with the refusal's close code (4001/4003/4004/4010). A user
  // already holding max_sockets_per_user live sockets is answered HTTP 429 too_many_live_sockets.
  // `slot` is kept as long as the socket is open.
  bool handle_upgrade(http::Transport& stream, HttpRequest& req, int thread_index,
                      ConnectionSlot slot = nullptr);

  // classroom::LiveNotifier: REST changes (any thread, after the commit), posted to the
  // rooms they affect. Rooms not open on this server are rebuilt from storage when opened.
  void course_changed(const store::Course& course) override;
  void student_removed(std::string_view course_id, std::string_view student_id,
                       std::string_view by) override;
  void session_ended(const store::Session& session) override;
  void quiz_changed(const store::Quiz& quiz) override;
  void answers_committed(const classroom::PreparedAnswers& prepared) override;
  // Media plane hook (any thread; the media thread in practice): posted to the event's room.
  void media_event(MediaEvent event);
  // The media plane when it is bound after the hub is made (app: once the listener serves,
  // before the policy gate lets a live upgrade through). Must come before the first room or
  // edge room opens, as rooms keep a pointer to it: false (and nothing set) once one has.
  // Any thread.
  bool set_media(MediaSignalling media);

  // Closes every live connection with 1001 (server going away), or in a city with 1012 (this
  // replica restarts: reconnect now, to another); in a city the edges' connections leave
  // their homes' rooms and this replica's rooms leave the city's presence at once (the city
  // link must stay up until the server has drained). Any thread.
  void shutdown();

  LiveCounters counters() const;
  // Messages in and out by type, error replies by code (any thread).
  const LiveTraffic& traffic() const { return traffic_; }

  // ---- the city (docs/design.md, "One live class across replicas") ----
  // Joins this replica to a city: upgrades for sessions homed elsewhere go through an
  // EdgeRoom, rooms homed here serve edges' connections too. Before the server accepts
  // connections; `city` outlives the hub's traffic.
  void set_city(CityLink* city) { city_ = city; }
  // One upstream message from an edge (the city's thread): posted to the session's thread.
  void from_edge(std::string_view payload);
  // Writes the presence of every room homed here to the city again (Redis lost it). Any
  // thread.
  void republish_presence();
  const CityLiveCounters& city_counters() const { return *city_counters_; }

 private:
  std::shared_ptr<RoomHost> find(const std::string& session_id);
  // The rooms of a course's sessions (at most one is live, but an ending one may linger).
  std::vector<std::shared_ptr<RoomHost>> rooms_of_course(std::string_view course_id);
  std::shared_ptr<RoomHost> find_or_create(const store::Session& session,
                                           const store::Course& course);
  int owner_thread(std::string_view session_id) const;
  // An upgrade between authentication and the room: its stream, request and holds.
  struct Upgrade {
    http::Transport stream;
    HttpRequest req;
    ConnectionSlot slot;
    std::shared_ptr<void> quota_hold;
    classroom::Actor actor;
    std::string session_id;
    std::optional<classroom::ResumePoint> resume;
    int thread_index = 0;  // the stream's thread
  };
  // The session is homed here (or unknown to the city): the door, then the room.
  void admit_here(Upgrade& u);
  // The session is homed on `home`: asked there through this replica's EdgeRoom.
  void join_through_edge(std::shared_ptr<Upgrade> p, std::string home);
  std::shared_ptr<EdgeRoom> find_or_create_edge(const std::string& session_id,
                                                const std::string& home);
  // The I/O threads' contexts an edge room is spread over: all of them when there are several
  // and spreading is on (spread_above_capacity < SIZE_MAX), whatever the course's capacity,
  // which the edge does not know before the home's welcome; else none.
  std::vector<boost::asio::io_context*> edge_spread_over() const;
  void refuse(http::Transport& stream, HttpRequest& req, const base::Status& why,
              ConnectionSlot slot);
  // Answers the upgrade request with an HTTP error (JSON body) instead of upgrading.
  void refuse_http(http::Transport& stream, HttpRequest& req, const base::Status& why,
                   ConnectionSlot slot);

  LiveDeps deps_;
  LiveTraffic traffic_;    // thread-safe itself; declared before rooms_ so that it outlives them
  mutable std::mutex mu_;  // guards rooms_ and counters_
  std::unordered_map<std::string, std::shared_ptr<RoomHost>> rooms_;
  std::unordered_map<std::string, std::shared_ptr<EdgeRoom>> edges_;  // guarded by mu_
  CityLink* city_ = nullptr;  // set before traffic (set_city)
  // Shared with the rooms, whose last owner may be a live socket destroyed after the hub
  // (an I/O context torn down with a session still in it).
  std::shared_ptr<CityLiveCounters> city_counters_ = std::make_shared<CityLiveCounters>();
  LiveCounters counters_;
  std::shared_ptr<SocketQuota> quota_;  // per-user live sockets; thread-safe itself
};

// The session id in "/api/v1/sessions/{id}/live" (query string allowed), or "" when `target`
// is not a live endpoint.
std::string live_session_id(std::string_view target);

}  // namespace ws
