// The REST API on the Beast server: registers rest::api_routes (src/rest, the API itself,
// shared with the wasm32-wasi server) on a Router, each route adapted to a coroutine that
// commits its write through the group-commit writer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/router.h"
#include "rest/api.h"
#include "store/writer.h"

namespace http {

using rest::StaticFile;
using rest::ThreadCache;

// What the handlers need (rest::ApiDeps) and the writer that commits their writes. Owned by
// the app; outlives the server.
struct ApiDeps : rest::ApiDeps {
  store::Writer* writer = nullptr;
};

// The product: REST API, pages, /healthz and /readyz (the public listener).
void register_api(Router& router, ApiDeps& deps);
// The admin listener: /metrics, the policy data API (/v1/data, admins only), /healthz and
// /readyz. `deps` is its own (readers: one per admin I/O thread).
void register_admin(Router& router, ApiDeps& deps);

// Authenticates a request's bearer token (the Authorization header), as rest::authenticate.
// (The live WebSocket also accepts a `token` query parameter for browsers; src/ws reads that
// itself.)
base::Result<classroom::Actor> authenticate(const Incoming& req, const ApiDeps& deps,
                                            ThreadCache* cache = nullptr);

}  // namespace http
