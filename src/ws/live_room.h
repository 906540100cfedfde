// ws::LiveRoom — what a LiveSession talks to: the room it joins, sends its messages to and
// leaves. Two kinds: ws::RoomHost, the room itself (on the course's home replica, or on a
// single node), and ws::EdgeRoom, a stand-in on another replica of a city that relays to the
// home (docs/design.md, "One live class across replicas"). Everything runs on the room's
// I/O thread.
#pragma once

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
  // Adds `s` to the room. The reply's welcome and replay are sent first; an empty welcome
  // means the room sends them itself.
  virtual base::Result<classroom::JoinReply> join(
      const std::shared_ptr<LiveSession>& s,
      const std::optional<classroom::ResumePoint>& resume) = 0;
  virtual void leave(LiveSession& s) = 0;
  // One text frame from `s`.
  virtual void on_message(LiveSession& s, std::string_view text) = 0;
  // The room's connections with frames to write at the end of the current burst.
  virtual FlushList& flush_list() = 0;
  // Where the messages its sockets carry are counted (/metrics).
  virtual LiveTraffic& traffic() = 0;
};

}  // namespace ws
