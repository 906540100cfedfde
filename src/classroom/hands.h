// The raised-hands queue: students in the order they raised their hands.
// Not thread-safe (owned by the room's thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace classroom {

struct RaisedHand {
  std::string user_id;
  std::string name;
  int64_t raised_at_ms = 0;  // Unix ms
};

class HandQueue {
 public:
  // Appends `user_id` at the back; false (and no change) when its hand is already up.
  bool raise(std::string_view user_id, std::string_view name, int64_t now_ms);
  // Removes `user_id`; false when its hand was not up.
  bool lower(std::string_view user_id);
  // 1-based position in the queue, or nullopt when the hand is down.
  std::optional<size_t> position(std::string_view user_id) const;

  const std::vector<RaisedHand>& queue() const { return queue_; }
  size_t size() const { return queue_.size(); }

 private:
  // Oldest first. A vector: queues are short (a class raises tens of hands, not thousands),
  // and lowering from the middle is a linear erase that keeps the order.
  std::vector<RaisedHand> queue_;
};

}  // namespace classroom
