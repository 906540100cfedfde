#include "app/city_front.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <ctime>
#include <tuple>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/jwt.h"
#include "base/log.h"
#include "base/strings.h"
#include "classroom/join_code.h"
#include "http/incoming.h"
#include "store/cursor.h"
#include "store/join_codes.h"

// GCC 12 false positive, not a real mismatch: Asio's coroutine frames take their memory
// through awaitable_frame_base::operator new and give it back through its operator delete,
// both on thread_info_base's recycling cache (aligned_alloc / free underneath). Once both are
// inlined into a coroutine, GCC pairs the class operator delete with the aligned_alloc it sees
// and reports -Wmismatched-new-delete at the coroutine's closing brace (which coroutines it
// hits depends on inlining). Silenced for this file's coroutines only; popped at its end.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace app {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using http::beast_http::field;
using http::beast_http::status;

namespace {

// Runs `start(callback)` (an operation completing on the city thread) and resumes the
// awaiting coroutine on its own executor with the callback's value. `start` is a named
// lambda of the caller: GCC 12 destroys some temporaries of a co_await expression twice
// (closures holding strings among them), so none are passed as temporaries here.
template <typename T, typename Start>
awaitable<T> on_city(Start& start) {
  auto ex = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [ex, &start](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([h, ex](T v) mutable {
          asio::post(ex, [h, v = std::move(v)]() mutable { (*h)(std::move(v)); });
        });
      },
      asio::use_awaitable);
}

http::Response refused(const base::Status& s, const char* retry_after) {
  http::Response r = http::error_response(s);
  r.set(field::retry_after, retry_after);
  return r;
}

bool is_write(http::Verb v) { return v != http::Verb::get && v != http::Verb::head; }

// A cached answer: "<status>\n<content type>\n<body>".
std::string pack(const city::HttpResponse& r) {
  std::string out = std::to_string(r.result_int());
  out += '\n';
  out += std::string(r[field::content_type]);
  out += '\n';
  out += r.body();
  return out;
}

std::optional<http::Response> unpack(const std::string& s) {
  size_t a = s.find('\n');
  if (a == std::string::npos) return std::nullopt;
  size_t b = s.find('\n', a + 1);
  if (b == std::string::npos) return std::nullopt;
  auto code = base::parse_int(std::string_view(s).substr(0, a));
  if (!code) return std::nullopt;
  http::Response r(static_cast<status>(*code), 11);
  r.set(field::content_type, s.substr(a + 1, b - a - 1));
  r.body() = s.substr(b + 1);
  r.prepare_payload();
  return r;
}

// The "id" of what a 201 created, if its body says.
std::string created_id(const http::Response& r) {
  if (r.result() != status::created) return {};
  boost::system::error_code ec;
  json::value v = json::parse(r.body(), ec);
  if (ec || !v.is_object()) return {};
  const json::value* id = v.as_object().if_contains("id");
  return id && id->is_string() ? std::string(id->as_string()) : std::string();
}

// "2026-12-06T22:30:00.123Z" (base::format_utc_ms) back to Unix milliseconds.
std::optional<int64_t> parse_utc_ms(std::string_view s) {
  tm t{};
  int ms = 0;
  std::string z(s);
  if (std::sscanf(z.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &t.tm_year, &t.tm_mon, &t.tm_mday,
                  &t.tm_hour, &t.tm_min, &t.tm_sec, &ms) != 7) {
    return std::nullopt;
  }
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return int64_t(timegm(&t)) * 1000 + ms;
}

}  // namespace

struct CityFront::Part {
  std::string replica;
  std::string url;
  http::Request req;
  std::optional<city::HttpResponse> answer;
};

std::string CityFront::credential_for(std::string_view jwt_secret) {
  return base::hex_encode(base::as_bytes(base::hmac_sha256(jwt_secret, "edgeclass-city-v1")));
}

