// Configuration: flags over environment over an optional file, over embedded defaults.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace app {

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string data_dir = "./data";
  std::string jwt_secret;  // empty: a development secret is generated in data_dir
  int threads = 0;         // 0: one per core
  int64_t max_students = 1000;
  std::string video_quality = "720p";
  std::string log_level = "info";
  int64_t log_buffer_kb = 4096;  // log lines queued for a slow log output before dropping
  std::string policy_dir;  // empty: the policies embedded in the binary
  std::string policy_query = "data.education.allow";  // the decision; deny_reason beside it
  std::string policy_bundle_url;   // empty: no bundle; http://host[:port]/path of an OPA bundle
  std::string policy_bundle_key;   // file with the PEM public key or HMAC secret; empty: unsigned
  std::string policy_bundle_ca;    // PEM CAs for https bundle servers; empty: the system's
  int64_t policy_bundle_poll_ms = 30000;
  bool decision_log = false;       // EDGECLASS_DECISION_LOG=stdout or a URL
  std::string decision_log_url;    // EDGECLASS_DECISION_LOG=http(s)://...: OPA's log service
  std::string decision_log_mask;   // comma-separated /input/... paths erased from the log
  // --- The city (docs/design.md "The city"); all empty: a single node, no Redis. ---
  std::string redis_url;      // redis://[user:pass@]host:port/db
  std::string replica_id;     // empty: the host name
  std::string advertise_url;  // empty: http(s)://<listen host, or the host name>:<port>
  std::string city_ca;        // PEM trust anchors for https:// homes (empty: system store)
  // --- end of the city ---
  uint16_t media_port = 7882;
  std::string public_ip;
  int media_threads = 1;                  // SFU fan-out threads (FanoutPool when > 1)
  int64_t media_ice_timeout_ms = 30'000;  // no valid ICE check this long: an ICE failure
  std::string config_file;
  int64_t http_timeout_ms = 30000;        // to send a whole request, and keep-alive idle time
  int64_t first_byte_timeout_ms = 10000;  // a new connection's wait for its first byte
  int64_t max_connections = 0;  // 0: the fd limit minus a reserve (http::default_max_connections)
  int64_t max_connections_per_ip = 0;     // 0: no per-address limit
  int64_t max_live_sockets_per_user = 5;  // 0: no limit
  // Live rooms of courses with a capacity above this are spread over the I/O threads
  // (ws::LiveDeps::spread_above_capacity); -1: none.
  int64_t live_spread_above = 50;
  // Production edge (TLS, admin listener): both paths set turn the listener into HTTPS/WSS.
  std::string tls_cert;  // PEM: leaf, then the chain
  std::string tls_key;   // PEM, unencrypted
  // The admin listener (/metrics, the policy data API): host and port; empty host: none.
  std::string admin_host = "127.0.0.1";
  uint16_t admin_port = 9091;

  std::string db_path() const { return data_dir + "/edgeclass.db"; }
};

// One setting: its flag, environment variable, default and help line.
struct Setting {
  const char* flag;  // "--listen"
  const char* env;   // "EDGECLASS_LISTEN"
  const char* def;
  const char* help;
};
const std::vector<Setting>& settings();

// Builds the config for `args` (the verb's flags, e.g. {"--listen", "0.0.0.0:8080"}),
// the process environment and the file named by --config / EDGECLASS_CONFIG (KEY=VALUE lines
// using the environment names; '#' comments). Unknown flags and bad values are errors that
// say which source held them.
base::Result<Config> load_config(const std::vector<std::string>& args);

// Help text listing every setting.
std::string settings_help();

// Returns the JWT secret: the configured one, or the development secret kept in
// data_dir/dev-jwt-secret (created with mode 0600 on first use; `*generated` tells).
base::Result<std::string> resolve_jwt_secret(const Config& config, bool* generated);

}  // namespace app
