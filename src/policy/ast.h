// Rego abstract syntax tree. Built by the parser, rewritten in place by the compiler (var
// slots, resolved refs), then immutable and shared by every evaluation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policy/lexer.h"
#include "policy/value.h"

namespace policy {

struct Node;
struct Builtin;
struct Term;
struct Expr;
using TermPtr = std::shared_ptr<Term>;
using Body = std::vector<Expr>;
using BodyPtr = std::shared_ptr<Body>;

enum class TermKind {
  kScalar,       // value (null, boolean, number, string)
  kVar,          // name (+ slot after compile)
  kRef,          // items[0] is the head (var), the rest are operands
  kArray,        // items
  kSet,          // items
  kObject,       // pairs
  kArrayCompr,   // head | body
  kSetCompr,     // head | body
  kObjectCompr,  // key: head | body
  kCall,         // items[0] is the function ref, the rest are arguments
  kTemplate,     // string interpolation: items alternate literal strings and terms
};

// What a kCall term calls (set by the compiler so evaluation does not compare names).
enum class CallOp : uint8_t {
  kOther,     // builtin or user function (see fn_node / builtin)
  kEq,        // =
  kAssign,    // :=
  kPrint,
  kWalk,
  kMember2,   // x in xs
  kMember3,   // k, v in xs
  kMetaRule,  // rego.metadata.rule()
  kMetaChain, // rego.metadata.chain()
  // Comparison builtins (also registered as builtins; evaluated inline on the fast path).
  kEqual, kNeq, kLt, kLte, kGt, kGte,
};

struct Term {
  TermKind kind = TermKind::kScalar;
  CallOp op = CallOp::kOther;
  Location loc;
  Value value;       // kScalar; also the folded value of ground composites after compile
  bool ground = false;  // compile: the term has no vars/calls; `value` holds it
  std::string name;  // kVar
  int slot = -1;     // kVar after compile: frame slot (-1: unresolved)
  bool wildcard = false;  // kVar `_`
  bool template_unwrap = false;  // kArrayCompr standing for one template expression
  std::vector<TermPtr> items;
  std::vector<std::pair<TermPtr, TermPtr>> pairs;
  TermPtr key;   // kObjectCompr key
  TermPtr head;  // comprehension value term
  BodyPtr body;  // comprehension body
  // kCall after compile: the function's name (builtin name or "data.pkg.f"), and either the
  // rule node of a user function or the builtin (exactly one is set; neither for operators
  // the evaluator implements itself, e.g. eq, assign, internal.member_2, print).
  std::string fn_name;
  const Node* fn_node = nullptr;
  const Builtin* builtin = nullptr;
};

struct WithMod {
  TermPtr target;  // ref: input..., data..., or a function name
  TermPtr value;
};

enum class ExprKind {
  kTerm,    // a term (a call, `=`, `:=`, or a plain term that must not be false/undefined)
  kSome,    // `some x, y` (declarations only)
  kSomeIn,  // `some [k,] v in domain`
  kEvery,   // `every [k,] v in domain { body }`
  kAnd,     // lhs and rhs (experimental keywords)
  kOr,      // lhs or rhs
  kNot,     // not <expr> (the inner expression in `sub`)
};

struct Expr {
  ExprKind kind = ExprKind::kTerm;
  Location loc;
  TermPtr term;               // kTerm
  std::vector<TermPtr> vars;  // kSome
  TermPtr key, val, domain;   // kSomeIn / kEvery (key may be null)
  BodyPtr body;               // kEvery body; kNot inner (one expr); kAnd/kOr lhs
  BodyPtr rhs;                // kAnd/kOr
  std::vector<WithMod> withs;
};

enum class RuleKind { kComplete, kPartialSet, kPartialObject, kFunction };

struct Rule {
  Location loc;
  std::string file;
  RuleKind kind = RuleKind::kComplete;
  bool is_default = false;
  // Head ref as written (items[0] is a var named after the first segment).
  std::vector<TermPtr> head;
  std::vector<TermPtr> args;  // kFunction parameters
  TermPtr key;                // kPartialSet element
  TermPtr value;              // value (null: true)
  bool assign = false;        // written with :=
  bool set_leaf = false;      // kPartialObject whose leaves are sets (`a[x] contains y`)
  Body body;
  std::shared_ptr<Rule> else_rule;
  Value annotations;  // METADATA block (object), null when there is none
  // After compile:
  std::vector<std::string> path;       // full static path: package + static head prefix
  std::vector<TermPtr> key_terms;      // kPartialObject: dynamic head operands after `path`
  int num_slots = 0;
};
using RulePtr = std::shared_ptr<Rule>;

struct Import {
  Location loc;
  TermPtr path;  // ref
  std::string alias;
};

struct ModuleAst {
  std::string file;
  std::vector<std::string> package;  // without "data"
  Location package_loc;
  // METADATA block above `package` (scope "package" or "subpackages"); null when none.
  Value package_annotations;
  std::vector<Import> imports;
  std::vector<RulePtr> rules;
};

TermPtr make_term(TermKind kind, Location loc);
TermPtr make_scalar(Value v, Location loc);
TermPtr make_var(std::string name, Location loc);

// Rego-ish text of a term for error messages.
std::string term_to_string(const Term& t);

}  // namespace policy
