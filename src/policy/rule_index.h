// Rule indexing (after OPA's topdown index): which bodies of a rule set can succeed for the
// input at hand, decided before any body is evaluated.
//
// At compile time every body of a node's rules (each `else` of a chain is a body of its own;
// the `default` has none) is read for what it cannot succeed without: `input.a.b == "c"`
// (or `=`, either side; a reference of constant strings and integers into input, or into base
// data no rule contributes to, against a constant scalar), a membership in a constant
// (`teacher_actions[input.action]` of a constant set rule, `input.a in S`), or for functions
// an argument written as a constant (`f("c")`) or compared with one (`f(x) if x == "c"`).
// Only expressions before anything that could fail the query, print, or read a rule other
// than a constant one count (is_pure_expr in rule_index.cc). Such an expression fails for
// every solution of the body unless the key's value matches, so a body whose constants do
// not match is skipped: what evaluating it would have produced (nothing), without its steps.
//
// Exactness: a skipped body would have run only side-effect-free, error-free expressions
// before failing, so the rule set's value, its errors (conflicts among the bodies that run,
// strict builtin errors) and print() output, and `else` order are unchanged. Only the step
// count changes (fewer steps: a decision near the budget may now finish). The evaluator does
// not use the index while a `with` of data or a function mock is in force; `with input...`
// is fine, as the lookups read the input in force.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "policy/value.h"

namespace policy {

struct Node;
struct Program;

// A set of a node's bodies, numbered in evaluation order (rules in order, each `else` chain
// head first).
class BodySet {
 public:
  explicit BodySet(size_t n);
  BodySet(const BodySet&) = delete;
  BodySet& operator=(const BodySet&) = delete;
  bool test(size_t i) const { return (words_[i / 64] >> (i % 64)) & 1; }
  void set(size_t i) { words_[i / 64] |= uint64_t{1} << (i % 64); }
  std::span<uint64_t> words() { return {words_, n_}; }
  std::span<const uint64_t> words() const { return {words_, n_}; }

 private:
  static constexpr size_t kInline = 2;  // 128 bodies without an allocation
  uint64_t inline_[kInline] = {};
  std::vector<uint64_t> heap_;
  uint64_t* words_;
  size_t n_;  // words
};

struct RuleIndex {
  // Where a key's value comes from.
  enum class Source : uint8_t {
    kInput,  // input.<path>
    kData,   // data.<path>, a base document outside every rule (strings only)
    kArg,    // a function's argument `arg`
  };
  struct Key {
    Source source = Source::kInput;
    size_t arg = 0;
    std::vector<Value> path;  // operands after input/data
    // Bodies that need this key to equal a constant, and per constant the bodies that need
    // that one (num_words words each, in the order of the constants): string constants
    // sorted apart, for a lookup without Value comparisons, the others in Value order (which
    // equates 1 and 1.0 as `==` does).
    std::vector<uint64_t> constrained;
    std::vector<std::string> strings;
    std::vector<uint64_t> string_bodies;
    std::vector<Value> others;
    std::vector<uint64_t> other_bodies;
  };
  size_t num_bodies = 0;
  size_t num_words = 0;
  std::vector<Key> keys;  // most-constraining first

  // Narrows `out` (all bodies on entry) to the candidate bodies when the key values are
  // `input` (null: undefined), `data` and `args`.
  void candidates(const Value* input, const Value& data, std::span<const Value> args,
                  BodySet& out) const;
};

// Builds the indexes of every node of `prog` (node->index; left null where no body has an
// indexable equality, or a node has one body). Call once the program's base data is set.
void build_rule_indexes(Program& prog);

}  // namespace policy
