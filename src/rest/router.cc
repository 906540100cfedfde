#include "rest/router.h"

#include <cstring>

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "base/strings.h"

namespace rest {

std::string_view PathParams::get(std::string_view name) const {
  for (size_t i = 0; i < size; ++i) {
    if (names[i] == name) return values[i];
  }
  return {};
}

size_t PathTable::add(std::string method, std::string pattern) {
  Route r{std::move(method), std::move(pattern), 0, false, {}};
  const std::vector<std::string_view> parts =
      base::split(std::string_view(r.pattern).substr(1), '/');
  r.segment_count = parts.size();
  r.rest = !parts.empty() && parts.back().size() > 3 && parts.back().front() == '{' &&
           parts.back().ends_with("*}");
  // Literal runs of segments become one piece (one compare per request, not one per segment).
  size_t literal = 0;  // where the current literal piece began in the pattern
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view seg = parts[i];
    const size_t at = size_t(seg.data() - r.pattern.data());
    if (!(seg.size() > 2 && seg.front() == '{' && seg.back() == '}')) continue;
    if (at > literal)
      r.pieces.push_back({Piece::kLiteral, uint32_t(literal), uint32_t(at - literal)});
    const bool last = i + 1 == parts.size();
    r.pieces.push_back(
        {last && r.rest ? Piece::kRest : Piece::kParam, uint32_t(at), uint32_t(seg.size())});
    literal = at + seg.size();
  }
  if (r.pattern.size() > literal) {
    r.pieces.push_back({Piece::kLiteral, uint32_t(literal), uint32_t(r.pattern.size() - literal)});
  }
  r.pieces.shrink_to_fit();
  const auto index = uint32_t(routes_.size());
  for (size_t n = 1; n <= kMaxSegments; ++n) {
    if (r.rest ? n >= r.segment_count : n == r.segment_count) by_count_[n].push_back(index);
  }
  routes_.push_back(std::move(r));
  return index;
}

namespace {

// How many times `c` occurs in `s`: 16 bytes per step where SSE2 is there (a path's segments
// are counted per request; a memchr call per segment cost more).
size_t count_byte(std::string_view s, char c) {
  const char* p = s.data();
  const char* const end = p + s.size();
  size_t n = 0;
#if defined(__SSE2__) && defined(__x86_64__)
  // Each matching byte as a 1, summed by _mm_sad_epu8 into two 64-bit lanes (a popcount is a
  // libgcc call on the baseline x86-64 this is built for).
  const __m128i want = _mm_set1_epi8(c);
  const __m128i one = _mm_set1_epi8(1);
  __m128i sums = _mm_setzero_si128();
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hits = _mm_and_si128(_mm_cmpeq_epi8(v, want), one);
    sums = _mm_add_epi64(sums, _mm_sad_epu8(hits, _mm_setzero_si128()));
  }
  n = size_t(_mm_cvtsi128_si64(sums)) + size_t(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
#endif
  for (; p < end; ++p) n += *p == c;
  return n;
}

}  // namespace

PathTable::Match PathTable::match(std::string_view method, std::string_view path,
                                  PathParams& params) const {
  Match m;
  m.label = "unmatched";
  params.size = 0;
  if (path.empty() || path[0] != '/') return m;
  // A path of n segments has n slashes; one deeper than any route matches none.
  const size_t nsegs = count_byte(path, '/');
  if (nsegs > kMaxSegments) return m;
  // The first route of this path and method wins; the others of the path are only looked at
  // for a 405's Allow header, when none has the method (building it for every request was a
  // string built per matched request).
  for (const uint32_t ri : by_count_[nsegs]) {
    const Route& r = routes_[ri];
    // The route's pieces against the path, left to right; captured straight into `params` (a
    // route that does not match leaves only a count, reset here). A route of this segment
    // count whose pieces all match took the whole path: its literals hold its slashes, a
    // "{x}" stops at the next one, a "{x*}" takes the rest.
    PathParams& p = params;
    p.size = 0;
    size_t pos = 0;
    bool ok = true;
    for (const Piece& piece : r.pieces) {
      const char* text = r.pattern.data() + piece.begin;
      if (piece.kind == Piece::kLiteral) {
        ok = path.size() - pos >= piece.size &&
             std::memcmp(path.data() + pos, text, piece.size) == 0;
        pos += piece.size;
      } else if (p.size == p.values.size()) {
        ok = false;
      } else if (piece.kind == Piece::kParam) {
        size_t slash = path.find('/', pos);
        if (slash == std::string_view::npos) slash = path.size();
        ok = slash > pos;
        p.names[p.size] = std::string_view(text + 1, piece.size - 2);
        p.values[p.size++] = path.substr(pos, slash - pos);
        pos = slash;
      } else {  // kRest: the rest of the path, even empty after a final slash
        p.names[p.size] = std::string_view(text + 1, piece.size - 3);
        p.values[p.size++] = path.substr(pos);
        pos = path.size();
      }
      if (!ok) break;
    }
    if (!ok || pos != path.size()) continue;
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
