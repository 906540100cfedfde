#include "policy/engine.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#ifndef __wasi__  // the wasm32-wasi build of this test has no threads
#include <thread>
#endif

#include "builtins_test_util.h"
#include "policy/builtin.h"

namespace policy {
namespace {

using testing::J;  // builtins_test_util.h

std::shared_ptr<const Engine> compile(std::string source, Syntax syntax = Syntax::kAuto,
                                      Value data = Value::empty_object()) {
  CompileOptions opts;
  opts.syntax = syntax;
  opts.data = std::move(data);
  auto e = Engine::compile({{"test.rego", std::move(source)}}, opts);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? e.value() : nullptr;
}

std::optional<Value> ref(const Engine& e, std::string_view r, std::string_view input = "{}") {
  auto v = e.eval_ref(r, J(input));
  EXPECT_TRUE(v.is_ok()) << v.status().message();
  return v.is_ok() ? v.value() : std::nullopt;
}

TEST(EngineTest, V1CompleteAndPartialRules) {
  auto e = compile(R"(package app
default allow := false
allow if {
  input.user.role == "admin"
}
allow if count(deny) == 0
deny contains msg if {
  some r in input.roles
  not r in {"a", "b"}
  msg := sprintf_free(r)
}
sprintf_free(r) := concat_free(r)
concat_free(r) := r
names[u.id] := u.name if some u in input.users
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(*ref(*e, "data.app.allow", R"({"roles": ["a"]})"), Value::boolean(true));
  EXPECT_EQ(*ref(*e, "data.app.allow", R"({"roles": ["a", "z"]})"), Value::boolean(false));
  EXPECT_EQ(*ref(*e, "data.app.deny", R"({"roles": ["x", "a", "y"]})"),
            Value::set({Value::string("x"), Value::string("y")}));
  EXPECT_EQ(
      *ref(*e, "data.app.names", R"({"users": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]})"),
      Value::object(
          {{Value::integer(1), Value::string("a")}, {Value::integer(2), Value::string("b")}}));
}

TEST(EngineTest, V0GatekeeperStyle) {
  auto e = compile(R"(package k8srequiredlabels
violation[{"msg": msg, "details": {"missing_labels": missing}}] {
  provided := {label | input.review.object.metadata.labels[label]}
  required := {label | label := input.parameters.labels[_]}
  missing := required - provided
  count(missing) > 0
  msg := "you must provide labels"
}
deny[msg] {
  input.x > 1
  msg := "too big"
}
allow { not deny["too big"] }
)",
                   Syntax::kV0);
  ASSERT_TRUE(e);
  auto v = ref(*e, "data.k8srequiredlabels.violation",
               R"({"review": {"object": {"metadata": {"labels": {"a": "1"}}}},
                   "parameters": {"labels": ["a", "owner"]}})");
  ASSERT_TRUE(v && v->is_set());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ(v->set_items()[0].find("details")->find("missing_labels")->to_rego(), R"({"owner"})");
  EXPECT_EQ(ref(*e, "data.k8srequiredlabels.allow", R"({"x": 2})"), std::nullopt);
  EXPECT_EQ(*ref(*e, "data.k8srequiredlabels.allow", R"({"x": 0})"), Value::boolean(true));
}

TEST(EngineTest, AutoSyntaxFallsBackToV0AndForcedSyntaxFails) {
  const char* v0 = "package p\nallow { input.x == 1 }\n";
  EXPECT_TRUE(Engine::compile({{"a.rego", v0}}).is_ok());
  CompileOptions o;
  o.syntax = Syntax::kV1;
  auto bad = Engine::compile({{"a.rego", v0}}, o);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("a.rego:2:"), std::string::npos) << bad.status().message();
  // v0 keywords only through future.keywords imports.
  const char* v0kw = "package p\nimport future.keywords.in\nallow { 1 in input.xs }\n";
  auto e = compile(v0kw, Syntax::kV0);
  ASSERT_TRUE(e);
  EXPECT_EQ(*ref(*e, "data.p.allow", R"({"xs": [1]})"), Value::boolean(true));
}

TEST(EngineTest, FutureKeywordsMarkV0Modules) {
  // With future.keywords and no rego.v1, `deny[msg] if` is a v0 partial set.
  auto e = compile(R"(package p
import future.keywords.if
import future.keywords.in
deny[msg] if {
  some x in input.xs
  msg := sprintf("bad %v", [x])
}
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(*ref(*e, "data.p.deny", R"({"xs": [1]})"), Value::set({Value::string("bad 1")}));
  // The same rule in a v1 module is an object with value true.
  auto v1 = compile("package p\nimport rego.v1\ndeny[msg] if { some x in input.xs; msg := x }\n");
  ASSERT_TRUE(v1);
  EXPECT_EQ(*ref(*v1, "data.p.deny", R"({"xs": ["a"]})"), J(R"({"a": true})"));
}

TEST(EngineTest, CompileErrorsNameFileLineColumn) {
  auto e = Engine::compile({{"pol/a.rego", "package p\n\nallow if {\n  nosuch.builtin(1)\n}\n"}});
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find("pol/a.rego:4:3"), std::string::npos) << e.status().message();
  EXPECT_NE(e.status().message().find("nosuch.builtin"), std::string::npos);
  auto p = Engine::compile({{"b.rego", "package p\nallow if {\n"}});
  ASSERT_FALSE(p.is_ok());
  EXPECT_EQ(p.status().reason(), "rego_parse_error");
}

