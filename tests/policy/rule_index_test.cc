// Rule indexing (src/policy/rule_index.h): every decision with the index must be the decision
// without it (EvalOptions::rule_index = false evaluates every body), over the real policies
// and the cases where an index could go wrong.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "policy/engine.h"
#include "policy/program.h"

namespace policy {
namespace rule_index_test {

Value Json(std::string_view text) {
  auto v = Value::parse_json(text);
  EXPECT_TRUE(v.is_ok()) << text;
  return v.is_ok() ? *v : Value();
}

std::shared_ptr<const Engine> Compile(std::vector<Module> modules,
                                      Value data = Value::empty_object()) {
  CompileOptions opts;
  opts.data = std::move(data);
  auto e = Engine::compile(std::move(modules), opts);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? e.value() : nullptr;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What a query gives: its rows, or its error, and what it printed.
std::string Outcome(const Engine& e, std::string_view query, const Value* input, bool indexed,
                    bool strict = false) {
  EvalOptions opts;
  opts.rule_index = indexed;
  opts.strict_builtin_errors = strict;
  std::string printed;
  opts.print = [&](std::string_view s) {
    printed += s;
    printed += "\n";
  };
  auto r = e.query(query, input, opts);
  std::string out;
  if (!r.is_ok()) {
    out = "error: " + r.status().message();
  } else {
    for (const auto& row : r->rows) {
      out += "{";
      for (const auto& [k, v] : row) out += k + "=" + v.to_rego() + " ";
      out += "}";
    }
    if (r->rows.empty()) out = "undefined";
  }
  return out + (printed.empty() ? "" : " printed: " + printed);
}

// The outcome with the index, after checking it is the one without.
std::string Same(const Engine& e, std::string_view query, const Value* input, bool strict = false) {
  std::string with = Outcome(e, query, input, true, strict);
  std::string without = Outcome(e, query, input, false, strict);
  EXPECT_EQ(with, without) << query << " input " << (input ? input->to_json() : "undefined");
  return with;
}

std::string Same(const Engine& e, std::string_view query, std::string_view input,
                 bool strict = false) {
  Value in = Json(input);
  return Same(e, query, &in, strict);
}

// How many of the node's bodies the index leaves for `input` (-1: the node has no index).
int Candidates(const Engine& e, const std::vector<std::string>& path, const Value& input,
               std::vector<Value> args = {}) {
  const Node* n = e.program().find(path);
  if (!n || !n->index) return -1;
  BodySet set(n->index->num_words);
  for (size_t i = 0; i < n->index->num_bodies; ++i) set.set(i);
  n->index->candidates(&input, e.program().base_data, args, set);
  int count = 0;
  for (size_t i = 0; i < n->index->num_bodies; ++i) count += set.test(i) ? 1 : 0;
  return count;
}

// --- the real policies --------------------------------------------------------------------

class EducationPolicyIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = Compile({{"education.rego",
                        ReadFile(std::string(EDGECLASS_SOURCE_DIR) + "/policies/education.rego")}});
    ASSERT_TRUE(engine_);
  }
  std::shared_ptr<const Engine> engine_;
};

const char* const kActions[] = {
    "create_course",
    "update_course",
    "join",
    "leave",
    "remove_student",
    "list_students",
    "go_live",
    "end_session",
    "create_quiz",
    "publish_quiz",
    "close_quiz",
    "read_results",
    "list_quizzes",
    "read_quiz",
    "answer",
    "join_live",
    "mute",
    "remove_from_room",
    "moderate",
    "publish_media",
    "share_screen",
    "read_join_code",
    "rotate_join_code",
    "read_attendance",
    "read_gradebook",
    "stage",
    "unknown",
    "",
    "ANSWER",
};

// Random inputs over every action, with fields missing, of odd types, or as the server sends
// them; the whole package (allow, deny_reason and the helpers) must be the same.
TEST_F(EducationPolicyIndexTest, EveryActionAndOddInputsDecideAlike) {
  std::mt19937 rng(7);
  auto pick = [&](std::initializer_list<const char*> xs) {
    return *(xs.begin() + std::uniform_int_distribution<size_t>(0, xs.size() - 1)(rng));
  };
  std::vector<std::string> odd_actions = {
      "1", "1.0", "true", "null", R"(["answer"])", R"({"answer": true})", R"("answer ")"};
  int compared = 0;
  for (int round = 0; round < 6; ++round) {
    for (size_t a = 0; a < std::size(kActions) + odd_actions.size(); ++a) {
      std::string action = a < std::size(kActions) ? "\"" + std::string(kActions[a]) + "\""
                                                   : odd_actions[a - std::size(kActions)];
      std::string in = "{";
      if (round != 5 || a % 2) in += "\"action\": " + action + ",";
      in += std::string("\"user\": ") +
            pick({R"({"id": "s1", "role": "student"})", R"({"id": "t1", "role": "teacher"})",
                  R"({"id": "a1", "role": "admin"})", R"({"id": "t2", "role": "teacher"})",
                  R"({"id": "x", "role": 1})", R"({"id": "x"})", R"("student")", "null"}) +
            ",";
      in +=
          std::string("\"course\": ") +
          pick(
              {R"({"id": "c", "status": "active", "capacity": 30, "enrolled": 2, "teacher_id": "t1", "students": ["a", "b"]})",
               R"({"id": "c", "status": "active", "capacity": 2, "enrolled": 2, "teacher_id": "t1", "students": ["a", "b"]})",
               R"({"id": "c", "status": "draft", "capacity": 30.0, "teacher_id": "t1", "students": []})",
               R"({"id": "c", "teacher_id": "t1"})", R"({"id": "c", "status": 1, "students": 3})",
               R"([])"}) +
          ",";
      in += std::string("\"session\": ") +
            pick({R"({"status": "live"})", R"({"status": "ended"})", R"({"status": ["live"]})",
                  "{}"}) +
            ",";
      in += std::string("\"quiz\": ") +
            pick({R"({"status": "draft"})", R"({"status": "published"})", R"({"status": "closed"})",
                  "{}"}) +
            ",";
      in += std::string("\"enrolled\": ") + pick({"true", "false", "1", "\"true\"", "null"}) + ",";
      in += std::string("\"on_stage\": ") + pick({"true", "false", "1.0"});
      in += "}";
      Value input = Json(in);
      Same(*engine_, "x = data.education.allow", &input);
      Same(*engine_, "x = data.education.deny_reason", &input);
      Same(*engine_, "x = data.education", &input);
      ++compared;
    }
  }
  Same(*engine_, "x = data.education.allow", nullptr);  // no input at all
  Same(*engine_, "x = data.education", "[1, 2]");
  Same(*engine_, "x = data.education", "\"answer\"");
  EXPECT_GT(compared, 200);
}

TEST_F(EducationPolicyIndexTest, WithReplacesTheInputTheIndexReads) {
  const char* in = R"({"action": "join", "user": {"id": "s1", "role": "student"},
    "course": {"teacher_id": "t1", "status": "draft"}, "enrolled": true})";
  EXPECT_EQ(Same(*engine_, R"(x = data.education.allow with input.action as "answer")", in),
            "{x=true }");
  EXPECT_EQ(
      Same(
          *engine_,
          R"(x = data.education.allow with input as {"action": "answer", "user": {"role": "student"}, "enrolled": true})",
          in),
      "{x=true }");
  EXPECT_EQ(
      Same(*engine_,
           R"(x = data.education.allow with input.enrolled as false with input.action as "answer")",
           in),
      "{x=false }");
  // The outer input again after the with (the cache of the with-context is its own).
  EXPECT_EQ(
      Same(*engine_,
           R"(data.education.allow with input.action as "answer"; x = data.education.deny_reason)",
           in),
      R"({x={"the course is not active"} })");
  // A with of data (the set of teacher actions) turns the index off for that expression.
  EXPECT_EQ(
      Same(
          *engine_,
          R"(x = data.education.allow with data.education.teacher_actions as {"join"} with input.user as {"id": "t1", "role": "teacher"})",
          in),
      "{x=true }");
}

