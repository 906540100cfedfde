#include "store/cursor.h"

#include "base/strings.h"
#include "store/model.h"

namespace store {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kVersion = "v1.";
constexpr size_t kMaxCursorLen = 512;

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string b64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kB64[(acc << (6 - bits)) & 63];
  return out;
}

bool b64url_decode(std::string_view in, std::string* out) {
  if (in.size() % 4 == 1) return false;  // no whole byte in the last character
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += char((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero, so each cursor has exactly one spelling.
  return (acc & ((1u << bits) - 1)) == 0;
}

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
  return b64url_encode(raw);
}

base::Result<CursorKey> decode_cursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > kMaxCursorLen) return bad_cursor();
  std::string raw;
  if (!b64url_decode(cursor, &raw)) return bad_cursor();
  std::string_view v(raw);
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
