// Routes requests by method and path pattern ("/api/v1/courses/{id}") to coroutine handlers.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/rest_route.h"
#include "rest/router.h"

namespace http {

class Router {
 public:
  // `pattern` is a literal path whose segments may be "{name}" (one segment each).
  // The pattern also names the route in metrics (Match::label).
  void add(Verb method, std::string pattern, Handler handler);
  // A route of the REST API (http/rest_route.h): the server runs it in place; its handler
  // (Match::handler, and what wrap() gives a wrapper) is the same route as a coroutine.
  void add(Verb method, std::string pattern, RestRoute route);

  struct Match {
    const Handler* handler = nullptr;  // null: no route (404) or wrong method (405)
    // Set when the route is a REST route no wrapper replaced: the server runs this instead of
    // `handler` (the same answer, without a coroutine or a Beast message).
    const RestRoute* rest = nullptr;
    bool path_known = false;           // true when some route has this path (405 case)
    std::string_view label;            // the matched pattern, "unmatched" otherwise
    std::string allow;                 // methods for a 405's Allow header
  };
  // Matches `path` (without query string). Captured params are views into `path`. A HEAD
  // request matches the GET route of its path; `allow` lists HEAD wherever GET is.
  Match match(Verb method, std::string_view path, PathParams& params) const;

  // One registered route, as the router serves it.
  struct RouteInfo {
    Verb method;
    std::string_view pattern;  // as given to add(); also the route's metrics label
  };
  // Replaces every handler registered so far by `wrap(route, handler)` (e.g. the city's
  // front, which decides per request whether to serve it here or on the course's home), or
  // leaves a route as it is (a REST route still run in place) where `wrap` returns an empty
  // Handler.
  void wrap(const std::function<Handler(const RouteInfo& route, const Handler& inner)>& wrap);

  // Every route in registration order; the views are valid until the next add(). Tests walk
  // this table (tests/http/authz_matrix_test.cc checks each route against docs/api.md).
  std::vector<RouteInfo> routes() const;

 private:
  // Matching is rest::PathTable's (shared with the wasm32-wasi server); index i of the table
  // is verbs_[i], handlers_[i] and rests_[i].
  rest::PathTable table_;
  std::vector<Verb> verbs_;
  std::vector<Handler> handlers_;
  std::vector<std::shared_ptr<const RestRoute>> rests_;  // null: a coroutine route, or wrapped
};

}  // namespace http
