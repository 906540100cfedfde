#include "policy/rule_index.h"

#include <algorithm>
#include <map>
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

// The value of a rule that can only ever have one: a single complete rule without `else` or
// `default`, whose body is `true` and whose value is a constant (`teacher_actions := {...}`),
// with no base document at its path (which would win over it). Reading it cannot fail.
const Value* constant_rule_value(const Program& prog, const Node& node) {
  if (node.rules.size() != 1 || node.default_rule || !node.children.empty()) return nullptr;
  const Rule& r = *node.rules[0];
  if (r.kind != RuleKind::kComplete || r.else_rule || !r.value || !r.value->ground) return nullptr;
  for (const Expr& e : r.body) {
    if (e.kind != ExprKind::kTerm || !e.withs.empty() || e.term->kind != TermKind::kScalar ||
        !(e.term->value == Value::boolean(true))) {
      return nullptr;
    }
  }
  const Value* base = &prog.base_data;
  for (const auto& seg : node.path) {
    base = base->find(std::string_view(seg));
    if (!base) break;
  }
  return base ? nullptr : &r.value->value;
}

// For data.<path to a constant rule>[ops...]: the rule's value, with `rest` the operands
// after its path. nullptr when the reference does not start at such a rule.
const Value* constant_rule_ref(const Program& prog, std::span<const TermPtr> ops,
                               std::span<const TermPtr>& rest) {
  const Node* node = prog.root.get();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (node->has_rules()) break;
    if (ops[i]->kind != TermKind::kScalar || !ops[i]->value.is_string()) return nullptr;
    auto it = node->children.find(ops[i]->value.as_string());
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
    rest = ops.subspan(i + 1);
  }
  if (!node->has_rules()) return nullptr;
  return constant_rule_value(prog, *node);
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
        if (is_base_data_path(prog, ops)) return true;
        std::span<const TermPtr> rest;
        if (!constant_rule_ref(prog, ops, rest)) return false;
        for (const auto& op : rest) {
          if (!is_pure_term(*op, prog)) return false;
        }
        return true;
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
  std::vector<Value> values;  // the key must equal one of these
};

// The members of `c` that `x in c` compares with, when all are scalars (a collection could
// equal a collection value the index does not look up). nullopt otherwise.
std::optional<std::vector<Value>> scalar_members(const Value& c) {
  std::vector<Value> out;
  if (c.is_object()) {
    for (const auto& [k, v] : c.object_items()) out.push_back(v);
  } else if (c.is_collection()) {
    out.assign(c.elements().begin(), c.elements().end());
  } else {
    return std::nullopt;
  }
  for (const Value& v : out) {
    if (v.is_collection()) return std::nullopt;
  }
  return out;
}

// The constant collection term `t` stands for: a folded literal or a constant rule.
const Value* constant_collection(const Term& t, const Program& prog) {
  if (t.ground && t.value.is_collection()) return &t.value;
  if (t.kind != TermKind::kRef || t.items[0]->kind != TermKind::kVar ||
      t.items[0]->slot != kSlotData) {
    return nullptr;
  }
  std::span<const TermPtr> rest;
  const Value* v =
      constant_rule_ref(prog, std::span<const TermPtr>(t.items.begin() + 1, t.items.end()), rest);
  return v && rest.empty() ? v : nullptr;
}

// The equality (or membership) expression `e` needs, if it is one the index can use:
//   <key> == <scalar>, <key> = <scalar> (either side), <key> in <constant collection>,
//   data.<constant set rule>[<key>].
std::optional<Constraint> constraint_of(const Expr& e, const Program& prog, const Rule& r) {
  if (e.kind != ExprKind::kTerm) return std::nullopt;
  const Term& t = *e.term;
  if (t.kind == TermKind::kCall && (t.op == CallOp::kEqual || t.op == CallOp::kEq) &&
      t.items.size() == 3) {
    for (size_t side = 1; side <= 2; ++side) {
      const Term& a = *t.items[side];
      const Term& b = *t.items[3 - side];
      if (!is_index_constant(b)) continue;
      if (auto key = key_of(a, prog, r)) return Constraint{std::move(*key), {b.value}};
    }
    return std::nullopt;
  }
  if (t.kind == TermKind::kCall && t.op == CallOp::kMember2 && t.items.size() == 3) {
    auto key = key_of(*t.items[1], prog, r);
    const Value* c = key ? constant_collection(*t.items[2], prog) : nullptr;
    auto members = c ? scalar_members(*c) : std::nullopt;
    if (!members) return std::nullopt;
    return Constraint{std::move(*key), std::move(*members)};
  }
  if (t.kind == TermKind::kRef && t.items[0]->kind == TermKind::kVar &&
      t.items[0]->slot == kSlotData) {
    // S[k] of a constant set: defined when k is a member, and then the member itself, which
    // must not be `false` (the expression would fail).
    std::span<const TermPtr> rest;
    const Value* c =
        constant_rule_ref(prog, std::span<const TermPtr>(t.items.begin() + 1, t.items.end()), rest);
    if (!c || !c->is_set() || rest.size() != 1) return std::nullopt;
    auto key = key_of(*rest[0], prog, r);
    if (!key) return std::nullopt;
    std::vector<Value> members(c->set_items().begin(), c->set_items().end());
    for (const Value& m : members) {
      if (m.is_collection() || m == Value::boolean(false)) return std::nullopt;
    }
    return Constraint{std::move(*key), std::move(members)};
  }
  return std::nullopt;
}

