// Policy decision latency: the server's hot path (eval_ref on a rule with a large input).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "policy/engine.h"

namespace {

using policy::Value;

constexpr const char* kPolicy = R"(package edgeclass.join

default allow := false

allow if {
  input.action == "join"
  input.user.role == "student"
  input.course.status == "active"
  input.course.capacity > input.course.enrolled
  not banned
}

banned if input.user.id in input.course.banned

enrolled if {
  some s in input.roster
  s.id == input.user.id
}
)";

Value make_input(int students) {
  std::string roster = "[";
  for (int i = 0; i < students; ++i) {
    if (i) roster += ",";
    roster += R"({"id": "stu_)" + std::to_string(i) + R"(", "name": "Student )" +
              std::to_string(i) + R"(", "role": "student"})";
  }
  roster += "]";
  // course.students as the server builds it for a join: the ids of the enrolled students.
  std::string ids = "[";
  for (int i = 0; i + 1 < students; ++i) {
    ids += (i ? ",\"stu_" : "\"stu_") + std::to_string(i) + "\"";
  }
  ids += "]";
  std::string in = R"({"action": "join", "user": {"id": "stu_999", "role": "student"},
    "course": {"status": "active", "capacity": 1000, "enrolled": )" +
                   std::to_string(std::max(students - 1, 0)) + R"(, "banned": ["x"], "students": )" +
                   ids + R"(},
    "roster": )" + roster + "}";
  return Value::parse_json(in).value();
}

