#include "classroom/room_buffer.h"

#include <algorithm>

namespace classroom {

void ResumeBuffer::push(RoomEvent event) {
  bytes_ += event.json ? event.json->size() : 0;
  events_.push_back(std::move(event));
  while (events_.size() > 1 && (events_.size() > max_events_ || bytes_ > max_bytes_)) {
    bytes_ -= events_.front().json ? events_.front().json->size() : 0;
    events_.pop_front();
  }
}

std::optional<std::vector<RoomEvent>> ResumeBuffer::since(uint64_t after_seq, uint64_t last_seq,
                                                          Role role,
                                                          std::string_view user_id) const {
  if (after_seq > last_seq) return std::nullopt;
  std::vector<RoomEvent> out;
  if (after_seq == last_seq) return out;
  // Every seq in (after_seq, last_seq] must still be here: the room numbers events without
  // gaps, so it is enough that the oldest held event is at most after_seq + 1.
  if (events_.empty() || events_.front().seq > after_seq + 1) return std::nullopt;
  auto it = std::upper_bound(events_.begin(), events_.end(), after_seq,
                             [](uint64_t s, const RoomEvent& e) { return s < e.seq; });
  for (; it != events_.end(); ++it) {
    if (it->audience.includes(role, user_id)) out.push_back(*it);
  }
  return out;
}

}  // namespace classroom
