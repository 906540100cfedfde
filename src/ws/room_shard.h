// ws::RoomShard — a spread room's connections on one I/O thread other than the room's own.
//
// A room (classroom::Room in a RoomHost) runs on one I/O thread. A large room's connections
// are not moved there: each stays on the thread that accepted it, and the room reaches the
// connections of every other thread through that thread's RoomShard. The room posts each
// event to every shard that has members, once (the frame by reference, and its audience); the
// shard's thread queues it on its own sockets and writes them with its own flush list. So one
// event's writes run on every I/O thread at once, each thread writing only its own sockets,
// with no lock and no post per delivery.
//
// Order: everything the room has for a shard's connections (a joined connection's welcome and
// replay, events, replies to one connection, closes) travels as Ops posted from the room's
// thread to the shard's io_context, which runs posts from one thread in the order they were
// made. A connection therefore receives its welcome first, then the events after its join in
// room order, as on the room's own thread.
//
// Ownership: the RoomHost creates one shard per other I/O thread and keeps it for its life;
// the shard's state (conns_, the flush list) is touched on its thread only. Sessions hold
// their shard; the shard holds its joined sessions until they end (release() breaks the cycle
// once the I/O threads have stopped).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

}  // namespace ws