TEST(EngineTest, UnsafeVarsAndRecursionAreCompileErrors) {
  auto u = Engine::compile({{"u.rego", "package p\nallow if {\n  x > 1\n}\n"}});
  ASSERT_FALSE(u.is_ok());
  EXPECT_EQ(u.status().reason(), "rego_unsafe_var_error");
  EXPECT_NE(u.status().message().find("u.rego:3:3"), std::string::npos) << u.status().message();
  EXPECT_NE(u.status().message().find("var x is unsafe"), std::string::npos);
  auto h = Engine::compile({{"h.rego", "package p\nq contains y if input.a\n"}});
  ASSERT_FALSE(h.is_ok());
  EXPECT_EQ(h.status().reason(), "rego_unsafe_var_error");
  auto r = Engine::compile({{"r.rego", "package p\na if b\nb if c\nc if a\n"}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().reason(), "rego_recursion_error");
  EXPECT_NE(r.status().message().find("data.p.a"), std::string::npos) << r.status().message();
  auto f = Engine::compile({{"f.rego", "package p\nf(x) := f(x - 1) if x > 0\n"}});
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(f.status().reason(), "rego_recursion_error");
  // Closures and comprehension-local vars are fine.
  EXPECT_TRUE(Engine::compile({{"ok.rego",
                                "package p\nxs := [1, 2]\n"
                                "ys := [y | some x in xs; y := x * 2]\n"}})
                  .is_ok());
}

TEST(EngineTest, ConflictsAndStrictErrors) {
  auto e = compile(R"(package p
x := 1 if input.a
x := 2 if input.b
f(v) := 1 if v > 0
f(v) := 2 if v > 1
d := 1 / input.n
)");
  ASSERT_TRUE(e);
  auto r = e->eval_ref("data.p.x", J(R"({"a": true, "b": true})"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().reason(), "eval_conflict_error");
  auto q = e->query("y := data.p.f(5)", J("{}"));
  ASSERT_FALSE(q.is_ok());
  EXPECT_EQ(q.status().reason(), "eval_conflict_error");
  // Non-strict: division by zero makes d undefined; strict: an error.
  EXPECT_EQ(ref(*e, "data.p.d", R"({"n": 0})"), std::nullopt);
  EvalOptions strict;
  strict.strict_builtin_errors = true;
  auto s = e->eval_ref("data.p.d", J(R"({"n": 0})"), strict);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().reason(), "eval_builtin_error");
  EXPECT_NE(s.status().message().find("test.rego:6:"), std::string::npos) << s.status().message();
}

TEST(EngineTest, QueryBindingsWithAndEvery) {
  auto e = compile(R"(package p
users := {"alice": "admin", "bob": "student"}
is_admin(u) if users[u] == "admin"
all_pos if every x in input.xs { x > 0 }
)");
  ASSERT_TRUE(e);
  auto q = e->query("some u; data.p.users[u] == role", J("{}"));
  ASSERT_FALSE(q.is_ok());  // role is unsafe
  auto r = e->query("data.p.users[u] = r; data.p.is_admin(u)", J("{}"));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0]["u"], Value::string("alice"));
  auto w = e->query("x := data.p.all_pos with input.xs as [1, 2]", J(R"({"xs": [-1]})"));
  ASSERT_TRUE(w.is_ok());
  ASSERT_EQ(w->rows.size(), 1u);
  EXPECT_EQ(w->rows[0]["x"], Value::boolean(true));
  EXPECT_EQ(ref(*e, "data.p.all_pos", R"({"xs": [-1]})"), std::nullopt);
}

TEST(EngineTest, DataMixesBaseAndVirtualDocuments) {
  auto e =
      compile("package a.b\nc := data.a.base + 1\n", Syntax::kAuto, J(R"({"a": {"base": 41}})"));
  ASSERT_TRUE(e);
  EXPECT_EQ(*ref(*e, "data.a", "{}"), J(R"({"base": 41, "b": {"c": 42}})"));
}

TEST(EngineTest, StepBudgetStopsRunawayEvaluation) {
  auto e = compile(R"(package p
n := count([x | some a in numbers.range(1, 2000); some b in numbers.range(1, 2000); x := a * b])
)");
  ASSERT_TRUE(e);
  EvalOptions o;
  o.max_steps = 10000;
  auto r = e->eval_ref("data.p.n", J("{}"), o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().reason(), "eval_cancel_error");
}

