#include "store/writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "test_util.h"

namespace store {
namespace {

using testing::TempDir;

// "k" + std::to_string(i) trips GCC 12's -Wrestrict false positive at -O3; append instead.
std::string key(std::string_view prefix, int i) {
  std::string s(prefix);
  s.append(std::to_string(i));
  return s;
}

// Holds the writer thread inside an op until release() is called, so tests can line up a
// group behind it deterministically.
class Gate {
 public:
  WriteOp op() {
    return [this](Txn&) {
      entered_.set_value();
      released_.wait();
      return base::Status::ok();
    };
  }
  void wait_entered() { entered_future_.wait(); }
  void release() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("w.db");
    auto db = testing::open_migrated(path_);
    ASSERT_NE(db, nullptr);
    ASSERT_OK(db->exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)"));
    db_ = std::move(db);
  }
  void start(WriterOptions options = {}) {
    auto w = Writer::start(std::move(db_), std::move(options));
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    writer_ = std::move(w).value();
  }
  static WriteOp put(std::string k) {
    return [k](Txn& t) -> base::Status {
      EC_ASSIGN_OR_RETURN(Stmt st, t.db().prepare("INSERT INTO kv VALUES (?, 1)"));
      st.bind_all(k);
      return st.run();
    };
  }
  std::unique_ptr<Db> reader() {
    auto r = Db::open(path_, OpenMode::kReadOnly);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : nullptr;
  }
  static bool has(Db& db, const std::string& k) {
    auto st = db.prepare("SELECT 1 FROM kv WHERE k = ?");
    EXPECT_TRUE(st.is_ok());
    st->bind_all(k);
    auto row = st->step();
    return row.is_ok() && *row;
  }
  static int64_t count(Db& db) {
    auto st = db.prepare("SELECT COUNT(*) FROM kv");
    EXPECT_TRUE(*st->step());
    return st->column_int(0);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Writer> writer_;
};

TEST_F(WriterTest, RejectsReadOnlyOrMissingDb) {
  EXPECT_FALSE(Writer::start(nullptr).is_ok());
  auto ro = reader();
  ASSERT_NE(ro, nullptr);
  EXPECT_FALSE(Writer::start(std::move(ro)).is_ok());
}

TEST_F(WriterTest, ConcurrentSubmittersAreGroupedAndAckedAfterCommit) {
  std::mutex groups_mu;
  std::vector<GroupStats> groups;
  WriterOptions options;
  options.on_group = [&](const GroupStats& g) {
    std::lock_guard<std::mutex> lock(groups_mu);
    groups.push_back(g);
  };
  start(std::move(options));
  // The check connection is only used inside Dones, i.e. on the writer thread.
  std::unique_ptr<Db> check = reader();
  ASSERT_NE(check, nullptr);

  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::atomic<int> acked{0};
  std::atomic<int> visible_at_ack{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string k = key("k", t * 100000 + i);
        base::Status st = writer_->submit(put(k), [&, k](base::Status s) {
          if (!s.is_ok()) errors.fetch_add(1);
          // Another connection sees the row: the group really committed before the Done.
          if (has(*check, k)) visible_at_ack.fetch_add(1);
          acked.fetch_add(1);
        });
        if (!st.is_ok()) errors.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  writer_->stop();

  constexpr int kTotal = kThreads * kPerThread;
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(acked.load(), kTotal);
  EXPECT_EQ(visible_at_ack.load(), kTotal);
  WriterCounters c = writer_->counters();
  EXPECT_EQ(c.submitted, uint64_t(kTotal));
  EXPECT_EQ(c.committed_ops, uint64_t(kTotal));
  EXPECT_EQ(c.failed_ops, 0u);
  EXPECT_EQ(c.queue_depth, 0u);
  EXPECT_LT(c.groups, uint64_t(kTotal));  // group commit: fewer commits than writes
  size_t ops_in_groups = 0;
  for (auto& g : groups) {
    ops_in_groups += g.ops;
    EXPECT_TRUE(g.committed);
    EXPECT_GT(g.commit_ns, 0);
    EXPECT_LE(g.ops, WriterOptions().max_batch);
  }
  EXPECT_EQ(ops_in_groups, size_t(kTotal));
  EXPECT_EQ(groups.size(), c.groups);
  auto r = reader();
  EXPECT_EQ(count(*r), kTotal);
}

TEST_F(WriterTest, FailingOpDoesNotSpoilItsGroup) {
  std::vector<GroupStats> groups;  // touched on the writer thread only, read after stop()
  WriterOptions options;
  options.on_group = [&](const GroupStats& g) { groups.push_back(g); };
  start(std::move(options));
  Gate gate;
  ASSERT_OK(writer_->submit(gate.op(), nullptr));
  gate.wait_entered();  // the writer is busy: what follows queues into one group

  std::vector<base::Status> results(5);
  ASSERT_OK(writer_->submit(put("a"), [&](base::Status s) { results[0] = s; }));
  ASSERT_OK(writer_->submit(put("b"), [&](base::Status s) { results[1] = s; }));
  ASSERT_OK(writer_->submit(
      [](Txn& t) -> base::Status {
        EC_RETURN_IF_ERROR(put("ghost")(t));
        return base::failed_precondition("course is full", "course_full");
      },
      [&](base::Status s) { results[2] = s; }));
  ASSERT_OK(writer_->submit(put("a"), [&](base::Status s) { results[3] = s; }));  // duplicate
  ASSERT_OK(writer_->submit(put("c"), [&](base::Status s) { results[4] = s; }));
  gate.release();
  writer_->stop();

  EXPECT_OK(results[0]);
  EXPECT_OK(results[1]);
  EXPECT_EQ(results[2].reason(), "course_full");
  EXPECT_EQ(results[3].code(), base::Code::kConflict);
  EXPECT_OK(results[4]);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].ops, 1u);  // the gate
  EXPECT_EQ(groups[1].ops, 5u);
  EXPECT_EQ(groups[1].failed_ops, 2u);
  EXPECT_TRUE(groups[1].committed);
  auto r = reader();
  EXPECT_TRUE(has(*r, "a"));
  EXPECT_TRUE(has(*r, "b"));
  EXPECT_TRUE(has(*r, "c"));
  EXPECT_FALSE(has(*r, "ghost"));
  EXPECT_EQ(writer_->counters().failed_ops, 2u);
  EXPECT_EQ(writer_->counters().committed_ops, 4u);  // gate + a, b, c
}

TEST_F(WriterTest, MaxBatchSplitsGroups) {
  std::vector<size_t> sizes;
  WriterOptions options;
  options.max_batch = 3;
  options.on_group = [&](const GroupStats& g) { sizes.push_back(g.ops); };
  start(std::move(options));
  Gate gate;
  ASSERT_OK(writer_->submit(gate.op(), nullptr));
  gate.wait_entered();
  for (int i = 0; i < 8; ++i) ASSERT_OK(writer_->submit(put(key("k", i)), nullptr));
  gate.release();
  writer_->stop();
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 3, 3, 2}));
}