CityFront::CityFront(city::City& city, http::ApiDeps& api, std::string credential, int threads,
                     std::shared_ptr<city::PeerTrust> trust)
    : city_(city),
      api_(api),
      credential_(credential),
      forwarder_(threads, std::move(credential), std::chrono::milliseconds(5000), std::move(trust)),
      cache_(city.commands()),
      near_(size_t(std::max(1, threads))) {
  city_.subscriber().subscribe(
      city::ReadCache::kInvalidateChannel,
      [this](const std::string&, const std::string& course) { bump(course); },
      [this] { epoch_++; });  // (re)subscribed: what came meanwhile is unknown
  city_.subscriber().add_state_callback([this](bool) { epoch_++; });
  city_.on_connected([this] {
    std::vector<std::string> dirty;
    {
      std::lock_guard lock(dirty_mu_);
      dirty.swap(dirty_);
    }
    for (const std::string& course : dirty) invalidate(course);
  });
}

uint64_t CityFront::generation(const std::string& course) const {
  std::shared_lock lock(gen_mu_);
  auto it = generations_.find(course);
  return it == generations_.end() ? 0 : it->second;
}

void CityFront::bump(const std::string& course) {
  std::unique_lock lock(gen_mu_);
  ++generations_[course];
}

void CityFront::install(http::Router& router) {
  router.wrap([this](const http::Router::RouteInfo& r, const http::Handler& inner) {
    return wrap(r, inner);
  });
}

http::Handler CityFront::wrap(const http::Router::RouteInfo& route, const http::Handler& inner) {
  std::string_view p = route.pattern;
  Kind kind = Kind::kLocal;
  for (std::string_view prefix :
       {"/api/v1/courses/{id}", "/api/v1/sessions/{id}", "/api/v1/quizzes/{id}"}) {
    if (base::starts_with(p, prefix) && (p.size() == prefix.size() || p[prefix.size()] == '/')) {
      kind = Kind::kEntity;
    }
  }
  if (p == "/api/v1/courses" && route.method == http::Verb::post) kind = Kind::kCreateCourse;
  if (p == "/api/v1/courses" && route.method == http::Verb::get) kind = Kind::kListCourses;
  if (p == "/api/v1/join" && route.method == http::Verb::post) kind = Kind::kJoinByCode;
  if (kind == Kind::kLocal) return {};  // served here as it is
  auto shared = std::make_shared<http::Handler>(inner);
  switch (kind) {
    case Kind::kCreateCourse:
      // A course lives where it was created (and so does its class code).
      return [this, shared](http::Ctx& c) -> awaitable<http::Response> {
        http::Response r = co_await (*shared)(c);
        std::string id = created_id(r);
        if (!id.empty()) {
          const city::Owned created{id, id};
          co_await register_created(created);
          co_await sync_code(id, c.thread_index);
        }
        co_return r;
      };
    case Kind::kJoinByCode:
      return [this, shared](http::Ctx& c) { return join_by_code(c, *shared); };
    case Kind::kListCourses:
      return [this, shared](http::Ctx& c) { return list_courses(c, *shared); };
    default:
      return [this, shared](http::Ctx& c) {
        return serve_entity(c, *shared, std::string(c.param("id")));
      };
  }
}

bool CityFront::carries_credential(const http::Ctx& c, std::string_view credential) {
  std::optional<std::string_view> h = c.req.find(city::kCityHeader);
  return h && !credential.empty() && base::constant_time_equal(*h, credential);
}

bool CityFront::forwarded_here(const http::Ctx& c) const {
  return carries_credential(c, credential_);
}

awaitable<void> CityFront::sync_code(const std::string& course, int thread_index) {
  auto code = store::get_join_code(*api_.readers[size_t(thread_index)], course);
  if (!code.is_ok()) co_return;  // the course is gone: its entry stays until a restart
  std::string value = code->value_or("");
  auto set = [this, &course, &value](auto cb) {
    city_.directory()->set_code(course, value, [cb]() mutable { cb(true); });
  };
  co_await on_city<bool>(set);
}

// Before the 201 goes out: a client that asks another replica about the new id next must
// find its directory entry there (the SET is in Redis before the answer leaves).
awaitable<void> CityFront::register_created(const city::Owned& o) {
  auto reg = [this, &o](auto cb) {
    city_.directory()->register_owned(o, [cb]() mutable { cb(true); });
  };
  co_await on_city<bool>(reg);
}

