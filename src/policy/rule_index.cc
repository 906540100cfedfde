#include "policy/rule_index.h"

#include <algorithm>
#include <optional>

#include "policy/program.h"

namespace policy {

BodySet::BodySet(size_t n) : n_(n) {
  if (n <= kInline) {
    words_ = inline_;
  } else {
    heap_.assign(n, 0);
    words_ = heap_.data();
  }
}

namespace {

bool is_pure_body(const Body& body, const Program& prog);

// A base document reference data.<path> whose value no rule contributes to: every operand a
// string, and the path leaves the rule tree without passing a node that has rules.
bool is_base_data_path(const Program& prog, std::span<const TermPtr> ops) {
  const Node* node = prog.root.get();
  for (const auto& op : ops) {
    if (op->kind != TermKind::kScalar || !op->value.is_string()) return false;
    if (!node) continue;
    if (node->has_rules()) return false;
    auto it = node->children.find(op->value.as_string());
    node = it == node->children.end() ? nullptr : it->second.get();
  }
  return node == nullptr;
}

// True when evaluating `t` can neither fail the query (an error of a builtin, a conflict in
// a rule it reads, the recursion limit), nor print, nor read a rule: scalars, variables,
// input, base data, collections and comprehensions of those, comparisons, membership and
// unification. Anything else (calls, rule references, templates) is not.
bool is_pure_term(const Term& t, const Program& prog) {
  switch (t.kind) {
    case TermKind::kScalar:
      return true;
    case TermKind::kVar:
      return t.slot >= 0 || t.slot == kSlotInput;
    case TermKind::kRef: {
      const Term& head = *t.items[0];
      std::span<const TermPtr> ops(t.items.begin() + 1, t.items.end());
      if (head.kind == TermKind::kVar && head.slot == kSlotData) {
        return is_base_data_path(prog, ops);
      }
      if (!is_pure_term(head, prog)) return false;
      for (const auto& op : ops) {
        if (!is_pure_term(*op, prog)) return false;
      }
      return true;
    }
    case TermKind::kArray:
    case TermKind::kSet:
      for (const auto& i : t.items) {
        if (!is_pure_term(*i, prog)) return false;
      }
      return true;
    case TermKind::kObject:
      for (const auto& [k, v] : t.pairs) {
        if (!is_pure_term(*k, prog) || !is_pure_term(*v, prog)) return false;
      }
      return true;
    case TermKind::kArrayCompr:
    case TermKind::kSetCompr:
    case TermKind::kObjectCompr:
      if (t.key && !is_pure_term(*t.key, prog)) return false;
      return is_pure_term(*t.head, prog) && is_pure_body(*t.body, prog);
    case TermKind::kCall:
      switch (t.op) {
        case CallOp::kEqual:
        case CallOp::kNeq:
        case CallOp::kLt:
        case CallOp::kLte:
        case CallOp::kGt:
        case CallOp::kGte:
        case CallOp::kMember2:
        case CallOp::kMember3:
        case CallOp::kEq:
        case CallOp::kAssign:
          for (size_t i = 1; i < t.items.size(); ++i) {
            if (!is_pure_term(*t.items[i], prog)) return false;
          }
          return true;
        default:
          return false;
      }
    case TermKind::kTemplate:
      return false;
  }
  return false;
}

bool has_local_var(const Term& t) {
  if (t.kind == TermKind::kVar) return t.slot >= 0;
  for (const auto& i : t.items) {
    if (i && has_local_var(*i)) return true;
  }
  for (const auto& [k, v] : t.pairs) {
    if (has_local_var(*k) || has_local_var(*v)) return true;
  }
  return t.key || t.head || t.body;  // comprehensions: assume so
}

bool is_pure_expr(const Expr& e, const Program& prog) {
  if (!e.withs.empty()) return false;
  switch (e.kind) {
    case ExprKind::kSome:
      return true;
    case ExprKind::kTerm: {
      const Term& t = *e.term;
      // Unifying two sides that both still hold unbound variables is an error at evaluation
      // (rego_unsafe_var_error); with one side free of variables it cannot be.
      if (t.kind == TermKind::kCall && (t.op == CallOp::kEq || t.op == CallOp::kAssign) &&
          has_local_var(*t.items[1]) && has_local_var(*t.items[2])) {
        return false;
      }
      return is_pure_term(t, prog);
    }
    case ExprKind::kNot:
      return is_pure_body(*e.body, prog);
    case ExprKind::kSomeIn:
      return is_pure_term(*e.domain, prog) && (!e.key || is_pure_term(*e.key, prog)) &&
             is_pure_term(*e.val, prog);
    case ExprKind::kEvery:
      return is_pure_term(*e.domain, prog) && (!e.key || is_pure_term(*e.key, prog)) &&
             is_pure_term(*e.val, prog) && is_pure_body(*e.body, prog);
    case ExprKind::kAnd:
    case ExprKind::kOr:
      return is_pure_body(*e.body, prog) && is_pure_body(*e.rhs, prog);
  }
  return false;
}

bool is_pure_body(const Body& body, const Program& prog) {
  return std::all_of(body.begin(), body.end(),
                     [&](const Expr& e) { return is_pure_expr(e, prog); });
}

bool is_index_constant(const Term& t) {
  return t.kind == TermKind::kScalar && !t.value.is_collection();
}

struct KeyId {
  RuleIndex::Source source;
  size_t arg = 0;
  std::vector<Value> path;
  bool operator==(const KeyId& o) const {
    if (source != o.source || arg != o.arg || path.size() != o.path.size()) return false;
    for (size_t i = 0; i < path.size(); ++i) {
      if (!(path[i] == o.path[i])) return false;  // strings and integers only (key_of)
    }
    return true;
  }
};

// The key `t` stands for when it can be one: input.<constants>, data.<base document>, or a
// function parameter (a variable the rule's head binds from argument i).
std::optional<KeyId> key_of(const Term& t, const Program& prog, const Rule& r) {
  if (t.kind == TermKind::kVar) {
    if (t.slot == kSlotInput) return KeyId{RuleIndex::Source::kInput, 0, {}};
    if (t.slot < 0 || r.kind != RuleKind::kFunction) return std::nullopt;
    for (size_t i = 0; i < r.args.size(); ++i) {
      const Term& a = *r.args[i];
      if (a.kind == TermKind::kVar && !a.wildcard && a.slot == t.slot) {
        return KeyId{RuleIndex::Source::kArg, i, {}};
      }
    }
    return std::nullopt;
  }
  if (t.kind != TermKind::kRef) return std::nullopt;
  const Term& head = *t.items[0];
  if (head.kind != TermKind::kVar) return std::nullopt;
  KeyId id;
  if (head.slot == kSlotInput) {
    id.source = RuleIndex::Source::kInput;
  } else if (head.slot == kSlotData) {
    id.source = RuleIndex::Source::kData;
    if (!is_base_data_path(prog, std::span<const TermPtr>(t.items.begin() + 1, t.items.end()))) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  for (size_t i = 1; i < t.items.size(); ++i) {
    // Strings and integers only: what every way of walking a reference reads alike.
    const Term& op = *t.items[i];
    if (op.kind != TermKind::kScalar || !(op.value.is_string() || op.value.is_int())) {
      return std::nullopt;
    }
    id.path.push_back(op.value);
  }
  return id;
}

struct Constraint {
  KeyId key;
  Value value;
};

// The equalities body `r` needs, read up to its first expression that is not pure.
std::vector<Constraint> constraints_of(const Rule& r, const Program& prog) {
  std::vector<Constraint> out;
  auto add = [&](KeyId key, const Value& v) {
    for (const auto& c : out) {
      if (c.key == key) return;  // the first is enough (both are needed)
    }
    out.push_back({std::move(key), v});
  };
  if (r.kind == RuleKind::kFunction) {
    for (size_t i = 0; i < r.args.size(); ++i) {
      if (is_index_constant(*r.args[i])) {
        add({RuleIndex::Source::kArg, i, {}}, r.args[i]->value);
      }
    }
  }
  for (const Expr& e : r.body) {
    if (!is_pure_expr(e, prog)) break;
    if (e.kind != ExprKind::kTerm) continue;
    const Term& t = *e.term;
    if (t.kind != TermKind::kCall || (t.op != CallOp::kEqual && t.op != CallOp::kEq) ||
        t.items.size() != 3) {
      continue;
    }
    for (int side = 1; side <= 2; ++side) {
      const Term& a = *t.items[static_cast<size_t>(side)];
      const Term& b = *t.items[static_cast<size_t>(3 - side)];
      if (!is_index_constant(b)) continue;
      if (auto key = key_of(a, prog, r)) {
        add(std::move(*key), b.value);
        break;
      }
    }
  }
  return out;
}

void set_bit(std::vector<uint64_t>& w, size_t i) { w[i / 64] |= uint64_t{1} << (i % 64); }

std::unique_ptr<RuleIndex> build_index(const Node& node, const Program& prog) {
  std::vector<std::vector<Constraint>> bodies;
  for (const auto& rp : node.rules) {
    for (const Rule* r = rp.get(); r; r = r->else_rule.get()) {
      bodies.push_back(constraints_of(*r, prog));
    }
  }
  // One body: the index would only move its first equality ahead of it.
  if (bodies.size() < 2) return nullptr;
  auto index = std::make_unique<RuleIndex>();
  index->num_bodies = bodies.size();
  index->num_words = (bodies.size() + 63) / 64;
  std::vector<KeyId> ids;
  for (size_t b = 0; b < bodies.size(); ++b) {
    for (const Constraint& c : bodies[b]) {
      size_t k = 0;
      while (k < ids.size() && !(ids[k] == c.key)) ++k;
      if (k == ids.size()) {
        ids.push_back(c.key);
        RuleIndex::Key key;
        key.source = c.key.source;
        key.arg = c.key.arg;
        key.path = c.key.path;
        key.constrained.assign(index->num_words, 0);
        index->keys.push_back(std::move(key));
      }
      RuleIndex::Key& key = index->keys[k];
      set_bit(key.constrained, b);
      auto it = std::lower_bound(key.values.begin(), key.values.end(), c.value,
                                 [](const auto& e, const Value& v) { return e.first < v; });
      if (it == key.values.end() || !(it->first == c.value)) {
        it = key.values.insert(it, {c.value, std::vector<uint64_t>(index->num_words, 0)});
      }
      set_bit(it->second, b);
    }
  }
  if (index->keys.empty()) return nullptr;
  auto count = [](const RuleIndex::Key& k) {
    size_t n = 0;
    for (uint64_t w : k.constrained) n += static_cast<size_t>(__builtin_popcountll(w));
    return n;
  };
  std::stable_sort(index->keys.begin(), index->keys.end(),
                   [&](const auto& a, const auto& b) { return count(a) > count(b); });
  return index;
}

void build_all(Node& node, const Program& prog) {
  if (!node.rules.empty()) node.index = build_index(node, prog);
  for (auto& [name, child] : node.children) build_all(*child, prog);
}

}  // namespace

void RuleIndex::candidates(const Value* input, const Value& data, std::span<const Value> args,
                           BodySet& out) const {
  std::span<uint64_t> cand = out.words();
  for (const Key& key : keys) {
    bool relevant = false;
    for (size_t w = 0; w < num_words; ++w) relevant |= (cand[w] & key.constrained[w]) != 0;
    if (!relevant) continue;  // every body this key could rule out is out already
    const Value* v = nullptr;
    switch (key.source) {
      case Source::kInput:
        v = input;
        break;
      case Source::kData:
        v = &data;
        break;
      case Source::kArg:
        v = key.arg < args.size() ? &args[key.arg] : nullptr;
        break;
    }
    for (size_t i = 0; i < key.path.size() && v; ++i) v = v->get(key.path[i]);
    const std::vector<uint64_t>* match = nullptr;
    if (v && !v->is_collection()) {
      auto it = std::lower_bound(key.values.begin(), key.values.end(), *v,
                                 [](const auto& e, const Value& x) { return e.first < x; });
      if (it != key.values.end() && it->first == *v) match = &it->second;
    }
    // A body stays when this key does not constrain it or its constant is the value.
    for (size_t w = 0; w < num_words; ++w) {
      cand[w] &= ~key.constrained[w] | (match ? (*match)[w] : 0);
    }
  }
}

void build_rule_indexes(Program& prog) { build_all(*prog.root, prog); }

}  // namespace policy
