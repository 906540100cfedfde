// ws::RoomShard — a spread room's connections on one I/O thread other than the room's own;
// ws::RoomConnections — all of a room's connections on this replica, wherever they run.
//
// A room runs on one I/O thread: a RoomHost (classroom::Room, on the course's home or a
// single node) or an EdgeRoom (the same class relayed on another replica of a city; its
// events come down once per replica). A large room's connections are not moved there: each
// stays on the thread that accepted it, and the room reaches the connections of every other
// thread through that thread's RoomShard. The room posts each event to every shard that has
// members, once (the frame by reference, and its audience); the shard's thread queues it on
// its own sockets and writes them with its own flush list. So one event's writes run on every
// I/O thread at once, each thread writing only its own sockets, with no lock and no post per
// delivery.
//
// Order: everything the room has for a shard's connections (a joined connection's welcome and
// replay, events, replies to one connection, closes) travels as Ops posted from the room's
// thread to the shard's io_context, which runs posts from one thread in the order they were
// made. A connection therefore receives its welcome first, then the events after its join in
// room order, as on the room's own thread. What a connection on a shard sends its room (its
// join, messages, leave) is posted to the room's thread by the session (LiveSession), in the
// order it read them.
//
// Ownership: the room's RoomConnections creates one shard per other I/O thread and keeps it
// for the room's life; the shard's state (conns_, the flush list) is touched on its thread
// only. Sessions hold their shard; the shard holds its joined sessions until they end
// (release() breaks the cycle once the I/O threads have stopped).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "classroom/room.h"
#include "classroom/room_types.h"
#include "ws/frame.h"

namespace ws {

class LiveSession;
class FlushList;
class LiveTraffic;

class RoomShard : public std::enable_shared_from_this<RoomShard> {
 public:
  // What the room sends a shard (one post each, in room order).
  struct Op {
    enum class Kind : uint8_t {
      kBroadcast,  // `frame` to every connection of the shard in `audience`, counted (by
                   // `out_type`) once per receiver
      kSend,       // `frame` to `session`
      kJoined,     // `session` entered the room: add it, queue `frames` (welcome, replay)
      kClose,      // close `session` with `code` and `reason`
      kCloseAll,   // close every connection of the shard with `code` and `reason`
    };
    Kind kind = Kind::kBroadcast;
    Frame frame;
    classroom::Audience audience;
    size_t out_type = 0;  // kBroadcast: the frame's LiveTraffic::kOutTypes index
    std::shared_ptr<LiveSession> session;
    std::vector<Frame> frames;
    uint16_t code = 0;
    std::string reason;
  };

  // `traffic` (the room's, not null) counts what the shard's broadcasts deliver; everything
  // else the room sends a shard is counted by the room when it posts it.
  RoomShard(boost::asio::io_context& ioc, int thread_index, LiveTraffic* traffic);

  int thread_index() const { return thread_index_; }
  boost::asio::io_context& context() { return ioc_; }

  // Room thread: posts `op` to the shard's thread (applied there in posting order).
  void post(Op op);
  // Room thread: the room's answer to the join of `s` (a connection on this shard): its
  // welcome and replay (counted in `traffic`), or the refusal's close.
  void answer_join(const std::shared_ptr<LiveSession>& s,
                   const base::Result<classroom::JoinReply>& reply, LiveTraffic& traffic);

  // ---- the shard's thread only ----
  FlushList& flush_list() { return *flush_; }
  // `s` ended (its read loop finished): it is no longer a member. Unknown sessions are ignored.
  void remove(LiveSession& s);
  size_t connections() const { return conns_.size(); }
  // Lets go of every connection and the pending flush, once the I/O threads have stopped.
  void release();

 private:
  void apply(Op& op);

  boost::asio::io_context& ioc_;
  const int thread_index_;
  LiveTraffic* const traffic_;
  // Joined connections on this thread (its thread only). Each session knows its index.
  std::vector<std::shared_ptr<LiveSession>> conns_;
  std::shared_ptr<FlushList> flush_;
};

// A room's joined connections on this replica: those on the room's own thread, written
// directly, and (a spread room's) those on other I/O threads, reached through their shards.
// Used by RoomHost and EdgeRoom alike; everything but shard() runs on the room's thread.
class RoomConnections {
 public:
  // `ioc` is the room's thread's context (index `thread_index`). `spread_over` lists every
  // I/O thread's context by index; with more than one the room is spread (a shard for each
  // other thread), else every connection must run on the room's thread. `traffic` (not
  // null) counts what broadcasts deliver.
  RoomConnections(boost::asio::io_context& ioc, int thread_index,
                  const std::vector<boost::asio::io_context*>& spread_over, LiveTraffic* traffic);

  // Any thread (the shards are made at construction and never change).
  bool spread() const { return !shards_.empty(); }
  // Any thread: the shard for `thread_index`'s connections; null for the room's own thread or
  // when the room is not spread.
  std::shared_ptr<RoomShard> shard(int thread_index) const {
    return size_t(thread_index) < shards_.size() ? shards_[size_t(thread_index)] : nullptr;
  }
  // The room's thread's connections with frames to write at the end of the current burst.
  FlushList& flush_list() { return *flush_; }

  // `s` joined (on the room's thread, or on its shard's). Not already a member.
  void add(const std::shared_ptr<LiveSession>& s);
  // `s` left: false when it was not a member.
  bool remove(LiveSession& s);
  bool contains(const LiveSession& s) const;
  size_t size() const { return local_.size() + spread_.size(); }
  // Every member, wherever it runs (for picking receivers: send through deliver()).
  template <typename Fn>
  void for_each(Fn fn) const {
    for (const auto& s : local_) fn(*s);
    for (const auto& s : spread_) fn(*s);
  }

  // `frame` to every member in `audience`: posted once to each shard with members (first, so
  // their writes run while this thread writes its own), then queued on this thread's. Each
  // receiver is counted once (by `out_type`, LiveTraffic), here or by its shard.
  void broadcast(const Frame& frame, const classroom::Audience& audience, size_t out_type);
  // `frame` to `s` (not counted), `s` closed with `code`: directly or through its shard, after
  // everything the room sent it before.
  void deliver(LiveSession& s, Frame frame);
  void close(LiveSession& s, uint16_t code, std::string reason);
  void close_all(uint16_t code, std::string_view reason);
  // Lets go of every connection (here and on the shards), once the I/O threads have stopped.
  void release();

 private:
  LiveTraffic* const traffic_;
  // Members, each knowing its index (LiveSession::host_index) for O(1) removal in its list:
  // local_ on this thread, spread_ on the others (room thread only).
  std::vector<std::shared_ptr<LiveSession>> local_;
  std::vector<std::shared_ptr<LiveSession>> spread_;
  // The shards by thread index (null at the room's; empty: not spread; the vector is not
  // changed after construction) and how many members each has (room thread only): events go
  // only to shards with members.
  std::vector<std::shared_ptr<RoomShard>> shards_;
  std::vector<size_t> shard_members_;
  std::shared_ptr<FlushList> flush_;
};

}  // namespace ws
