#include "store/writer.h"

#include <pthread.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace store {

base::Result<std::unique_ptr<Writer>> Writer::start(std::unique_ptr<Db> db, WriterOptions options) {
  if (!db) return base::internal_error("Writer::start without a database");
  if (db->read_only()) {
    return base::internal_error("the writer needs a read-write connection; " + db->path() +
                                " was opened read-only");
  }
  if (!db->autocommit()) {
    return base::internal_error("the writer's connection to " + db->path() +
                                " is inside a transaction");
  }
  if (options.max_batch == 0) options.max_batch = 1;
  if (options.max_queue == 0) options.max_queue = 1;
  // The constructor is private, so make_unique cannot reach it.
  return std::unique_ptr<Writer>(new Writer(std::move(db), std::move(options)));
}

Writer::Writer(std::unique_ptr<Db> db, WriterOptions options)
    : db_(std::move(db)),
      options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &base::SystemClock::instance()) {
  if (!options_.defer_thread) launch();
}

base::Status Writer::finish_open() { return db_->finish_open(); }

void Writer::launch() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  start_thread();
}

void Writer::start_thread() {
  if (launched_) return;
  launched_ = true;
  thread_ = std::thread([this] {
    thread_id_.store(std::this_thread::get_id());
    run();
  });
}

Writer::~Writer() { stop(); }

base::Status Writer::submit(WriteOp op, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return base::unavailable("the database writer has stopped (shutting down)", "writer_stopped");
    }
    if (queue_.size() >= options_.max_queue) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return base::unavailable("write queue full (" + std::to_string(options_.max_queue) +
                                   " writes waiting); retry shortly",
                               "write_queue_full");
    }
    queue_.push_back(Item{std::move(op), std::move(done), clock_->now_mono_ns()});
    queue_depth_.store(queue_.size(), std::memory_order_relaxed);
  }
  submitted_.fetch_add(1, std::memory_order_relaxed);
  cv_.notify_one();
  return base::Status::ok();
}

void Writer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // A Done that calls stop() must not join its own thread; the loop still drains and ends.
  if (std::this_thread::get_id() == thread_id_.load()) return;
  std::lock_guard<std::mutex> lock(stop_mu_);
  start_thread();  // deferred and never launched: it commits what was queued, then ends
  if (thread_.joinable()) thread_.join();
}

WriterCounters Writer::counters() const {
  WriterCounters c;
  c.submitted = submitted_.load(std::memory_order_relaxed);
  c.rejected = rejected_.load(std::memory_order_relaxed);
  c.committed_ops = committed_ops_.load(std::memory_order_relaxed);
  c.failed_ops = failed_ops_.load(std::memory_order_relaxed);
  c.groups = groups_.load(std::memory_order_relaxed);
  c.failed_commits = failed_commits_.load(std::memory_order_relaxed);
  c.queue_depth = queue_depth_.load(std::memory_order_relaxed);
  return c;
}

void Writer::run() {
  pthread_setname_np(pthread_self(), "ec-store-writer");  // shows in top -H, gdb, perf
  std::vector<Item> batch;
  std::vector<WriteOp> ops;
  batch.reserve(options_.max_batch);
  ops.reserve(options_.max_batch);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // No deliberate wait for more work: while one group commits (its fsync), the next
      // one queues up, so groups grow with load and a lone write is not delayed.
      size_t n = std::min(queue_.size(), options_.max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queue_depth_.store(queue_.size(), std::memory_order_relaxed);
    }
    for (auto& item : batch) ops.push_back(std::move(item.op));

    int64_t start_ns = clock_->now_mono_ns();
    // What the connection's open deferred (synchronous): before anything is written. A no-op
    // once done; should it fail, the group fails with it and the next group tries again.
    base::Status opened = db_->finish_open();
    BatchResult result;
    if (opened.is_ok()) {
      result = commit_batch(*db_, ops);
    } else {
      result.commit = opened;
      result.statuses.assign(ops.size(), opened);
      result.failed_ops = ops.size();
    }
    int64_t end_ns = clock_->now_mono_ns();

    // Dones only now: every OK op of the group is durable.
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(std::move(result.statuses[i]));
    }
    GroupStats stats;
    stats.ops = batch.size();
    stats.failed_ops = result.failed_ops;
    stats.committed = result.commit.is_ok();
    stats.commit_ns = end_ns - start_ns;
    stats.queue_wait_ns = start_ns - batch.front().enqueued_ns;
    committed_ops_.fetch_add(stats.ops - stats.failed_ops, std::memory_order_relaxed);
    failed_ops_.fetch_add(stats.failed_ops, std::memory_order_relaxed);
    groups_.fetch_add(1, std::memory_order_relaxed);
    if (!stats.committed) failed_commits_.fetch_add(1, std::memory_order_relaxed);
    if (options_.on_group) options_.on_group(stats);
    batch.clear();
    ops.clear();
  }
}

}  // namespace store
