#include "classroom/chat.h"

#include <algorithm>

#include "base/utf8.h"

namespace classroom {

base::Status validate_chat_text(std::string_view text, size_t max_chars) {
  if (!base::is_valid_utf8(text)) {
    return base::invalid_argument("chat text is not valid UTF-8", "invalid_text");
  }
  bool blank = std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  });
  if (blank) return base::invalid_argument("chat text is empty", "invalid_text");
  size_t len = base::utf8_length(text);
  if (len > max_chars) {
    return base::invalid_argument("chat text has " + std::to_string(len) +
                                      " characters; the limit is " + std::to_string(max_chars),
                                  "message_too_long");
  }
  return base::Status::ok();
}

bool TokenBucket::try_take(int64_t now_ns) {
  if (last_ns_ >= 0 && now_ns > last_ns_) {
    tokens_ = std::min(burst_, tokens_ + double(now_ns - last_ns_) * rate_ / 1e9);
  }
  if (last_ns_ < 0 || now_ns > last_ns_) last_ns_ = now_ns;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace classroom
