// Compiler analyses: variable inputs/outputs, body ordering, recursion.
#include "policy/analysis.h"

#include <algorithm>
#include <functional>
#include <map>

namespace policy {

void collect_vars(const Term& t, std::set<int>& out) {
  switch (t.kind) {
    case TermKind::kVar:
      if (t.slot >= 0) out.insert(t.slot);
      break;
    case TermKind::kArrayCompr:
    case TermKind::kSetCompr:
    case TermKind::kObjectCompr:
      break;
    default:
      for (const auto& i : t.items) collect_vars(*i, out);
      for (const auto& [k, v] : t.pairs) {
        collect_vars(*k, out);
        collect_vars(*v, out);
      }
  }
}

void collect_body_vars(const Body& b, std::set<int>& out) {
  for (const auto& e : b) {
    if (e.term) collect_all_vars(*e.term, out);
    for (const auto* p : {&e.key, &e.val, &e.domain}) {
      if (*p) collect_all_vars(**p, out);
    }
    for (const auto& v : e.vars) collect_all_vars(*v, out);
    if (e.body) collect_body_vars(*e.body, out);
    if (e.rhs) collect_body_vars(*e.rhs, out);
    for (const auto& w : e.withs) collect_all_vars(*w.value, out);
  }
}

// Vars a term needs bound (`in`) and may bind (`out`) when evaluated as a value.
// `closures`: count the outer vars a comprehension uses as inputs (for ordering; the safety
// check does not require them, as a comprehension may bind them locally).
void value_io(const Term& t, std::set<int>& in, std::set<int>& out, bool closures) {
  switch (t.kind) {
    case TermKind::kVar:
      if (t.slot >= 0) in.insert(t.slot);
      break;
    case TermKind::kRef:
      value_io(*t.items[0], in, out, closures);
      for (size_t i = 1; i < t.items.size(); ++i) {
        if (t.items[i]->kind == TermKind::kVar) {
          if (t.items[i]->slot >= 0) out.insert(t.items[i]->slot);
        } else {
          pattern_io(*t.items[i], in, out, closures);
        }
      }
      break;
    case TermKind::kArrayCompr:
    case TermKind::kSetCompr:
    case TermKind::kObjectCompr: {
      if (!closures) break;
      std::set<int> all;
      collect_body_vars(*t.body, all);
      if (t.key) collect_all_vars(*t.key, all);
      collect_all_vars(*t.head, all);
      for (int v : all) in.insert(v);
      break;
    }
    case TermKind::kCall: {
      size_t n = t.items.size();
      size_t arity = n - 1;
      bool has_out = false;
      if (t.builtin) has_out = static_cast<int>(arity) == t.builtin->arity + 1;
      if (t.op == CallOp::kWalk) has_out = arity == 2;
      if (t.fn_node && !t.fn_node->rules.empty()) {
        has_out = arity == t.fn_node->rules[0]->args.size() + 1;
      }
      for (size_t i = 1; i < n; ++i) {
        if (has_out && i == n - 1) {
          pattern_io(*t.items[i], in, out, closures);
        } else {
          value_io(*t.items[i], in, out, closures);
        }
      }
      break;
    }
    default:
      for (const auto& i : t.items) value_io(*i, in, out, closures);
      for (const auto& [k, v] : t.pairs) {
        value_io(*k, in, out, closures);
        value_io(*v, in, out, closures);
      }
  }
}

void pattern_io(const Term& t, std::set<int>& in, std::set<int>& out, bool closures) {
  switch (t.kind) {
    case TermKind::kVar:
      if (t.slot >= 0) out.insert(t.slot);
      break;
    case TermKind::kArray:
      for (const auto& i : t.items) pattern_io(*i, in, out, closures);
      break;
    case TermKind::kObject:
      for (const auto& [k, v] : t.pairs) {
        value_io(*k, in, out, closures);
        pattern_io(*v, in, out, closures);
      }
      break;
    default: value_io(t, in, out, closures);
  }
}

void expr_io(const Expr& e, std::set<int>& in, std::set<int>& out, bool closures) {
  switch (e.kind) {
    case ExprKind::kTerm: {
      const Term& t = *e.term;
      if (t.kind == TermKind::kCall && (t.fn_name == "eq" || t.fn_name == "assign")) {
        pattern_io(*t.items[1], in, out, closures);
        pattern_io(*t.items[2], in, out, closures);
        // A var bound only by the other side's value: if both sides are plain unbound
        // vars, one must be bound first; handled by the caller's fallback.
      } else {
        value_io(t, in, out, closures);
      }
      break;
    }
    case ExprKind::kSome: break;
    case ExprKind::kSomeIn:
      value_io(*e.domain, in, out, closures);
      if (e.key) pattern_io(*e.key, in, out, closures);
      pattern_io(*e.val, in, out, closures);
      break;
    case ExprKind::kEvery: value_io(*e.domain, in, out, closures); break;
    case ExprKind::kNot:
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      std::set<int> all;
      collect_body_vars(*e.body, all);
      if (e.rhs) collect_body_vars(*e.rhs, all);
      // Operands only test; bindings made inside do not escape.
      for (int v : all) in.insert(v);
      break;
    }
  }
  for (const auto& w : e.withs) value_io(*w.value, in, out, closures);
}

