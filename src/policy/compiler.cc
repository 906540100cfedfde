// Compiler: rule tree, name resolution, local variable slots, body ordering.
#include <algorithm>
#include <functional>
#include <optional>
#include <set>

#include "policy/analysis.h"
#include "policy/program.h"
#include "policy/type_check.h"

namespace policy {

const Node* Program::find(const std::vector<std::string>& path) const {
  const Node* n = root.get();
  for (const auto& seg : path) {
    auto it = n->children.find(seg);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
  }
  return n;
}

namespace {

bool is_string_scalar(const TermPtr& t) {
  return t->kind == TermKind::kScalar && t->value.is_string();
}

// Evaluator-implemented operators (no registry entry needed).
bool is_special_op(std::string_view name) {
  return name == "eq" || name == "assign" || name == "internal.member_2" ||
         name == "internal.member_3" || name == "print" || name == "walk" ||
         name == "internal.print" || name == "rego.metadata.rule" || name == "rego.metadata.chain";
}

struct Scope {
  std::map<std::string, int, std::less<>> vars;
  Scope* parent = nullptr;
  int lookup(std::string_view name) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->vars.find(name);
      if (it != s->vars.end()) return it->second;
    }
    return -1;
  }
};

struct ModuleCtx {
  std::string file;
  std::vector<std::string> package;
  std::map<std::string, TermPtr, std::less<>> imports;  // alias -> ref term
  std::set<std::string, std::less<>> rule_names;        // first head segments in the package
};

class Resolver {
 public:
  Resolver(const Program& prog, const BuiltinRegistry& reg, const ModuleCtx& mod)
      : prog_(prog), reg_(reg), mod_(mod) {}

  int num_slots() const { return next_slot_; }
  std::vector<std::pair<std::string, int>>& declared() { return declared_; }

  int declare(Scope& s, const std::string& name) {
    int slot = next_slot_++;
    if (name != "_") s.vars[name] = slot;
    declared_.emplace_back(name, slot);
    return slot;
  }

  base::Status rule(Rule& r) {
    Scope scope;
    std::vector<std::function<base::Status()>> arg_nested;
    nested_ = &arg_nested;
    for (auto& a : r.args) EC_RETURN_IF_ERROR(pattern(a, scope));
    EC_RETURN_IF_ERROR(body(r.body, scope));
    std::vector<std::function<base::Status()>> nested;
    nested_ = &nested;
    for (auto& k : r.key_terms) EC_RETURN_IF_ERROR(term(k, scope));
    if (r.key) EC_RETURN_IF_ERROR(term(r.key, scope));
    if (r.value) EC_RETURN_IF_ERROR(term(r.value, scope));
    for (auto& f : nested) EC_RETURN_IF_ERROR(f());
    std::set<int> bound;
    for (auto& a : r.args) collect_vars(*a, bound);
    reorder(r.body, bound);
    std::set<int> final_bound;
    EC_RETURN_IF_ERROR(check_safety(r.body, bound, scope, &final_bound));
    // Head vars must be bound by the body.
    std::set<int> head_vars, head_outs;
    for (auto& k : r.key_terms) value_io(*k, head_vars, head_outs, false);
    if (r.key) value_io(*r.key, head_vars, head_outs, false);
    if (r.value) value_io(*r.value, head_vars, head_outs, false);
    for (int v : head_vars) {
      if (!final_bound.count(v)) return unsafe(v, r.loc);
    }
    r.num_slots = next_slot_;
    return base::Status::ok();
  }

  base::Status unsafe(int slot, Location loc) {
    std::string name = "?";
    for (const auto& [n, s] : declared_) {
      if (s == slot) name = n;
    }
    return compile_error(mod_.file, loc, "rego_unsafe_var_error", "var " + name + " is unsafe");
  }

  // Every var of `scope` that an expression needs must be bound by an earlier expression (or
  // be bound by the expression itself). Vars only used inside a `not` are local to it.
  base::Status check_safety(const Body& b, std::set<int> bound, const Scope& scope,
                            std::set<int>* final_bound) {
    std::set<int> local;
    for (const auto& [n, s] : scope.vars) local.insert(s);
    std::vector<std::set<int>> ins(b.size()), outs(b.size());
    for (size_t i = 0; i < b.size(); ++i) expr_io(b[i], ins[i], outs[i], false);
    for (size_t i = 0; i < b.size(); ++i) {
      for (int v : ins[i]) {
        if (!local.count(v) || bound.count(v) || outs[i].count(v)) continue;
        if (b[i].kind == ExprKind::kNot) {
          bool elsewhere = false;
          for (size_t j = 0; j < b.size() && !elsewhere; ++j) {
            elsewhere = j != i && (ins[j].count(v) || outs[j].count(v));
          }
          if (!elsewhere) continue;
        }
        return unsafe(v, b[i].loc);
      }
      bound.insert(outs[i].begin(), outs[i].end());
      bound.insert(ins[i].begin(), ins[i].end());
    }
    if (final_bound) *final_bound = std::move(bound);
    return base::Status::ok();
  }

