// city::Directory — which replica is the home of each course (and of each session and quiz,
// which live with their course), and where each live replica can be reached.
//
// In Redis:
//   ec:replica:<replica id>  = the replica's advertised URL, with a TTL of kReplicaTtl,
//                              renewed every kHeartbeat: a replica that dies drops out of
//                              the city within kReplicaTtl.
//   ec:home:<entity id>      = "<course id> <replica id>" for every course, session and quiz
//                              (no TTL: a course's home does not move; while its replica is
//                              gone, the entry says where it will come back).
//   ec:home:code:<class code> = the same for a course's current class code (code_id()), so
//                              POST /api/v1/join {"code"} finds the course's home; written by
//                              the home when the code is made or rotated, the old one deleted.
//   ec:replicas              = sorted set: every replica id with the time (ms) of its last
//                              heartbeat, so a request can reach every replica (GET
//                              /api/v1/courses is answered by asking all of them).
//
// Re-registration: the heartbeat is `SET ec:replica:<id> <url> EX <ttl> GET`; when the old
// value was missing (first start, Redis restarted empty or failed over and lost writes, or
// this replica was away longer than the TTL) the replica writes every entry it owns again,
// from the owner list (`Owned` rows from its SQLite). A reconnect triggers a heartbeat at
// once, so a city whose Redis came back empty is whole again within a heartbeat of the
// reconnect (well under 10 s).
//
// Threading: owner() is any-thread (a shared_mutex over the local map); lookup() and
// register_owned() may be called from any thread, their callbacks run on the city thread.
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "city/redis.h"

namespace city {

class City;

// One entity this replica is the home of.
struct Owned {
  std::string id;         // a course, session or quiz id
  std::string course_id;  // its course (== id for a course)
};

// Where an entity lives.
struct Home {
  std::string course_id;
  std::string replica_id;
  std::string url;  // the replica's advertised URL; empty when it is not alive
};

class Directory {
 public:
  static constexpr std::chrono::seconds kReplicaTtl{10};
  static constexpr std::chrono::milliseconds kHeartbeat{2000};

  // `all_owned` lists everything this replica is home of (read from its store); it runs on
  // the city thread at start and at each re-registration.
  Directory(City& city, std::function<std::vector<Owned>()> all_owned);

  // Loads the owner list and starts the heartbeat. Call once, after City::start().
  void start();

  // `fn` runs on the city thread after each full registration (first start, and whenever
  // Redis had lost this replica's entries): what else this replica holds in Redis (the
  // presence of its live rooms) is written again then. Before start().
  void on_registered(std::function<void()> fn) { on_registered_ = std::move(fn); }

  // The replica stops: its key is removed, so the others see it down at once (not when its
  // key expires: course_home_unavailable without trying it). It stays a member (members()).
  // City thread; the heartbeat stops.
  void goodbye();

  // The course of `id` if this replica is its home. Any thread, no Redis.
  std::optional<std::string> owner(std::string_view id) const;

  // This replica became the home of `id` (a course it created, or a session or quiz of one
  // of its courses): remembered locally at once and written to Redis (best effort: the next
  // re-registration repairs a write lost while Redis was away). `done` (optional, on the
  // city thread) once Redis answered or failed: a caller that tells a client about `id`
  // afterwards waits for it, so that any replica the client asks next finds it.
  void register_owned(Owned o, std::function<void()> done = nullptr);

  // The course `course` (owned here) now has the class code `code` (empty: none): the code's
  // entry is written and the previous code's entry removed. A no-op when unchanged. Any thread.
  // `done` (optional) once the new entry is written (or failed), at once when unchanged: on
  // the city thread, or on the caller's when nothing was written.
  void set_code(const std::string& course, const std::string& code,
                std::function<void()> done = nullptr);
  static std::string code_id(std::string_view code) { return "code:" + std::string(code); }

  // Every replica that heartbeated within `within`, with its URL (empty when its key has
  // expired: it is down). `done` on the city thread.
  struct Member {
    std::string replica_id;
    std::string url;
  };
  void members(std::chrono::milliseconds within,
               std::function<void(base::Result<std::vector<Member>>)> done);
  static constexpr const char* kReplicasKey = "ec:replicas";
  // A replica missing from the heartbeats this long is taken as gone for good (scaled down).
  static constexpr std::chrono::hours kMemberForget{1};

  // Where `id` lives. not_found (reason "unknown_entity") when no replica claims it;
  // unavailable/"city_unavailable" when Redis does not answer, or when no replica claims it
  // within kRebuildGrace of this replica finding that Redis had lost its entries (the home
  // may not have written its own again yet). `done` on the city thread.
  void lookup(std::string id, std::function<void(base::Result<Home>)> done);

  // The home of `id` from memory, when a lookup() found it within the last kUrlFresh (the
  // course and replica of an id never change; only the replica's URL and liveness do). Any
  // thread, no Redis.
  std::optional<Home> cached_home(std::string_view id) const;
  static constexpr std::chrono::milliseconds kUrlFresh{1000};
  // How long after Redis is found to have lost the directory a miss is "try again": every
  // replica notices within a heartbeat of its reconnect (reconnects back off up to 2 s).
  static constexpr std::chrono::seconds kRebuildGrace{10};
  bool rebuilding() const {
    return std::chrono::steady_clock::now().time_since_epoch().count() <
           rebuilding_until_ns_.load();
  }

  // Entries written by the last full registration (for tests and logs).
  size_t registered() const { return registered_.load(); }
  uint64_t registrations() const { return registrations_.load(); }

  static std::string home_key(std::string_view id) { return "ec:home:" + std::string(id); }
  static std::string replica_key(std::string_view id) { return "ec:replica:" + std::string(id); }

 private:
  void heartbeat();
  void schedule_heartbeat();
  void register_all();

  City& city_;
  std::function<std::vector<Owned>()> all_owned_;
  std::string replica_;
  std::string url_;

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::string> owned_;  // guarded by mu_: id -> course id
  std::unordered_map<std::string, std::string> codes_;  // guarded by mu_: course -> code

  struct Known {
    std::string course_id;
    std::string replica_id;
  };
  struct Url {
    std::string url;
    std::chrono::steady_clock::time_point seen;
  };
  std::unordered_map<std::string, Known> known_;  // guarded by mu_: remote ids looked up
  std::unordered_map<std::string, Url> urls_;     // guarded by mu_: by replica id
  static constexpr size_t kKnownMax = 100000;     // remote ids remembered (then cleared)

  std::function<void()> on_registered_;               // set before start()
  std::unique_ptr<boost::asio::steady_timer> timer_;  // city thread
  bool stopped_ = false;                              // city thread: goodbye() ran
  bool registering_ = false;                          // city thread
  std::atomic<size_t> registered_{0};
  std::atomic<uint64_t> registrations_{0};
  std::atomic<int64_t> rebuilding_until_ns_{0};  // steady_clock ticks; see kRebuildGrace
};

}  // namespace city
