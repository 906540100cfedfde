// Routing and the handler contract of the transport-neutral REST layer: path patterns
// ("/api/v1/courses/{id}") matched to handlers that answer at once or ask their transport to
// commit one write first (Reply). The Beast server (src/http) and the wasm32-wasi server
// (src/wasm) both run these handlers; only how a write is committed differs (the group-commit
// writer thread natively, a transaction on the one connection in the wasm server).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rest/message.h"
#include "store/txn.h"

namespace rest {

// Path parameters captured by {name} segments, in pattern order.
struct PathParams {
  std::array<std::string_view, 4> values{};
  std::array<std::string_view, 4> names{};
  size_t size = 0;
  std::string_view get(std::string_view name) const;
};

// Method + path pattern matching, shared by every transport's router. Methods are compared
// as strings ("GET"); HEAD matches the GET route of its path.
class PathTable {
 public:
  // `pattern` is a literal path whose segments may be "{name}" (one segment each) and whose
  // last segment may be "{name*}" (the rest of the path, at least one segment). Returns the
  // route's index (0, 1, ... in the order added).
  size_t add(std::string method, std::string pattern);

  struct Match {
    std::optional<size_t> index;  // none: no route (404) or wrong method (405)
    bool path_known = false;      // true when some route has this path (405 case)
    std::string_view label;       // the matched pattern, "unmatched" otherwise
    std::string allow;            // methods for a 405's Allow header (only without index)
  };
  // Captured params are views into `path`.
  Match match(std::string_view method, std::string_view path, PathParams& params) const;

  size_t size() const { return routes_.size(); }
  std::string_view method(size_t i) const { return routes_[i].method; }
  std::string_view pattern(size_t i) const { return routes_[i].pattern; }

 private:
  // What a route's pattern is matched as, in order: literal text (its slashes included),
  // "{x}" (one non-empty segment) and, last, "{x*}" (the rest of the path). Offsets into the
  // pattern (not views: a Route is moved, and a short pattern's bytes with it).
  struct Piece {
    enum Kind : uint8_t { kLiteral, kParam, kRest };
    Kind kind;
    uint32_t begin;  // the literal's bytes, or the whole "{x}" / "{x*}"
    uint32_t size;
  };
  struct Route {
    std::string method;
    std::string pattern;
    size_t segment_count = 0;
    bool rest = false;  // the last segment is "{x*}"
    std::vector<Piece> pieces;
  };
  static constexpr size_t kMaxSegments = 16;  // deeper paths match no route
  std::vector<Route> routes_;
  // by_count_[n]: the routes a path of n segments can match, in the order added (the first
  // that matches wins), so a request looks at a few routes rather than at all of them.
  std::array<std::vector<uint32_t>, kMaxSegments + 1> by_count_;
};

// Everything a handler gets for one request. The transport keeps it alive until the answer
// is built, including across a Reply's commit (so a Reply's `then` may refer to it).
struct Call {
  const Request& req;
  const PathParams& params;
  int thread_index = 0;  // which I/O thread serves it (per-thread readers and caches)
  // The authenticated caller's id, set by the handler once known (for the access log).
  std::string user_id;

  std::optional<std::string> query_param(std::string_view name) const {
    return rest::query_param(req.query, name);
  }
  std::string_view param(std::string_view name) const { return params.get(name); }
};

// A handler's answer: the response now, or one write to commit first and the response to
// build from the commit's outcome.
struct Reply {
  Reply(Response r) : response(std::move(r)) {}  // NOLINT: a Response is an immediate Reply
  // `op` runs in a write transaction; once that committed (or failed), the transport answers
  // then(status). `invalidates`: the op may change courses, enrollments, sessions or quizzes
  // (the transport bumps classroom's catalog generation after the commit).
  static Reply commit(store::WriteOp op, bool invalidates,
                      std::function<Response(const base::Status&)> then);

  std::optional<Response> response;
  store::WriteOp op;
  bool invalidates = true;
  std::function<Response(const base::Status&)> then;
};

using Handler = std::function<Reply(Call&)>;

// One route of the API: what a transport registers on its router.
struct Route {
  std::string method;  // "GET", "POST", "PATCH", "DELETE"
  std::string pattern;
  Handler handler;
};

// A router over neutral handlers (the wasm32-wasi server's; the Beast server has its own
// over coroutines, on the same PathTable).
class Router {
 public:
  void add(Route route);
  struct Match {
    const Handler* handler = nullptr;
    bool path_known = false;
    std::string_view label;
    std::string allow;
  };
  Match match(std::string_view method, std::string_view path, PathParams& params) const;

 private:
  PathTable table_;
  std::vector<Handler> handlers_;
};

// The answer when no route matched: 405 method_not_allowed with Allow when the path is
// known, else 404 route_not_found.
Response route_error(bool path_known, std::string_view method, std::string_view path,
                     const std::string& allow);

}  // namespace rest