TEST(EngineTest, MetadataAnnotations) {
  auto e = compile(R"(package p

# METADATA
# title: Join rule
# description: students join active courses
# authors:
# - Jane Doe <jane@example.com>
# related_resources:
# - https://example.com/policy
# custom:
#   severity: high
#   tags:
#   - a
allow := rego.metadata.rule() if true

plain := rego.metadata.rule()
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(*ref(*e, "data.p.allow"),
            J(R"({"title": "Join rule", "description": "students join active courses",
                  "authors": [{"name": "Jane Doe", "email": "jane@example.com"}],
                  "related_resources": [{"ref": "https://example.com/policy"}],
                  "custom": {"severity": "high", "tags": ["a"]}, "scope": "rule"})"));
  EXPECT_EQ(*ref(*e, "data.p.plain"), Value::empty_object());
}

TEST(EngineTest, PreparedRefs) {
  auto e = compile("package a.b\nc := input.x + 1\n");
  ASSERT_TRUE(e);
  auto p = e->prepare_ref("data.a.b.c");
  ASSERT_TRUE(p.is_ok());
  auto v = e->eval_ref(*p, J(R"({"x": 41})"));
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(**v, Value::integer(42));
  EXPECT_FALSE(e->prepare_ref("input.x").is_ok());
  EXPECT_FALSE(e->prepare_ref("data..x").is_ok());
  auto other = compile("package a.b\nc := 1\n");
  EXPECT_FALSE(other->eval_ref(*p, J("{}")).is_ok());
}

#ifndef __wasi__
TEST(EngineTest, ConcurrentEvaluationOfOneEngine) {
  auto e = compile(R"(package p
allow if {
  some s in input.roster
  s.id == input.user
}
)");
  ASSERT_TRUE(e);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string in = R"({"roster": [{"id": "a"}, {"id": "b"}], "user": ")" +
                         std::string(i % 2 ? "a" : "z") + "\"}";
        auto v = e->eval_ref("data.p.allow", Value::parse_json(in).value());
        if (v.is_ok() && (i % 2 ? v->has_value() : !v->has_value())) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 800);
}
#endif  // __wasi__

TEST(EngineTest, DefaultPolicyAcceptsTheCaseStudyRule) {
  std::ifstream in(std::string(EDGECLASS_SOURCE_DIR) + "/policies/education.rego");
  ASSERT_TRUE(in) << "policies/education.rego missing";
  std::stringstream ss;
  ss << in.rdbuf();
  auto e = compile(ss.str());
  ASSERT_TRUE(e);
  auto join = [&](int enrolled) {
    std::string students;
    for (int i = 0; i < enrolled; ++i) students += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
    return ref(*e, "data.education.allow",
               R"({"action": "join", "user": {"id": "u1", "role": "student"},
                   "course": {"status": "active", "capacity": 10, "enrolled": )" +
                   std::to_string(enrolled) + R"(, "students": [)" + students + "]}}");
  };
  EXPECT_EQ(*join(3), Value::boolean(true));
  EXPECT_EQ(*join(10), Value::boolean(false));
}

// docs/policy.md promises the default rules use a small part of the server's step budget:
// a full course of 1,000 students at join, and each other action, within 1 % of it.
TEST(EngineTest, DefaultPolicyStaysFarUnderTheServerStepBudget) {
  std::ifstream in(std::string(EDGECLASS_SOURCE_DIR) + "/policies/education.rego");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  auto e = compile(ss.str());
  ASSERT_TRUE(e);
  std::string students;
  for (int i = 0; i < 1000; ++i) students += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  const std::string course = R"("course": {"id": "c1", "status": "active", "capacity": 1000,
      "enrolled": 1000, "teacher_id": "t1", "students": [)" +
                             students + "]}";
  EvalOptions tight;
  tight.max_steps = kServerStepBudget / 100;
  for (const char* action : {"join", "answer", "join_live", "publish_media", "moderate", "stage",
                             "read_results", "go_live", "create_course"}) {
    for (const char* user :
         {R"({"id": "s5", "role": "student"})", R"({"id": "t1", "role": "teacher"})"}) {
      std::string input = std::string(R"({"action": ")") + action + R"(", "user": )" + user + ", " +
                          course + R"(, "enrolled": true, "on_stage": false})";
      for (const char* doc : {"data.education.allow", "data.education.deny_reason"}) {
        auto v = e->eval_ref(doc, J(input), tight);
        EXPECT_TRUE(v.is_ok()) << action << " " << user << " " << doc << ": "
                               << v.status().to_string();
      }
    }
  }
  EvalOptions too_tight;
  too_tight.max_steps = 3;
  EXPECT_FALSE(
      e->eval_ref("data.education.allow",
                  J(std::string(R"({"action": "join", "user": {"id": "s5", "role": "student"}, )") +
                    course + "}"),
                  too_tight)
          .is_ok());
}

}  // namespace
}  // namespace policy
