#include "store/cursor.h"

#include "base/crypto.h"
#include "base/strings.h"
#include "store/model.h"

namespace store {

namespace {

constexpr std::string_view kVersion = "v1.";
constexpr size_t kMaxCursorLen = 512;

base::Status bad_cursor() {
  return base::invalid_argument(
      "the cursor is not one this list returned; start again without a cursor", "invalid_cursor");
}

}  // namespace

std::string encode_cursor(const CursorKey& key) {
  std::string raw(kVersion);
  raw += std::to_string(key.time);
  raw += '.';
  raw += key.id;
  return base::base64url_encode(raw);
}

base::Result<CursorKey> decode_cursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > kMaxCursorLen) return bad_cursor();
  // base64url without padding; leftover bits must be zero, so each cursor has one spelling.
  std::optional<std::string> raw = base::base64url_decode(cursor);
  if (!raw) return bad_cursor();
  std::string_view v(*raw);
  if (!base::starts_with(v, kVersion)) return bad_cursor();
  v.remove_prefix(kVersion.size());
  size_t dot = v.find('.');
  if (dot == std::string_view::npos) return bad_cursor();
  std::optional<int64_t> time = base::parse_int(v.substr(0, dot));
  std::string_view id = v.substr(dot + 1);
  if (!time || id.empty()) return bad_cursor();
  // Any bytes but NUL: student ids come from JWT `sub` claims ("auth0|42", emails, ...).
  if (id.find('\0') != std::string_view::npos) return bad_cursor();
  return CursorKey{*time, std::string(id)};
}

base::Status check_limit(int limit) {
  if (limit < 1 || limit > kMaxPageLimit) {
    return base::invalid_argument("limit must be between 1 and " + std::to_string(kMaxPageLimit) +
                                      ", got " + std::to_string(limit),
                                  "invalid_limit");
  }
  return base::Status::ok();
}

}  // namespace store
