// The Beast side of the REST API: each rest::Route registered as a REST route of the router
// (http/rest_route.h: run in place by the server, a write committed through the group-commit
// writer before the answer); the API itself is src/rest/api.cc.
#include "http/api.h"

#include "http/incoming.h"
#include "http/rest_route.h"

namespace http {

namespace {

void add_all(Router& router, std::vector<rest::Route> routes, store::Writer* writer) {
  for (rest::Route& r : routes) {
    router.add(beast_http::string_to_verb(r.method), std::move(r.pattern),
               RestRoute{std::move(r.handler), writer});
  }
}

}  // namespace

base::Result<classroom::Actor> authenticate(const Incoming& req, const ApiDeps& deps,
                                            ThreadCache* cache) {
  return rest::authenticate(req.find(beast_http::field::authorization), deps, cache);
}

void register_api(Router& router, ApiDeps& deps) {
  add_all(router, rest::api_routes(deps), deps.writer);
}

void register_admin(Router& router, ApiDeps& deps) {
  add_all(router, rest::admin_routes(deps), deps.writer);
}

}  // namespace http
