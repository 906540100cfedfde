// ws::LiveRoom — what a LiveSession talks to: the room it joins, sends its messages to and
// leaves. Two kinds: ws::RoomHost, the room itself (on the course's home replica, or on a
// single node), and ws::EdgeRoom, a stand-in on another replica of a city that relays to the
// home (docs/design.md, "One live class across replicas"). Everything runs on the room's
// I/O thread (executor()); a connection served on another I/O thread (a spread room's, see
// ws/room_shard.h) posts its calls there.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "classroom/room.h"

namespace ws {

class LiveSession;
class FlushList;
class LiveTraffic;

class LiveRoom {
 public:
  virtual ~LiveRoom() = default;
  // The room's I/O thread. Any thread (set at construction).
  virtual boost::asio::any_io_executor executor() = 0;
  // Adds `s` to the room. The reply's welcome and replay are sent first; an empty welcome
  // means the room sends them itself.
  virtual base::Result<classroom::JoinReply> join(
      const std::shared_ptr<LiveSession>& s,
      const std::optional<classroom::ResumePoint>& resume) = 0;
  virtual void leave(LiveSession& s) = 0;
  // `s` joined and has not left.
  virtual bool is_member(const LiveSession& s) const = 0;
  // One text frame from `s`.
  virtual void on_message(LiveSession& s, std::string_view text) = 0;
  // The room's connections with frames to write at the end of the current burst.
  virtual FlushList& flush_list() = 0;
  // Where the messages its sockets carry are counted (/metrics).
  virtual LiveTraffic& traffic() = 0;
};

}  // namespace ws