TEST_F(WriterTest, FullQueueRejectsAtOnceWithoutCallingDone) {
  WriterOptions options;
  options.max_queue = 4;
  start(std::move(options));
  Gate gate;
  ASSERT_OK(writer_->submit(gate.op(), nullptr));
  gate.wait_entered();  // the gate left the queue; 4 more fit
  std::atomic<int> dones{0};
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK(writer_->submit(put(key("k", i)), [&](base::Status) { ++dones; }));
  }
  bool rejected_done_called = false;
  base::Status st =
      writer_->submit(put("overflow"), [&](base::Status) { rejected_done_called = true; });
  EXPECT_EQ(st.code(), base::Code::kUnavailable);
  EXPECT_EQ(st.reason(), "write_queue_full");
  EXPECT_NE(st.message().find("write queue full"), std::string::npos);
  EXPECT_EQ(writer_->counters().queue_depth, 4u);
  EXPECT_EQ(writer_->counters().rejected, 1u);
  gate.release();
  writer_->stop();
  EXPECT_EQ(dones.load(), 4);
  EXPECT_FALSE(rejected_done_called);
  EXPECT_FALSE(has(*reader(), "overflow"));
}

TEST_F(WriterTest, StopDrainsQueuedWritesThenRefuses) {
  start();
  Gate gate;
  ASSERT_OK(writer_->submit(gate.op(), nullptr));
  gate.wait_entered();
  std::atomic<int> ok_dones{0};
  constexpr int kQueued = 100;
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_OK(writer_->submit(put(key("k", i)), [&](base::Status s) {
      if (s.is_ok()) ++ok_dones;
    }));
  }
  std::thread stopper([&] { writer_->stop(); });
  // Wait until stop() has taken effect: submits are refused. The stopper thread may be
  // scheduled late on a loaded machine, so pace the probes and tolerate a full queue.
  base::Status st;
  int accepted_late = 0;
  while (true) {
    st = writer_->submit(put(key("late", accepted_late)), [&](base::Status s) {
      if (s.is_ok()) ++ok_dones;
    });
    if (st.is_ok()) ++accepted_late;  // raced ahead of stop(): accepted, so still committed
    if (st.reason() == "writer_stopped") break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  EXPECT_EQ(st.code(), base::Code::kUnavailable);
  EXPECT_EQ(st.reason(), "writer_stopped");
  gate.release();
  stopper.join();
  EXPECT_EQ(ok_dones.load(), kQueued + accepted_late);
  EXPECT_EQ(count(*reader()), kQueued + accepted_late);
  writer_->stop();  // idempotent
  EXPECT_EQ(writer_->submit(put("x"), nullptr).reason(), "writer_stopped");
}

