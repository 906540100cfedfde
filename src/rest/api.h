// The REST API (docs/api.md) as transport-neutral routes: every /api/v1 route, the operational
// endpoints, the pages, and the admin listener's routes (metrics, the OPA data and status
// APIs). Authentication (JWT), body parsing and the policy decisions (through
// classroom::Service) happen here; a transport only parses HTTP, commits the writes a Reply
// asks for, and writes the answers (src/http: Beast and the group-commit writer; src/wasm:
// the wasm32-wasi server on one connection).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "classroom/live_notifier.h"
#include "classroom/service.h"
#include "rest/read_cache.h"
#include "rest/router.h"
#include "store/db.h"

namespace rest {

// A static file compiled into the binary (web/).
struct StaticFile {
  std::string_view path;  // "/index.html"
  std::string_view content_type;
  std::string_view body;
};

// What the handlers need. Owned by the app; outlives every route.
struct ApiDeps {
  classroom::Service* service = nullptr;
  // One read-only connection per I/O thread, indexed by Call::thread_index (the wasm server:
  // its one connection, which also writes).
  std::vector<store::Db*> readers;
  // One cache per I/O thread over readers[i]; filled by api_routes / admin_routes.
  std::vector<std::unique_ptr<ThreadCache>> caches;
  std::string jwt_secret;
  const base::Clock* clock = nullptr;
  // Prometheus exposition of every metric.
  std::function<std::string()> metrics_text;
  // OK when the database is open, policies are loaded and Redis (if configured) answers.
  std::function<base::Status()> ready;
  // OPA data API: the value of `path` (e.g. "education/allow") for `input`; undefined is
  // reported as a Result holding an empty object with no "result".
  std::function<base::Result<boost::json::object>(std::string_view path,
                                                  const boost::json::value& input)>
      policy_data;
  // GET /v1/status (admins): the policies in force (bundle revision and activation time,
  // decision logging); nullptr: 404.
  std::function<boost::json::object()> policy_status;
  std::vector<StaticFile> static_files;

  // The live classroom, told of every committed change that affects a live room (called
  // after the commit, on the thread that serves the request; nullptr: no live rooms).
  classroom::LiveNotifier* live = nullptr;
};

// The product: REST API, pages, /healthz and /readyz (the public listener). Fills
// deps.caches (one per reader). The handlers refer to `deps`.
std::vector<Route> api_routes(ApiDeps& deps);
// The admin listener: /metrics, the policy data API (/v1/data, admins only), /v1/status,
// /healthz and /readyz. `deps` is its own (readers: one per admin I/O thread).
std::vector<Route> admin_routes(ApiDeps& deps);

// Authenticates a request's bearer token, given its Authorization header (nullopt: none).
// 401 reasons: token_missing, token_malformed and those of base::verify_token. `cache` (may
// be null) remembers tokens already verified on this thread.
base::Result<classroom::Actor> authenticate(std::optional<std::string_view> authorization,
                                            const ApiDeps& deps, ThreadCache* cache = nullptr);

}  // namespace rest
