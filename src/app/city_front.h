// The city's front: what makes any replica answer any REST request (docs/design.md, "The
// city"). It wraps every route of the router once (Router::wrap), so routes added later by
// anyone are covered without a list here: a route whose pattern starts with
// /api/v1/courses/{id}, /api/v1/sessions/{id} or /api/v1/quizzes/{id} belongs to the course
// of that id; everything else is served where it arrives.
//
// For a request that belongs to a course:
// - this replica is the course's home (the directory's local map says so, no Redis): served
//   here exactly as on a single node; after a successful write the course's cached views are
//   invalidated, and what a 201 created (its "id") is registered as living here.
// - another replica is the home: writes are forwarded to it over internal HTTP (the city
//   credential header marks them), so every write of a course is ordered by its home's
//   single SQLite writer; reads are answered from the Redis read cache, or forwarded and the
//   answer cached (per caller and URL: the home decided what this caller may see).
// - failures: Redis unreachable -> 503 city_unavailable; the home not alive or not
//   answering -> writes and uncached reads 503 course_home_unavailable; both with
//   Retry-After. No replica claims the id -> served here (404 as on a single node).
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "city/city.h"
#include "city/forwarder.h"
#include "city/read_cache.h"
#include "http/api.h"
#include "http/router.h"

namespace app {

class CityFront {
 public:
  // `city` has its directory enabled; `api` is what the handlers use (authentication).
  // `trust`: the TLS client settings for https:// homes (city/forwarder.h).
  CityFront(city::City& city, http::ApiDeps& api, std::string credential, int threads,
            std::shared_ptr<city::PeerTrust> trust);

  // Wraps every route registered so far.
  void install(http::Router& router);

  // Closes the forwarder's pooled connections: after the I/O threads have stopped, while
  // their io_contexts still exist (the server outlives this object otherwise, so its sockets
  // would be destroyed after their io_context).
  void release_connections() { forwarder_.close_idle(); }

  // The credential the replicas of one city share (derived from the JWT secret, which they
  // must share anyway for tokens to verify everywhere).
  static std::string credential_for(std::string_view jwt_secret);
  // True when `c`'s request carries `credential` in the city header (compared in constant
  // time: the header is the one secret an outsider could probe byte by byte).
  static bool carries_credential(const http::Ctx& c, std::string_view credential);

  struct Counters {
    std::atomic<uint64_t> forwarded{0};   // requests sent to another replica
    std::atomic<uint64_t> cache_hits{0};  // reads answered from the read cache
    std::atomic<uint64_t> cache_misses{0};
    std::atomic<uint64_t> near_hits{0};  // reads answered from this replica's memory
    std::atomic<uint64_t> refused{0};    // 503 city_unavailable / course_home_unavailable
  };
  const Counters& counters() const { return counters_; }

 private:
  enum class Kind { kLocal, kEntity, kCreateCourse, kJoinByCode, kListCourses };
  // The route's handler in a city, or an empty Handler where the route is served here as it
  // is (Router::wrap leaves it).
  http::Handler wrap(const http::Router::RouteInfo& route, const http::Handler& inner);
  boost::asio::awaitable<http::Response> serve_entity(http::Ctx& c, const http::Handler& inner,
                                                      std::string id);
  boost::asio::awaitable<http::Response> join_by_code(http::Ctx& c, const http::Handler& inner);
  boost::asio::awaitable<http::Response> list_courses(http::Ctx& c, const http::Handler& inner);
  bool forwarded_here(const http::Ctx& c) const;
  struct Part;  // one replica's part of a city-wide list
  boost::asio::awaitable<void> fetch_part(std::shared_ptr<Part> part, int thread_index);
  // The class code of `course` (owned here) as the store has it now, told to the directory;
  // completes once the directory has it (or Redis failed): a client told about a new or
  // rotated code next may ask any replica. (Arguments by reference, from named variables of
  // the caller: see on_city in city_front.cc.)
  boost::asio::awaitable<void> sync_code(const std::string& course, int thread_index);
  // Registers `o` (created here) and completes once Redis answered (or failed).
  boost::asio::awaitable<void> register_created(const city::Owned& o);
  boost::asio::awaitable<http::Response> serve_here(http::Ctx& c, const http::Handler& inner,
                                                    const std::string& course);
  boost::asio::awaitable<http::Response> forward(http::Ctx& c, const city::Home& home);
  boost::asio::awaitable<http::Response> read_remote(http::Ctx& c, const http::Handler& inner,
                                                     const city::Home& home);
  void invalidate(const std::string& course);

  // The near cache: answers of the Redis read cache kept in memory per I/O thread, so that a
  // repeated read of another replica's course costs about what a read on its home costs.
  // An entry is good while its course's generation and the global epoch are unchanged: the
  // generation moves on each invalidation message (ReadCache::kInvalidateChannel), the epoch
  // whenever the subscription was (re)established or lost (messages may have been missed),
  // and an entry is never older than kNearTtl (a message that is merely late). So a read on
  // a replica other than the one that wrote may be stale for the time the invalidation takes
  // to arrive (typically well under a millisecond), at most kNearTtl.
  static constexpr std::chrono::milliseconds kNearTtl{1000};
  struct NearEntry {
    std::string course;
    std::chrono::steady_clock::time_point filled;
    uint64_t generation = 0;
    uint64_t epoch = 0;
    http::Response answer;
  };
  struct NearCache {
    std::unordered_map<std::string, NearEntry> entries;  // by cache key; its thread only
  };
  uint64_t generation(const std::string& course) const;
  void bump(const std::string& course);
  static constexpr size_t kNearEntries = 4096;  // per thread; cleared when full

  city::City& city_;
  http::ApiDeps& api_;
  std::string credential_;
  city::Forwarder forwarder_;
  city::ReadCache cache_;
  Counters counters_;
  std::vector<NearCache> near_;  // one per I/O thread
  mutable std::shared_mutex gen_mu_;
  std::unordered_map<std::string, uint64_t> generations_;  // guarded by gen_mu_
  std::atomic<uint64_t> epoch_{1};
  // Courses whose invalidation failed while Redis was away: invalidated on reconnect.
  std::mutex dirty_mu_;
  std::vector<std::string> dirty_;  // guarded by dirty_mu_
};

}  // namespace app