// Stable reordering so that each expression's inputs are bound by earlier ones.
// Inputs that no expression of this body binds (closure vars, unsafe vars) are ignored.
void reorder(Body& b, std::set<int> bound, bool nested) {
  size_t n = b.size();
  if (n < 2) return;
  std::vector<std::set<int>> ins(n), outs(n);
  std::set<int> bindable;
  for (size_t i = 0; i < n; ++i) {
    expr_io(b[i], ins[i], outs[i]);
    for (int v : outs[i]) bindable.insert(v);
  }
  std::vector<bool> used(n, false);
  Body out;
  out.reserve(n);
  for (size_t round = 0; round < n; ++round) {
    size_t pick = n;
    for (size_t i = 0; i < n && pick == n; ++i) {
      if (used[i]) continue;
      bool ready = true;
      for (int v : ins[i]) {
        if (!bound.count(v) && bindable.count(v) && !outs[i].count(v)) {
          ready = false;
          break;
        }
      }
      if (ready) pick = i;
    }
    if (pick == n) {
      for (size_t i = 0; i < n; ++i) {
        if (!used[i]) {
          pick = i;
          break;
        }
      }
    }
    used[pick] = true;
    for (int v : outs[pick]) bound.insert(v);
    for (int v : ins[pick]) bound.insert(v);
    out.push_back(std::move(b[pick]));
  }
  b = std::move(out);
}

void collect_all_vars(const Term& t, std::set<int>& out) {
  if (t.kind == TermKind::kVar && t.slot >= 0) out.insert(t.slot);
  for (const auto& i : t.items) collect_all_vars(*i, out);
  for (const auto& [k, v] : t.pairs) {
    collect_all_vars(*k, out);
    collect_all_vars(*v, out);
  }
  if (t.key) collect_all_vars(*t.key, out);
  if (t.head) collect_all_vars(*t.head, out);
  if (t.body) collect_body_vars(*t.body, out);
}

// --- recursion check ---------------------------------------------------------------------

namespace {

void rule_nodes_below(const Node* n, std::set<const Node*>& out) {
  if (n->has_rules()) {
    out.insert(n);
    return;
  }
  for (const auto& [k, c] : n->children) rule_nodes_below(c.get(), out);
}

void term_deps(const Program& prog, const Term& t, std::set<const Node*>& out);

void body_deps(const Program& prog, const Body& b, std::set<const Node*>& out) {
  for (const auto& e : b) {
    for (const TermPtr* p : {&e.term, &e.key, &e.val, &e.domain}) {
      if (*p) term_deps(prog, **p, out);
    }
    if (e.body) body_deps(prog, *e.body, out);
    if (e.rhs) body_deps(prog, *e.rhs, out);
    for (const auto& w : e.withs) term_deps(prog, *w.value, out);
  }
}

void term_deps(const Program& prog, const Term& t, std::set<const Node*>& out) {
  if (t.kind == TermKind::kVar && t.slot == kSlotData) {
    rule_nodes_below(prog.root.get(), out);
    return;
  }
  if (t.kind == TermKind::kRef && t.items[0]->kind == TermKind::kVar &&
      t.items[0]->slot == kSlotData) {
    std::function<void(const Node*, size_t)> match = [&](const Node* n, size_t i) {
      if (n->has_rules() || i == t.items.size()) {
        rule_nodes_below(n, out);
        return;
      }
      const Term& op = *t.items[i];
      if (op.kind == TermKind::kScalar) {
        if (!op.value.is_string()) return;
        auto it = n->children.find(op.value.as_string());
        if (it != n->children.end()) match(it->second.get(), i + 1);
        return;
      }
      for (const auto& [k, c] : n->children) match(c.get(), i + 1);
    };
    match(prog.root.get(), 1);
    const Node* n = nullptr;
    if (n) rule_nodes_below(n, out);
    for (size_t i = 1; i < t.items.size(); ++i) term_deps(prog, *t.items[i], out);
    return;
  }
  if (t.kind == TermKind::kCall && t.fn_node) out.insert(t.fn_node);
  if (t.fn_node && t.kind != TermKind::kCall) out.insert(t.fn_node);  // with replacement
  for (const auto& i : t.items) term_deps(prog, *i, out);
  for (const auto& [k, v] : t.pairs) {
    term_deps(prog, *k, out);
    term_deps(prog, *v, out);
  }
  if (t.key) term_deps(prog, *t.key, out);
  if (t.head) term_deps(prog, *t.head, out);
  if (t.body) body_deps(prog, *t.body, out);
}

std::string node_name(const Node* n) {
  std::string s = "data";
  for (const auto& p : n->path) s += "." + p;
  return s;
}

}  // namespace