// POST /api/v1/join {"code"}: the code names the course, so the directory's entry for the
// code (written by the course's home) says where to send it.
awaitable<http::Response> CityFront::join_by_code(http::Ctx& c, const http::Handler& inner) {
  boost::system::error_code ec;
  json::value body = json::parse(c.req.body(), ec);
  std::optional<std::string> code;
  if (!ec && body.is_object()) {
    if (const json::value* v = body.as_object().if_contains("code"); v && v->is_string()) {
      code = classroom::normalize_join_code(v->as_string());
    }
  }
  // Not a well-formed code: answered here with the single node's 400.
  if (!code) co_return co_await inner(c);
  co_return co_await serve_entity(c, inner, city::Directory::code_id(*code));
}

awaitable<http::Response> CityFront::serve_entity(http::Ctx& c, const http::Handler& inner,
                                                  std::string id) {
  if (auto course = city_.directory()->owner(id)) {
    co_return co_await serve_here(c, inner, *course);
  }
  // Forwarded to us although we do not know the id (a directory entry older than our
  // store): answer here rather than send it around again.
  if (forwarded_here(c)) co_return co_await inner(c);

  base::Result<city::Home> home = base::not_found("");
  if (auto known = city_.directory()->cached_home(id)) {
    home = std::move(*known);
  } else {
    auto lookup = [this, &id](auto cb) { city_.directory()->lookup(id, std::move(cb)); };
    home = co_await on_city<base::Result<city::Home>>(lookup);
  }
  if (!home.is_ok()) {
    if (home.status().reason() == "unknown_entity") co_return co_await inner(c);
    counters_.refused++;
    // What the directory lookup said (the client only hears city_unavailable).
    static base::log::Every log_every(1'000'000'000);
    if (uint64_t n; log_every.due(base::SystemClock::instance().now_mono_ns(), &n)) {
      base::log::warn("city.lookup_failed")
          .kv("id", id)
          .kv("error", home.status().message())
          .kv("suppressed", n);
    }
    co_return refused(base::unavailable("the city's Redis is not reachable; try again shortly",
                                        "city_unavailable"),
                      "2");
  }
  if (home->replica_id == city_.options().replica_id) {
    // Ours by the directory, not yet in the local map (created a moment ago elsewhere).
    co_return co_await serve_here(c, inner, home->course_id);
  }
  if (!is_write(c.req.method())) co_return co_await read_remote(c, inner, *home);
  http::Response r = co_await forward(c, *home);
  bump(home->course_id);  // our own reads see this write at once, message or not
  co_return r;
}

awaitable<http::Response> CityFront::serve_here(http::Ctx& c, const http::Handler& inner,
                                                const std::string& course) {
  http::Response r = co_await inner(c);
  if (is_write(c.req.method()) && r.result_int() < 300) {
    // Before answering, so that a read anywhere after this answer misses the old views.
    auto invalidate = [this, &course](auto cb) { cache_.invalidate(course, std::move(cb)); };
    base::Status s = co_await on_city<base::Status>(invalidate);
    if (!s.is_ok()) {
      std::lock_guard lock(dirty_mu_);
      dirty_.push_back(course);
    }
    std::string id = created_id(r);
    if (!id.empty()) {
      const city::Owned created{id, course};
      co_await register_created(created);
    }
    co_await sync_code(course, c.thread_index);  // a rotated code (or none) is what the city finds
  }
  co_return r;
}

awaitable<http::Response> CityFront::forward(http::Ctx& c, const city::Home& home) {
  if (home.url.empty()) {
    counters_.refused++;
    co_return refused(base::unavailable("the home replica of course " + home.course_id + " (" +
                                            home.replica_id + ") is not alive; try again shortly",
                                        "course_home_unavailable"),
                      "5");
  }
  counters_.forwarded++;
  http::Request req = c.req.beast();
  base::Result<city::HttpResponse> res = co_await forwarder_.forward(home.url, req, c.thread_index);
  if (!res.is_ok()) {
    counters_.refused++;
    co_return refused(res.status(), "5");
  }
  http::Response out(res->result(), 11);
  for (field f : {field::content_type, field::retry_after, field::allow}) {
    if (res->find(f) != res->end()) out.set(f, (*res)[f]);
  }
  out.set("X-Edgeclass-Home", home.replica_id);
  out.body() = std::move(res->body());
  out.prepare_payload();
  co_return out;
}

awaitable<http::Response> CityFront::read_remote(http::Ctx& c, const http::Handler& inner,
                                                 const city::Home& home) {
  // The answer depends on who asks: cache it per caller (the home decided what they see).
  auto actor = http::authenticate(c.req, api_, api_.caches[size_t(c.thread_index)].get());
  if (!actor.is_ok()) co_return co_await inner(c);  // the 401, as on a single node
  std::string key = base::hex_encode(
      base::as_bytes(base::sha256(actor->id + "\n" + std::string(base::role_name(actor->role)) +
                                  "\n" + std::string(c.req.target()))));
  auto get = [this, &home, &key](auto cb) { cache_.get(home.course_id, key, std::move(cb)); };
  // Generation and epoch before anything is read: an invalidation from now on makes what
  // this read stores in memory stale at once.
  uint64_t gen = generation(home.course_id);
  uint64_t epoch = epoch_.load();
  NearCache& near = near_[size_t(c.thread_index) % near_.size()];
  if (city_.subscriber().connected()) {
    auto it = near.entries.find(key);
    if (it != near.entries.end() && it->second.generation == gen && it->second.epoch == epoch &&
        it->second.course == home.course_id &&
        std::chrono::steady_clock::now() - it->second.filled < kNearTtl) {
      counters_.near_hits++;
      http::Response r = it->second.answer;
      co_return r;
    }
  }
  base::Result<city::CacheRead> cached = co_await on_city<base::Result<city::CacheRead>>(get);
  if (!cached.is_ok()) {
    counters_.refused++;
    co_return refused(base::unavailable("the city's Redis is not reachable; try again shortly",
                                        "city_unavailable"),
                      "2");
  }
  if (cached->answer) {
    if (auto r = unpack(*cached->answer)) {
      counters_.cache_hits++;
      r->set("X-Edgeclass-Cache", "hit");
      if (near.entries.size() >= kNearEntries) near.entries.clear();
      near.entries[key] =
          NearEntry{home.course_id, std::chrono::steady_clock::now(), gen, epoch, *r};
      co_return std::move(*r);
    }
  }
  counters_.cache_misses++;
  http::Response r = co_await forward(c, home);
  if (r.result() == status::ok && r.find("X-Edgeclass-Home") != r.end()) {
    city::HttpResponse stored(r.result(), 11);
    stored.set(field::content_type, r[field::content_type]);
    stored.body() = r.body();
    cache_.put(home.course_id, cached->version, key, pack(stored));
  }
  co_return r;
}

// GET /api/v1/courses over the city. Each course is listed by its home only, and every
// replica pages its courses in one order, (created_at, id), so the receiving replica asks
// every live replica for the same page (same query and cursor, the caller's token; the
// replicas answer concurrently) and merges: an item may be given only up to the smallest
// point where a replica stopped reading (its next_cursor; beyond it that replica may hold
// items not seen yet), and at most `limit` of them; the next cursor is the last item given
// or that point. Pages stay disjoint and complete across calls, as on one node. A replica
// that is down or does not answer leaves its courses out: the answer is still 200 and names
// the missing replicas in X-Edgeclass-Partial. Without Redis: 503 city_unavailable.
namespace {

// Pages of the course list from several replicas, merged into the page one node holding all
// their courses would give: every replica pages in (created_at, id) order, so the merge sorts
// the rows, stops at the smallest point where some replica's page ended, and cuts at `limit`.
class PageMerge {
 public:
  // False: `body` is not a page of the list.
  bool add(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return false;
    const json::value* items = v.as_object().if_contains("items");
    if (!items || !items->is_array()) return false;
    for (const json::value& it : items->as_array()) {
      const json::object* o = it.if_object();
      if (!o) return false;
      const json::value* at = o->if_contains("created_at");
      const json::value* id = o->if_contains("id");
      if (!at || !id || !at->is_string() || !id->is_string()) return false;
      rows_.push_back({std::string(at->as_string()), std::string(id->as_string()), it});
    }
    const json::value* next = v.as_object().if_contains("next_cursor");
    if (next && next->is_string()) {
      auto key = store::decode_cursor(next->as_string());
      if (!key.is_ok()) return false;
      std::pair<std::string, std::string> k{base::format_utc_ms(key->time), key->id};
      if (!bound_ || k < *bound_) {
        bound_ = k;
        bound_cursor_ = std::string(next->as_string());
      }
    }
    return true;
  }

  // {"items": [...], "next_cursor": ...} of at most `limit` rows.
  json::object page(int limit) {
    std::sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) {
      return std::tie(a.at, a.id) < std::tie(b.at, b.id);
    });
    json::array items;
    size_t given = 0;
    for (; given < rows_.size() && int(given) < limit; ++given) {
      if (bound_ && std::make_pair(rows_[given].at, rows_[given].id) > *bound_) break;
      items.push_back(rows_[given].item);
    }
    json::value next = nullptr;
    bool more = bound_.has_value() || given < rows_.size();
    if (more && int(given) == limit) {
      auto t = parse_utc_ms(rows_[given - 1].at);
      if (t) next = json::string(store::encode_cursor({*t, rows_[given - 1].id}));
    } else if (bound_) {
      next = json::string(bound_cursor_);
    }
    return json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
  }

 private:
  struct Row {
    std::string at, id;
    json::value item;
  };
  std::vector<Row> rows_;
  std::optional<std::pair<std::string, std::string>> bound_;  // smallest stop point
  std::string bound_cursor_;
};

}  // namespace

