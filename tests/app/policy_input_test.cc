// app: the typed decision input (classroom::DecisionInput) as the engine's value, built
// directly (app::policy_input), against the old path through JSON
// (policy::Value::from_json(input.to_json())): the same value and the same decisions.
#include "app/policy_input.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "app/policies.h"
#include "policy/engine.h"

namespace app {
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

  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
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

// The default policies decide the typed input exactly as its JSON, allow and reason.
TEST(PolicyInputTest, SameDecisionsAsThroughJson) {
  size_t files = 0;
  auto authz = load_policies("", &files);
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
}  // namespace app
