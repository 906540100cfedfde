// ws::EdgeRoom — a live session on a replica that is not its course's home (docs/design.md,
// "One live class across replicas"). It holds this replica's sockets of the session and
// relays through ws::CityLink: their joins, messages and leaves go up to the home, whose
// room (a RoomHost there) decides everything exactly as for a socket of its own; the room's
// events come down once per replica on the session's channel and are fanned out here by
// their audience.
//
// A join is asked of the home before the WebSocket upgrade (request_join), so a refusal is
// the home's own: the same HTTP status for a program, the same close code for a browser.
// Resume works the same way: the home's room replays from its buffer.
//
// When the city fails the edge's sockets are closed with 1001 (the client reconnects and
// resumes, on any replica): Redis unreachable, events lost on the channel (a gap), or the
// home silent for kHomeSilent. Each is logged (`live.edge_cut`) and counted.
//
// Its sockets are served as a home room's are (ws/room_shard.h): on `executor()`, the I/O
// thread the session id hashes to, or, spread (the replica has several I/O threads), each on
// the thread that accepted it, reached through that thread's RoomShard. So an event that comes
// down is framed once and posted once to each other thread with members, and each thread
// writes its own sockets; the welcome (with what came since), replies and closes of one
// connection travel the same ordered path.
//
// Owned by LiveHub (and shared with its sessions and pending callbacks). Everything runs on
// `executor()`, except what a spread room's shards do on their threads.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "classroom/authz.h"
#include "classroom/room.h"
#include "ws/city_link.h"
#include "ws/live_room.h"
#include "ws/live_session.h"
#include "ws/live_traffic.h"
#include "ws/media_signalling.h"
#include "ws/room_shard.h"

namespace ws {

// The city's live counters, readable from any thread (LiveHub::city_counters).
struct CityLiveCounters {
  std::atomic<int64_t> edge_rooms{0};          // sessions relayed here for another home
  std::atomic<int64_t> edge_connections{0};    // sockets held here for another home
  std::atomic<int64_t> remote_connections{0};  // sockets held by edges, in rooms homed here
  std::atomic<uint64_t> edge_cut{0};           // edge sockets closed because the city failed
  std::atomic<uint64_t> edge_lost{0};          // edges a home stopped hearing from
  std::atomic<uint64_t> join_timeouts{0};      // joins the home did not answer in time
};

class EdgeRoom : public LiveRoom, public std::enable_shared_from_this<EdgeRoom> {
 public:
  static constexpr std::chrono::seconds kBeat{2};         // "alive" to the home
  static constexpr std::chrono::seconds kJoinTimeout{5};  // the home's welcome or refusal
  static constexpr int kHomeSilent = 3;                   // beats nobody received: cut

  // `on_idle` runs on this thread when the last connection is gone; the hub forgets it.
  // `spread_over`: every I/O thread's context by index, to spread the room over them (as
  // RoomDeps::spread_over); empty: every socket must be moved to this thread.
  EdgeRoom(boost::asio::io_context& ioc, int thread_index, std::string session_id, std::string home,
           CityLink& link, std::shared_ptr<CityLiveCounters> counters, LiveTraffic& traffic,
           std::function<void()> on_idle, const MediaSignalling* media = nullptr,
           const std::vector<boost::asio::io_context*>& spread_over = {});
  ~EdgeRoom() override;

  boost::asio::any_io_executor executor() override { return ioc_.get_executor(); }
  int thread_index() const { return thread_index_; }
  const std::string& home() const { return home_; }
  // Any thread: the shard for `thread_index`'s sockets; null for this thread's or when the
  // room is not spread (see RoomConnections::shard).
  std::shared_ptr<RoomShard> shard(int thread_index) const {
    return connections_.shard(thread_index);
  }

  // Asks the home to admit `actor` (its door and room decide). `done` runs on this thread
  // with the connection's id once the home welcomed it (then bind() its socket), or with
  // the home's refusal; Unavailable "city_unavailable" / "course_home_unavailable" when
  // the home cannot be asked or does not answer within kJoinTimeout.
  void request_join(const classroom::Actor& actor,
                    const std::optional<classroom::ResumePoint>& resume,
                    std::function<void(base::Result<std::string>)> done);
  // `s` is the socket of the welcomed connection `conn`: its join() gets the welcome and
  // what the home sent it since. Before the session's join() (a session on a shard posts
  // both from its thread, in this order).
  void bind(const std::string& conn, const std::shared_ptr<LiveSession>& s);