  base::Status body(Body& b, Scope& scope) {
    // Direct terms first (so vars of this level are known), nested bodies after.
    std::vector<std::function<base::Status()>> nested;
    auto* saved = nested_;
    for (auto& e : b) EC_RETURN_IF_ERROR(expr(e, scope, nested));
    for (auto& f : nested) EC_RETURN_IF_ERROR(f());
    nested_ = saved;
    return base::Status::ok();
  }

  base::Status expr(Expr& e, Scope& scope, std::vector<std::function<base::Status()>>& nested) {
    nested_ = &nested;
    switch (e.kind) {
      case ExprKind::kTerm:
        if (e.term->kind == TermKind::kCall && e.term->items[0]->kind == TermKind::kVar &&
            e.term->items[0]->name == "assign") {
          EC_RETURN_IF_ERROR(term(e.term->items[2], scope));
          EC_RETURN_IF_ERROR(declare_pattern(e.term->items[1], scope));
          e.term->fn_name = "assign";
          e.term->op = CallOp::kAssign;
        } else {
          EC_RETURN_IF_ERROR(term(e.term, scope));
        }
        break;
      case ExprKind::kSome:
        for (auto& v : e.vars) v->slot = declare(scope, v->name);
        break;
      case ExprKind::kSomeIn:
        EC_RETURN_IF_ERROR(term(e.domain, scope));
        if (e.key) EC_RETURN_IF_ERROR(declare_pattern(e.key, scope));
        EC_RETURN_IF_ERROR(declare_pattern(e.val, scope));
        break;
      case ExprKind::kEvery: {
        EC_RETURN_IF_ERROR(term(e.domain, scope));
        auto child = std::make_shared<Scope>();
        child->parent = &scope;
        if (e.key) EC_RETURN_IF_ERROR(declare_pattern(e.key, *child));
        EC_RETURN_IF_ERROR(declare_pattern(e.val, *child));
        Expr* ep = &e;
        nested.push_back([this, ep, child]() -> base::Status {
          EC_RETURN_IF_ERROR(body(*ep->body, *child));
          std::set<int> bound;
          if (ep->key) collect_vars(*ep->key, bound);
          collect_vars(*ep->val, bound);
          reorder(*ep->body, bound, true);
          return check_safety(*ep->body, bound, *child, nullptr);
        });
        break;
      }
      case ExprKind::kNot:
      case ExprKind::kAnd:
      case ExprKind::kOr: {
        Expr* ep = &e;
        Scope* sp = &scope;
        auto lhs_scope = std::make_shared<Scope>();
        auto rhs_scope = std::make_shared<Scope>();
        lhs_scope->parent = sp;
        rhs_scope->parent = sp;
        if (e.kind == ExprKind::kNot) lhs_scope = nullptr;
        nested.push_back([this, ep, sp, lhs_scope, rhs_scope]() -> base::Status {
          EC_RETURN_IF_ERROR(body(*ep->body, lhs_scope ? *lhs_scope : *sp));
          if (ep->rhs) EC_RETURN_IF_ERROR(body(*ep->rhs, *rhs_scope));
          std::set<int> bound;
          reorder(*ep->body, bound, true);
          if (ep->rhs) reorder(*ep->rhs, bound, true);
          if (lhs_scope) EC_RETURN_IF_ERROR(check_safety(*ep->body, bound, *lhs_scope, nullptr));
          if (ep->rhs) EC_RETURN_IF_ERROR(check_safety(*ep->rhs, bound, *rhs_scope, nullptr));
          return base::Status::ok();
        });
        break;
      }
    }
    for (auto& w : e.withs) {
      EC_RETURN_IF_ERROR(with_target(w.target));
      if (resolve_function_value(w.value, scope)) continue;
      EC_RETURN_IF_ERROR(term(w.value, scope));
    }
    return base::Status::ok();
  }

