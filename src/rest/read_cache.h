// Per-I/O-thread caches for the hot read paths: verified tokens, and course/quiz/enrollment
// rows checked against classroom::catalog_generation(). One instance per I/O thread, used
// only on that thread (no locks).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "base/jwt.h"
#include "classroom/authz.h"
#include "classroom/reader.h"

namespace rest {

class ThreadCache final : public classroom::Reader {
 public:
  explicit ThreadCache(store::Db& db) : db_(db) {}

  // The caller a token names. A token verified earlier on this thread is not verified again
  // (its expiry still is, with the same leeway as base::verify_token). The Actor is this
  // cache's own entry, borrowed: valid until the next actor_ref() or actor_for() on this cache
  // (which may drop entries), so keep it only while the one request is handled and copy it for
  // anything that runs later (a write's commit and its continuation).
  base::Result<const classroom::Actor*> actor_ref(std::string_view token, std::string_view secret,
                                                  int64_t now_unix_s);
  // actor_ref()'s Actor, copied.
  base::Result<classroom::Actor> actor_for(std::string_view token, std::string_view secret,
                                           int64_t now_unix_s);

  base::Result<store::Course> course(std::string_view id) override;
  base::Result<const store::Course*> course_ref(std::string_view id) override;
  base::Result<store::Quiz> quiz(std::string_view id) override;
  base::Result<std::shared_ptr<const std::vector<classroom::Question>>> questions(
      const store::Quiz& quiz) override;
  base::Result<bool> enrolled(std::string_view course_id, std::string_view student_id) override;
  store::Db& db() override { return db_; }
  // Inside a snapshot, rows are kept and found under the generation from before it began.
  void snapshot_begins() override {
    if (snapshot_depth_++ == 0) snapshot_generation_ = classroom::catalog_generation().load();
  }
  void snapshot_ends() override { --snapshot_depth_; }

  // The serialized JSON of course `c` (classroom::to_json), kept beside the cached row while
  // it is fresh, so hot reads skip building and serializing it. Shared: an answer holds it
  // (rest::Response::shared_body) for as long as it needs, whatever the cache does meanwhile.
  const std::shared_ptr<const std::string>& course_body(const store::Course& c);

 private:
  struct Token {
    classroom::Actor actor;
    int64_t exp;
  };
  struct CourseEntry {
    uint64_t generation;
    store::Course course;
    std::shared_ptr<const std::string> body;  // serialized on first use
  };
  struct QuizEntry {
    uint64_t generation;
    store::Quiz quiz;
    std::shared_ptr<const std::vector<classroom::Question>> questions;
  };
  struct EnrolledEntry {
    uint64_t generation;
    bool enrolled;
  };
  static constexpr size_t kMaxEntries = 8192;  // per map; a full map is simply cleared
  // Heterogeneous lookup: find() with a string_view key, no temporary std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  template <typename V>
  using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;
  // Tokens are hashed on their last 32 bytes and their length: a JWT ends in its signature (an
  // HMAC, as good as random), and hashing all ~250 bytes of every request's token was 3 % of a
  // GET. Only tokens whose signature verified are stored, so a client cannot fill one bucket
  // with tokens sharing a tail; a lookup still compares the whole token.
  struct TokenHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      const size_t tail = s.size() < 32 ? s.size() : 32;
      return std::hash<std::string_view>()(s.substr(s.size() - tail)) ^ s.size();
    }
  };

  // The generation rows read now are kept under: the current one, or inside a snapshot the one
  // from before it began (a row read in an older snapshot is never kept as newer).
  uint64_t generation() const;

  store::Db& db_;
  int snapshot_depth_ = 0;
  uint64_t snapshot_generation_ = 0;
  std::unordered_map<std::string, Token, TokenHash, std::equal_to<>> tokens_;
  Map<CourseEntry> courses_;
  Map<QuizEntry> quizzes_;
  Map<EnrolledEntry> enrolled_;
  CourseEntry* last_course_ = nullptr;  // course_ref()'s entry (nodes are stable until clear)
  std::shared_ptr<const std::string> scratch_body_;  // course_body() of a row not in the cache
};

}  // namespace rest