// The policy's own unit tests (with input as ... throughout) pass alike.
TEST_F(EducationPolicyIndexTest, PolicyUnitTestsAlike) {
  auto e = Compile(
      {{"education.rego", ReadFile(std::string(EDGECLASS_SOURCE_DIR) + "/policies/education.rego")},
       {"education_test.rego",
        ReadFile(std::string(EDGECLASS_SOURCE_DIR) + "/policies/education_test.rego")}});
  ASSERT_TRUE(e);
  Value empty = Value::empty_object();
  EXPECT_NE(Same(*e, "x = data.education_test", &empty), "undefined");
}

// The index does what it is for: an answer is decided on a handful of allow's bodies.
TEST_F(EducationPolicyIndexTest, AnswerTriesFewBodies) {
  const Node* allow = engine_->program().find({"education", "allow"});
  ASSERT_TRUE(allow && allow->index);
  Value answer = Json(R"({"action": "answer", "user": {"role": "student"}, "enrolled": true})");
  int n = Candidates(*engine_, {"education", "allow"}, answer);
  EXPECT_GE(n, 1);
  EXPECT_LE(n, 5) << "of " << allow->index->num_bodies;  // the 4 set-membership bodies + answer's
  EXPECT_LE(Candidates(*engine_, {"education", "deny_reason"}, answer), 3);
}

