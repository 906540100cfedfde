#include "policy/builtins/ip.h"

#include <cstdio>
#include <vector>

namespace policy::builtins::ip {

namespace {

using u128 = unsigned __int128;

u128 mask_bits(int width, int len) {
  if (len <= 0) return 0;
  u128 all = width == 128 ? ~static_cast<u128>(0) : ((static_cast<u128>(1) << width) - 1);
  if (len >= width) return all;
  return all & ~((static_cast<u128>(1) << (width - len)) - 1);
}

std::optional<uint32_t> parse_v4(std::string_view s) {
  uint32_t out = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t start = i;
    uint32_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) v = v * 10 + (s[i++] - '0');
    size_t n = i - start;
    if (n == 0 || v > 255 || (n > 1 && s[start] == '0')) return std::nullopt;
    out = out << 8 | v;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return out;
}

std::optional<u128> parse_v6(std::string_view s) {
  std::vector<uint32_t> head, tail;
  bool ellipsis = false;
  std::vector<uint32_t>* cur = &head;
  size_t i = 0;
  if (s.substr(0, 2) == "::") {
    ellipsis = true;
    cur = &tail;
    i = 2;
  }
  int groups = 0;
  while (i < s.size()) {
    // An embedded IPv4 tail.
    size_t end = s.find(':', i);
    std::string_view part = s.substr(i, end == std::string_view::npos ? s.npos : end - i);
    if (part.find('.') != std::string_view::npos) {
      if (end != std::string_view::npos) return std::nullopt;
      auto v4 = parse_v4(part);
      if (!v4) return std::nullopt;
      cur->push_back(*v4 >> 16);
      cur->push_back(*v4 & 0xFFFF);
      groups += 2;
      i = s.size();
      break;
    }
    if (part.empty() || part.size() > 4) return std::nullopt;
    uint32_t v = 0;
    for (char c : part) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v << 4 | static_cast<uint32_t>(d);
    }
    cur->push_back(v);
    ++groups;
    if (end == std::string_view::npos) {
      i = s.size();
      break;
    }
    i = end + 1;
    if (i < s.size() && s[i] == ':') {
      if (ellipsis) return std::nullopt;
      ellipsis = true;
      cur = &tail;
      ++i;
    } else if (i >= s.size()) {
      return std::nullopt;  // trailing single ':'
    }
  }
  if (groups > 8 || (!ellipsis && groups != 8) || (ellipsis && groups > 7)) return std::nullopt;
  u128 out = 0;
  for (uint32_t g : head) out = out << 16 | g;
  for (int k = 0; k < 8 - groups; ++k) out <<= 16;
  for (uint32_t g : tail) out = out << 16 | g;
  return out;
}

}  // namespace

unsigned __int128 Prefix::last() const {
  int w = addr.width();
  return addr.bits | (~mask_bits(w, len) & mask_bits(w, w));
}

bool Prefix::contains(const Addr& a) const {
  if (a.v4 != addr.v4) return false;
  return (a.bits & mask_bits(addr.width(), len)) == addr.bits;
}

std::optional<Addr> parse_addr(std::string_view s) {
  if (s.find(':') == std::string_view::npos) {
    auto v4 = parse_v4(s);
    if (!v4) return std::nullopt;
    return Addr{*v4, true};
  }
  auto v6 = parse_v6(s);
  if (!v6) return std::nullopt;
  return Addr{*v6, false};
}

std::optional<Prefix> parse_prefix(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = parse_addr(s.substr(0, slash));
  if (!a) return std::nullopt;
  std::string_view n = s.substr(slash + 1);
  if (n.empty() || n.size() > 3 || (n.size() > 1 && n[0] == '0')) return std::nullopt;
  int len = 0;
  for (char c : n) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + (c - '0');
  }
  if (len > a->width()) return std::nullopt;
  Prefix p;
  p.len = len;
  p.addr = *a;
  p.addr.bits &= mask_bits(a->width(), len);
  return p;
}

std::string format(const Addr& a) {
  char buf[64];
  if (a.v4) {
    uint32_t v = static_cast<uint32_t>(a.bits);
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
    return buf;
  }
  uint32_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint32_t>((a.bits >> (16 * (7 - i))) & 0xFFFF);
  // IPv4-mapped addresses print as dotted quads, as Go does.
  if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xFFFF) {
    return format(Addr{a.bits & 0xFFFFFFFF, true});
  }
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out.push_back(':');
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

std::string format(const Prefix& p) { return format(p.addr) + "/" + std::to_string(p.len); }

}  // namespace policy::builtins::ip
