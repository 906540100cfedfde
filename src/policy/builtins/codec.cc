#include "policy/builtins/codec.h"

#include <cstdio>

namespace policy::builtins::codec {

namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string base64_encode(std::string_view data, bool url, bool pad) {
  const char* alpha = url ? kUrl : kStd;
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out.push_back(alpha[v >> 18]);
    out.push_back(alpha[(v >> 12) & 63]);
    out.push_back(alpha[(v >> 6) & 63]);
    out.push_back(alpha[v & 63]);
  }
  size_t rest = data.size() - i;
  if (rest) {
    uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out.push_back(alpha[v >> 18]);
    out.push_back(alpha[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alpha[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? 2 : 1, '=');
  }
  return out;
}

base::Result<std::string> base64_decode(std::string_view text, bool url, bool pad) {
  auto err = [](size_t at) {
    return base::invalid_argument("illegal base64 data at input byte " + std::to_string(at));
  };
  std::string out;
  size_t i = 0;
  auto next = [&](char& c, size_t& at) {
    while (i < text.size() && (text[i] == '\r' || text[i] == '\n')) ++i;
    if (i >= text.size()) return false;
    at = i;
    c = text[i++];
    return true;
  };
  while (true) {
    int vals[4];
    int n = 0;
    size_t at = 0;
    char c;
    for (; n < 4; ++n) {
      if (!next(c, at)) break;
      if (c == '=' && pad) {
        // Padding: only in positions 2 and 3 of a quantum, and nothing may follow.
        if (n < 2) return err(at);
        if (n == 2) {
          char c2;
          size_t at2;
          if (!next(c2, at2)) return err(text.size());
          if (c2 != '=') return err(at2);
        }
        char extra;
        size_t at3;
        if (next(extra, at3)) return err(at3);
        goto flush;
      }
      vals[n] = b64_value(c, url);
      if (vals[n] < 0) return err(at);
    }
    if (n == 4) {
      uint32_t v = (vals[0] << 18) | (vals[1] << 12) | (vals[2] << 6) | vals[3];
      out.push_back(static_cast<char>(v >> 16));
      out.push_back(static_cast<char>(v >> 8));
      out.push_back(static_cast<char>(v));
      continue;
    }
    if (n == 0) return out;
    if (pad || n == 1) return err(text.size() - (n == 1 ? 1 : 0));
  flush:
    if (n == 1) return err(at);
    {
      uint32_t v = (vals[0] << 18) | (vals[1] << 12) | (n > 2 ? vals[2] << 6 : 0);
      out.push_back(static_cast<char>(v >> 16));
      if (n > 2) out.push_back(static_cast<char>(v >> 8));
    }
    return out;
  }
}

std::string hex_encode(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

base::Result<std::string> hex_decode(std::string_view text) {
  auto invalid = [](char c) {
    char buf[64];
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      std::snprintf(buf, sizeof buf, "encoding/hex: invalid byte: U+%04X '%c'", u, c);
    } else {
      std::snprintf(buf, sizeof buf, "encoding/hex: invalid byte: U+%04X", u);
    }
    return base::invalid_argument(buf);
  };
  std::string out;
  size_t i = 0;
  for (; i + 1 < text.size(); i += 2) {
    int a = hex_value(text[i]), b = hex_value(text[i + 1]);
    if (a < 0) return invalid(text[i]);
    if (b < 0) return invalid(text[i + 1]);
    out.push_back(static_cast<char>(a << 4 | b));
  }
  if (text.size() % 2 == 1) {
    if (hex_value(text.back()) < 0) return invalid(text.back());
    return base::invalid_argument("encoding/hex: odd length hex string");
  }
  return out;
}

std::string query_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

namespace {

base::Result<std::string> unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
        std::string bad(s.substr(i, 3));
        return base::invalid_argument("invalid URL escape \"" + bad + "\"");
      }
      out.push_back(static_cast<char>(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

base::Result<std::string> query_unescape(std::string_view s) { return unescape(s, true); }
base::Result<std::string> path_unescape(std::string_view s) { return unescape(s, false); }

}  // namespace policy::builtins::codec
