// The reads the classroom's rules need, behind a seam so a caller can serve them from a
// cache. `DbReader` reads straight from a store connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "classroom/quiz.h"
#include "store/db.h"
#include "store/model.h"

namespace classroom {

// A process-wide counter that every committed write changing courses, enrollments, sessions
// or quizzes bumps *after* its commit and *before* it is acknowledged. A cached row read at
// generation g is fresh while the counter still reads g. (Answers and chat do not bump it.)
std::atomic<uint64_t>& catalog_generation();
inline void bump_catalog_generation() {
  catalog_generation().fetch_add(1, std::memory_order_release);
}

class Reader {
 public:
  virtual ~Reader() = default;
  virtual base::Result<store::Course> course(std::string_view id) = 0;
  // The same row without a copy: the pointer is valid until the next call on this reader.
  virtual base::Result<const store::Course*> course_ref(std::string_view id) = 0;
  virtual base::Result<store::Quiz> quiz(std::string_view id) = 0;
  // The quiz's questions, parsed (shared: callers must not modify them).
  virtual base::Result<std::shared_ptr<const std::vector<Question>>> questions(
      const store::Quiz& quiz) = 0;
  virtual base::Result<bool> enrolled(std::string_view course_id, std::string_view student_id) = 0;
  // The connection behind the reader, for reads that are not cached.
  virtual store::Db& db() = 0;
  // A read snapshot over db() begins and ends (ReadSnapshot below): a reader that keeps rows
  // must not keep one read inside it as newer than the snapshot (a write committed after the
  // snapshot began is not in it, though the catalog generation already says it happened).
  virtual void snapshot_begins() {}
  virtual void snapshot_ends() {}
};

// One read snapshot on `reader`'s connection for an operation's reads (store::ReadScope: one
// snapshot, the locks taken once), told to the reader first so that a caching reader keeps
// what it reads there under the catalog generation from before the snapshot.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Reader& reader) : reader_(begin(reader)), scope_(reader.db()) {}
  ~ReadSnapshot() { reader_.snapshot_ends(); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  static Reader& begin(Reader& r) {
    r.snapshot_begins();
    return r;
  }
  Reader& reader_;
  store::ReadScope scope_;
};

// The parsed questions of the last quiz asked for, kept while its stored text is the same
// byte for byte: a hit is exactly what parsing that text again would give. One live room's
// answers all name the same open quiz, so its questions are parsed once, not per answer.
// Used by one thread only (the room's).
class QuestionsCache {
 public:
  base::Result<std::shared_ptr<const std::vector<Question>>> get(const store::Quiz& quiz);

 private:
  std::string quiz_id_;
  std::string text_;  // the stored text `parsed_` came from
  std::shared_ptr<const std::vector<Question>> parsed_;
};

// The rows a live room's answers read again and again — its open quiz, the quiz's course, and
// whether each answering student is enrolled — kept while catalog_generation() stays what it
// was before the row was read (every committed write that changes them bumps it after its
// commit), as rest::ThreadCache keeps them for the REST reads: a hit is the row storage holds.
// Failed reads are not kept. Used by one thread only (the room's).
class RowCache {
 public:
  // `generation`: catalog_generation() read before any read of the operation asking (before
  // its snapshot began), so that a row read in an older snapshot is never kept as newer.
  base::Result<store::Quiz> quiz(store::Db& db, std::string_view id, uint64_t generation);
  base::Result<store::Course> course(store::Db& db, std::string_view id, uint64_t generation);
  base::Result<bool> enrolled(store::Db& db, std::string_view course_id,
                              std::string_view student_id, uint64_t generation);

 private:
  static constexpr size_t kMaxEnrolled = 8192;  // students remembered; then forgotten at once
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  uint64_t quiz_generation_ = 0;  // 0: nothing kept (the counter starts at 1)
  store::Quiz quiz_;
  uint64_t course_generation_ = 0;
  store::Course course_;
  uint64_t enrolled_generation_ = 0;
  std::string enrolled_course_;  // the course enrolled_ is about
  std::unordered_map<std::string, bool, Hash, std::equal_to<>> enrolled_;  // by student id
};

class DbReader final : public Reader {
 public:
  // `questions_cache` and `rows`, when given, serve questions() and the rows (they must
  // outlive the reader). With `rows`, the reader is for one operation: its cached rows are
  // those fresh when it was made (make one per operation, as a live room does per answer).
  explicit DbReader(store::Db& db, QuestionsCache* questions_cache = nullptr,
                    RowCache* rows = nullptr)
      : db_(db),
        questions_cache_(questions_cache),
        rows_(rows),
        generation_(rows ? catalog_generation().load(std::memory_order_acquire) : 0) {}
  base::Result<store::Course> course(std::string_view id) override;
  base::Result<const store::Course*> course_ref(std::string_view id) override;
  base::Result<store::Quiz> quiz(std::string_view id) override;
  base::Result<std::shared_ptr<const std::vector<Question>>> questions(
      const store::Quiz& quiz) override;
  base::Result<bool> enrolled(std::string_view course_id, std::string_view student_id) override;
  store::Db& db() override { return db_; }

 private:
  store::Db& db_;
  QuestionsCache* questions_cache_;
  RowCache* rows_;
  uint64_t generation_;        // catalog_generation() when made (with rows_)
  store::Course last_course_;  // what course_ref() points to
};

}  // namespace classroom
