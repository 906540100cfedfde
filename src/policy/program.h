// The compiled form of a set of modules: a tree of rules keyed by their data path. Built by
// the compiler, immutable afterwards, read by the evaluator.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "policy/ast.h"
#include "policy/builtin.h"
#include "policy/rule_index.h"

namespace policy {

struct Node {
  std::vector<std::string> path;  // without "data"
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
  std::vector<RulePtr> rules;  // rules defined exactly at this path (not defaults)
  RulePtr default_rule;
  // Complete rules that all produce the same constant (e.g. many `allow if ...`): evaluation
  // may stop at the first rule that succeeds, as no conflict is possible.
  bool uniform_constant = false;
  // Which bodies can succeed for an input (rule_index.h); null when no body has an indexed
  // equality, and then every body is evaluated.
  std::unique_ptr<RuleIndex> index;
  bool has_rules() const { return !rules.empty() || default_rule != nullptr; }
  bool is_function() const {
    if (!rules.empty()) return rules[0]->kind == RuleKind::kFunction;
    return default_rule && default_rule->kind == RuleKind::kFunction;
  }
};

struct Program {
  std::vector<ModuleAst> modules;
  std::unique_ptr<Node> root = std::make_unique<Node>();
  Value base_data = Value::empty_object();
  const BuiltinRegistry* builtins = nullptr;
  // Finds the node at `path` (nullptr if none).
  const Node* find(const std::vector<std::string>& path) const;
};

// Slots of special heads in compiled var terms.
inline constexpr int kSlotInput = -2;
inline constexpr int kSlotData = -3;

// Compiles parsed modules into a program: builds the rule tree, resolves names (imports,
// rules of the package, builtins), numbers local variables, orders body expressions so that
// variables are bound before use, and reports compile errors ("file:line:col: rego_..._error:
// ...").
base::Result<std::unique_ptr<Program>> compile_program(std::vector<ModuleAst> modules,
                                                       const BuiltinRegistry& builtins);

// Compiles a query body against a program (names resolve as in a module without package
// rules). `num_slots` receives the frame size; `names` the slot names of query variables
// that should be reported (not generated, not wildcard).
base::Status compile_query(const Program& program, Body& body, int& num_slots,
                           std::vector<std::pair<std::string, int>>& names);

}  // namespace policy
