// The typed decision input (classroom::DecisionInput) as the engine's value, built directly
// (classroom::policy_input), against the path through JSON
// (policy::Value::from_json(input.to_json())): the same value and the same decisions. Also
// built for wasm32-wasi (cmake/wasm_tests.cmake): DecidesAsTheNativeBuild holds both builds to
// one digest of decisions.
#include "classroom/policy_input.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "classroom/rego_authorizer.h"
#include "policy/engine.h"

namespace classroom {
namespace {

using policy::Value;

// Equal as values, and built of the same kinds: an int64 where the other has an int64 (not a
// double or a big integer), the same members in the same order, recursively.
void expect_same(const Value& a, const Value& b, const std::string& where) {
  ASSERT_EQ(a.type(), b.type()) << where;
  ASSERT_EQ(a.compare(b), 0) << where << ": " << a.to_json() << " vs " << b.to_json();
  if (a.is_number()) {
    EXPECT_EQ(a.is_int(), b.is_int()) << where;
    EXPECT_EQ(a.is_big(), b.is_big()) << where;
  }
  if (a.is_string()) {
    EXPECT_EQ(a.as_string(), b.as_string()) << where;
  }
  if (a.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (size_t i = 0; i < a.size(); ++i) {
      expect_same(a.array_items()[i], b.array_items()[i], where + "[" + std::to_string(i) + "]");
    }
  }
  if (a.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (size_t i = 0; i < a.size(); ++i) {
      const auto& [ka, va] = a.object_items()[i];
      const auto& [kb, vb] = b.object_items()[i];
      expect_same(ka, kb, where + ".key");
      expect_same(va, vb, where + "." + ka.as_string());
    }
  }
}

// Random inputs over the documented shapes, with the words the default policy tests for
// (so that decisions go both ways) and odd strings and numbers around them.
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  // Not std::uniform_int_distribution: its algorithm is the library's own, and libc++ (the
  // wasm build) and libstdc++ must draw the same inputs from one seed.
  size_t below(size_t n) { return size_t(rng_() % n); }
  bool coin() { return below(2) == 0; }

  std::string id() {
    static const char* kIds[] = {"t1", "s1", "s2", "crs_1", "ses_1", "qz_1", "", "é", "t1 "};
    if (below(4) == 0) return odd();
    return kIds[below(std::size(kIds))];
  }
  std::string odd() {
    std::string s;
    size_t n = below(24);
    for (size_t i = 0; i < n; ++i) s += static_cast<char>(below(256));
    return s;
  }
  std::string_view word(std::span<const std::string_view> words) {
    if (below(8) == 0) {
      scratch_.push_back(odd());
      return scratch_.back();
    }
    return words[below(words.size())];
  }
  int64_t number() {
    static const int64_t kNums[] = {0,
                                    1,
                                    -1,
                                    2,
                                    30,
                                    1000,
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min(),
                                    1764000000000};
    return kNums[below(std::size(kNums))];
  }