  // A `with` replacement that names a function (user function or builtin): records it in
  // fn_name / fn_node / builtin instead of resolving it as a value.
  bool resolve_function_value(TermPtr& t, Scope& scope) {
    std::string name = dotted(*t);
    if (name.empty()) return false;
    if (scope.lookup(first_segment(name)) >= 0) return false;
    std::string full = qualify(name);
    if (is_data_path(full)) {
      const Node* n = function_rule(full);
      if (!n) return false;
      auto r = std::make_shared<Term>(*t);
      r->fn_name = full;
      r->fn_node = n;
      t = r;
      return true;
    }
    if (const Builtin* b = reg_.find(name)) {
      auto r = std::make_shared<Term>(*t);
      r->fn_name = name;
      r->builtin = b;
      t = r;
      return true;
    }
    return false;
  }

  // `with` targets keep their literal path (input..., data..., or a function name).
  base::Status with_target(TermPtr& t) {
    std::string name = dotted(*t);
    if (name.empty())
      return compile_error(mod_.file, t->loc, "rego_compile_error", "invalid with target");
    // Resolve import aliases and package-local function names.
    std::string first = first_segment(name);
    if (first != "input" && first != "data") {
      if (std::string full = qualify(name); !full.empty()) name = std::move(full);
    }
    t->fn_name = name;
    return base::Status::ok();
  }

  std::string join_pkg() const {
    std::string s;
    for (const auto& p : mod_.package) s += p + ".";
    return s;
  }

  static std::string first_segment(const std::string& name) {
    return name.substr(0, name.find('.'));
  }

  static bool is_data_path(const std::string& full) { return full.rfind("data.", 0) == 0; }

  // The full name a dotted reference ("x.y.z") has through `data`, an import alias or a rule
  // of this module ("data.<package>.x.y.z"); empty when its first segment is none of those.
  // It does not look at local variables: callers check the scope first.
  std::string qualify(const std::string& name) const {
    auto dot = name.find('.');
    std::string first = name.substr(0, dot);
    if (first == "data") return name;
    if (auto imp = mod_.imports.find(first); imp != mod_.imports.end()) {
      return dotted(*imp->second) + (dot == std::string::npos ? "" : name.substr(dot));
    }
    if (mod_.rule_names.count(first)) return "data." + join_pkg() + name;
    return "";
  }

  // The function rule a "data.a.b" name denotes in the program, or nullptr when the path
  // holds no node or a node that is not a function.
  const Node* function_rule(const std::string& full) const {
    std::vector<std::string> path;
    size_t start = 5;  // after "data."
    while (true) {
      auto d = full.find('.', start);
      path.push_back(full.substr(start, d == std::string::npos ? std::string::npos : d - start));
      if (d == std::string::npos) break;
      start = d + 1;
    }
    const Node* n = prog_.find(path);
    return n && n->is_function() ? n : nullptr;
  }

  static std::string dotted(const Term& t) {
    if (t.kind == TermKind::kVar) return t.name;
    if (t.kind != TermKind::kRef || t.items[0]->kind != TermKind::kVar) return "";
    std::string s = t.items[0]->name;
    for (size_t i = 1; i < t.items.size(); ++i) {
      if (!is_string_scalar(t.items[i])) return "";
      s += "." + t.items[i]->value.as_string();
    }
    return s;
  }

  // Declares the vars of an assignment / some-in pattern in `scope` (fresh slots).
  base::Status declare_pattern(TermPtr& t, Scope& scope) {
    switch (t->kind) {
      case TermKind::kVar:
        t->slot = declare(scope, t->name);
        return base::Status::ok();
      case TermKind::kArray:
        for (auto& i : t->items) EC_RETURN_IF_ERROR(declare_pattern(i, scope));
        return base::Status::ok();
      case TermKind::kObject:
        for (auto& [k, v] : t->pairs) {
          EC_RETURN_IF_ERROR(term(k, scope));
          EC_RETURN_IF_ERROR(declare_pattern(v, scope));
        }
        return base::Status::ok();
      default:
        return term(t, scope);
    }
  }

  base::Status pattern(TermPtr& t, Scope& scope) { return declare_pattern(t, scope); }