awaitable<http::Response> CityFront::list_courses(http::Ctx& c, const http::Handler& inner) {
  if (forwarded_here(c)) co_return co_await inner(c);
  // Our own page first: it decides whether the query and the caller are good (400, 401).
  http::Response mine = co_await inner(c);
  if (mine.result() != status::ok) co_return mine;
  using Members = base::Result<std::vector<city::Directory::Member>>;
  auto get_members = [this](auto cb) {
    city_.directory()->members(city::Directory::kMemberForget, std::move(cb));
  };
  Members members = co_await on_city<Members>(get_members);
  if (!members.is_ok()) {
    counters_.refused++;
    co_return refused(base::unavailable("the city's Redis is not reachable; try again shortly",
                                        "city_unavailable"),
                      "2");
  }
  std::vector<std::string> missing;
  std::vector<std::shared_ptr<Part>> parts;
  for (const auto& m : *members) {
    if (m.replica_id == city_.options().replica_id) continue;
    if (m.url.empty()) {
      missing.push_back(m.replica_id);
      continue;
    }
    parts.push_back(std::make_shared<Part>(Part{m.replica_id, m.url, c.req.beast(), std::nullopt}));
  }
  if (!parts.empty()) {
    auto ex = co_await asio::this_coro::executor;
    auto pending = std::make_shared<size_t>(parts.size());
    auto done = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
    for (auto& part : parts) {
      counters_.forwarded++;
      asio::co_spawn(ex, fetch_part(part, c.thread_index), [pending, done](std::exception_ptr) {
        if (--*pending == 0) done->cancel();
      });
    }
    // One thread runs this executor: no part can finish between the check and the wait.
    while (*pending > 0) {
      boost::system::error_code ec;
      co_await done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  PageMerge merge;
  if (!merge.add(mine.body())) co_return mine;  // not a page: nothing to merge into
  for (const auto& part : parts) {
    if (!part->answer || part->answer->result() != status::ok || !merge.add(part->answer->body())) {
      missing.push_back(part->replica);
    }
  }
  int limit = 50;  // as the route's own default; the local answer already checked the query
  if (auto l = c.query_param("limit")) limit = int(base::parse_int(*l).value_or(50));
  http::Response out(status::ok, 11);
  out.set(field::content_type, "application/json");
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ",") + m;
    out.set("X-Edgeclass-Partial", list);
  }
  out.body() = json::serialize(merge.page(limit));
  out.prepare_payload();
  co_return out;
}

awaitable<void> CityFront::fetch_part(std::shared_ptr<Part> part, int thread_index) {
  base::Result<city::HttpResponse> res =
      co_await forwarder_.forward(part->url, part->req, thread_index);
  if (res.is_ok()) part->answer = std::move(res).value();
}

void CityFront::invalidate(const std::string& course) {
  cache_.invalidate(course, [this, course](base::Status s) {
    if (s.is_ok()) return;
    std::lock_guard lock(dirty_mu_);
    dirty_.push_back(course);
  });
}

}  // namespace app

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
