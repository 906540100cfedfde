// store::Writer — the group-commit writer thread (the only thread in store).
//
// One thread owns the read-write connection. Callers on any thread submit() write ops; the
// thread takes everything queued (up to max_batch ops), runs it as one commit_batch() —
// BEGIN IMMEDIATE, each op in its own SAVEPOINT, one COMMIT (one fsync) — and then calls
// each op's Done with its final status. So a Done with OK means the op's writes are durable:
// this is the point at which a write may be acknowledged to a client.
//
// Ops of one group run one after another in the same transaction, so each sees the effects
// of the ops before it (e.g. a join reads the enrolled count the previous join just bumped).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/status.h"
#include "store/db.h"
#include "store/txn.h"

namespace store {

// Called on the writer thread after the op's group has committed (or failed to). It must be
// quick and must not block: post the result back to the caller's own executor. It must not
// call Writer::stop(); it may call submit().
using Done = std::function<void(base::Status)>;

// Reported once per group, on the writer thread, after the group's Dones have run.
struct GroupStats {
  size_t ops = 0;             // ops in the group
  size_t failed_ops = 0;      // ops that got a non-OK status (their own error or the commit's)
  bool committed = false;     // false when BEGIN or COMMIT failed
  int64_t commit_ns = 0;      // BEGIN through COMMIT (op bodies + fsync), monotonic nanoseconds
  int64_t queue_wait_ns = 0;  // how long the group's oldest op waited in the queue
};

struct WriterOptions {
  size_t max_batch = 1024;   // most ops in one group
  size_t max_queue = 65536;  // submit() fails fast once this many ops are waiting
  std::function<void(const GroupStats&)> on_group;  // optional; see GroupStats
  // Times queue waits and commits; read from submitting threads and the writer thread, so
  // it must be thread-safe (FakeClock is not). nullptr: SystemClock. Not owned.
  const base::Clock* clock = nullptr;
  // true: the thread starts at launch() (or stop()); submits until then wait in the queue. A
  // cold start launches it once the listener serves: one thread fewer before the first answer.
  bool defer_thread = false;
};

// Monotonic counters since start, readable from any thread.
struct WriterCounters {
  uint64_t submitted = 0;       // ops accepted by submit()
  uint64_t rejected = 0;        // submit() calls refused (queue full or stopped)
  uint64_t committed_ops = 0;   // ops whose Done got OK
  uint64_t failed_ops = 0;      // ops whose Done got an error
  uint64_t groups = 0;          // groups attempted
  uint64_t failed_commits = 0;  // groups whose BEGIN or COMMIT failed
  uint64_t queue_depth = 0;     // ops waiting right now
};

class Writer {
 public:
  // Takes ownership of `db` (opened kReadWrite, migrated, outside a transaction) and starts
  // the thread (with defer_thread: at launch()). From here on only the writer thread touches
  // `db`.
  static base::Result<std::unique_ptr<Writer>> start(std::unique_ptr<Db> db,
                                                     WriterOptions options = {});
  // Calls stop().
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues `op`; `done` will be called exactly once, on the writer thread, after the op's
  // group committed. Thread-safe. Returns Unavailable at once — and then never calls `done`
  // — when the queue already holds max_queue ops ("write queue full", reason
  // "write_queue_full") or after stop() ("writer stopped", reason "writer_stopped").
  base::Status submit(WriteOp op, Done done);

  // With defer_thread, before launch(), from the thread that made the writer (or one it waits
  // for): Db::finish_open on the connection (the pragmas its open deferred, which read the
  // schema), so that a malformed schema can still stop a start. Otherwise the thread does it
  // itself before its first group.
  base::Status finish_open();

  // Starts the thread of a writer made with defer_thread (a no-op otherwise, and after the
  // first call). Call from the thread that made the writer.
  void launch();

  // Refuses new submits, commits everything already queued (every accepted op gets its
  // Done; a deferred thread is launched for it), then joins the thread. Idempotent; call from
  // any thread but the writer's.
  void stop();

  WriterCounters counters() const;

 private:
  struct Item {
    WriteOp op;
    Done done;
    int64_t enqueued_ns;
  };

  Writer(std::unique_ptr<Db> db, WriterOptions options);
  void run();           // the thread body
  void start_thread();  // under stop_mu_: starts the thread once

  std::unique_ptr<Db> db_;  // used only by thread_ once started
  WriterOptions options_;
  const base::Clock* clock_;

  std::mutex mu_;               // guards queue_ and stopping_
  std::condition_variable cv_;  // signalled on submit and on stop
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::mutex stop_mu_;  // serializes stop() callers around the join

  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> committed_ops_{0};
  std::atomic<uint64_t> failed_ops_{0};
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> failed_commits_{0};
  std::atomic<uint64_t> queue_depth_{0};

  std::thread thread_;     // last member: starts after everything above is built
  bool launched_ = false;  // guarded by stop_mu_
  // thread_'s id, written by the thread itself before it runs any Done, so that stop() can
  // tell a call from a Done without touching thread_ while another stop() joins.
  std::atomic<std::thread::id> thread_id_{};
};

}  // namespace store