// --- the pitfalls, one by one -------------------------------------------------------------

TEST(RuleIndexTest, NotIsNeverAnIndexedEquality) {
  auto e = Compile({{"p.rego", R"(package p
p if not input.a == "x"
q if { not input.a == "x"; input.b == "y" }
)"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(Same(*e, "x = data.p.p", R"({"a": "y"})"), "{x=true }");
  EXPECT_EQ(Same(*e, "x = data.p.p", R"({"a": "x"})"), "undefined");
  EXPECT_EQ(Same(*e, "x = data.p.p", "{}"), "{x=true }");
  EXPECT_EQ(Same(*e, "x = data.p.q", R"({"b": "y"})"), "{x=true }");
  EXPECT_EQ(Same(*e, "x = data.p.q", R"({"a": "x", "b": "y"})"), "undefined");
}

TEST(RuleIndexTest, UndefinedAndNonScalarValuesMatchNoConstant) {
  auto e = Compile({{"p.rego", R"(package p
r contains "a" if input.k == "a"
r contains "b" if input.k == "b"
r contains "any" if input.k
r contains "none" if not input.k
r contains "arr" if input.k == ["a"]
)"}});
  ASSERT_TRUE(e);
  for (const char* in :
       {R"({"k": "a"})", R"({"k": "b"})", "{}", R"({"k": ["a"]})", R"({"k": {"a": 1}})",
        R"({"k": null})", R"({"k": false})", "[]", "\"a\"", R"({"k": {"k": "a"}})"}) {
    Same(*e, "x = data.p.r", in);
  }
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"k": ["a"]})"), R"({x={"any", "arr"} })");
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"k": "a"})"), R"({x={"a", "any"} })");
  EXPECT_EQ(Same(*e, "x = data.p.r", nullptr), R"({x={"none"} })");
}

