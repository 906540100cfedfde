#include "app/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "base/jwt.h"
#include "base/log.h"
#include "base/random.h"
#include "base/strings.h"
#include "city/peer_url.h"
#include "city/redis_url.h"

namespace app {

const std::vector<Setting>& settings() {
  static const std::vector<Setting> s = {
      {"--listen", "EDGECLASS_LISTEN", "127.0.0.1:8080", "HTTP listen address host:port"},
      {"--data-dir", "EDGECLASS_DATA_DIR", "./data", "directory of the SQLite database"},
      {"--jwt-secret", "EDGECLASS_JWT_SECRET", "",
       "HS256 secret for bearer tokens (default: a generated development secret kept in the data "
       "dir)"},
      {"--threads", "EDGECLASS_THREADS", "0", "I/O threads (0: one per core)"},
      {"--max-students", "MAX_STUDENTS", "1000", "default course capacity"},
      {"--video-quality", "VIDEO_QUALITY", "720p", "video bitrate cap: 360p, 480p, 720p, 1080p"},
      {"--log-level", "EDGECLASS_LOG_LEVEL", "info", "debug, info, warn, error, off"},
      {"--log-buffer-kb", "EDGECLASS_LOG_BUFFER_KB", "4096",
       "KiB of log lines held while stdout does not drain (a stuck collector, a full disk); "
       "beyond, lines are dropped and counted, never waited for"},
      {"--policy-dir", "EDGECLASS_POLICY_DIR", "",
       "directory of .rego policies (default: the embedded policies)"},
      {"--policy-query", "EDGECLASS_POLICY_QUERY", "data.education.allow",
       "the decision each request asks (true allows); the deny_reason beside it explains a no"},
      {"--policy-bundle-url", "EDGECLASS_POLICY_BUNDLE_URL", "",
       "http(s):// URL of an OPA bundle (tar.gz) polled with ETags; replaces the policy dir when "
       "active"},
      {"--policy-bundle-key", "EDGECLASS_POLICY_BUNDLE_KEY", "",
       "file with the key that verifies bundle signatures (.signatures.json): a PEM public key "
       "or an HMAC secret; empty: bundles are not verified"},
      {"--policy-bundle-ca", "EDGECLASS_POLICY_BUNDLE_CA", "",
       "PEM file of the CAs an https bundle server must chain to (default: the system's)"},
      {"--policy-bundle-poll", "EDGECLASS_POLICY_BUNDLE_POLL", "30s",
       "time between bundle polls (e.g. 30s, 500ms)"},
      {"--decision-log", "EDGECLASS_DECISION_LOG", "off",
       "stdout: one JSON line per policy decision in OPA's decision log format; an "
       "http(s):// URL: POSTed there in batches every second, as OPA does; off"},
      {"--decision-log-mask", "EDGECLASS_DECISION_LOG_MASK", "",
       "comma-separated input paths erased from decision logs (e.g. /input/user/name)"},
      // The city: several replicas on one Redis (docs/operations.md "Running a city").
      {"--redis-url", "EDGECLASS_REDIS_URL", "",
       "redis://[user:pass@]host:port/db: join a city of replicas (empty: a single node)"},
      {"--replica-id", "EDGECLASS_REPLICA_ID", "",
       "this replica's name in the city (default: the host name)"},
      {"--advertise-url", "EDGECLASS_ADVERTISE_URL", "",
       "http://host:port or https://host:port where the other replicas reach this one "
       "(default: from the listen address, or the host name when listening on 0.0.0.0; "
       "https:// when --tls-cert is set)"},
      {"--city-ca", "EDGECLASS_CITY_CA", "",
       "PEM certificates the replicas' TLS certificate must chain to (or be) when forwarding to "
       "https:// homes, which must then be named by it or be one of these (default: the "
       "system trust store, any name)"},
      {"--media-port", "EDGECLASS_MEDIA_PORT", "7882", "UDP port for WebRTC media"},
      {"--public-ip", "EDGECLASS_PUBLIC_IP", "", "IP announced in ICE candidates"},
      {"--media-threads", "EDGECLASS_MEDIA_THREADS", "1",
       "threads that encrypt and send a class's video together (1: the media thread alone)"},
      {"--media-ice-timeout", "EDGECLASS_MEDIA_ICE_TIMEOUT", "30s",
       "a browser's WebRTC transport without a valid ICE check this long after the answer is "
       "closed and counted as an ICE failure (e.g. 30s)"},
      {"--http-timeout", "EDGECLASS_HTTP_TIMEOUT", "30s",
       "time to send a whole request, and keep-alive idle time (e.g. 30s, 2m)"},
      {"--first-byte-timeout", "EDGECLASS_FIRST_BYTE_TIMEOUT", "10s",
       "a new connection that sends nothing this long is closed (e.g. 10s, 500ms)"},
      {"--max-connections", "EDGECLASS_MAX_CONNECTIONS", "0",
       "open connections (HTTP and live) before new ones get 503; probes still answer "
       "(0: the fd limit minus a reserve)"},
      {"--max-connections-per-ip", "EDGECLASS_MAX_CONNECTIONS_PER_IP", "0",
       "open connections from one address before new ones get 429 (0: no limit; schools "
       "share one NAT address, keep it high)"},
      {"--max-live-sockets-per-user", "EDGECLASS_MAX_LIVE_SOCKETS_PER_USER", "5",
       "live WebSockets one user may hold at once (0: no limit)"},
      {"--live-spread-above", "EDGECLASS_LIVE_SPREAD_ABOVE", "50",
       "live rooms of courses with a capacity above this spread their connections over the "
       "I/O threads (0: every room, -1: none; a city's edge rooms are spread unless -1)"},
      // Production edge: TLS.
      {"--tls-cert", "EDGECLASS_TLS_CERT", "",
       "PEM certificate chain (leaf first); with --tls-key the listener speaks HTTPS/WSS only"},
      {"--tls-key", "EDGECLASS_TLS_KEY", "", "PEM private key of --tls-cert"},
      {"--admin-listen", "EDGECLASS_ADMIN_LISTEN", "127.0.0.1:9091",
       "host:port of the admin listener (/metrics, /v1/data policy API; plain HTTP, keep it "
       "private), or 'off'"},
      {"--config", "EDGECLASS_CONFIG", "", "optional file of KEY=VALUE lines (environment names)"},
  };
  return s;
}

std::string settings_help() {
  std::ostringstream o;
  for (const Setting& s : settings()) {
    std::string left = std::string("  ") + s.flag + " / " + s.env;
    o << left;
    o << std::string(left.size() < 44 ? 44 - left.size() : 1, ' ') << s.help;
    if (*s.def) o << " [" << s.def << "]";
    o << "\n";
  }
  return o.str();
}

namespace {

// The city's settings (kept in one place, apart from the single-node ones).
template <typename Bad>
base::Status apply_city(Config& c, std::string_view env, const std::string& v, Bad bad) {
  if (env == "EDGECLASS_REDIS_URL") {
    if (!v.empty()) {
      auto url = city::parse_redis_url(v);
      if (!url.is_ok()) return bad("is not usable: " + url.status().message());
    }
    c.redis_url = v;
  } else if (env == "EDGECLASS_REPLICA_ID") {
    for (char ch : v) {
      if (!isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') {
        return bad("may hold only letters, digits, '-', '_' and '.'");
      }
    }
    if (v.size() > 100) return bad("is longer than 100 characters");
    c.replica_id = v;
  } else if (env == "EDGECLASS_ADVERTISE_URL") {
    if (!v.empty()) {
      auto url = city::parse_peer_url(v);
      if (!url.is_ok()) return bad("is not usable: " + url.status().message());
    }
    c.advertise_url = v;
  } else if (env == "EDGECLASS_CITY_CA") {
    c.city_ca = v;
  }
  return base::Status::ok();
}

bool port_of(std::string_view p, uint16_t* out) {
  auto n = base::parse_int(p);
  if (!n || *n < 0 || *n > 65535) return false;
  *out = uint16_t(*n);
  return true;
}

// "host:port" ("[v6]:port" too) into its parts; false when there is no valid port.
bool split_host_port(const std::string& v, std::string* host, uint16_t* port) {
  size_t colon = v.rfind(':');
  if (colon == std::string::npos || !port_of(std::string_view(v).substr(colon + 1), port)) {
    return false;
  }
  *host = v.substr(0, colon);
  if (host->size() > 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  return true;
}

base::Status apply(Config& c, std::string_view env, const std::string& v, const std::string& src) {
  auto bad = [&](std::string what) {
    return base::invalid_argument(src + ": " + std::string(env) + "=" + v + " " + what);
  };
  // `v` as an integer in [lo, hi] into `out`, or the error naming the range.
  auto number_in = [&](int64_t lo, int64_t hi, auto* out) -> base::Status {
    auto n = base::parse_int(v);
    if (!n || *n < lo || *n > hi)
      return bad("must be " + std::to_string(lo) + ".." + std::to_string(hi));
    *out = static_cast<std::remove_pointer_t<decltype(out)>>(*n);
    return base::Status::ok();
  };
  if (env == "EDGECLASS_LISTEN") {
    if (!split_host_port(v, &c.listen_host, &c.listen_port)) {
      return bad("is not host:port (e.g. 127.0.0.1:8080)");
    }
  } else if (env == "EDGECLASS_DATA_DIR") {
    if (v.empty()) return bad("must not be empty");
    c.data_dir = v;
  } else if (env == "EDGECLASS_JWT_SECRET") {
    if (!v.empty() && v.size() < 16) return bad("is too short: use at least 16 characters");
    c.jwt_secret = v;
  } else if (env == "EDGECLASS_THREADS") {
    EC_RETURN_IF_ERROR(number_in(0, 256, &c.threads));
  } else if (env == "MAX_STUDENTS") {
    EC_RETURN_IF_ERROR(number_in(1, 100000, &c.max_students));
  } else if (env == "VIDEO_QUALITY") {
    if (v != "360p" && v != "480p" && v != "720p" && v != "1080p") {
      return bad("must be one of 360p, 480p, 720p, 1080p");
    }
    c.video_quality = v;
  } else if (env == "EDGECLASS_LOG_LEVEL") {
    base::log::Level l;
    if (!base::log::parse_level(v, &l)) return bad("must be debug, info, warn, error or off");
    c.log_level = v;
  } else if (env == "EDGECLASS_LOG_BUFFER_KB") {
    EC_RETURN_IF_ERROR(number_in(16, 1048576, &c.log_buffer_kb));
  } else if (env == "EDGECLASS_POLICY_DIR") {
    c.policy_dir = v;
  } else if (env == "EDGECLASS_REDIS_URL" || env == "EDGECLASS_REPLICA_ID" ||
             env == "EDGECLASS_ADVERTISE_URL" || env == "EDGECLASS_CITY_CA") {
    EC_RETURN_IF_ERROR(apply_city(c, env, v, bad));
  } else if (env == "EDGECLASS_POLICY_BUNDLE_URL") {
    if (!v.empty() && !base::starts_with(v, "http://") && !base::starts_with(v, "https://")) {
      return bad("must start with http:// or https://");
    }
    c.policy_bundle_url = v;
  } else if (env == "EDGECLASS_POLICY_BUNDLE_CA") {
    c.policy_bundle_ca = v;
  } else if (env == "EDGECLASS_POLICY_BUNDLE_KEY") {
    c.policy_bundle_key = v;
  } else if (env == "EDGECLASS_POLICY_BUNDLE_POLL") {
    auto ms = base::parse_duration_ms(v);
    if (!ms || *ms < 100) return bad("must be a duration of at least 100ms, e.g. 30s");
    c.policy_bundle_poll_ms = *ms;
  } else if (env == "EDGECLASS_DECISION_LOG") {
    bool url = base::starts_with(v, "http://") || base::starts_with(v, "https://");
    if (v != "off" && v != "stdout" && !url) {
      return bad("must be off, stdout or the http(s):// URL of a decision log service");
    }
    c.decision_log = v != "off";
    c.decision_log_url = url ? v : "";
  } else if (env == "EDGECLASS_DECISION_LOG_MASK") {
    c.decision_log_mask = v;
  } else if (env == "EDGECLASS_POLICY_QUERY") {
    if (!base::starts_with(v, "data.") || v.size() <= 5) {
      return bad("must be a data reference such as data.education.allow");
    }
    c.policy_query = v;
  } else if (env == "EDGECLASS_MEDIA_PORT") {
    if (!port_of(v, &c.media_port)) return bad("is not a port number");
  } else if (env == "EDGECLASS_PUBLIC_IP") {
    c.public_ip = v;
  } else if (env == "EDGECLASS_MEDIA_THREADS") {
    EC_RETURN_IF_ERROR(number_in(1, 64, &c.media_threads));
  } else if (env == "EDGECLASS_MEDIA_ICE_TIMEOUT") {
    auto ms = base::parse_duration_ms(v);
    if (!ms || *ms < 1000 || *ms > 600000) return bad("must be a duration from 1s to 10m");
    c.media_ice_timeout_ms = *ms;
  } else if (env == "EDGECLASS_HTTP_TIMEOUT") {
    auto ms = base::parse_duration_ms(v);
    if (!ms || *ms < 1000 || *ms > 3600000) return bad("must be a duration from 1s to 1h");
    c.http_timeout_ms = *ms;
  } else if (env == "EDGECLASS_FIRST_BYTE_TIMEOUT") {
    auto ms = base::parse_duration_ms(v);
    if (!ms || *ms < 100 || *ms > 3600000) return bad("must be a duration from 100ms to 1h");
    c.first_byte_timeout_ms = *ms;
  } else if (env == "EDGECLASS_MAX_CONNECTIONS") {
    EC_RETURN_IF_ERROR(number_in(0, 100000000, &c.max_connections));
  } else if (env == "EDGECLASS_MAX_CONNECTIONS_PER_IP") {
    EC_RETURN_IF_ERROR(number_in(0, 100000000, &c.max_connections_per_ip));
  } else if (env == "EDGECLASS_MAX_LIVE_SOCKETS_PER_USER") {
    EC_RETURN_IF_ERROR(number_in(0, 10000, &c.max_live_sockets_per_user));
  } else if (env == "EDGECLASS_LIVE_SPREAD_ABOVE") {
    EC_RETURN_IF_ERROR(number_in(-1, 100000000, &c.live_spread_above));
  } else if (env == "EDGECLASS_TLS_CERT") {
    c.tls_cert = v;
  } else if (env == "EDGECLASS_TLS_KEY") {
    c.tls_key = v;
  } else if (env == "EDGECLASS_ADMIN_LISTEN") {
    if (v == "off") {
      c.admin_host.clear();
      return base::Status::ok();
    }
    if (!split_host_port(v, &c.admin_host, &c.admin_port) || c.admin_host.empty()) {
      return bad("is not host:port (e.g. 127.0.0.1:9091) or off");
    }
  } else if (env == "EDGECLASS_CONFIG") {
    c.config_file = v;
  } else {
    return base::invalid_argument(src + ": unknown setting " + std::string(env));
  }
  return base::Status::ok();
}

const Setting* by_flag(std::string_view flag) {
  for (const Setting& s : settings()) {
    if (flag == s.flag) return &s;
  }
  return nullptr;
}

}  // namespace

base::Result<Config> load_config(const std::vector<std::string>& args) {
  // Collect flags first: they win, but --config must be known before the file is read.
  std::map<std::string, std::string> flags;  // env name -> value
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    const Setting* s = by_flag(a);
    if (!s) return base::invalid_argument("unknown flag '" + a + "' (see --help)");
    if (eq == std::string::npos) {
      if (i + 1 >= args.size()) return base::invalid_argument("flag " + a + " needs a value");
      value = args[++i];
    }
    flags[s->env] = value;
  }
  Config c;
  std::string file;
  if (auto it = flags.find("EDGECLASS_CONFIG"); it != flags.end())
    file = it->second;
  else if (const char* e = std::getenv("EDGECLASS_CONFIG"))
    file = e;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return base::invalid_argument("cannot read config file " + file);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      size_t eq = line.find('=');
      if (eq == std::string::npos) {
        return base::invalid_argument(file + ":" + std::to_string(n) + ": expected KEY=VALUE");
      }
      std::string key = line.substr(start, eq - start);
      while (!key.empty() && key.back() == ' ') key.pop_back();
      std::string value = line.substr(eq + 1);
      while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
      EC_RETURN_IF_ERROR(apply(c, key, value, file + ":" + std::to_string(n)));
    }
  }
  for (const Setting& s : settings()) {
    if (const char* e = std::getenv(s.env)) {
      EC_RETURN_IF_ERROR(apply(c, s.env, e, "environment"));
    }
  }
  for (const auto& [env, value] : flags) {
    EC_RETURN_IF_ERROR(apply(c, env, value, "flag"));
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return base::invalid_argument(
        "EDGECLASS_TLS_CERT and EDGECLASS_TLS_KEY go together: set both (HTTPS) or neither");
  }
  return c;
}

base::Result<std::string> resolve_jwt_secret(const Config& config, bool* generated) {
  *generated = false;
  if (!config.jwt_secret.empty()) return config.jwt_secret;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return base::unavailable("cannot create data directory " + config.data_dir + ": " +
                             ec.message());
  }
  return base::load_or_make_dev_secret(config.data_dir + "/dev-jwt-secret", generated);
}

}  // namespace app
