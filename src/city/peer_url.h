// city::PeerUrl — a replica's advertised URL (EDGECLASS_ADVERTISE_URL), where the other
// replicas forward requests for its courses (city/forwarder.h).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace city {

// An advertised URL: "http://host[:port][/]" or "https://host[:port][/]" (IPv6 in brackets).
struct PeerUrl {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;  // default 80 / 443
};
// invalid_argument naming what is wrong (scheme, host, port, a path).
base::Result<PeerUrl> parse_peer_url(std::string_view url);

}  // namespace city