void BM_AllowDecision(benchmark::State& state) {
  auto engine = policy::Engine::compile({{"join.rego", kPolicy}}).value();
  Value input = make_input(1000);
  for (auto _ : state) {
    auto v = engine->eval_ref("data.edgeclass.join.allow", input);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_AllowDecision);

void BM_AllowDecisionPrepared(benchmark::State& state) {
  auto engine = policy::Engine::compile({{"join.rego", kPolicy}}).value();
  auto ref = engine->prepare_ref("data.edgeclass.join.allow").value();
  Value input = make_input(1000);
  for (auto _ : state) {
    auto v = engine->eval_ref(ref, input);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_AllowDecisionPrepared);

void BM_RosterScan(benchmark::State& state) {
  auto engine = policy::Engine::compile({{"join.rego", kPolicy}}).value();
  Value input = make_input(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto v = engine->eval_ref("data.edgeclass.join.enrolled", input);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_RosterScan)->Arg(100)->Arg(1000);

void BM_WholePackage(benchmark::State& state) {
  auto engine = policy::Engine::compile({{"join.rego", kPolicy}}).value();
  Value input = make_input(1000);
  for (auto _ : state) {
    auto v = engine->eval_ref("data.edgeclass.join", input);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_WholePackage);

// What converting a boost::json input per decision costs (the reason to keep large, slowly
// changing parts such as a roster as a shared Value and compose the input around it).
void BM_InputFromJson(benchmark::State& state) {
  Value input = make_input(static_cast<int>(state.range(0)));
  boost::json::value j = input.to_json_value();
  for (auto _ : state) {
    Value v = Value::from_json(j);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_InputFromJson)->Arg(1000);

// Composing the input around a cached roster Value: no copy of the roster.
void BM_ComposeInputWithCachedRoster(benchmark::State& state) {
  auto engine = policy::Engine::compile({{"join.rego", kPolicy}}).value();
  auto ref = engine->prepare_ref("data.edgeclass.join.allow").value();
  Value base = make_input(1000);
  Value roster = *base.find("roster");
  Value user = *base.find("user");
  Value course = *base.find("course");
  for (auto _ : state) {
    Value input = Value::object({{Value::string("action"), Value::string("join")},
                                 {Value::string("course"), course},
                                 {Value::string("roster"), roster},
                                 {Value::string("user"), user}});
    auto v = engine->eval_ref(ref, input);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_ComposeInputWithCachedRoster);

// The default policy, compiled.
std::shared_ptr<const policy::Engine> education_engine() {
  std::ifstream in(std::string(EDGECLASS_SOURCE_DIR) + "/policies/education.rego");
  std::stringstream ss;
  ss << in.rdbuf();
  return policy::Engine::compile({{"education.rego", ss.str()}}).value();
}

// The default policy (policies/education.rego, v0 syntax): a join decision on a course of
// 1,000 seats holding 999 students (count(input.course.students)) and a denial with its
// reasons, as the server asks them.
void BM_EducationPolicy(benchmark::State& state) {
  auto engine = education_engine();
  auto allow = engine->prepare_ref("data.education.allow").value();
  auto reasons = engine->prepare_ref("data.education.deny_reason").value();
  Value input = make_input(1000);
  if (!engine->eval_ref(allow, input).value()->as_bool()) state.SkipWithError("join refused");
  for (auto _ : state) {
    auto v = engine->eval_ref(allow, input);
    benchmark::DoNotOptimize(v);
    if (state.range(0)) {
      auto r = engine->eval_ref(reasons, input);
      benchmark::DoNotOptimize(r);
    }
  }
}
BENCHMARK(BM_EducationPolicy)->Arg(0)->Arg(1);

// The whole join decision as classroom::RegoAuthorizer makes it: the input arrives as boost::json
// (999 student ids) and is converted before the evaluation.
void BM_EducationJoinFromJson(benchmark::State& state) {
  auto engine = education_engine();
  auto allow = engine->prepare_ref("data.education.allow").value();
  boost::json::object j = make_input(1000).to_json_value().as_object();
  j.erase("roster");
  for (auto _ : state) {
    auto v = engine->eval_ref(allow, Value::from_json(j));
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_EducationJoinFromJson);

// One decision of the default policy per action, on inputs shaped as the server builds them
// (docs/policy.md, "Input documents"): `allow`, and for a refusal `deny_reason` too, as
// classroom::RegoAuthorizer asks. With POLICY_BENCH_ITERATIONS=N each runs exactly N decisions, so
// callgrind gives instructions per decision (total Ir / 1000, counting only eval_ref;
// POLICY_BENCH_NO_INDEX=1 evaluates every body, EvalOptions::rule_index = false):
//   POLICY_BENCH_ITERATIONS=1000 valgrind --tool=callgrind
//     --toggle-collect='policy::Engine::eval_ref(policy::PreparedRef const&*'
//     policy_bench --benchmark_filter='BM_EducationAction/answer/'
struct ActionCase {
  const char* name;
  const char* input;
};
constexpr const char* kCourse =
    R"("course": {"id": "crs_1", "status": "active", "capacity": 30, "enrolled": 12, "teacher_id": "t1"})";
const ActionCase kActionCases[] = {
    {"create_course", R"({"action": "create_course", "user": {"id": "t1", "name": "T", "role": "teacher"}})"},
    {"join", R"({"action": "join", "user": {"id": "s1", "name": "S", "role": "student"},
      "course": {"id": "crs_1", "status": "active", "capacity": 30, "enrolled": 3, "teacher_id": "t1",
                 "students": ["s2", "s3", "s4"]}})"},
    {"update_course", R"({"action": "update_course", "user": {"id": "t1", "name": "T", "role": "teacher"}, @C})"},
    {"read_quiz", R"({"action": "read_quiz", "user": {"id": "s1", "name": "S", "role": "student"}, @C,
      "quiz": {"id": "qz_1", "session_id": "ses_1", "status": "published", "deadline_at": 1764000000000},
      "enrolled": true})"},
    {"answer", R"({"action": "answer", "user": {"id": "s1", "name": "S", "role": "student"}, @C,
      "quiz": {"id": "qz_1", "session_id": "ses_1", "status": "published", "deadline_at": 1764000000000},
      "enrolled": true})"},
    {"answer_refused", R"({"action": "answer", "user": {"id": "s9", "name": "X", "role": "student"}, @C,
      "quiz": {"id": "qz_1", "session_id": "ses_1", "status": "published", "deadline_at": 1764000000000},
      "enrolled": false})"},
    {"join_live", R"({"action": "join_live", "user": {"id": "s1", "name": "S", "role": "student"}, @C,
      "session": {"id": "ses_1", "course_id": "crs_1", "teacher_id": "t1", "status": "live"},
      "enrolled": true})"},
    {"publish_media", R"({"action": "publish_media", "user": {"id": "s1", "name": "S", "role": "student"},
      "course": {"id": "crs_1", "teacher_id": "t1"}, "on_stage": true})"},
    {"stage", R"({"action": "stage", "user": {"id": "t1", "name": "T", "role": "teacher"},
      "course": {"id": "crs_1", "teacher_id": "t1"}, "target": {"id": "s1", "role": "student"}})"},
};

