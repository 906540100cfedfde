// A transport address (IPv4 or IPv6 plus UDP port) as plain bytes, so that STUN, ICE and the
// SFU logic can name peers without depending on Asio. The UDP server converts to and from
// Asio endpoints at the edge.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace media {

struct SocketAddress {
  bool v6 = false;
  // Network byte order. IPv4 uses the first 4 bytes; the rest stay zero.
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;  // host byte order

  static SocketAddress ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    SocketAddress s;
    s.ip[0] = a, s.ip[1] = b, s.ip[2] = c, s.ip[3] = d;
    s.port = port;
    return s;
  }
  // Parses a dotted IPv4 or an IPv6 literal (no brackets); false when it is neither.
  static bool parse_ip(const std::string& text, SocketAddress* out);

  // "1.2.3.4:5000" or "[::1]:5000".
  std::string to_string() const;
  // The address alone, without port and brackets.
  std::string ip_string() const;

  bool operator==(const SocketAddress& o) const = default;
};

struct SocketAddressHash {
  size_t operator()(const SocketAddress& a) const {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](uint8_t byte) { h = (h ^ byte) * 1099511628211ull; };
    for (uint8_t b : a.ip) mix(b);
    mix(uint8_t(a.port >> 8));
    mix(uint8_t(a.port));
    mix(a.v6);
    return size_t(h);
  }
};

}  // namespace media
