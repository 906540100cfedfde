// The REST API (docs/api.md): registers every /api/v1 route, the OPA data API and the
// operational endpoints on a Router.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "classroom/live_notifier.h"
#include "classroom/service.h"
#include "http/read_cache.h"
#include "http/router.h"
#include "store/db.h"
#include "store/writer.h"

namespace http {

// A static file compiled into the binary (web/).
struct StaticFile {
  std::string_view path;  // "/index.html"
  std::string_view content_type;
  std::string_view body;
};

// What the handlers need. Owned by the app; outlives the server.
struct ApiDeps {
  classroom::Service* service = nullptr;
  store::Writer* writer = nullptr;
  // One read-only connection per I/O thread, indexed by Ctx::thread_index.
  std::vector<store::Db*> readers;
  // One cache per I/O thread over readers[i]; filled by register_api.
  std::vector<std::unique_ptr<ThreadCache>> caches;
  std::string jwt_secret;
  const base::Clock* clock = nullptr;
  // Prometheus exposition of every metric.
  std::function<std::string()> metrics_text;
  // OK when the database is open, policies are loaded and Redis (if configured) answers.
  std::function<base::Status()> ready;
  // OPA data API: the value of `path` (e.g. "education/allow") for `input`; nullopt-like
  // undefined is reported as a Result holding an empty object with no "result".
  std::function<base::Result<boost::json::object>(std::string_view path,
                                                  const boost::json::value& input)>
      policy_data;
  // GET /v1/status (admins): the policies in force (bundle revision and activation time,
  // decision logging); nullptr: 404.
  std::function<boost::json::object()> policy_status;
  std::vector<StaticFile> static_files;

  // The live classroom, told of every committed change that affects a live room (called on
  // the I/O thread after the commit; nullptr: no live rooms).
  classroom::LiveNotifier* live = nullptr;
};

// The product: REST API, pages, /healthz and /readyz (the public listener).
void register_api(Router& router, ApiDeps& deps);
// The admin listener: /metrics, the policy data API (/v1/data, admins only), /healthz and
// /readyz. `deps` is its own (readers: one per admin I/O thread).
void register_admin(Router& router, ApiDeps& deps);

// Authenticates a request's bearer token (the Authorization header). 401 reasons:
// token_missing, token_malformed and those of base::verify_token. `cache` (may be null)
// remembers tokens already verified on this thread. (The live WebSocket also accepts a
// `token` query parameter for browsers; src/ws reads that itself.)
base::Result<classroom::Actor> authenticate(const Request& req, const ApiDeps& deps,
                                            ThreadCache* cache = nullptr);

}  // namespace http