void BM_EducationAction(benchmark::State& state, const ActionCase* c) {
  auto engine = education_engine();
  auto allow = engine->prepare_ref("data.education.allow").value();
  auto reasons = engine->prepare_ref("data.education.deny_reason").value();
  std::string text = c->input;
  if (auto at = text.find("@C"); at != std::string::npos) text.replace(at, 2, kCourse);
  Value input = Value::parse_json(text).value();
  policy::EvalOptions opts;
  opts.rule_index = std::getenv("POLICY_BENCH_NO_INDEX") == nullptr;
  const bool refused = !engine->eval_ref(allow, input, opts).value()->as_bool();
  if (refused != (std::string_view(c->name).find("refused") != std::string_view::npos)) {
    state.SkipWithError("unexpected decision");
  }
  for (auto _ : state) {
    auto v = engine->eval_ref(allow, input, opts);
    benchmark::DoNotOptimize(v);
    if (refused) {
      auto r = engine->eval_ref(reasons, input, opts);
      benchmark::DoNotOptimize(r);
    }
  }
}

[[maybe_unused]] const bool kActionsRegistered = [] {
  const char* iters = std::getenv("POLICY_BENCH_ITERATIONS");
  for (const ActionCase& c : kActionCases) {
    auto* b = benchmark::RegisterBenchmark((std::string("BM_EducationAction/") + c.name).c_str(),
                                           BM_EducationAction, &c);
    if (iters) b->Iterations(std::atoll(iters));
  }
  return true;
}();

}  // namespace


// A Gatekeeper admission query: the k8sallowedrepos library template (v0 syntax, as Gatekeeper
// ships it) evaluating `violation` for a Pod with 3 containers, 2 of them from a wrong repo.
void BM_GatekeeperViolation(benchmark::State& state) {
  constexpr const char* kTemplate = R"(package k8sallowedrepos

violation[{"msg": msg}] {
  container := input.review.object.spec.containers[_]
  not strings.any_prefix_match(container.image, input.parameters.repos)
  msg := sprintf("container <%v> has an invalid image repo <%v>, allowed repos are %v", [container.name, container.image, input.parameters.repos])
}

violation[{"msg": msg}] {
  container := input.review.object.spec.initContainers[_]
  not strings.any_prefix_match(container.image, input.parameters.repos)
  msg := sprintf("initContainer <%v> has an invalid image repo <%v>, allowed repos are %v", [container.name, container.image, input.parameters.repos])
}
)";
  auto engine = policy::Engine::compile({{"template.rego", kTemplate}}).value();
  Value input = Value::parse_json(R"({"parameters": {"repos": ["registry.edu.example/", "docker.io/library/"]},
    "review": {"kind": {"group": "", "version": "v1", "kind": "Pod"}, "object": {
      "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "education"},
      "spec": {"containers": [
        {"name": "app", "image": "registry.edu.example/edgeclass:1.0"},
        {"name": "sidecar", "image": "quay.io/x/y:2"},
        {"name": "debug", "image": "evil.example/z"}]}}}})").value();
  size_t n = 0;
  for (auto _ : state) {
    auto v = engine->eval_ref("data.k8sallowedrepos.violation", input);
    n = v.is_ok() && v->has_value() ? (*v)->elements().size() : 0;
    benchmark::DoNotOptimize(v);
  }
  if (n != 2) state.SkipWithError("expected 2 violations");
}
BENCHMARK(BM_GatekeeperViolation);

BENCHMARK_MAIN();