base::Status check_recursion(const Program& prog) {
  std::map<const Node*, std::set<const Node*>> deps;
  std::vector<const Node*> nodes;
  std::function<void(const Node*)> collect = [&](const Node* n) {
    if (n->has_rules()) {
      nodes.push_back(n);
      auto& d = deps[n];
      std::vector<const Rule*> rules;
      for (const auto& r : n->rules) rules.push_back(r.get());
      if (n->default_rule) rules.push_back(n->default_rule.get());
      for (const Rule* r : rules) {
        for (const Rule* e = r; e; e = e->else_rule.get()) {
          body_deps(prog, e->body, d);
          for (const auto& k : e->key_terms) term_deps(prog, *k, d);
          if (e->key) term_deps(prog, *e->key, d);
          if (e->value) term_deps(prog, *e->value, d);
          for (const auto& a : e->args) term_deps(prog, *a, d);
        }
      }
    }
    for (const auto& [k, c] : n->children) collect(c.get());
  };
  collect(prog.root.get());
  std::map<const Node*, int> color;  // 0 new, 1 on stack, 2 done
  std::vector<const Node*> stack;
  std::function<base::Status(const Node*)> dfs = [&](const Node* n) -> base::Status {
    color[n] = 1;
    stack.push_back(n);
    for (const Node* d : deps[n]) {
      if (color[d] == 1) {
        std::string cycle;
        auto it = std::find(stack.begin(), stack.end(), d);
        for (; it != stack.end(); ++it) cycle += node_name(*it) + " -> ";
        cycle += node_name(d);
        const Rule* r = d->rules.empty() ? d->default_rule.get() : d->rules[0].get();
        return compile_error(r->file, r->loc, "rego_recursion_error",
                             "rule " + node_name(d) + " is recursive: " + cycle);
      }
      if (color[d] == 0) EC_RETURN_IF_ERROR(dfs(d));
    }
    stack.pop_back();
    color[n] = 2;
    return base::Status::ok();
  };
  for (const Node* n : nodes) {
    if (color[n] == 0) EC_RETURN_IF_ERROR(dfs(n));
  }
  return base::Status::ok();
}

// --- constants ----------------------------------------------------------------------------

namespace {
// Folds `t` and what it holds; true when `t` is a constant (its `value` set).
bool fold_term(Term& t) {
  bool all = true;
  for (auto& i : t.items) {
    if (i && !fold_term(*i)) all = false;
  }
  for (auto& [k, v] : t.pairs) {
    bool kg = fold_term(*k);
    bool vg = fold_term(*v);
    all = all && kg && vg;
  }
  if (t.key) fold_term(*t.key);
  if (t.head) fold_term(*t.head);
  if (t.body) fold_ground_terms(*t.body);
  switch (t.kind) {
    case TermKind::kScalar:
      return true;
    case TermKind::kArray:
    case TermKind::kSet:
    case TermKind::kObject:
      break;
    default:
      return false;
  }
  if (!all) return false;
  if (!t.ground) {
    // What Evaluator::term builds from the items, once.
    if (t.kind == TermKind::kObject) {
      std::vector<ObjectItem> items;
      items.reserve(t.pairs.size());
      for (const auto& [k, v] : t.pairs) items.emplace_back(k->value, v->value);
      t.value = Value::object(std::move(items));
    } else {
      std::vector<Value> items;
      items.reserve(t.items.size());
      for (const auto& i : t.items) items.push_back(i->value);
      t.value = t.kind == TermKind::kArray ? Value::array(std::move(items))
                                           : Value::set(std::move(items));
    }
    t.ground = true;
  }
  return true;
}
}  // namespace

void fold_ground_terms(Body& b) {
  for (Expr& e : b) {
    if (e.term) fold_term(*e.term);
    for (auto& v : e.vars) fold_term(*v);
    if (e.key) fold_term(*e.key);
    if (e.val) fold_term(*e.val);
    if (e.domain) fold_term(*e.domain);
    if (e.body) fold_ground_terms(*e.body);
    if (e.rhs) fold_ground_terms(*e.rhs);
    for (auto& w : e.withs) fold_term(*w.value);
  }
}

void fold_ground_terms(Rule& r) {
  for (auto& a : r.args) fold_term(*a);
  if (r.key) fold_term(*r.key);
  if (r.value) fold_term(*r.value);
  for (auto& k : r.key_terms) fold_term(*k);
  fold_ground_terms(r.body);
  if (r.else_rule) fold_ground_terms(*r.else_rule);
}

}  // namespace policy
