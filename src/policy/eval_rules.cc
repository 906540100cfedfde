// Evaluator: the data document (base documents, rule trees) and rule evaluation.
#include <algorithm>
#include <map>

#include "policy/eval.h"

namespace policy {

// --- data ---------------------------------------------------------------------------------

base::Status Evaluator::walk_data(const Node* node, const Value* base,
                                  std::vector<std::string>& path, const Term& r, size_t i, Frame& f,
                                  const ValCont& k) {
  if (!data_overrides_.empty()) {
    std::optional<Value> o;
    if (override_at(path, o)) {
      if (!o) return base::Status::ok();
      return walk(*o, r, i, f, k, /*in_data=*/true);
    }
    if ((!node || node->has_rules()) && override_below(path)) {
      EC_ASSIGN_OR_RETURN(auto v, full_value(node, base, path));
      return walk(v ? *v : apply_overrides(path, Value::empty_object()), r, i, f, k,
                  /*in_data=*/true);
    }
  }
  if (node && node->has_rules() && !base) {
    EC_ASSIGN_OR_RETURN(auto v, node_value(node));
    if (!v) return base::Status::ok();
    return walk(*v, r, i, f, k, /*in_data=*/true);
  }
  if (!node || node->has_rules()) {
    if (!base) return base::Status::ok();
    return walk(apply_overrides(path, *base), r, i, f, k, /*in_data=*/true);
  }
  if (i == r.items.size()) {
    EC_ASSIGN_OR_RETURN(auto v, full_value(node, base, path));
    if (!v) return base::Status::ok();
    return k(*v);
  }
  const Term& op = *r.items[i];
  auto step_into = [&](const Value& k0) -> base::Status {
    // data.x[2] also reads the key "2" (OPA's integer-like keys into data).
    Value key =
        k0.is_int() && !(base && base->is_array()) ? Value::string(number_to_string(k0)) : k0;
    const Node* child = nullptr;
    if (key.is_string()) {
      auto it = node->children.find(key.as_string());
      if (it != node->children.end()) child = it->second.get();
    }
    const Value* b = base ? base->get(key) : nullptr;
    if (!child && !b && data_overrides_.empty()) return base::Status::ok();
    if (!key.is_string()) {
      if (!b) return base::Status::ok();
      return walk(*b, r, i + 1, f, k, /*in_data=*/true);
    }
    path.push_back(key.as_string());
    base::Status st = walk_data(child, b, path, r, i + 1, f, k);
    path.pop_back();
    return st;
  };
  if (is_pattern(op, f)) {
    std::vector<Value> keys;
    for (const auto& [name, c] : node->children) keys.push_back(Value::string(name));
    for (const auto& o : data_overrides_) {
      if (o.path.size() > path.size() && std::equal(path.begin(), path.end(), o.path.begin())) {
        keys.push_back(Value::string(o.path[path.size()]));
      }
    }
    if (base && base->is_object()) {
      for (const auto& [key, v] : base->object_items()) keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const Value& key : keys) {
      EC_RETURN_IF_ERROR(unify_value(op, key, f, [&]() { return step_into(key); }));
    }
    return base::Status::ok();
  }
  if (op.kind == TermKind::kScalar) return step_into(op.value);
  return term(op, f, step_into);
}

base::Result<std::optional<Value>> Evaluator::full_value(const Node* node, const Value* base,
                                                         std::vector<std::string>& path) {
  if (!data_overrides_.empty()) {
    std::optional<Value> o;
    if (override_at(path, o)) return o;
  }
  if (node && node->has_rules()) {
    if (node->is_function()) return std::optional<Value>();
    EC_ASSIGN_OR_RETURN(auto v, node_value(node));
    if (v && !data_overrides_.empty()) return std::optional<Value>(apply_overrides(path, *v));
    return v;
  }
  if (!node) {
    if (!base) return std::optional<Value>();
    return std::optional<Value>(apply_overrides(path, *base));
  }
  std::vector<ObjectItem> items;
  if (base && base->is_object()) {
    items.assign(base->object_items().begin(), base->object_items().end());
  }
  for (const auto& [name, child] : node->children) {
    const Value* b = base ? base->find(name) : nullptr;
    if (b && child->has_rules()) continue;  // the base document wins
    path.push_back(name);
    auto v = full_value(child.get(), b, path);
    path.pop_back();
    if (!v.is_ok()) return v.status();
    if (*v) items.emplace_back(Value::string(name), **v);
  }
  return std::optional<Value>(apply_overrides(path, Value::object(std::move(items))));
}

// --- rules --------------------------------------------------------------------------------

base::Result<std::optional<Value>> Evaluator::node_value(const Node* node) {
  auto it = cache_.find(node);
  if (it != cache_.end()) return it->second;
  if (in_progress_[node]) {
    return error_at(node->rules.empty() ? Location{} : node->rules[0]->loc, "rego_recursion_error",
                    "rule data." + node->path.back() + " is recursive");
  }
  in_progress_[node] = true;
  if (++depth_ > limits_.max_depth) {
    --depth_;
    in_progress_[node] = false;
    return error_at({}, "eval_cancel_error", "evaluation too deep");
  }
  auto v = rules_value(node);
  --depth_;
  in_progress_[node] = false;
  if (!v.is_ok()) return v;
  cache_[node] = *v;
  return v;
}

namespace {
// Inserts value at the nested key path into an object tree (std::map of Values).
struct ObjTree {
  std::map<Value, ObjTree> children;
  std::optional<Value> leaf;
  Value to_value() const {
    if (leaf) return *leaf;
    std::vector<ObjectItem> items;
    for (const auto& [key, c] : children) items.emplace_back(key, c.to_value());
    return Value::object_sorted(std::move(items));
  }
};
}  // namespace

namespace {
// Deep merge of two documents; nullopt on conflict.
std::optional<Value> merge_values(const Value& a, const Value& b) {
  if (a.is_object() && b.is_object()) {
    std::vector<ObjectItem> items(a.object_items().begin(), a.object_items().end());
    for (const auto& [k, v] : b.object_items()) {
      bool found = false;
      for (auto& [ka, va] : items) {
        if (ka == k) {
          auto m = merge_values(va, v);
          if (!m) return std::nullopt;
          va = *m;
          found = true;
        }
      }
      if (!found) items.emplace_back(k, v);
    }
    return Value::object(std::move(items));
  }
  if (a.is_set() && b.is_set()) {
    std::vector<Value> items(a.set_items().begin(), a.set_items().end());
    items.insert(items.end(), b.set_items().begin(), b.set_items().end());
    return Value::set(std::move(items));
  }
  if (a == b) return a;
  return std::nullopt;
}

// Merges a document into the key structure `t`; false on conflict with a rule's value.
bool tree_merge(ObjTree& t, const Value& v) {
  if (t.leaf) {
    if (t.leaf->is_set() && v.is_set()) {
      auto m = merge_values(*t.leaf, v);
      t.leaf = *m;
      return true;
    }
    return *t.leaf == v;
  }
  if (t.children.empty()) {
    t.leaf = v;
    return true;
  }
  if (!v.is_object()) return false;
  for (const auto& [k, x] : v.object_items()) {
    if (!tree_merge(t.children[k], x)) return false;
  }
  return true;
}
}  // namespace

base::Result<std::optional<Value>> Evaluator::rules_value(const Node* node) {
  const std::string* saved_file = file_;
  const Rule* saved_rule = rule_;
  RuleKind node_kind = node->rules.empty() ? node->default_rule->kind : node->rules[0]->kind;
  for (const auto& rp : node->rules) {
    if (rp->kind == RuleKind::kComplete) node_kind = RuleKind::kComplete;
  }
  std::optional<Value> result;
  std::vector<Value> set_items;
  ObjTree tree;
  bool any = false;
  BodySet candidates(node->index ? node->index->num_words : 0);
  const bool indexed = candidate_bodies(node, {}, candidates);
  size_t body_no = 0;  // the body's number in the index: rules in order, else chains inline
  for (const auto& rp : node->rules) {
    if (node->uniform_constant && result) break;
    size_t b = body_no;
    for (const Rule* r = rp.get(); r; r = r->else_rule.get()) ++body_no;
    for (const Rule* r = rp.get(); r; r = r->else_rule.get()) {
      // A body the index rules out would produce nothing: go on to its else, as then.
      if (indexed && !candidates.test(b++)) continue;
      file_ = &r->file;
      rule_ = r;
      Frame f(r->num_slots);
      bool produced = false;
      bool const_value = r->value && r->value->kind == TermKind::kScalar;
      RuleKind kind = r->kind;
      base::Status st = eval_body(r->body, f, [&]() -> base::Status {
        switch (kind) {
          case RuleKind::kPartialSet:
            return term(*r->key, f, [&](const Value& v) -> base::Status {
              produced = true;
              set_items.push_back(v);
              return base::Status::ok();
            });
          case RuleKind::kPartialObject: {
            std::vector<Value> keys;
            return terms(r->key_terms, 0, keys, f, [&]() -> base::Status {
              return term(*r->value, f, [&](const Value& v) -> base::Status {
                produced = true;
                ObjTree* t = &tree;
                for (size_t j = 0; j < keys.size(); ++j) {
                  if (t->leaf) {
                    return error_at(r->loc, "eval_conflict_error", "object keys must be unique");
                  }
                  t = &t->children[keys[j]];
                }
                if (r->set_leaf) {
                  if (!t->children.empty() || (t->leaf && !t->leaf->is_set())) {
                    return error_at(r->loc, "eval_conflict_error", "object keys must be unique");
                  }
                  std::vector<Value> members;
                  if (t->leaf)
                    members.assign(t->leaf->set_items().begin(), t->leaf->set_items().end());
                  members.push_back(v);
                  t->leaf = Value::set(std::move(members));
                  return base::Status::ok();
                }
                if ((t->leaf && !(*t->leaf == v)) || (!t->leaf && !t->children.empty())) {
                  return error_at(r->loc, "eval_conflict_error", "object keys must be unique");
                }
                t->leaf = v;
                return base::Status::ok();
              });
            });
          }
          default: {
            auto emit = [&](const Value& v) -> base::Status {
              produced = true;
              if (result && !(*result == v)) {
                return error_at(r->loc, "eval_conflict_error",
                                "complete rules must not produce multiple outputs");
              }
              result = v;
              return const_value ? halt() : base::Status::ok();
            };
            if (!r->value) return emit(Value::boolean(true));
            return term(*r->value, f, emit);
          }
        }
      });
      if (!st.is_ok() && !is_halt(st)) {
        file_ = saved_file;
        rule_ = saved_rule;
        return st;
      }
      if (produced) {
        any = true;
        break;  // else branches only when this one produced nothing
      }
    }
  }
  file_ = saved_file;
  rule_ = saved_rule;
  switch (node_kind) {
    case RuleKind::kPartialSet:
      return std::optional<Value>(Value::set(std::move(set_items)));
    case RuleKind::kPartialObject: {
      if (!any && node->default_rule) return std::optional<Value>(node->default_rule->value->value);
      // Rules defined below this node (e.g. `p.q.r := 1` next to `p.q[x] := ...`) merge
      // into the key structure; a value a rule produced is never merged into (conflict).
      std::vector<std::string> path = node->path;
      for (const auto& [name, child] : node->children) {
        path.push_back(name);
        auto cv = full_value(child.get(), nullptr, path);
        path.pop_back();
        if (!cv.is_ok()) return cv.status();
        if (!*cv) continue;
        if (!tree_merge(tree.children[Value::string(name)], **cv)) {
          return error_at(node->rules.empty() ? Location{} : node->rules[0]->loc,
                          "eval_conflict_error", "object keys must be unique");
        }
      }
      Value v = tree.to_value();
      return std::optional<Value>(v);
    }
    default:
      if (!result && node->default_rule) {
        Frame f(node->default_rule->num_slots);
        std::optional<Value> dv;
        EC_RETURN_IF_ERROR(term(*node->default_rule->value, f, [&](const Value& v) {
          dv = v;
          return base::Status::ok();
        }));
        return dv;
      }
      return result;
  }
}

bool Evaluator::candidate_bodies(const Node* node, std::span<const Value> args,
                                 BodySet& out) const {
  const RuleIndex* index = node->index.get();
  if (!index || !limits_.rule_index || !data_overrides_.empty() || !mocks_.empty()) return false;
  std::span<uint64_t> words = out.words();
  for (size_t i = 0; i < index->num_bodies; ++i) words[i / 64] |= uint64_t{1} << (i % 64);
  index->candidates(input_, prog_.base_data, args, out);
  return true;
}

base::Result<std::optional<Value>> Evaluator::eval_data_path(const std::vector<std::string>& path) {
  // Walk the tree along the path.
  const Node* node = prog_.root.get();
  const Value* base = &prog_.base_data;
  std::vector<std::string> cur;
  for (size_t i = 0; i < path.size(); ++i) {
    if (node && node->has_rules()) {
      EC_ASSIGN_OR_RETURN(auto v, node_value(node));
      if (!v) return v;
      const Value* x = &*v;
      for (size_t j = i; j < path.size() && x; ++j) x = x->find(path[j]);
      if (!x) return std::optional<Value>();
      return std::optional<Value>(*x);
    }
    const Node* child = nullptr;
    if (node) {
      auto it = node->children.find(path[i]);
      if (it != node->children.end()) child = it->second.get();
    }
    base = base ? base->find(path[i]) : nullptr;
    node = child;
    cur.push_back(path[i]);
    if (!node && !base) return std::optional<Value>();
  }
  return full_value(node, base, cur);
}

}  // namespace policy
