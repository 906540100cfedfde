// store_bench: answers per second through the group-commit Writer (synchronous=FULL, so
// one fsync per group), with N submitting threads.
//
//   store_bench [--benchmark_filter=...]     STORE_BENCH_DIR=/path  (default: $TMPDIR)
//
// Open loop: each submitting thread pushes its share as fast as the queue takes it and the
// iteration ends when every Done has fired, i.e. every answer is durable. Closed loop:
// C clients each keep one answer in flight and send the next on its ack, like students
// waiting for the server's reply; this shows what the commit latency allows.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/courses.h"
#include "store/migrations.h"
#include "store/quizzes.h"
#include "store/sessions.h"
#include "store/writer.h"

namespace {

using store::Txn;

struct Bench {
  std::string dir;
  std::unique_ptr<store::Writer> writer;
  std::atomic<uint64_t> next_student{0};
  // Group commit times (BEGIN..COMMIT incl. fsync); written on the writer thread only,
  // read after the benchmark loop.
  std::vector<int64_t> commit_ns;

  ~Bench() {
    writer.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// A migrated database with one course, session and quiz, and a Writer on it.
std::unique_ptr<Bench> setup(benchmark::State& state) {
  auto b = std::make_unique<Bench>();
  const char* base_dir = getenv("STORE_BENCH_DIR");
  std::string tmpl =
      (std::filesystem::path(base_dir ? base_dir : std::filesystem::temp_directory_path().c_str()) /
       "store-bench-XXXXXX")
          .string();
  if (!mkdtemp(tmpl.data())) {
    state.SkipWithError("mkdtemp failed");
    return nullptr;
  }
  b->dir = tmpl;
  auto db = store::Db::open(b->dir + "/bench.db", store::OpenMode::kReadWrite);
  if (!db.is_ok() || !store::migrate(**db).is_ok()) {
    state.SkipWithError("cannot open or migrate the database");
    return nullptr;
  }
  base::Status st = store::transact(**db, [](Txn& t) -> base::Status {
    store::Course c{"crs_bench", "Bench", "", "usr_t", "T", store::CourseStatus::kActive,
                    1000,        0,       1,  1};
    EC_RETURN_IF_ERROR(store::insert_course(t, c));
    store::Session s{"ses_bench", "crs_bench", "usr_t", "S", store::SessionStatus::kLive, 1, {}};
    EC_RETURN_IF_ERROR(store::insert_session(t, s));
    store::Quiz q;
    q.id = "qz_bench";
    q.session_id = "ses_bench";
    q.course_id = "crs_bench";
    q.status = store::QuizStatus::kPublished;
    q.questions = "[]";
    q.created_at = 1;
    return store::insert_quiz(t, q);
  });
  if (!st.is_ok()) {
    state.SkipWithError(st.to_string().c_str());
    return nullptr;
  }
  store::WriterOptions options;
  Bench* raw = b.get();
  options.on_group = [raw](const store::GroupStats& g) { raw->commit_ns.push_back(g.commit_ns); };
  auto w = store::Writer::start(std::move(db).value(), std::move(options));
  if (!w.is_ok()) {
    state.SkipWithError(w.status().to_string().c_str());
    return nullptr;
  }
  b->writer = std::move(w).value();
  return b;
}

store::WriteOp answer_op(Bench& b) {
  uint64_t n = b.next_student.fetch_add(1, std::memory_order_relaxed);
  store::Answer a{"qz_bench", "usr_" + std::to_string(n),    int64_t(n % 10), "[1]",
                  true,       1'700'000'000'000 + int64_t(n)};
  return [a = std::move(a)](Txn& t) { return store::insert_answer(t, a).status(); };
}

void report(benchmark::State& state, Bench& b, uint64_t answers) {
  store::WriterCounters c = b.writer->counters();
  state.SetItemsProcessed(int64_t(answers));
  state.counters["groups"] = double(c.groups);
  state.counters["avg_group"] = c.groups ? double(c.committed_ops) / double(c.groups) : 0;
  state.counters["failed"] = double(c.failed_ops);
  b.writer->stop();  // joins: commit_ns is no longer written
  std::vector<int64_t> ns = b.commit_ns;
  if (!ns.empty()) {
    std::sort(ns.begin(), ns.end());
    state.counters["commit_p50_us"] = double(ns[ns.size() / 2]) / 1e3;
    state.counters["commit_p99_us"] = double(ns[ns.size() * 99 / 100]) / 1e3;
  }
}

// Open loop with N submitting threads.
void BM_AnswersOpenLoop(benchmark::State& state) {
  const int threads = int(state.range(0));
  constexpr int kPerIteration = 50'000;
  auto b = setup(state);
  if (!b) return;
  uint64_t answers = 0;
  for (auto _ : state) {
    std::mutex mu;
    std::condition_variable cv;
    int remaining = kPerIteration;
    auto done = [&](base::Status st) {
      if (!st.is_ok()) std::fprintf(stderr, "answer failed: %s\n", st.to_string().c_str());
      std::lock_guard<std::mutex> lock(mu);
      if (--remaining == 0) cv.notify_one();
    };
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
      int share = kPerIteration / threads + (t < kPerIteration % threads ? 1 : 0);
      submitters.emplace_back([&, share] {
        for (int i = 0; i < share; ++i) {
          store::WriteOp op = answer_op(*b);
          while (!b->writer->submit(op, done).is_ok()) std::this_thread::yield();
        }
      });
    }
    for (auto& s : submitters) s.join();
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return remaining == 0; });
    answers += kPerIteration;
  }
  report(state, *b, answers);
}
BENCHMARK(BM_AnswersOpenLoop)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

// Closed loop: C clients, one answer in flight each.
void BM_AnswersClosedLoop(benchmark::State& state) {
  const int clients = int(state.range(0));
  constexpr int kPerClient = 200;
  auto b = setup(state);
  if (!b) return;
  uint64_t answers = 0;
  for (auto _ : state) {
    std::mutex mu;
    std::condition_variable cv;
    int active = clients;
    // Each client's next answer is submitted from the previous one's Done (on the writer
    // thread), as a server would after posting the ack back.
    std::function<void(int)> send = [&](int left) {
      if (left == 0) {
        std::lock_guard<std::mutex> lock(mu);
        if (--active == 0) cv.notify_one();
        return;
      }
      while (
          !b->writer->submit(answer_op(*b), [&, left](base::Status) { send(left - 1); }).is_ok()) {
        std::this_thread::yield();
      }
    };
    for (int c = 0; c < clients; ++c) send(kPerClient);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return active == 0; });
    answers += uint64_t(clients) * kPerClient;
  }
  report(state, *b, answers);
}
BENCHMARK(BM_AnswersClosedLoop)
    ->Arg(1)
    ->Arg(64)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