  // Resolves a var head into a slot or a replacement ref (import / package rule).
  base::Status var(TermPtr& t, Scope& scope, bool as_head) {
    if (t->wildcard) {
      t->slot = declare(scope, "_");
      return base::Status::ok();
    }
    if (t->slot >= 0 || t->slot == kSlotData || t->slot == kSlotInput) return base::Status::ok();
    int s = scope.lookup(t->name);
    if (s >= 0) {
      t->slot = s;
      return base::Status::ok();
    }
    if (t->name == "input") {
      t->slot = kSlotInput;
      return base::Status::ok();
    }
    if (t->name == "data") {
      t->slot = kSlotData;
      return base::Status::ok();
    }
    auto imp = mod_.imports.find(t->name);
    if (imp != mod_.imports.end()) {
      auto r = std::make_shared<Term>(*imp->second);
      r->loc = t->loc;
      t = r;
      return base::Status::ok();
    }
    if (mod_.rule_names.count(t->name)) {
      auto r = make_term(TermKind::kRef, t->loc);
      auto d = make_var("data", t->loc);
      d->slot = kSlotData;
      r->items.push_back(d);
      for (const auto& p : mod_.package) r->items.push_back(make_scalar(Value::string(p), t->loc));
      r->items.push_back(make_scalar(Value::string(t->name), t->loc));
      t = r;
      return base::Status::ok();
    }
    t->slot = declare(scope, t->name);
    return base::Status::ok();
  }

  base::Status term(TermPtr& t, Scope& scope) {
    switch (t->kind) {
      case TermKind::kScalar:
        return base::Status::ok();
      case TermKind::kVar:
        return var(t, scope, false);
      case TermKind::kRef: {
        auto r = std::make_shared<Term>(*t);
        EC_RETURN_IF_ERROR(term(r->items[0], scope));
        if (r->items[0]->kind == TermKind::kRef) {
          // Splice an import / rule ref head.
          auto head = r->items[0];
          std::vector<TermPtr> items = head->items;
          items.insert(items.end(), r->items.begin() + 1, r->items.end());
          r->items = std::move(items);
        }
        for (size_t i = 1; i < r->items.size(); ++i) EC_RETURN_IF_ERROR(term(r->items[i], scope));
        t = r;
        return base::Status::ok();
      }
      case TermKind::kArray:
      case TermKind::kSet:
      case TermKind::kTemplate:
        for (auto& i : t->items) EC_RETURN_IF_ERROR(term(i, scope));
        break;
      case TermKind::kObject:
        for (auto& [k, v] : t->pairs) {
          EC_RETURN_IF_ERROR(term(k, scope));
          EC_RETURN_IF_ERROR(term(v, scope));
        }
        break;
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr: {
        auto child = std::make_shared<Scope>();
        child->parent = &scope;
        Term* tp = t.get();
        nested_->push_back([this, tp, child]() -> base::Status {
          EC_RETURN_IF_ERROR(body(*tp->body, *child));
          std::vector<std::function<base::Status()>> head_nested;
          auto* saved = nested_;
          nested_ = &head_nested;
          if (tp->key) EC_RETURN_IF_ERROR(term(tp->key, *child));
          EC_RETURN_IF_ERROR(term(tp->head, *child));
          for (auto& f : head_nested) EC_RETURN_IF_ERROR(f());
          nested_ = saved;
          std::set<int> bound;
          reorder(*tp->body, bound, true);
          std::set<int> final_bound;
          EC_RETURN_IF_ERROR(check_safety(*tp->body, bound, *child, &final_bound));
          std::set<int> head_vars, head_outs;
          if (tp->key) value_io(*tp->key, head_vars, head_outs, false);
          value_io(*tp->head, head_vars, head_outs, false);
          for (int v : head_vars) {
            bool is_local = false;
            for (const auto& [n, sl] : child->vars) is_local = is_local || sl == v;
            if (is_local && !final_bound.count(v)) return unsafe(v, tp->loc);
          }
          return base::Status::ok();
        });
        return base::Status::ok();
      }
      case TermKind::kCall:
        return call(t, scope);
    }
    return base::Status::ok();
  }

