#include "city/peer_url.h"

#include <algorithm>
#include <cctype>

namespace city {

base::Result<PeerUrl> parse_peer_url(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return base::invalid_argument("'" + std::string(url) + "' " + why +
                                  " (want http://host:port or https://host:port)");
  };
  PeerUrl u;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    u.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return bad("has no http:// or https:// scheme");
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad("has a path");
  if (rest.find('@') != std::string_view::npos) return bad("has user information");
  std::string_view port;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed '['");
    u.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("has something after ']' that is not :port");
      port = after.substr(1);
    }
  } else {
    size_t colon = rest.rfind(':');
    u.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    if (u.host.find(':') != std::string::npos) return bad("has an IPv6 address without [ ]");
  }
  if (u.host.empty()) return bad("has no host");
  if (port.empty()) {
    u.port = u.tls ? "443" : "80";
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      return bad("has a port that is not a number");
    }
    int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) return bad("has a port outside 1..65535");
    u.port = std::string(port);
  }
  return u;
}

}  // namespace city
