// Routes requests by method and path pattern ("/api/v1/courses/{id}") to coroutine handlers.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "rest/router.h"

namespace http {

class Router {
 public:
  // `pattern` is a literal path whose segments may be "{name}" (one segment each).
  // The pattern also names the route in metrics (Match::label).
  void add(Verb method, std::string pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route (404) or wrong method (405)
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
  // front, which decides per request whether to serve it here or on the course's home).
  void wrap(const std::function<Handler(const RouteInfo& route, Handler inner)>& wrap);

  // Every route in registration order; the views are valid until the next add(). Tests walk
  // this table (tests/http/authz_matrix_test.cc checks each route against docs/api.md).
  std::vector<RouteInfo> routes() const;

 private:
  // Matching is rest::PathTable's (shared with the wasm32-wasi server); index i of the table
  // is verbs_[i] and handlers_[i].
  rest::PathTable table_;
  std::vector<Verb> verbs_;
  std::vector<Handler> handlers_;
};

}  // namespace http
