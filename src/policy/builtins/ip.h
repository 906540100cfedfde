// IPv4 / IPv6 addresses and CIDR prefixes with Go's net.ParseIP / net.ParseCIDR rules.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace policy::builtins::ip {

struct Addr {
  unsigned __int128 bits = 0;  // IPv4 addresses use the low 32 bits
  bool v4 = true;
  int width() const { return v4 ? 32 : 128; }
};

struct Prefix {
  Addr addr;  // the network address (host bits cleared)
  int len = 0;
  unsigned __int128 first() const { return addr.bits; }
  unsigned __int128 last() const;
  bool contains(const Addr& a) const;
};

std::optional<Addr> parse_addr(std::string_view s);
// "a.b.c.d/n" or "x::y/n"; the address is masked to the network.
std::optional<Prefix> parse_prefix(std::string_view s);
// Go's IP.String(): dotted quad, or RFC 5952 compressed IPv6.
std::string format(const Addr& a);
std::string format(const Prefix& p);

}  // namespace policy::builtins::ip
