// Parsing of EDGECLASS_REDIS_URL: redis://[user:pass@]host[:port][/db].
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace city {

struct RedisUrl {
  std::string host;
  int port = 6379;
  std::string user;      // empty: AUTH with the password only (Redis < 6 style)
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECTed after every (re)connect when not 0

  // "host:port/db" without credentials, for logs.
  std::string redacted() const;
};

// Errors name the part that is wrong ("port must be 1..65535, got '0'").
base::Result<RedisUrl> parse_redis_url(std::string_view url);

}  // namespace city
