#include "app/city_front.h"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "base/crypto.h"
#include "base/jwt.h"
#include "base/log.h"
#include "base/strings.h"

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

}  // namespace

std::string CityFront::credential_for(std::string_view jwt_secret) {
  return base::hex_encode(base::as_bytes(base::hmac_sha256(jwt_secret, "edgeclass-city-v1")));
}

CityFront::CityFront(city::City& city, http::ApiDeps& api, std::string credential, int threads)
    : city_(city),
      api_(api),
      credential_(credential),
      forwarder_(threads, std::move(credential), std::chrono::milliseconds(5000)),
      cache_(city.commands()),
      near_(size_t(std::max(1, threads))) {
  city_.subscriber().subscribe(
      city::ReadCache::kInvalidateChannel,
      [this](const std::string&, const std::string& course) { bump(course); },
      [this] { epoch_++; });  // (re)subscribed: what came meanwhile is unknown
  city_.subscriber().set_state_callback([this](bool) { epoch_++; });
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
  router.wrap([this](const http::Router::RouteInfo& r, http::Handler inner) {
    return wrap(r, std::move(inner));
  });
}

http::Handler CityFront::wrap(const http::Router::RouteInfo& route, http::Handler inner) {
  std::string_view p = route.pattern;
  Kind kind = Kind::kLocal;
  for (std::string_view prefix :
       {"/api/v1/courses/{id}", "/api/v1/sessions/{id}", "/api/v1/quizzes/{id}"}) {
    if (base::starts_with(p, prefix) && (p.size() == prefix.size() || p[prefix.size()] == '/')) {
      kind = Kind::kEntity;
    }
  }
  if (p == "/api/v1/courses" && route.method == http::Verb::post) kind = Kind::kCreateCourse;
  if (kind == Kind::kLocal) return inner;
  auto shared = std::make_shared<http::Handler>(std::move(inner));
  if (kind == Kind::kCreateCourse) {
    // A course lives where it was created.
    return [this, shared](http::Ctx& c) -> awaitable<http::Response> {
      http::Response r = co_await (*shared)(c);
      std::string id = created_id(r);
      if (!id.empty()) city_.directory()->register_owned({id, id});
      co_return r;
    };
  }
  return [this, shared](http::Ctx& c) { return serve_entity(c, *shared); };
}

awaitable<http::Response> CityFront::serve_entity(http::Ctx& c, const http::Handler& inner) {
  std::string id(c.param("id"));
  if (auto course = city_.directory()->owner(id)) {
    co_return co_await serve_here(c, inner, *course);
  }
  // Forwarded to us although we do not know the id (a directory entry older than our
  // store): answer here rather than send it around again.
  auto h = c.req.find(city::kCityHeader);
  if (h != c.req.end() && h->value() == credential_) co_return co_await inner(c);

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
    if (!id.empty()) city_.directory()->register_owned({id, course});
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
  http::Request req = c.req;
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

void CityFront::invalidate(const std::string& course) {
  cache_.invalidate(course, [this, course](base::Status s) {
    if (s.is_ok()) return;
    std::lock_guard lock(dirty_mu_);
    dirty_.push_back(course);
  });
}

}  // namespace app
