// Evaluator: top-down, backtracking evaluation of compiled Rego. One Evaluator per query
// call; it owns all mutable state (bindings, caches), so a Program can be evaluated from
// several threads at once with separate Evaluators.
#pragma once

#include <functional>
#include <type_traits>
#include <optional>
#include <unordered_map>
#include <vector>

#include "policy/builtin.h"
#include "policy/program.h"

namespace policy {

// A non-owning reference to a callable (continuations are always called while the callable
// they refer to is alive on the caller's stack, so no allocation is needed).
template <typename Sig>
class FnRef;
template <typename R, typename... A>
class FnRef<R(A...)> {
 public:
  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FnRef>>>
  FnRef(F&& f)  // NOLINT: implicit by design
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  FnRef(const FnRef&) = default;
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

struct EvalLimits {
  bool strict_builtin_errors = false;
  int64_t max_steps = 0;  // 0: unlimited; otherwise fail with "eval_cancel_error" after this
  int max_depth = 2000;   // rule/function call nesting
  bool rule_index = true; // skip the bodies the rule index rules out (rule_index.h)
};

struct Frame {
  std::vector<Value> slots;
  std::vector<char> bound;
  explicit Frame(int n) : slots(static_cast<size_t>(n)), bound(static_cast<size_t>(n), 0) {}
};

class Evaluator {
 public:
  Evaluator(const Program& prog, const Value* input, BuiltinContext& ctx, EvalLimits limits);

  using Cont = FnRef<base::Status()>;
  using ValCont = FnRef<base::Status(const Value&)>;

  // Evaluates `body` in `frame`, calling `k` for every solution.
  base::Status eval_body(const Body& body, Frame& frame, const Cont& k);
  // The value of the document at data.<path> (nullopt: undefined).
  base::Result<std::optional<Value>> eval_data_path(const std::vector<std::string>& path);

 private:
  friend struct EvalAccess;
  base::Status body_from(const Body& body, size_t i, Frame& f, const Cont& k);
  base::Status expr(const Expr& e, Frame& f, const Cont& k);
  base::Status expr_no_with(const Expr& e, Frame& f, const Cont& k);
  base::Status term(const Term& t, Frame& f, const ValCont& k);
  base::Status terms(const std::vector<TermPtr>& ts, size_t i, std::vector<Value>& out,
                     Frame& f, const Cont& k);
  // Fast path for single-valued terms (constants, bound vars, refs without enumeration,
  // builtin calls on such terms): no continuations. kNotSimple: use the general path.
  enum class Fast { kNotSimple, kUndefined, kValue };
  Fast fast(const Term& t, Frame& f, const Value*& out, Value& scratch, base::Status& err);
  base::Status unify(const Term& a, const Term& b, Frame& f, const Cont& k);
  base::Status unify_value(const Term& pat, const Value& v, Frame& f, const Cont& k);
  bool is_pattern(const Term& t, const Frame& f) const;
  base::Status ref(const Term& r, Frame& f, const ValCont& k);
  // `in_data`: v lies in the data document, where an integer key also finds the object key
  // spelled the same (data.x[2] reads {"2": ...}, as OPA does).
  base::Status walk(const Value& v, const Term& r, size_t i, Frame& f, const ValCont& k,
                    bool in_data = false);
  base::Status walk_data(const Node* node, const Value* base, std::vector<std::string>& path,
                         const Term& r, size_t i, Frame& f, const ValCont& k);
  base::Status call(const Term& t, Frame& f, const ValCont& k);
  base::Status call_values(const Term& t, std::vector<Value>& args, Frame& f,
                           const ValCont& k);
  base::Status call_function(const Node* node, std::span<const Value> args,
                             std::optional<Value>& out, Location loc);
  base::Status comprehension(const Term& t, Frame& f, const ValCont& k);
  base::Status template_string(const Term& t, Frame& f, const ValCont& k);

  base::Result<std::optional<Value>> node_value(const Node* node);
  base::Result<std::optional<Value>> rules_value(const Node* node);
  base::Result<std::optional<Value>> full_value(const Node* node, const Value* base,
                                                std::vector<std::string>& path);
  base::Status step();
  // Sets `out` (sized for node->index) to the node's bodies that may succeed now; false when
  // every body must be evaluated (no index, indexing off, or while a `with` of data or a
  // function mock is in force). `args`: a function's arguments.
  bool candidate_bodies(const Node* node, std::span<const Value> args, BodySet& out) const;
  base::Status error_at(Location loc, std::string_view code, std::string msg);
  // True when a `with data...` override covers `path` (sets `out` to the value there, or
  // nullopt when the override makes it undefined).
  bool override_at(const std::vector<std::string>& path, std::optional<Value>& out) const;
  bool override_below(const std::vector<std::string>& path) const;
  Value apply_overrides(const std::vector<std::string>& path, Value v) const;

  const Program& prog_;
  const Value* input_;  // null: undefined
  BuiltinContext& ctx_;
  EvalLimits limits_;
  int64_t steps_ = 0;
  int depth_ = 0;
  const std::string* file_ = nullptr;  // file of the rule being evaluated
  const Rule* rule_ = nullptr;         // rule being evaluated (for rego.metadata.*)
  // Per with-context caches.
  std::unordered_map<const Node*, std::optional<Value>> cache_;
  std::unordered_map<const Node*, bool> in_progress_;
  struct DataOverride {
    std::vector<std::string> path;
    Value value;
  };
  std::vector<DataOverride> data_overrides_;
  struct FnMock {
    std::string name;
    const Term* replacement;  // value term or function name term
    std::string target;       // replacement function name (builtin or data.*) if any
    const Node* node = nullptr;
    const Builtin* builtin = nullptr;
    Value value;          // the replacement value when it is not a function
    bool active = true;   // false while the mock's own replacement runs
  };
  std::vector<FnMock> mocks_;
  std::vector<Value> input_stack_;
};

// Internal signal used to stop an enumeration early (never escapes the evaluator).
bool is_halt(const base::Status& s);
base::Status halt();

}  // namespace policy
