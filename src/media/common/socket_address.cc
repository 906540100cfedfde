#include "media/common/socket_address.h"

#include <arpa/inet.h>

namespace media {

bool SocketAddress::parse_ip(const std::string& text, SocketAddress* out) {
  SocketAddress a;
  if (inet_pton(AF_INET, text.c_str(), a.ip.data()) == 1) {
    a.v6 = false;
  } else if (inet_pton(AF_INET6, text.c_str(), a.ip.data()) == 1) {
    a.v6 = true;
  } else {
    return false;
  }
  a.port = out->port;
  *out = a;
  return true;
}

std::string SocketAddress::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof buf);
  return buf;
}

std::string SocketAddress::to_string() const {
  return v6 ? "[" + ip_string() + "]:" + std::to_string(port)
            : ip_string() + ":" + std::to_string(port);
}

}  // namespace media
