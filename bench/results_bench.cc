// results_bench: the teacher's REST results read (classroom::Service::results) for one quiz
// answered by N students, and the reading side of one live answer
// (classroom::Service::prepare_answers, which the room's thread runs for every answer before
// the commit), against a real SQLite file with the real default policies.
//
//   build/release/bench/results_bench [--benchmark_filter=...]
//
// The work that bounds it is reading N x Q answer rows once; anything per student on top
// (a query per student for the name) shows as the gap to that.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "app/policies.h"
#include "base/clock.h"
#include "base/random.h"
#include "classroom/quiz.h"
#include "classroom/reader.h"
#include "classroom/service.h"
#include "store/courses.h"
#include "store/migrations.h"
#include "store/quizzes.h"
#include "store/sessions.h"
#include "store/txn.h"

namespace {

constexpr int kQuestions = 10;

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<store::Db> db;
  std::unique_ptr<classroom::Service> service;
  std::shared_ptr<const classroom::Authorizer> authorizer;
  base::SeededRandom random{42};
  classroom::Actor teacher{"t1", "Ms T", base::Role::kTeacher};
  std::string quiz_id;

  // `answered`: every student has answered every question (for the results).
  explicit Fixture(int students, bool answered = true) {
    dir = std::filesystem::temp_directory_path() /
          ("results_bench_" + std::to_string(::getpid()) + "_" + std::to_string(students));
    std::filesystem::create_directories(dir);
    db = std::move(
        store::Db::open((dir / "db.sqlite").string(), store::OpenMode::kReadWrite).value());
    (void)store::migrate(*db);
    size_t files = 0;
    authorizer = *app::load_policies("", &files);
    service = std::make_unique<classroom::Service>(
        base::SystemClock::instance(), random, [this] { return authorizer; }, 100000);
    (void)store::transact(*db, [&](store::Txn& t) -> base::Status {
      classroom::CreateCourse cc{"Algebra", "", 100000, store::CourseStatus::kActive};
      auto c = service->create_course(t, teacher, cc);
      if (!c.is_ok()) return c.status();
      for (int s = 0; s < students; ++s) {
        store::Enrollment e{c->id, "s" + std::to_string(s), "Student " + std::to_string(s), 1};
        EC_RETURN_IF_ERROR(store::insert_enrollment(t, e).status());
      }
      auto ses = service->go_live(t, teacher, c->id, "L1");
      if (!ses.is_ok()) return ses.status();
      classroom::CreateQuiz cq;
      cq.title = "Q";
      for (int q = 0; q < kQuestions; ++q) {
        classroom::Question question;
        question.prompt = "q" + std::to_string(q);
        question.options = {"a", "b", "c", "d"};
        question.correct = {q % 4};
        cq.questions.push_back(question);
      }
      auto quiz = service->create_quiz(t, teacher, ses->id, cq);
      if (!quiz.is_ok()) return quiz.status();
      quiz_id = quiz->id;
      auto pub = service->publish_quiz(t, teacher, quiz_id, 3600);
      if (!pub.is_ok()) return pub.status();
      for (int s = 0; s < students && answered; ++s) {
        for (int q = 0; q < kQuestions; ++q) {
          store::Answer a{quiz_id,
                          "s" + std::to_string(s),
                          q,
                          "[" + std::to_string((s + q) % 4) + "]",
                          (s + q) % 4 == q % 4,
                          2};
          EC_RETURN_IF_ERROR(store::insert_answer(t, a).status());
        }
      }
      return base::Status::ok();
    });
  }
  ~Fixture() {
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

void BM_TeacherResults(benchmark::State& state) {
  Fixture f(int(state.range(0)));
  for (auto _ : state) {
    auto r = f.service->results(*f.db, f.teacher, f.quiz_id);
    if (!r.is_ok()) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.counters["students"] = double(state.range(0));
}
BENCHMARK(BM_TeacherResults)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

// One student's live answer to one question, the reading side: the quiz, its course, the
// enrollment (from the room's row cache, as ws::RoomHost reads them: the quiz and course rows
// are read once, each student's enrollment once per student), the policy's "answer" decision
// and the grading. The room's thread runs this for every answer; what the commit adds is apart
// (the writer's group commit).
void BM_PrepareLiveAnswer(benchmark::State& state) {
  constexpr int kStudents = 1000;
  Fixture f(kStudents, false);
  classroom::QuestionsCache questions_cache;  // as the room's (ws::RoomHost)
  classroom::RowCache row_cache;
  boost::json::value body = boost::json::parse(R"({"answers":[{"question":3,"choice":[1]}]})");
  std::vector<classroom::Actor> students;
  for (int s = 0; s < kStudents; ++s) {
    students.push_back({"s" + std::to_string(s), "Student", base::Role::kStudent});
  }
  size_t next = 0;
  for (auto _ : state) {
    classroom::DbReader reader(*f.db, &questions_cache, &row_cache);  // one per answer, as there
    auto r =
        f.service->prepare_answers(reader, students[next++ % students.size()], f.quiz_id, body);
    if (!r.is_ok()) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}
// RESULTS_BENCH_ITERATIONS=N runs exactly N answers, so that callgrind gives instructions per
// answer (total Ir / N):
//   RESULTS_BENCH_ITERATIONS=2000 valgrind --tool=callgrind
//     --toggle-collect='classroom::Service::prepare_answers(classroom::Reader&*'
//     build/release/bench/results_bench --benchmark_filter=Prepare
[[maybe_unused]] const bool kPrepareRegistered = [] {
  auto* b = benchmark::RegisterBenchmark("BM_PrepareLiveAnswer", BM_PrepareLiveAnswer);
  b->Unit(benchmark::kMicrosecond);
  if (const char* iters = std::getenv("RESULTS_BENCH_ITERATIONS")) b->Iterations(std::atoll(iters));
  return true;
}();
