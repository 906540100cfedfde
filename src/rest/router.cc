#include "rest/router.h"

#include "base/strings.h"

namespace rest {

std::string_view PathParams::get(std::string_view name) const {
  for (size_t i = 0; i < size; ++i) {
    if (names[i] == name) return values[i];
  }
  return {};
}

size_t PathTable::add(std::string method, std::string pattern) {
  Route r{std::move(method), std::move(pattern), {}, {}};
  // Sized once: growing them segment by segment reallocated and moved the segments (a fifth
  // of this function's instructions; every route is added before a cold start listens).
  const std::vector<std::string_view> parts =
      base::split(std::string_view(r.pattern).substr(1), '/');
  r.segments.reserve(parts.size());
  r.param.reserve(parts.size());
  for (auto seg : parts) {
    r.segments.emplace_back(seg);
    const std::string& w = r.segments.back();
    r.param.push_back(w.size() > 2 && w.front() == '{' && w.back() == '}');
  }
  r.rest = !r.segments.empty() && r.segments.back().size() > 3 && r.segments.back().ends_with("*}");
  const auto index = uint32_t(routes_.size());
  for (size_t n = 1; n <= kMaxSegments; ++n) {
    if (r.rest ? n >= r.segments.size() : n == r.segments.size()) by_count_[n].push_back(index);
  }
  routes_.push_back(std::move(r));
  return index;
}

PathTable::Match PathTable::match(std::string_view method, std::string_view path,
                                  PathParams& params) const {
  Match m;
  m.label = "unmatched";
  if (path.empty() || path[0] != '/') return m;
  // Split the path once into segment views on the stack (no allocation on the hot path).
  std::array<std::string_view, kMaxSegments> segs;
  size_t nsegs = 0;
  std::string_view rest_path = path.substr(1);
  while (true) {
    if (nsegs == kMaxSegments) return m;  // deeper than any route
    size_t slash = rest_path.find('/');
    segs[nsegs++] = rest_path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    rest_path.remove_prefix(slash + 1);
  }
  // The first route of this path and method wins; the others of the path are only looked at
  // for a 405's Allow header, when none has the method (building it for every request was a
  // string built per matched request).
  for (const uint32_t ri : by_count_[nsegs]) {
    const Route& r = routes_[ri];
    // A last segment "{name*}" captures the rest of the path (at least one segment).
    const bool rest = r.rest;
    if (rest ? nsegs < r.segments.size() : r.segments.size() != nsegs) continue;
    // Captured straight into `params` (a route that does not match leaves only a count,
    // reset here): a PathParams of its own per route looked at was zeroed and copied.
    PathParams& p = params;
    p.size = 0;
    bool ok = true;
    for (size_t i = 0; i < r.segments.size() && ok; ++i) {
      const std::string& want = r.segments[i];
      if (rest && i + 1 == r.segments.size()) {
        const char* begin = segs[i].data();
        const char* end = segs[nsegs - 1].data() + segs[nsegs - 1].size();
        p.names[p.size] = std::string_view(want).substr(1, want.size() - 3);
        p.values[p.size++] = std::string_view(begin, size_t(end - begin));
        break;
      }
      if (r.param[i]) {
        if (segs[i].empty() || p.size == p.values.size()) {
          ok = false;
        } else {
          p.names[p.size] = std::string_view(want).substr(1, want.size() - 2);
          p.values[p.size++] = segs[i];
        }
      } else {
        ok = want == segs[i];
      }
    }
    if (!ok) continue;
    m.path_known = true;
    // HEAD is served by the GET route (the server sends the headers only, RFC 9110 §9.3.2).
    bool same = r.method == method || (method == "HEAD" && r.method == "GET");
    if (same) {
      m.index = ri;
      m.label = r.pattern;
      m.allow.clear();
      return m;
    }
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
    if (r.method == "GET") m.allow += ", HEAD";
  }
  params.size = 0;  // no route: nothing captured
  return m;
}

Reply Reply::commit(store::WriteOp op, bool invalidates,
                    std::function<Response(const base::Status&)> then) {
  Reply r{Response{}};
  r.response.reset();
  r.op = std::move(op);
  r.invalidates = invalidates;
  r.then = std::move(then);
  return r;
}

void Router::add(Route route) {
  table_.add(std::move(route.method), std::move(route.pattern));
  handlers_.push_back(std::move(route.handler));
}

Router::Match Router::match(std::string_view method, std::string_view path,
                            PathParams& params) const {
  PathTable::Match t = table_.match(method, path, params);
  Match m;
  if (t.index) m.handler = &handlers_[*t.index];
  m.path_known = t.path_known;
  m.label = t.label;
  m.allow = std::move(t.allow);
  return m;
}

Response route_error(bool path_known, std::string_view method, std::string_view path,
                     const std::string& allow) {
  if (path_known) {
    Response r = error_response(
        base::Status(base::Code::kInvalidArgument,
                     "method " + std::string(method) + " is not allowed here; use " + allow,
                     "method_not_allowed"));
    r.status = 405;
    r.set("Allow", allow);
    return r;
  }
  return error_response(base::not_found("no route for " + std::string(path), "route_not_found"));
}

}  // namespace rest
