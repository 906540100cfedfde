#include "city/redis_url.h"

#include "base/strings.h"

namespace city {

std::string RedisUrl::redacted() const {
  return host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

namespace {

// %XX escapes in the credentials (a password may hold ':' or '@').
base::Result<std::string> percent_decode(std::string_view s, const char* what) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
      return base::invalid_argument(std::string("bad %-escape in the ") + what +
                                    " of the Redis URL");
    }
    out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
    i += 2;
  }
  return out;
}

}  // namespace

base::Result<RedisUrl> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!base::starts_with(url, kScheme)) {
    return base::invalid_argument(
        "the Redis URL must start with redis:// (rediss:// is not "
        "supported), got '" +
        std::string(url) + "'");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl out;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    if (colon == std::string_view::npos) {
      // redis://password@host (no user) is what many tools write.
      EC_ASSIGN_OR_RETURN(out.password, percent_decode(cred, "password"));
    } else {
      EC_ASSIGN_OR_RETURN(out.user, percent_decode(cred.substr(0, colon), "user"));
      EC_ASSIGN_OR_RETURN(out.password, percent_decode(cred.substr(colon + 1), "password"));
    }
  }
  std::string_view hostport = rest;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto n = base::parse_int(db);
      if (!n || *n < 0 || *n > 65535) {
        return base::invalid_argument("the database in the Redis URL must be a number, got '" +
                                      std::string(db) + "'");
      }
      out.db = int(*n);
    }
  }
  std::string_view host = hostport;
  if (size_t colon = hostport.rfind(':');
      colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    host = hostport.substr(0, colon);
    std::string_view port = hostport.substr(colon + 1);
    auto n = base::parse_int(port);
    if (!n || *n < 1 || *n > 65535) {
      return base::invalid_argument("the port in the Redis URL must be 1..65535, got '" +
                                    std::string(port) + "'");
    }
    out.port = int(*n);
  }
  if (host.empty()) return base::invalid_argument("the Redis URL has no host");
  out.host = std::string(host);
  return out;
}

}  // namespace city