  base::Status call(TermPtr& t, Scope& scope) {
    std::string name = dotted(*t->items[0]);
    if (name.empty()) {
      return compile_error(mod_.file, t->loc, "rego_type_error", "invalid function call");
    }
    for (size_t i = 1; i < t->items.size(); ++i) EC_RETURN_IF_ERROR(term(t->items[i], scope));
    // Resolve to a rule function.
    if (scope.lookup(first_segment(name)) < 0) {
      std::string full = qualify(name);
      if (is_data_path(full)) {
        if (const Node* n = function_rule(full)) {
          t->fn_name = full;
          t->fn_node = n;
          return base::Status::ok();
        }
      }
    }
    t->fn_name = name;
    if (name == "eq") t->op = CallOp::kEq;
    if (name == "assign") t->op = CallOp::kAssign;
    if (name == "print" || name == "internal.print") t->op = CallOp::kPrint;
    if (name == "walk") t->op = CallOp::kWalk;
    if (name == "internal.member_2") t->op = CallOp::kMember2;
    if (name == "internal.member_3") t->op = CallOp::kMember3;
    if (name == "rego.metadata.rule") t->op = CallOp::kMetaRule;
    if (name == "rego.metadata.chain") t->op = CallOp::kMetaChain;
    if (is_special_op(name)) return base::Status::ok();
    t->builtin = reg_.find(name);
    if (name == "equal") t->op = CallOp::kEqual;
    if (name == "neq") t->op = CallOp::kNeq;
    if (name == "lt") t->op = CallOp::kLt;
    if (name == "lte") t->op = CallOp::kLte;
    if (name == "gt") t->op = CallOp::kGt;
    if (name == "gte") t->op = CallOp::kGte;
    if (!t->builtin) {
      return compile_error(mod_.file, t->loc, "rego_type_error", "undefined function " + name);
    }
    std::string type_error =
        builtin_argument_error(name, std::span<const TermPtr>(t->items).subspan(1));
    if (!type_error.empty()) return compile_error(mod_.file, t->loc, "rego_type_error", type_error);
    return base::Status::ok();
  }

 private:
  const Program& prog_;
  const BuiltinRegistry& reg_;
  const ModuleCtx& mod_;
  int next_slot_ = 0;
  std::vector<std::function<base::Status()>>* nested_ = nullptr;
  std::vector<std::pair<std::string, int>> declared_;
};

// Function parameters that are computed terms (templates, calls) become fresh vars checked at
// the end of the body, as OPA rewrites them: f($"{x}") := 1 if { x = "a" }.
void rewrite_computed_args(Rule& r) {
  for (Rule* e = &r; e; e = e->else_rule.get()) {
    for (size_t i = 0; i < e->args.size(); ++i) {
      TermPtr& a = e->args[i];
      if (a->kind != TermKind::kTemplate && a->kind != TermKind::kCall) continue;
      auto v = make_var("__arg" + std::to_string(i), a->loc);
      Expr check;
      check.loc = a->loc;
      auto eq = make_term(TermKind::kCall, a->loc);
      eq->items = {make_var("eq", a->loc), make_var(v->name, a->loc), a};
      check.term = eq;
      e->body.push_back(std::move(check));
      a = v;
    }
  }
}

// Sets rule->path / key_terms / kind from the head ref.
base::Status place_rule(const ModuleAst& m, Rule& r) {
  if (r.kind == RuleKind::kFunction) rewrite_computed_args(r);
  r.path = m.package;
  r.path.push_back(r.head[0]->name);
  size_t i = 1;
  for (; i < r.head.size() && is_string_scalar(r.head[i]); ++i) {
    r.path.push_back(r.head[i]->value.as_string());
  }
  r.key_terms.assign(r.head.begin() + static_cast<long>(i), r.head.end());
  if (!r.key_terms.empty()) {
    if (r.kind == RuleKind::kFunction) {
      return compile_error(r.file, r.loc, "rego_parse_error", "function head must be static");
    }
    if (r.kind == RuleKind::kPartialSet) {
      r.set_leaf = true;
      r.value = r.key;
    }
    r.kind = RuleKind::kPartialObject;
    if (!r.value) r.value = make_scalar(Value::boolean(true), r.loc);
  }
  for (Rule* e = r.else_rule.get(); e; e = e->else_rule.get()) {
    e->path = r.path;
    e->kind = r.kind;
    e->key_terms = r.key_terms;
    e->set_leaf = r.set_leaf;
  }
  return base::Status::ok();
}

Node* ensure(Node* root, const std::vector<std::string>& path) {
  Node* n = root;
  for (size_t i = 0; i < path.size(); ++i) {
    auto& c = n->children[path[i]];
    if (!c) {
      c = std::make_unique<Node>();
      c->path.assign(path.begin(), path.begin() + static_cast<long>(i) + 1);
    }
    n = c.get();
  }
  return n;
}

base::Status resolve_rule(const Program& prog, const BuiltinRegistry& reg, const ModuleCtx& ctx,
                          Rule& r) {
  Resolver res(prog, reg, ctx);
  EC_RETURN_IF_ERROR(res.rule(r));
  if (r.else_rule) EC_RETURN_IF_ERROR(resolve_rule(prog, reg, ctx, *r.else_rule));
  return base::Status::ok();
}