TEST(RuleIndexTest, ElseChainsKeepTheirOrder) {
  auto e = Compile({{"p.rego", R"(package p
p := 1 if input.a == "x"
else := 2 if input.a == "y"
else := 3 if input.b == "z"
else := 4
f(v) := 1 if v == "x"
else := 2 if input.a == "y"
else := 3
default g := 0
g := 9 if input.a == "q"
)"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(Same(*e, "x = data.p.p", R"({"a": "x"})"), "{x=1 }");
  EXPECT_EQ(Same(*e, "x = data.p.p", R"({"a": "y", "b": "z"})"), "{x=2 }");
  EXPECT_EQ(Same(*e, "x = data.p.p", R"({"a": "w", "b": "z"})"), "{x=3 }");
  EXPECT_EQ(Same(*e, "x = data.p.p", R"({"a": "w"})"), "{x=4 }");
  EXPECT_EQ(Same(*e, "x = data.p.p", nullptr), "{x=4 }");
  EXPECT_EQ(Same(*e, R"(x = data.p.f("x"))", R"({"a": "y"})"), "{x=1 }");
  EXPECT_EQ(Same(*e, R"(x = data.p.f("z"))", R"({"a": "y"})"), "{x=2 }");
  EXPECT_EQ(Same(*e, R"(x = data.p.f("z"))", "{}"), "{x=3 }");
  EXPECT_EQ(Same(*e, "x = data.p.g", "{}"), "{x=0 }");
  EXPECT_EQ(Same(*e, "x = data.p.g", R"({"a": "q"})"), "{x=9 }");
}

TEST(RuleIndexTest, NumbersCompareByValue) {
  auto e = Compile({{"p.rego", R"(package p
r contains "one" if input.n == 1
r contains "one.0" if input.n == 1.0
r contains "big" if input.n == 18446744073709551616
r contains "half" if input.n = 0.5
r contains "str" if input.n == "1"
r contains "true" if input.n == true
r contains "null" if input.n == null
)"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"n": 1})"), R"({x={"one", "one.0"} })");
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"n": 1.0})"), R"({x={"one", "one.0"} })");
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"n": 0.5})"), R"({x={"half"} })");
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"n": "1"})"), R"({x={"str"} })");
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"n": true})"), R"({x={"true"} })");
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"n": null})"), R"({x={"null"} })");
  Same(*e, "x = data.p.r with input.n as 18446744073709551616", "{}");
  Same(*e, "x = data.p.r with input.n as 1.00000000001", "{}");
}

TEST(RuleIndexTest, EqualityAfterOtherExpressions) {
  auto e = Compile({{"p.rego", R"(package p
r contains "after-assign" if { v := input.b; input.a == "x"; v == 1 }
r contains "after-loop" if { some i; input.xs[i] > 1; input.a == "x" }
r contains "after-call" if { count(input.xs) > 0; input.a == "y" }
r contains "after-print" if { print("p", input.a); input.a == "z" }
r contains "after-rule" if { q; input.a == "w" }
q if input.b == 1
)"}});
  ASSERT_TRUE(e);
  for (const char* a : {"x", "y", "z", "w", "v"}) {
    for (const char* rest : {R"("b": 1, "xs": [1, 2, 3])", R"("b": 2, "xs": 7)", R"("xs": [])"}) {
      std::string in = std::string("{\"a\": \"") + a + "\", " + rest + "}";
      Same(*e, "x = data.p.r", in);
      Same(*e, "x = data.p.r", in, /*strict=*/true);
    }
  }
  // count(7) fails a strict evaluation whatever the action: the body is not skipped.
  EXPECT_NE(Same(*e, "x = data.p.r", R"({"a": "x", "xs": 7})", true).find("error"),
            std::string::npos);
  // print runs for every input, as without an index.
  EXPECT_NE(Same(*e, "x = data.p.r", R"({"a": "q"})").find("printed: p q"), std::string::npos);
}

TEST(RuleIndexTest, SeveralIndexedReferences) {
  auto e = Compile({{"p.rego", R"(package p
r contains 1 if { input.a == "x"; input.b == "y" }
r contains 2 if { input.b == "y"; input.c.d == 3 }
r contains 3 if { input.a == "x"; input.a == "z" }
r contains 4 if { input.c.d == 3 }
r contains 5 if input.a == "x"
r contains 6 if true
)"}});
  ASSERT_TRUE(e);
  for (const char* a : {"\"x\"", "\"z\"", "1", "null"}) {
    for (const char* b : {"\"y\"", "\"n\""}) {
      for (const char* c : {R"({"d": 3})", R"({"d": 3.0})", "{}", "3"}) {
        Same(*e, "x = data.p.r",
             std::string("{\"a\": ") + a + ", \"b\": " + b + ", \"c\": " + c + "}");
      }
    }
  }
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"a": "x", "b": "y", "c": {"d": 3}})"),
            "{x={1, 2, 4, 5, 6} }");
  EXPECT_EQ(Candidates(*e, {"p", "r"}, Json(R"({"a": "x", "b": "n"})")), 3);  // 3, 5 and 6
}

TEST(RuleIndexTest, UnificationForms) {
  auto e = Compile({{"p.rego", R"(package p
r contains 1 if input.a = "x"
r contains 2 if "x" = input.a
r contains 3 if "x" == input.a
r contains 4 if { some v; v = input.a; v == "x" }
r contains 5 if { input.a = v; v = "y" }
r contains 6 if { [input.a, 1] = ["x", 1] }
)"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"a": "x"})"), "{x={1, 2, 3, 4, 6} }");
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"a": "y"})"), "{x={5} }");
  EXPECT_EQ(Same(*e, "x = data.p.r", "{}"), "{x=set() }");
}

