// Public API of the Rego engine: compile modules once, evaluate many times.
//
//   auto engine = policy::Engine::compile({{"authz.rego", source}}).value();
//   auto allow = engine->eval_ref("data.edgeclass.join.allow", input);  // optional<Value>
//
// An Engine is immutable after compile; query() and eval_ref() are const and may be called
// from several threads at once (each call has its own evaluation state).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "policy/parser.h"
#include "policy/value.h"

namespace policy {

struct Program;

struct Module {
  std::string filename;
  std::string source;
};

struct CompileOptions {
  Syntax syntax = Syntax::kAuto;
  // Base documents (the non-rule part of `data`); must be an object.
  Value data = Value::empty_object();
};

struct EvalOptions {
  // Builtin errors fail the query (OPA's strict-builtin-errors) instead of making the
  // expression undefined.
  bool strict_builtin_errors = false;
  // Evaluation step budget (0 = unlimited); exceeding it fails with eval_cancel_error.
  int64_t max_steps = 0;
  // Seams; defaults are the system clock and randomness.
  const base::Clock* clock = nullptr;
  base::Random* random = nullptr;
  // Evaluate only the bodies a rule's index leaves (docs/policy.md, "Rule indexing"); off
  // evaluates every body, for tests that compare the two.
  bool rule_index = true;
  // Receives print() output; discarded when empty.
  std::function<void(std::string_view)> print;
};

// The step budget the server evaluates every decision and data-API query with. The default
// policies take a few hundred steps; a million is under 0.1 s of one core here. A policy that
// explodes on some input (a comprehension over a request's array inside another) then fails
// that one decision (eval_cancel_error: denied, logged) instead of holding an I/O thread, and
// the students on it, for seconds.
inline constexpr int64_t kServerStepBudget = 1'000'000;

// The options the server evaluates decisions and data-API queries with (the budget above).
inline EvalOptions server_eval_options() {
  EvalOptions o;
  o.max_steps = kServerStepBudget;
  return o;
}

// Every binding set of the query's named variables (OPA's `opa eval` result rows).
struct QueryResult {
  std::vector<std::map<std::string, Value>> rows;
};

// A document ref resolved once (Engine::prepare_ref) for repeated decisions. Valid only with
// the Engine that prepared it.
class PreparedRef {
 public:
  const std::string& ref() const { return ref_; }

 private:
  friend class Engine;
  std::string ref_;
  std::vector<std::string> path_;  // without "data"
  const void* engine_ = nullptr;
};

class Engine {
 public:
  // Parses and compiles `modules`. Errors name "file:line:col" and carry the OPA error code
  // as reason() (rego_parse_error, rego_compile_error, rego_type_error, ...).
  static base::Result<std::shared_ptr<const Engine>> compile(std::vector<Module> modules,
                                                             CompileOptions opts = {});

  // Evaluates a query (a Rego body). Errors carry OPA's code as reason()
  // (eval_conflict_error, eval_type_error, eval_builtin_error, ...).
  base::Result<QueryResult> query(std::string_view query, const Value* input,
                                  const EvalOptions& opts = {}) const;
  base::Result<QueryResult> query(std::string_view q, const Value& input,
                                  const EvalOptions& opts = {}) const {
    return query(q, &input, opts);
  }

  // The value of a document such as "data.edgeclass.join.allow" (nullopt when undefined).
  // `input` is read in place, never copied.
  base::Result<std::optional<Value>> eval_ref(std::string_view ref, const Value& input,
                                              const EvalOptions& opts = {}) const;

  // Parses "data.a.b.c" once; eval_ref(prepared, input) then skips the parsing.
  base::Result<PreparedRef> prepare_ref(std::string_view ref) const;
  base::Result<std::optional<Value>> eval_ref(const PreparedRef& ref, const Value& input,
                                              const EvalOptions& opts = {}) const;

  // The compiled program (for tools that list rules, e.g. run_rego_tests).
  const Program& program() const { return *program_; }
  ~Engine();
  Engine();

 private:
  std::unique_ptr<Program> program_;
};

// The reason a deny-reason document gives, read the ways a policy writes one: the first string
// of an array or set (`deny_reason contains "…"`), the first key of an object (a partial
// object rule read as {"msg": true}), or a string. Empty for anything else.
std::string first_reason(const Value& why);

}  // namespace policy