 private:
  std::mt19937 rng_;
  std::deque<std::string> scratch_;  // stable storage for odd words
};

// Actions: every word of the input's table (the actions are among them; keys, roles and
// statuses as actions do no harm), and two it does not hold.
const std::vector<std::string_view>& actions() {
  static const auto* a = [] {
    auto* v = new std::vector<std::string_view>(input_words().begin(), input_words().end());
    v->insert(v->end(), {"Answer", ""});
    return v;
  }();
  return *a;
}
constexpr std::string_view kRoles[] = {"student", "teacher", "admin"};

// One random input and the rows it refers to.
struct Case {
  std::string user_id, user_name;
  store::Course course;
  std::vector<std::string> students;
  std::string room_course_id, room_teacher_id;
  store::Session session;
  store::Quiz quiz;
  std::string target_id;
  std::optional<classroom::DecisionInput::RoomCourse> room_course;
  std::optional<classroom::DecisionInput::Target> target;
};

classroom::DecisionInput make(Gen& g, Case& c) {
  c.user_id = g.id();
  c.user_name = g.coin() ? "Sam" : g.odd();
  classroom::DecisionInput in{g.word(actions()), {c.user_id, c.user_name, g.word(kRoles)}};
  c.course.id = g.id();
  c.course.teacher_id = g.coin() ? c.user_id : g.id();
  c.course.status = static_cast<store::CourseStatus>(g.below(3));
  c.course.capacity = g.number();
  c.course.enrolled = g.number();
  switch (g.below(4)) {
    case 0:
      break;
    case 1:
      in.course = &c.course;
      break;
    case 2:
      in.course = &c.course;
      for (size_t i = g.below(5); i > 0; --i) c.students.push_back(g.id());
      in.students = &c.students;
      break;
    case 3:
      c.room_course_id = g.id();
      c.room_teacher_id = g.coin() ? c.user_id : g.id();
      c.room_course.emplace(
          classroom::DecisionInput::RoomCourse{c.room_course_id, c.room_teacher_id});
      in.room_course = &*c.room_course;
      break;
  }
  if (g.coin()) {
    c.session.id = g.id();
    c.session.course_id = g.id();
    c.session.teacher_id = g.coin() ? c.user_id : g.id();
    c.session.status = static_cast<store::SessionStatus>(g.below(2));
    in.session = &c.session;
  }
  if (g.coin()) {
    c.quiz.id = g.id();
    c.quiz.session_id = g.id();
    c.quiz.status = static_cast<store::QuizStatus>(g.below(3));
    if (g.coin()) c.quiz.deadline_at = g.number();
    in.quiz = &c.quiz;
  }
  if (g.below(4) == 0) {
    c.target_id = g.id();
    c.target.emplace(classroom::DecisionInput::Target{c.target_id, std::nullopt});
    if (g.coin()) c.target->role = g.word(std::span(kRoles).first(2));
    in.target = &*c.target;
  }
  if (g.coin()) in.enrolled = g.coin();
  if (g.coin()) in.on_stage = g.coin();
  return in;
}

TEST(PolicyInputTest, SameValueAsThroughJson) {
  Gen g(17);
  for (int i = 0; i < 5000; ++i) {
    Case c;
    classroom::DecisionInput in = make(g, c);
    expect_same(policy_input(in), Value::from_json(in.to_json()), "input#" + std::to_string(i));
    if (HasFatalFailure()) return;
  }
}

// The default policies (policies/education.rego, read from the source tree: the wasm build
// has no app layer to embed them) as the server's authorizer.
base::Result<std::shared_ptr<const RegoAuthorizer>> default_policies() {
  const std::string path = std::string(EDGECLASS_SOURCE_DIR) + "/policies/education.rego";
  std::string text;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[16384];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  if (text.empty()) return base::invalid_argument("cannot read " + path);
  EC_ASSIGN_OR_RETURN(std::shared_ptr<const policy::Engine> engine,
                      policy::Engine::compile({{"policies/education.rego", std::move(text)}}));
  return RegoAuthorizer::make(std::move(engine), "data.education.allow");
}

// The default policies decide the typed input exactly as its JSON, allow and reason.
TEST(PolicyInputTest, SameDecisionsAsThroughJson) {
  auto authz = default_policies();
  ASSERT_TRUE(authz.is_ok()) << authz.status().to_string();
  Gen g(42);
  int allowed = 0, refused_with_reason = 0;
  for (int i = 0; i < 20000; ++i) {
    Case c;
    classroom::DecisionInput in = make(g, c);
    classroom::Decision typed = (*authz)->decide(in);
    classroom::Decision json = (*authz)->decide(in.to_json());
    ASSERT_EQ(typed.allow, json.allow) << in.to_json();
    ASSERT_EQ(typed.reason, json.reason) << in.to_json();
    allowed += typed.allow;
    refused_with_reason += !typed.allow && !typed.reason.empty();
  }
  // Both ways, or the comparison above proves little.
  EXPECT_GT(allowed, 500);
  EXPECT_GT(refused_with_reason, 500);
}

// The decisions of 2,000 random inputs, allow and reason, folded into one FNV-1a digest: the
// same number natively and in the wasm32-wasi build (the wasm server's authorizer is this one,
// on an engine, number handling and libc++ of that build). The inputs are drawn as
// above, one seed, no library-specific distribution. A change to policies/education.rego
// changes the digest: the failure prints the new one to put here after checking the change.
constexpr uint64_t kDecisionsDigest = 0xca351f614b052366;

TEST(PolicyInputTest, DecidesAsTheNativeBuild) {
  auto authz = default_policies();
  ASSERT_TRUE(authz.is_ok()) << authz.status().to_string();
  Gen g(2026);
  uint64_t digest = 14695981039346656037ull;
  auto fold = [&](std::string_view bytes) {
    for (unsigned char b : bytes) digest = (digest ^ b) * 1099511628211ull;
  };
  int allowed = 0;
  for (int i = 0; i < 2000; ++i) {
    Case c;
    DecisionInput in = make(g, c);
    Decision d = (*authz)->decide(in);
    fold(d.allow ? "1" : "0");
    fold(d.reason);
    fold("\n");
    allowed += d.allow;
  }
  EXPECT_GT(allowed, 50);
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(digest));
  EXPECT_EQ(digest, kDecisionsDigest) << "decisions digest " << hex;
}

// A policy whose results are the input's own strings: the reason is copied out before the
// value that refers to the caller's strings is dropped.
TEST(PolicyInputTest, ReasonsReadFromTheInput) {
  auto engine = policy::Engine::compile({{"t.rego", R"(package t
import rego.v1
allow if input.user.role == "admin"
deny_reason contains input.user.name if input.course.teacher_id == input.user.id
deny_reason contains "other" if input.course.teacher_id != input.user.id
)"}});
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  auto authz = RegoAuthorizer::make(*engine, "data.t.allow");
  ASSERT_TRUE(authz.is_ok());
  std::string id = "t1", name = "a name longer than the inline storage of std::string";
  std::string course_id = "crs_1";
  const classroom::DecisionInput::RoomCourse course{course_id, id};
  classroom::DecisionInput in{"moderate", {id, name, "teacher"}};
  in.room_course = &course;
  classroom::Decision d = (*authz)->decide(in);
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason, name);
}

}  // namespace
}  // namespace classroom
