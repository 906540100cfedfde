// Chat rules of the live room: text validation and a per-user token-bucket rate limit.
// Portable core: time comes in as monotonic nanoseconds (from base::Clock::now_mono_ns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace classroom {

// OK when `text` is valid UTF-8, not only whitespace, and at most `max_chars` code points.
// Errors: InvalidArgument with reason "invalid_text" or "message_too_long".
base::Status validate_chat_text(std::string_view text, size_t max_chars);

// A token bucket: holds up to `burst` tokens and gains `per_second` tokens per second.
// Starts full. Not thread-safe (owned by the room's thread).
class TokenBucket {
 public:
  TokenBucket(double burst, double per_second) : burst_(burst), rate_(per_second), tokens_(burst) {}

  // Takes one token if there is one at time `now_ns`; false when the caller is over the rate.
  // `now_ns` must not go backwards between calls (monotonic clock).
  bool try_take(int64_t now_ns);

  double tokens() const { return tokens_; }

 private:
  double burst_;
  double rate_;           // tokens per second
  double tokens_;
  int64_t last_ns_ = -1;  // time of the last refill, -1 before the first call
};

}  // namespace classroom
