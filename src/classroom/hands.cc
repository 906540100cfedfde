#include "classroom/hands.h"

#include <algorithm>

namespace classroom {

bool HandQueue::raise(std::string_view user_id, std::string_view name, int64_t now_ms) {
  if (position(user_id)) return false;
  queue_.push_back(RaisedHand{std::string(user_id), std::string(name), now_ms});
  return true;
}

bool HandQueue::lower(std::string_view user_id) {
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [&](const RaisedHand& h) { return h.user_id == user_id; });
  if (it == queue_.end()) return false;
  queue_.erase(it);
  return true;
}

std::optional<size_t> HandQueue::position(std::string_view user_id) const {
  for (size_t i = 0; i < queue_.size(); ++i) {
    if (queue_[i].user_id == user_id) return i + 1;
  }
  return std::nullopt;
}

}  // namespace classroom