TEST_F(WriterTest, DeferredThreadCommitsWhatWasQueuedOnceLaunched) {
  WriterOptions o;
  o.defer_thread = true;
  start(o);
  std::atomic<int> ok_dones{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(writer_->submit(put(key("early", i)), [&](base::Status s) {
      if (s.is_ok()) ++ok_dones;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(ok_dones.load(), 0);  // no thread yet: queued, not committed
  EXPECT_EQ(count(*reader()), 0);
  EXPECT_EQ(writer_->counters().queue_depth, 3u);
  writer_->launch();
  writer_->launch();  // once
  std::promise<base::Status> last;
  ASSERT_OK(writer_->submit(put("late"), [&](base::Status s) { last.set_value(std::move(s)); }));
  ASSERT_OK(last.get_future().get());  // groups commit in order: the early ones went first
  EXPECT_EQ(ok_dones.load(), 3);
  EXPECT_EQ(count(*reader()), 4);
}

TEST_F(WriterTest, DeferredThreadNeverLaunchedStillCommitsQueuedWritesAtStop) {
  WriterOptions o;
  o.defer_thread = true;
  start(o);
  std::atomic<int> ok_dones{0};
  ASSERT_OK(writer_->submit(put("queued"), [&](base::Status s) {
    if (s.is_ok()) ++ok_dones;
  }));
  writer_->stop();  // launches the thread, which drains the queue and ends
  EXPECT_EQ(ok_dones.load(), 1);
  EXPECT_EQ(count(*reader()), 1);
  EXPECT_EQ(writer_->submit(put("x"), nullptr).reason(), "writer_stopped");
  writer_->launch();  // after stop: nothing to start
}

// A connection opened with its schema pragmas deferred gets them before the first group
// writes: synchronous as asked (NORMAL here), not SQLite's default.
TEST_F(WriterTest, DeferredPragmasAreAppliedBeforeTheFirstGroup) {
  db_.reset();
  DbOptions o;
  o.defer_schema_pragmas = true;
  o.synchronous_full = false;
  auto db = Db::open(path_, OpenMode::kReadWrite, o);
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  db_ = std::move(db).value();
  start();
  std::promise<int64_t> sync;
  ASSERT_OK(writer_->submit(
      [&](Txn& t) -> base::Status {
        EC_ASSIGN_OR_RETURN(Stmt st, t.db().prepare("PRAGMA synchronous"));
        EC_ASSIGN_OR_RETURN(bool row, st.step());
        sync.set_value(row ? st.column_int(0) : -1);
        return base::Status::ok();
      },
      nullptr));
  EXPECT_EQ(sync.get_future().get(), 1);  // NORMAL
  ASSERT_OK(writer_->submit(put("after"), nullptr));
  writer_->stop();
  EXPECT_EQ(count(*reader()), 1);
}

TEST_F(WriterTest, CommitFailureFailsEveryOpOfTheGroup) {
  {
    // A deferred foreign key is only checked at COMMIT, so one op can make COMMIT fail.
    ASSERT_OK(db_->exec(
        "CREATE TABLE parent (id TEXT PRIMARY KEY);"
        "CREATE TABLE child (pid TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"));
  }
  std::vector<GroupStats> groups;
  WriterOptions options;
  options.on_group = [&](const GroupStats& g) { groups.push_back(g); };
  start(std::move(options));
  Gate gate;
  ASSERT_OK(writer_->submit(gate.op(), nullptr));
  gate.wait_entered();
  std::vector<base::Status> results(3);
  ASSERT_OK(writer_->submit(put("a"), [&](base::Status s) { results[0] = s; }));
  ASSERT_OK(writer_->submit([](Txn& t) { return t.db().exec("INSERT INTO child VALUES ('x')"); },
                            [&](base::Status s) { results[1] = s; }));
  std::promise<void> group_done;
  ASSERT_OK(writer_->submit(put("b"), [&](base::Status s) {
    results[2] = s;
    group_done.set_value();
  }));
  gate.release();
  group_done.get_future().wait();
  // The writer carries on after a failed group.
  std::promise<base::Status> after;
  ASSERT_OK(writer_->submit(put("c"), [&](base::Status s) { after.set_value(s); }));
  EXPECT_OK(after.get_future().get());
  writer_->stop();

  for (auto& r : results) {
    EXPECT_FALSE(r.is_ok());
    EXPECT_NE(r.message().find("FOREIGN KEY"), std::string::npos) << r.to_string();
  }
  ASSERT_GE(groups.size(), 2u);
  EXPECT_FALSE(groups[1].committed);
  EXPECT_EQ(groups[1].failed_ops, 3u);
  WriterCounters c = writer_->counters();
  EXPECT_EQ(c.failed_commits, 1u);
  EXPECT_EQ(c.failed_ops, 3u);
  auto r = reader();
  EXPECT_FALSE(has(*r, "a"));
  EXPECT_FALSE(has(*r, "b"));
  EXPECT_TRUE(has(*r, "c"));
}

TEST_F(WriterTest, ReadersReadWhileTheWriterCommits) {
  start();
  std::atomic<bool> stop_reading{false};
  std::atomic<int> read_errors{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      auto r = reader();  // one connection per reading thread, as the I/O threads do
      int64_t last = 0;
      while (!stop_reading.load()) {
        auto st = r->prepare("SELECT COUNT(*) FROM kv");
        if (!st.is_ok()) {
          ++read_errors;
          continue;
        }
        auto row = st->step();
        if (!row.is_ok()) {
          ++read_errors;
          continue;
        }
        int64_t n = st->column_int(0);
        if (n < last) ++read_errors;  // committed rows never disappear
        last = n;
        ++reads;
      }
    });
  }
  std::atomic<int> acked{0};
  for (int i = 0; i < 3000; ++i) {
    base::Status st;
    while (!(st = writer_->submit(put(key("k", i)), [&](base::Status) { ++acked; })).is_ok()) {
      std::this_thread::yield();
    }
  }
  writer_->stop();
  while (reads.load() < 2) std::this_thread::yield();  // each reader got a turn, even if late
  stop_reading = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(acked.load(), 3000);
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST_F(WriterTest, DoneMaySubmitMore) {
  start();
  std::promise<base::Status> second;
  ASSERT_OK(writer_->submit(put("a"), [&](base::Status s) {
    ASSERT_OK(s);
    ASSERT_OK(writer_->submit(put("b"), [&](base::Status s2) { second.set_value(s2); }));
  }));
  EXPECT_OK(second.get_future().get());
  writer_->stop();
  EXPECT_EQ(count(*reader()), 2);
}

TEST_F(WriterTest, DestructorStopsAndDrains) {
  std::atomic<int> dones{0};
  start();
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(writer_->submit(put(key("k", i)), [&](base::Status) { ++dones; }));
  }
  writer_.reset();
  EXPECT_EQ(dones.load(), 50);
  EXPECT_EQ(count(*reader()), 50);
}

}  // namespace
}  // namespace store
