#include "http/router.h"

#include "base/strings.h"

namespace http {

std::string_view PathParams::get(std::string_view name) const {
  for (size_t i = 0; i < size; ++i) {
    if (names[i] == name) return values[i];
  }
  return {};
}

void Router::add(Verb method, std::string pattern, Handler handler) {
  Route r{method, pattern, {}, std::move(handler)};
  for (auto seg : base::split(std::string_view(pattern).substr(1), '/')) {
    r.segments.emplace_back(seg);
  }
  routes_.push_back(std::move(r));
}

void Router::wrap(const std::function<Handler(const RouteInfo&, Handler)>& wrap) {
  for (Route& r : routes_) r.handler = wrap(RouteInfo{r.method, r.pattern}, std::move(r.handler));
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.push_back({r.method, r.pattern});
  return out;
}

Router::Match Router::match(Verb method, std::string_view path, PathParams& params) const {
  Match m;
  m.label = "unmatched";
  if (path.empty() || path[0] != '/') return m;
  // Split the path once into segment views on the stack (no allocation on the hot path).
  constexpr size_t kMaxSegments = 16;
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
  for (const Route& r : routes_) {
    // A last segment "{name*}" captures the rest of the path (at least one segment).
    bool rest =
        !r.segments.empty() && r.segments.back().size() > 3 && r.segments.back().ends_with("*}");
    if (rest ? nsegs < r.segments.size() : r.segments.size() != nsegs) continue;
    PathParams p;
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
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        if (segs[i].empty() || p.size == p.values.size())
          ok = false;
        else {
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
    bool same = r.method == method || (method == Verb::head && r.method == Verb::get);
    if (same && !m.handler) {
      m.handler = &r.handler;
      m.label = r.pattern;
      params = p;
      continue;
    }
    if (!same) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += std::string(beast_http::to_string(r.method));
      if (r.method == Verb::get) m.allow += ", HEAD";
    }
  }
  return m;
}

}  // namespace http