  // LiveRoom
  base::Result<classroom::JoinReply> join(
      const std::shared_ptr<LiveSession>& s,
      const std::optional<classroom::ResumePoint>& resume) override;
  void leave(LiveSession& s) override;
  bool is_member(const LiveSession& s) const override { return connections_.contains(s); }
  void on_message(LiveSession& s, std::string_view text) override;
  FlushList& flush_list() override { return connections_.flush_list(); }
  LiveTraffic& traffic() override { return traffic_; }

  // This replica's SFU reported on the room: a subscription here died (its transport failed)
  // and the user's sockets here get media.disconnected, as from the home, so their pages
  // subscribe again at once. Other events are the home's business.
  void media_event(const MediaEvent& event);

  // Server shutdown: the home is told that every connection here leaves (at once, not when
  // it misses the beats), every socket closes with `code`, joins waiting for the home are
  // refused (going_away) and later ones too.
  void close_all(uint16_t code, std::string_view reason);
  // See RoomHost::release_connections.
  void release_connections();

 private:
  struct Conn {
    enum class State { kWaiting, kWelcomed, kOpen };
    State state = State::kWaiting;
    classroom::Participant who;
    std::string up_join;                                  // kWaiting, until the channel is ready
    std::function<void(base::Result<std::string>)> done;  // kWaiting
    std::chrono::steady_clock::time_point since;          // asked, or welcomed
    std::string welcome;                                  // kWelcomed
    std::vector<classroom::RoomEvent> held;               // kWelcomed: sent to it since the welcome
    std::weak_ptr<LiveSession> bound;                     // kWelcomed, once its socket exists
    std::optional<std::pair<uint16_t, std::string>> close_after;  // closed before it opened
    std::shared_ptr<LiveSession> session;                         // kOpen
  };

  // `text` (one message, counted) to the open connection `s`, wherever it runs.
  void reply(LiveSession& s, std::string_view text);
  void subscribe();
  void on_payload(std::string_view payload);
  void on_ready(bool ok);
  void send_up(std::string payload, std::function<void(bool)> done = nullptr);
  void fail(const std::string& conn, const base::Status& why);
  // Closes every socket with 1001 and fails every join: the city failed (`why` logged).
  void cut(std::string_view why, const base::Status& status);
  void ensure_ticking();
  boost::asio::awaitable<void> tick_loop();
  void tick();
  void forget(const std::string& conn);
  void maybe_idle();
  // A subscription asked on this replica's own SFU, its media relayed from the home's
  // (MediaSignalling::subscribe_relayed): true when `text` was one and is handled.
  bool subscribe_here(LiveSession& s, std::string_view text);
  // The user has no connection here any more: its subscription on this replica's SFU goes.
  void leave_media_if_last(const std::string& user_id);

  boost::asio::io_context& ioc_;
  int thread_index_;
  const std::string session_id_;
  const std::string home_;
  CityLink& link_;
  std::shared_ptr<CityLiveCounters> counters_;  // co-owned: touched when destroyed
  LiveTraffic& traffic_;                        // the hub's: what this replica's sockets carry
  std::function<void()> on_idle_;
  const MediaSignalling* media_;  // null, or without subscribe_relayed: media goes to the home

  // All below: this thread only.
  std::unique_ptr<CityLink::Subscription> sub_;
  uint64_t sub_epoch_ = 0;  // CityLink::link_epoch() when sub_ was made
  bool ready_ = false;      // the channel's subscription is in place: joins may go up
  std::unordered_map<std::string, Conn> conns_;  // by connection id
  std::unordered_map<LiveSession*, std::string> conn_of_;
  // The kOpen sockets, on this thread or (spread) on their shards'.
  RoomConnections connections_;
  size_t welcomed_ = 0;  // conns in kWelcomed
  bool ticking_ = false;
  bool idle_ = false;     // on_idle_ ran: the hub has forgotten this room
  bool closing_ = false;  // close_all ran: the replica stops
  int silent_beats_ = 0;
  std::chrono::steady_clock::time_point last_beat_;
};

}  // namespace ws
