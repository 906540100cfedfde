#include "media/sfu/relay.h"

#include <algorithm>

namespace media {

namespace {

constexpr uint8_t kRtcpApp = 204;
constexpr uint8_t kOwnersName[4] = {'E', 'C', 'O', 'W'};

void put_name(std::vector<uint8_t>& out, const std::string& s) {
  size_t n = std::min<size_t>(s.size(), 255);
  out.push_back(uint8_t(n));
  out.insert(out.end(), s.begin(), s.begin() + std::ptrdiff_t(n));
}

}  // namespace

std::vector<uint8_t> relay_owners_packet(uint32_t ssrc, const RelayOwners& owners) {
  std::vector<uint8_t> p(12);
  p[0] = 0x80;  // version 2, no padding, subtype 0
  p[1] = kRtcpApp;
  set_u32(&p[4], ssrc);
  std::copy(std::begin(kOwnersName), std::end(kOwnersName), p.begin() + 8);
  for (const auto& [feed, owner] : owners) {
    if (feed.empty()) continue;  // a zero length ends the list
    put_name(p, feed);
    put_name(p, owner);
  }
  while (p.size() % 4 != 0) p.push_back(0);
  set_u16(&p[2], uint16_t(p.size() / 4 - 1));
  return p;
}

std::optional<RelayOwners> parse_relay_owners(ByteSpan data) {
  size_t off = 0;
  while (data.size() - off >= 8) {
    const uint8_t* h = data.data() + off;
    if ((h[0] >> 6) != 2) return std::nullopt;
    size_t len = (size_t(get_u16(h + 2)) + 1) * 4;
    if (len > data.size() - off) return std::nullopt;
    if (h[1] == kRtcpApp && len >= 12 && std::equal(h + 8, h + 12, std::begin(kOwnersName))) {
      size_t end = len;
      if (h[0] & 0x20) {  // padding (RFC 3550 section 6.4.1)
        uint8_t pad = h[len - 1];
        if (pad == 0 || pad > len - 12) return std::nullopt;
        end -= pad;
      }
      RelayOwners owners;
      size_t at = 12;
      while (at < end && h[at] != 0) {
        size_t fn = h[at++];
        if (end - at < fn + 1) return std::nullopt;
        std::string feed(reinterpret_cast<const char*>(h + at), fn);
        at += fn;
        size_t on = h[at++];
        if (end - at < on) return std::nullopt;
        std::string owner(reinterpret_cast<const char*>(h + at), on);
        at += on;
        owners.emplace_back(std::move(feed), std::move(owner));
      }
      return owners;
    }
    off += len;
  }
  return std::nullopt;
}

std::optional<RelayRoute> relay_route(ByteSpan d) {
  if (d.size() < 8 || (d[0] & 0xC0) != 0x80) return std::nullopt;
  RelayRoute r;
  r.rtcp = d[1] >= 192 && d[1] <= 223;
  if (!r.rtcp && d.size() < 12) return std::nullopt;
  r.ssrc = get_u32(d.data() + (r.rtcp ? 4 : 8));
  return r;
}

}  // namespace media