// The equalities body `r` needs, read up to its first expression that is not pure.
std::vector<Constraint> constraints_of(const Rule& r, const Program& prog) {
  std::vector<Constraint> out;
  auto add = [&](Constraint c) {
    for (const auto& have : out) {
      if (have.key == c.key) return;  // the first is enough (both are needed)
    }
    out.push_back(std::move(c));
  };
  if (r.kind == RuleKind::kFunction) {
    for (size_t i = 0; i < r.args.size(); ++i) {
      if (is_index_constant(*r.args[i])) {
        add({{RuleIndex::Source::kArg, i, {}}, {r.args[i]->value}});
      }
    }
  }
  for (const Expr& e : r.body) {
    if (!is_pure_expr(e, prog)) break;
    if (auto c = constraint_of(e, prog, r)) add(std::move(*c));
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
  const size_t words = index->num_words = (bodies.size() + 63) / 64;
  std::vector<KeyId> ids;
  std::vector<std::vector<uint64_t>> constrained;
  std::vector<std::map<Value, std::vector<uint64_t>>> by_value;
  for (size_t b = 0; b < bodies.size(); ++b) {
    for (const Constraint& c : bodies[b]) {
      if (c.values.empty()) continue;  // `x in set()`: leave the body to fail by itself
      size_t k = 0;
      while (k < ids.size() && !(ids[k] == c.key)) ++k;
      if (k == ids.size()) {
        ids.push_back(c.key);
        constrained.emplace_back(words, 0);
        by_value.emplace_back();
      }
      set_bit(constrained[k], b);
      for (const Value& v : c.values) {
        auto [it, fresh] = by_value[k].try_emplace(v, words, 0);
        set_bit(it->second, b);
      }
    }
  }
  if (ids.empty()) return nullptr;
  for (size_t k = 0; k < ids.size(); ++k) {
    RuleIndex::Key key;
    key.source = ids[k].source;
    key.arg = ids[k].arg;
    key.path = ids[k].path;
    key.constrained = std::move(constrained[k]);
    // Value order puts strings together, in the order of their bytes, as std::string's.
    for (auto& [v, bits] : by_value[k]) {
      if (v.is_string()) {
        key.strings.push_back(v.as_string());
        key.string_bodies.insert(key.string_bodies.end(), bits.begin(), bits.end());
      } else {
        key.others.push_back(v);
        key.other_bodies.insert(key.other_bodies.end(), bits.begin(), bits.end());
      }
    }
    index->keys.push_back(std::move(key));
  }
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
    // Stop at one body left: when it succeeds (most decisions are allowed) looking further
    // is wasted; when it fails, its first expressions fail it (~800 instructions each, a
    // lookup ~300).
    size_t left = 0;
    bool relevant = false;
    for (size_t w = 0; w < num_words; ++w) {
      left += static_cast<size_t>(__builtin_popcountll(cand[w]));
      relevant |= (cand[w] & key.constrained[w]) != 0;
    }
    if (left <= 1) return;
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
    for (size_t i = 0; i < key.path.size() && v; ++i) {
      const Value& op = key.path[i];
      v = op.is_string() && v->is_object() ? v->find(std::string_view(op.as_string())) : v->get(op);
    }
    const uint64_t* match = nullptr;
    if (v && v->is_string()) {
      const std::string& s = v->as_string();
      auto it = std::lower_bound(key.strings.begin(), key.strings.end(), s);
      if (it != key.strings.end() && *it == s) {
        match = &key.string_bodies[static_cast<size_t>(it - key.strings.begin()) * num_words];
      }
    } else if (v && !v->is_collection()) {
      auto it = std::lower_bound(key.others.begin(), key.others.end(), *v);
      if (it != key.others.end() && *it == *v) {
        match = &key.other_bodies[static_cast<size_t>(it - key.others.begin()) * num_words];
      }
    }
    // A body stays when this key does not constrain it or its constant is the value.
    for (size_t w = 0; w < num_words; ++w) {
      cand[w] &= ~key.constrained[w] | (match ? match[w] : 0);
    }
  }
}

void build_rule_indexes(Program& prog) { build_all(*prog.root, prog); }

}  // namespace policy
