// The bounded resume buffer: the room's most recent events, so that a client that reconnects
// with the last sequence number it saw gets exactly what it missed.
// Not thread-safe (owned by the room's thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "classroom/room_types.h"

namespace classroom {

class ResumeBuffer {
 public:
  // Keeps at most `max_events` events and at most `max_bytes` of event text (the newest event
  // is always kept even if it alone is larger).
  ResumeBuffer(size_t max_events, size_t max_bytes)
      : max_events_(max_events), max_bytes_(max_bytes) {}

  // Appends `event`; its seq must be greater than every seq already held.
  void push(RoomEvent event);

  // The events after `after_seq` addressed to (`role`, `user_id`), oldest first, when every
  // event after `after_seq` up to `last_seq` (the room's current seq) is still held; nullopt
  // when some were evicted or `after_seq` is ahead of `last_seq` (a snapshot is needed).
  std::optional<std::vector<RoomEvent>> since(uint64_t after_seq, uint64_t last_seq, Role role,
                                              std::string_view user_id) const;

  size_t size() const { return events_.size(); }
  size_t bytes() const { return bytes_; }
  // Seq of the oldest event held, 0 when empty.
  uint64_t oldest_seq() const { return events_.empty() ? 0 : events_.front().seq; }

 private:
  size_t max_events_;
  size_t max_bytes_;
  size_t bytes_ = 0;  // sum of the held events' JSON text sizes
  std::deque<RoomEvent> events_;  // ascending seq
};

}  // namespace classroom
