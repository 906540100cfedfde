// city::ReadCache — answers to reads of a course's views, kept in Redis so that any replica
// can serve them, and so that they outlive the course's home for a while.
//
// Keys: ec:ver:<course> is the course's version (a counter); an answer is stored under
// ec:view:<course>:<version>:<key> with a TTL of kTtl. The home invalidates a course by
// incrementing its version (after each committed write), which orphans every answer stored
// under the old version at once (they expire by TTL). A reader gets the version and the
// answer in one round trip and, on a miss, stores what the home answered under the version it
// read: an answer computed before a write but stored after it lands under the old version and
// is never served. Each invalidation is also published on the channel kInvalidateChannel
// (payload: the course id), for replicas that keep answers in memory too. What the cache cannot see
// are changes the home makes without a REST write (the live room's own writes): those views are at
// most kTtl old.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "city/redis.h"

namespace city {

struct CacheRead {
  std::string version;                // the course's version when read ("0": never written)
  std::optional<std::string> answer;  // the stored answer, if any
};

class ReadCache {
 public:
  static constexpr std::chrono::seconds kTtl{60};
  static constexpr const char* kInvalidateChannel = "ec:invalidate";

  explicit ReadCache(Redis& commands) : commands_(commands) {}

  // `done` on the city thread.
  void get(const std::string& course, const std::string& key,
           std::function<void(base::Result<CacheRead>)> done);
  void put(const std::string& course, const std::string& version, const std::string& key,
           std::string answer);
  // After a write to the course (the home calls this). Best effort: `done` (optional) tells.
  void invalidate(const std::string& course, std::function<void(base::Status)> done = nullptr);

 private:
  Redis& commands_;
};

}  // namespace city