void mark_uniform_constants(Node* n) {
  if (!n->rules.empty()) {
    bool uniform = true;
    std::optional<Value> v;
    for (const auto& rp : n->rules) {
      for (const Rule* r = rp.get(); r && uniform; r = r->else_rule.get()) {
        if (r->kind != RuleKind::kComplete) uniform = false;
        if (r->value && r->value->kind != TermKind::kScalar) uniform = false;
        if (!uniform) break;
        Value rv = r->value ? r->value->value : Value::boolean(true);
        if (v && !(*v == rv)) uniform = false;
        v = rv;
      }
    }
    n->uniform_constant = uniform;
  }
  for (auto& [k, c] : n->children) mark_uniform_constants(c.get());
}

}  // namespace

base::Result<std::unique_ptr<Program>> compile_program(std::vector<ModuleAst> modules,
                                                       const BuiltinRegistry& builtins) {
  auto prog = std::make_unique<Program>();
  prog->builtins = &builtins;
  prog->modules = std::move(modules);
  // 1. Place rules in the tree.
  for (auto& m : prog->modules) {
    for (auto& r : m.rules) {
      EC_RETURN_IF_ERROR(place_rule(m, *r));
      Node* n = ensure(prog->root.get(), r->path);
      if (r->is_default) {
        if (n->default_rule) {
          return compile_error(r->file, r->loc, "rego_type_error",
                               "multiple default rules " +
                                   ("data." +
                                    [&] {
                                      std::string s;
                                      for (size_t i = 0; i < r->path.size(); ++i) {
                                        if (i) s += ".";
                                        s += r->path[i];
                                      }
                                      return s;
                                    }()) +
                                   " found");
        }
        n->default_rule = r;
      } else {
        if (!n->rules.empty() &&
            (n->rules[0]->kind == RuleKind::kFunction) != (r->kind == RuleKind::kFunction)) {
          return compile_error(r->file, r->loc, "rego_type_error",
                               "conflicting rules data." + r->path.back() + " found");
        }
        n->rules.push_back(r);
      }
    }
  }
  for (auto& m : prog->modules) ensure(prog->root.get(), m.package);
  // 2. Resolve names in every rule.
  for (auto& m : prog->modules) {
    ModuleCtx ctx;
    ctx.file = m.file;
    ctx.package = m.package;
    for (const auto& imp : m.imports) {
      std::string alias = imp.alias;
      const auto& items = imp.path->items;
      if (alias.empty()) {
        alias = items.size() == 1 ? items[0]->name : items.back()->value.as_string();
      }
      auto ref = std::make_shared<Term>(*imp.path);
      auto head = std::make_shared<Term>(*ref->items[0]);
      head->slot = head->name == "input" ? kSlotInput : kSlotData;
      ref->items[0] = head;
      if (ref->items.size() == 1) {
        ctx.imports[alias] = head;
      } else {
        ctx.imports[alias] = ref;
      }
    }
    for (const auto& r : m.rules) ctx.rule_names.insert(r->head[0]->name);
    for (auto& r : m.rules) EC_RETURN_IF_ERROR(resolve_rule(*prog, builtins, ctx, *r));
  }
  for (auto& m : prog->modules) {
    for (auto& r : m.rules) fold_ground_terms(*r);
  }
  EC_RETURN_IF_ERROR(check_recursion(*prog));
  mark_uniform_constants(prog->root.get());
  return prog;
}

base::Status compile_query(const Program& program, Body& body, int& num_slots,
                           std::vector<std::pair<std::string, int>>& names) {
  ModuleCtx ctx;
  ctx.file = "query";
  Resolver res(program, *program.builtins, ctx);
  Scope scope;
  EC_RETURN_IF_ERROR(res.body(body, scope));
  reorder(body, {});
  EC_RETURN_IF_ERROR(res.check_safety(body, {}, scope, nullptr));
  fold_ground_terms(body);
  num_slots = res.num_slots();
  std::set<std::string> seen;
  for (const auto& [name, slot] : res.declared()) {
    if (name == "_" || name.rfind("__", 0) == 0) continue;
    if (scope.vars.count(name) && scope.vars[name] == slot && seen.insert(name).second) {
      names.emplace_back(name, slot);
    }
  }
  return base::Status::ok();
}

}  // namespace policy