TEST(RuleIndexTest, RulesReadByOtherRulesAndWith) {
  auto e = Compile({{"p.rego", R"(package p
q if input.a == "x"
q if input.a == "y"
p if { q; input.b == 1 }
s := [v | some v in ["x", "y", "z"]; q with input.a as v]
t if q with input as {"a": "y"}
)"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(Same(*e, "x = data.p.p", R"({"a": "y", "b": 1})"), "{x=true }");
  EXPECT_EQ(Same(*e, "x = data.p.p", R"({"a": "z", "b": 1})"), "undefined");
  EXPECT_EQ(Same(*e, "x = data.p.p with input.a as \"x\"", R"({"a": "z", "b": 1})"), "{x=true }");
  EXPECT_EQ(Same(*e, "x = data.p.s", "{}"), R"({x=["x", "y"] })");
  EXPECT_EQ(Same(*e, "x = data.p.t", R"({"a": "z"})"), "{x=true }");
  EXPECT_EQ(Same(*e, "data.p.t; x = data.p.q", R"({"a": "z"})"), "undefined");
}

TEST(RuleIndexTest, ConflictsAmongCandidatesStay) {
  auto e = Compile({{"p.rego", R"(package p
r := 1 if input.a == "x"
r := 2 if input.a == "x"
r := 3 if input.a == "y"
o[k] := 1 if { k := "k"; input.a == "y" }
o[k] := 2 if { k := "k"; input.b == "y" }
)"}});
  ASSERT_TRUE(e);
  EXPECT_NE(Same(*e, "x = data.p.r", R"({"a": "x"})").find("eval_conflict_error"),
            std::string::npos);
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"a": "y"})"), "{x=3 }");
  EXPECT_EQ(Same(*e, "x = data.p.o", R"({"a": "y", "b": "n"})"), R"({x={"k": 1} })");
  EXPECT_NE(Same(*e, "x = data.p.o", R"({"a": "y", "b": "y"})").find("eval_conflict_error"),
            std::string::npos);
}

TEST(RuleIndexTest, FunctionsIndexTheirArguments) {
  auto e = Compile({{"p.rego", R"(package p
f("a") := 1
f("b") := 2
f(x) := 3 if x == "c"
f(1) := 4
f(x) := 5 if { x == 2; input.on }
g(_, "k") := "second"
g(x, y) := "same" if x == y
)"}});
  ASSERT_TRUE(e);
  for (const char* arg : {"\"a\"", "\"b\"", "\"c\"", "\"d\"", "1", "1.0", "2", "[1]", "null"}) {
    Same(*e, std::string("x = data.p.f(") + arg + ")", R"({"on": true})");
    Same(*e, std::string("x = data.p.f(") + arg + ")", "{}");
    Same(*e, std::string("x = data.p.g(") + arg + ", \"k\")", "{}");
    Same(*e, std::string("x = data.p.g(") + arg + ", " + arg + ")", "{}");
  }
  EXPECT_EQ(Same(*e, "x = data.p.f(1.0)", "{}"), "{x=4 }");
  EXPECT_EQ(Same(*e, "x = data.p.f(\"c\")", "{}"), "{x=3 }");
  EXPECT_EQ(Same(*e, "x = data.p.f(2)", R"({"on": true})"), "{x=5 }");
  EXPECT_EQ(Candidates(*e, {"p", "f"}, Value(), {Json("\"b\"")}), 1);
  // A mocked function and a mocked builtin: the index is off, the answers the same.
  EXPECT_EQ(Same(*e, R"(x = data.p.f("a") with data.p.f as 7)", "{}"), "{x=7 }");
  Same(*e, R"(x = data.p.f("c") with equal as true)", "{}");
}

TEST(RuleIndexTest, BaseDataReferences) {
  auto e = Compile({{"p.rego", R"(package p
r contains "open" if data.config.mode == "open"
r contains "shut" if data.config.mode == "shut"
r contains "rule" if data.p.mode == "open"
mode := input.mode
)"}},
                   Json(R"({"config": {"mode": "open"}})"));
  ASSERT_TRUE(e);
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"mode": "open"})"), R"({x={"open", "rule"} })");
  EXPECT_EQ(Same(*e, R"(x = data.p.r with data.config.mode as "shut")", "{}"), R"({x={"shut"} })");
  EXPECT_EQ(Same(*e, R"(x = data.p.r with data.config as {})", "{}"), "{x=set() }");
}

// A base document at a rule's path wins over the rule (walk_data): the rule is no constant.
TEST(RuleIndexTest, BaseDocumentHidesAConstantRule) {
  auto e = Compile({{"q.rego", R"(package q
s := {"a", "b"}
r contains 1 if s[input.x]
r contains 2 if input.x in s
r contains 3 if input.x == "z"
)"}},
                   Json(R"({"q": {"s": {"z": true}}})"));
  ASSERT_TRUE(e);
  for (const char* in : {R"({"x": "z"})", R"({"x": "a"})", R"({"x": true})", "{}"}) {
    Same(*e, "x = data.q.r", in);
  }
  EXPECT_EQ(Same(*e, "x = data.q.r", R"({"x": "z"})"), "{x={1, 3} }");
}

// Membership in constant collections: a constant set rule read as S[k] and `k in S`.
TEST(RuleIndexTest, MembershipInConstants) {
  auto e = Compile({{"m.rego", R"(package m
s := {"a", "b", 1}
f := {"a", false}
o := {"k": "a", "l": "c"}
arr := ["x", ["a"]]
r contains 1 if s[input.x]
r contains 2 if input.x in s
r contains 3 if input.x in {"c", 2.0}
r contains 4 if f[input.x]
r contains 5 if input.x in o
r contains 6 if input.x in arr
r contains 7 if { s[input.x]; input.y == "y" }
)"}});
  ASSERT_TRUE(e);
  for (const char* x :
       {"\"a\"", "\"b\"", "\"c\"", "1", "1.0", "2", "false", "\"x\"", "[\"a\"]", "null"}) {
    Same(*e, "x = data.m.r", std::string("{\"x\": ") + x + ", \"y\": \"y\"}");
    Same(*e, "x = data.m.r", std::string("{\"x\": ") + x + "}");
  }
  EXPECT_EQ(Same(*e, "x = data.m.r", R"({"x": 1.0, "y": "y"})"), "{x={1, 2, 7} }");
  EXPECT_EQ(Same(*e, "x = data.m.r", R"({"x": ["a"]})"), "{x={6} }");
  EXPECT_EQ(Same(*e, "x = data.m.r with data.m.s as {\"c\"}", R"({"x": "c"})"),
            "{x={1, 2, 3, 5} }");
}

TEST(RuleIndexTest, StrictErrorsInCandidatesOnly) {
  auto e = Compile({{"p.rego", R"(package p
r contains 1 if { input.a == "x"; 1 / input.z }
r contains 2 if { input.a == "y" }
)"}});
  ASSERT_TRUE(e);
  EXPECT_NE(Same(*e, "x = data.p.r", R"({"a": "x", "z": 0})", true).find("error"),
            std::string::npos);
  EXPECT_EQ(Same(*e, "x = data.p.r", R"({"a": "y", "z": 0})", true), "{x={2} }");
}

}  // namespace rule_index_test
}  // namespace policy
