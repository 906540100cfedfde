#include "policy/eval.h"

#include <algorithm>
#include <map>

namespace policy {

namespace {
constexpr std::string_view kHalt = "__halt";
}

bool is_halt(const base::Status& s) { return !s.is_ok() && s.reason() == kHalt; }
base::Status halt() { return base::Status(base::Code::kInternal, "halt", std::string(kHalt)); }

Evaluator::Evaluator(const Program& prog, const Value* input, BuiltinContext& ctx,
                     EvalLimits limits)
    : prog_(prog), input_(input), ctx_(ctx), limits_(limits) {}

base::Status Evaluator::step() {
  if (limits_.max_steps > 0 && ++steps_ > limits_.max_steps) {
    return base::Status(base::Code::kResourceExhausted, "eval_cancel_error: evaluation budget exceeded",
                        "eval_cancel_error");
  }
  return base::Status::ok();
}

base::Status Evaluator::error_at(Location loc, std::string_view code, std::string msg) {
  std::string m = file_ ? *file_ : std::string("query");
  m += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": ";
  m += code;
  m += ": ";
  m += msg;
  return base::Status(base::Code::kInvalidArgument, std::move(m), std::string(code));
}

base::Status Evaluator::eval_body(const Body& body, Frame& frame, const Cont& k) {
  return body_from(body, 0, frame, k);
}

base::Status Evaluator::body_from(const Body& body, size_t i, Frame& f, const Cont& k) {
  if (i == body.size()) return k();
  return expr(body[i], f, [&]() { return body_from(body, i + 1, f, k); });
}

// --- with ---------------------------------------------------------------------------------

namespace {
Value upsert(const Value& base, std::span<const std::string> path, const Value& v) {
  if (path.empty()) return v;
  std::vector<ObjectItem> items;
  if (base.is_object()) items.assign(base.object_items().begin(), base.object_items().end());
  Value key = Value::string(path[0]);
  const Value* cur = base.find(path[0]);
  Value child = upsert(cur ? *cur : Value::empty_object(), path.subspan(1), v);
  bool found = false;
  for (auto& [k, val] : items) {
    if (k == key) {
      val = child;
      found = true;
    }
  }
  if (!found) items.emplace_back(key, child);
  return Value::object(std::move(items));
}

std::vector<std::string> split_dots(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    auto d = s.find('.', start);
    out.push_back(s.substr(start, d == std::string::npos ? std::string::npos : d - start));
    if (d == std::string::npos) return out;
    start = d + 1;
  }
}
}  // namespace

bool Evaluator::override_at(const std::vector<std::string>& path,
                            std::optional<Value>& out) const {
  for (auto it = data_overrides_.rbegin(); it != data_overrides_.rend(); ++it) {
    if (it->path.size() <= path.size() &&
        std::equal(it->path.begin(), it->path.end(), path.begin())) {
      const Value* v = &it->value;
      for (size_t i = it->path.size(); i < path.size() && v; ++i) v = v->find(path[i]);
      out.reset();
      if (v) out = apply_overrides(path, *v);
      return true;
    }
  }
  return false;
}

bool Evaluator::override_below(const std::vector<std::string>& path) const {
  for (const auto& o : data_overrides_) {
    if (o.path.size() > path.size() && std::equal(path.begin(), path.end(), o.path.begin())) {
      return true;
    }
  }
  return false;
}

Value Evaluator::apply_overrides(const std::vector<std::string>& path, Value v) const {
  for (const auto& o : data_overrides_) {
    if (o.path.size() > path.size() &&
        std::equal(path.begin(), path.end(), o.path.begin())) {
      v = upsert(v, std::span<const std::string>(o.path).subspan(path.size()), o.value);
    }
  }
  return v;
}

base::Status Evaluator::expr(const Expr& e, Frame& f, const Cont& k) {
  EC_RETURN_IF_ERROR(step());
  if (e.withs.empty()) return expr_no_with(e, f, k);
  // Evaluate all with values first (they may enumerate, but normally are single-valued).
  std::vector<Value> vals;
  base::Status st;
  for (const auto& w : e.withs) {
    if (w.value->kind != TermKind::kCall && (w.value->fn_node || w.value->builtin)) {
      vals.emplace_back();
      continue;
    }
    std::optional<Value> got;
    st = term(*w.value, f, [&](const Value& v) -> base::Status {
      got = v;
      return halt();
    });
    if (!st.is_ok() && !is_halt(st)) return st;
    if (!got) return base::Status::ok();
    vals.push_back(*got);
  }
  auto saved_cache = std::move(cache_);
  cache_.clear();
  const Value* saved_input = input_;
  size_t saved_overrides = data_overrides_.size();
  size_t saved_mocks = mocks_.size();
  size_t saved_inputs = input_stack_.size();
  input_stack_.reserve(input_stack_.size() + e.withs.size() + 1);
  std::vector<Value> owned_inputs;
  owned_inputs.reserve(e.withs.size());
  for (size_t i = 0; i < e.withs.size(); ++i) {
    const std::string& target = e.withs[i].target->fn_name;
    auto path = split_dots(target);
    if (path[0] == "input") {
      Value base = input_ ? *input_ : Value::empty_object();
      owned_inputs.push_back(
          upsert(base, std::span<const std::string>(path).subspan(1), vals[i]));
      input_ = &owned_inputs.back();
    } else if (path[0] == "data") {
      std::vector<std::string> p(path.begin() + 1, path.end());
      const Node* n = prog_.find(p);
      if (n && n->is_function()) {
        mocks_.push_back({target, e.withs[i].value.get(), "", nullptr, nullptr, vals[i]});
      } else {
        data_overrides_.push_back({std::move(p), vals[i]});
      }
    } else {
      mocks_.push_back({target, e.withs[i].value.get(), "", nullptr, nullptr, vals[i]});
    }
  }
  for (size_t i = saved_mocks; i < mocks_.size(); ++i) {
    const Term* r = mocks_[i].replacement;
    if (r->kind != TermKind::kCall) {
      mocks_[i].node = r->fn_node;
      mocks_[i].builtin = r->builtin;
    }
  }
  // The modifiers apply to this expression only: the continuation runs in the outer
  // context (swap the states around it).
  std::vector<DataOverride> outer_overrides(data_overrides_.begin(),
                                            data_overrides_.begin() + static_cast<long>(saved_overrides));
  std::vector<FnMock> outer_mocks(mocks_.begin(), mocks_.begin() + static_cast<long>(saved_mocks));
  const Value* outer_input = saved_input;
  auto swap_state = [&]() {
    std::swap(input_, outer_input);
    std::swap(data_overrides_, outer_overrides);
    std::swap(mocks_, outer_mocks);
    std::swap(cache_, saved_cache);
  };
  st = expr_no_with(e, f, [&]() -> base::Status {
    swap_state();
    base::Status s2 = k();
    swap_state();
    return s2;
  });
  input_ = saved_input;
  data_overrides_.resize(saved_overrides);
  mocks_.resize(saved_mocks);
  input_stack_.resize(saved_inputs);
  cache_ = std::move(saved_cache);
  return st;
}

// --- expressions --------------------------------------------------------------------------

base::Status Evaluator::expr_no_with(const Expr& e, Frame& f, const Cont& k) {
  switch (e.kind) {
    case ExprKind::kSome: {
      // Fresh vars: unbind (they are unbound unless a loop re-enters).
      return k();
    }
    case ExprKind::kTerm: {
      const Term& t = *e.term;
      if (t.kind == TermKind::kCall && (t.op == CallOp::kEq || t.op == CallOp::kAssign)) {
        return unify(*t.items[1], *t.items[2], f, k);
      }
      return term(t, f, [&](const Value& v) -> base::Status {
        if (v.is_boolean() && !v.as_bool()) return base::Status::ok();
        return k();
      });
    }
    case ExprKind::kNot: {
      bool found = false;
      base::Status st = eval_body(*e.body, f, [&]() -> base::Status {
        found = true;
        return halt();
      });
      if (!st.is_ok() && !is_halt(st)) return st;
      if (found) return base::Status::ok();
      return k();
    }
    case ExprKind::kSomeIn:
      return term(*e.domain, f, [&](const Value& dom) -> base::Status {
        auto each = [&](const Value& key, const Value& val) -> base::Status {
          if (e.key) {
            return unify_value(*e.key, key, f, [&]() { return unify_value(*e.val, val, f, k); });
          }
          return unify_value(*e.val, val, f, k);
        };
        if (dom.is_array()) {
          auto items = dom.array_items();
          for (size_t i = 0; i < items.size(); ++i) {
            EC_RETURN_IF_ERROR(each(Value::integer(static_cast<int64_t>(i)), items[i]));
          }
        } else if (dom.is_set()) {
          for (const Value& v : dom.set_items()) EC_RETURN_IF_ERROR(each(v, v));
        } else if (dom.is_object()) {
          for (const auto& [key, v] : dom.object_items()) EC_RETURN_IF_ERROR(each(key, v));
        }
        return base::Status::ok();
      });
    case ExprKind::kEvery:
      return term(*e.domain, f, [&](const Value& dom) -> base::Status {
        bool all = true;
        auto each = [&](const Value& key, const Value& val) -> base::Status {
          bool ok = false;
          auto run = [&]() -> base::Status {
            base::Status st = eval_body(*e.body, f, [&]() -> base::Status {
              ok = true;
              return halt();
            });
            if (!st.is_ok() && !is_halt(st)) return st;
            return base::Status::ok();
          };
          base::Status st;
          if (e.key) {
            st = unify_value(*e.key, key, f, [&]() { return unify_value(*e.val, val, f, run); });
          } else {
            st = unify_value(*e.val, val, f, run);
          }
          EC_RETURN_IF_ERROR(st);
          if (!ok) {
            all = false;
            return halt();
          }
          return base::Status::ok();
        };
        base::Status st;
        if (dom.is_array()) {
          auto items = dom.array_items();
          for (size_t i = 0; i < items.size() && st.is_ok(); ++i) {
            st = each(Value::integer(static_cast<int64_t>(i)), items[i]);
          }
        } else if (dom.is_set()) {
          for (const Value& v : dom.set_items()) {
            st = each(v, v);
            if (!st.is_ok()) break;
          }
        } else if (dom.is_object()) {
          for (const auto& [key, v] : dom.object_items()) {
            st = each(key, v);
            if (!st.is_ok()) break;
          }
        } else {
          return base::Status::ok();  // not a collection: undefined
        }
        if (!st.is_ok() && !is_halt(st)) return st;
        if (!all) return base::Status::ok();
        return k();
      });
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      // Operands are tests: each succeeds at most once and its bindings do not escape.
      auto holds = [&](const Body& b, bool& out) -> base::Status {
        out = false;
        base::Status st = eval_body(b, f, [&]() -> base::Status {
          out = true;
          return halt();
        });
        if (!st.is_ok() && !is_halt(st)) return st;
        return base::Status::ok();
      };
      bool l = false, r = false;
      EC_RETURN_IF_ERROR(holds(*e.body, l));
      if (e.kind == ExprKind::kAnd) {
        if (!l) return base::Status::ok();
        EC_RETURN_IF_ERROR(holds(*e.rhs, r));
        return r ? k() : base::Status::ok();
      }
      if (l) return k();
      EC_RETURN_IF_ERROR(holds(*e.rhs, r));
      return r ? k() : base::Status::ok();
    }
  }
  return base::Status::ok();
}

// --- terms --------------------------------------------------------------------------------

bool Evaluator::is_pattern(const Term& t, const Frame& f) const {
  switch (t.kind) {
    case TermKind::kVar: return t.slot >= 0 && !f.bound[static_cast<size_t>(t.slot)];
    case TermKind::kArray:
      for (const auto& i : t.items) {
        if (is_pattern(*i, f)) return true;
      }
      return false;
    case TermKind::kObject:
      for (const auto& [key, v] : t.pairs) {
        if (is_pattern(*v, f)) return true;
      }
      return false;
    default: return false;
  }
}

base::Status Evaluator::terms(const std::vector<TermPtr>& ts, size_t i, std::vector<Value>& out,
                              Frame& f, const Cont& k) {
  if (i == ts.size()) return k();
  return term(*ts[i], f, [&](const Value& v) -> base::Status {
    out.push_back(v);
    base::Status st = terms(ts, i + 1, out, f, k);
    out.pop_back();
    return st;
  });
}

base::Status Evaluator::term(const Term& t, Frame& f, const ValCont& k) {
  if (t.kind == TermKind::kRef || t.kind == TermKind::kCall) {
    const Value* v = nullptr;
    Value scratch;
    base::Status err;
    Fast r = fast(t, f, v, scratch, err);
    if (!err.is_ok()) return err;
    if (r == Fast::kValue) return k(*v);
    if (r == Fast::kUndefined) return base::Status::ok();
  }
  switch (t.kind) {
    case TermKind::kScalar: return k(t.value);
    case TermKind::kVar:
      if (t.slot == kSlotInput) {
        if (!input_) return base::Status::ok();
        return k(*input_);
      }
      if (t.slot == kSlotData) {
        std::vector<std::string> path;
        EC_ASSIGN_OR_RETURN(auto v, full_value(prog_.root.get(), &prog_.base_data, path));
        if (!v) return base::Status::ok();
        return k(*v);
      }
      if (t.slot < 0 || !f.bound[static_cast<size_t>(t.slot)]) {
        return error_at(t.loc, "rego_unsafe_var_error", "var " + t.name + " is unsafe");
      }
      return k(f.slots[static_cast<size_t>(t.slot)]);
    case TermKind::kRef: return ref(t, f, k);
    case TermKind::kArray:
    case TermKind::kSet: {
      std::vector<Value> out;
      out.reserve(t.items.size());
      return terms(t.items, 0, out, f, [&]() -> base::Status {
        return k(t.kind == TermKind::kArray ? Value::array(out) : Value::set(out));
      });
    }
    case TermKind::kObject: {
      std::vector<TermPtr> flat;
      for (const auto& [key, v] : t.pairs) {
        flat.push_back(key);
        flat.push_back(v);
      }
      std::vector<Value> out;
      return terms(flat, 0, out, f, [&]() -> base::Status {
        std::vector<ObjectItem> items;
        for (size_t i = 0; i < out.size(); i += 2) items.emplace_back(out[i], out[i + 1]);
        return k(Value::object(std::move(items)));
      });
    }
    case TermKind::kArrayCompr:
    case TermKind::kSetCompr:
    case TermKind::kObjectCompr: return comprehension(t, f, k);
    case TermKind::kCall: return call(t, f, k);
    case TermKind::kTemplate: return template_string(t, f, k);
  }
  return base::Status::ok();
}

base::Status Evaluator::comprehension(const Term& t, Frame& f, const ValCont& k) {
  std::vector<Value> items;
  std::vector<ObjectItem> pairs;
  base::Status conflict;
  base::Status st = eval_body(*t.body, f, [&]() -> base::Status {
    if (t.kind == TermKind::kObjectCompr) {
      return term(*t.key, f, [&](const Value& key) -> base::Status {
        return term(*t.head, f, [&](const Value& v) -> base::Status {
          for (const auto& [pk, pv] : pairs) {
            if (pk == key && !(pv == v)) {
              return error_at(t.loc, "eval_conflict_error", "object keys must be unique");
            }
          }
          pairs.emplace_back(key, v);
          return base::Status::ok();
        });
      });
    }
    return term(*t.head, f, [&](const Value& v) -> base::Status {
      items.push_back(v);
      return base::Status::ok();
    });
  });
  EC_RETURN_IF_ERROR(st);
  switch (t.kind) {
    case TermKind::kArrayCompr: return k(Value::array(std::move(items)));
    case TermKind::kSetCompr: return k(Value::set(std::move(items)));
    default: return k(Value::object(std::move(pairs)));
  }
}

base::Status Evaluator::template_string(const Term& t, Frame& f, const ValCont& k) {
  std::string out;
  for (size_t i = 0; i < t.items.size(); ++i) {
    const Term& part = *t.items[i];
    if (i % 2 == 0) {
      out += part.value.as_string();
      continue;
    }
    std::vector<Value> vals;
    EC_RETURN_IF_ERROR(term(part, f, [&](const Value& v) -> base::Status {
      if (part.template_unwrap) {
        for (const Value& x : v.array_items()) vals.push_back(x);
      } else {
        vals.push_back(v);
      }
      return base::Status::ok();
    }));
    if (vals.size() > 1 && part.template_unwrap) {
      std::sort(vals.begin(), vals.end());
      vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
    }
    if (vals.empty()) {
      out += "<undefined>";
    } else if (vals.size() > 1) {
      return error_at(part.loc, "eval_conflict_error",
                      "template expression produced multiple outputs");
    } else if (vals[0].is_string()) {
      out += vals[0].as_string();
    } else {
      out += vals[0].to_rego();
    }
  }
  return k(Value::string(std::move(out)));
}

// --- unification --------------------------------------------------------------------------

base::Status Evaluator::unify(const Term& a, const Term& b, Frame& f, const Cont& k) {
  bool pa = is_pattern(a, f), pb = is_pattern(b, f);
  if (pa && pb && a.kind == TermKind::kArray && b.kind == TermKind::kArray) {
    if (a.items.size() != b.items.size()) return base::Status::ok();
    std::function<base::Status(size_t)> go = [&](size_t i) -> base::Status {
      if (i == a.items.size()) return k();
      return unify(*a.items[i], *b.items[i], f, [&]() { return go(i + 1); });
    };
    return go(0);
  }
  if (pa && pb && a.kind == TermKind::kVar && b.kind != TermKind::kVar) {
    // e.g. x = [y, 1]: cannot bind either; unsafe.
    return error_at(a.loc, "rego_unsafe_var_error", "var " + a.name + " is unsafe");
  }
  if (pa && !pb) return term(b, f, [&](const Value& v) { return unify_value(a, v, f, k); });
  if (pa && pb) {
    return error_at(a.loc, "rego_unsafe_var_error",
                    "var " + (a.kind == TermKind::kVar ? a.name : b.name) + " is unsafe");
  }
  return term(a, f, [&](const Value& v) { return unify_value(b, v, f, k); });
}

base::Status Evaluator::unify_value(const Term& pat, const Value& v, Frame& f, const Cont& k) {
  switch (pat.kind) {
    case TermKind::kVar: {
      if (pat.slot < 0) {
        return term(pat, f, [&](const Value& x) -> base::Status {
          return x == v ? k() : base::Status::ok();
        });
      }
      size_t s = static_cast<size_t>(pat.slot);
      if (f.bound[s]) return f.slots[s] == v ? k() : base::Status::ok();
      f.slots[s] = v;
      f.bound[s] = 1;
      base::Status st = k();
      f.bound[s] = 0;
      f.slots[s] = Value();
      return st;
    }
    case TermKind::kArray: {
      if (!is_pattern(pat, f)) break;
      if (!v.is_array() || v.size() != pat.items.size()) return base::Status::ok();
      std::function<base::Status(size_t)> go = [&](size_t i) -> base::Status {
        if (i == pat.items.size()) return k();
        return unify_value(*pat.items[i], v.array_items()[i], f, [&]() { return go(i + 1); });
      };
      return go(0);
    }
    case TermKind::kObject: {
      if (!is_pattern(pat, f)) break;
      if (!v.is_object() || v.size() != pat.pairs.size()) return base::Status::ok();
      std::function<base::Status(size_t)> go = [&](size_t i) -> base::Status {
        if (i == pat.pairs.size()) return k();
        return term(*pat.pairs[i].first, f, [&](const Value& key) -> base::Status {
          const Value* x = v.find(key);
          if (!x) return base::Status::ok();
          return unify_value(*pat.pairs[i].second, *x, f, [&]() { return go(i + 1); });
        });
      };
      return go(0);
    }
    default: break;
  }
  return term(pat, f, [&](const Value& x) -> base::Status {
    return x == v ? k() : base::Status::ok();
  });
}

// --- refs ---------------------------------------------------------------------------------

base::Status Evaluator::ref(const Term& r, Frame& f, const ValCont& k) {
  const Term& head = *r.items[0];
  if (head.kind == TermKind::kVar && head.slot == kSlotData) {
    std::vector<std::string> path;
    return walk_data(prog_.root.get(), &prog_.base_data, path, r, 1, f, k);
  }
  if (head.kind == TermKind::kVar && head.slot == kSlotInput) {
    if (!input_) return base::Status::ok();
    return walk(*input_, r, 1, f, k);
  }
  return term(head, f, [&](const Value& v) { return walk(v, r, 1, f, k); });
}

base::Status Evaluator::walk(const Value& v, const Term& r, size_t i, Frame& f,
                             const ValCont& k) {
  if (i == r.items.size()) return k(v);
  const Term& op = *r.items[i];
  if (is_pattern(op, f)) {
    auto each = [&](const Value& key, const Value& child) -> base::Status {
      return unify_value(op, key, f, [&]() { return walk(child, r, i + 1, f, k); });
    };
    if (v.is_array()) {
      auto items = v.array_items();
      for (size_t j = 0; j < items.size(); ++j) {
        EC_RETURN_IF_ERROR(each(Value::integer(static_cast<int64_t>(j)), items[j]));
      }
    } else if (v.is_object()) {
      for (const auto& [key, child] : v.object_items()) EC_RETURN_IF_ERROR(each(key, child));
    } else if (v.is_set()) {
      for (const Value& m : v.set_items()) EC_RETURN_IF_ERROR(each(m, m));
    }
    return base::Status::ok();
  }
  if (op.kind == TermKind::kScalar) {
    const Value* child = v.get(op.value);
    if (!child) return base::Status::ok();
    return walk(*child, r, i + 1, f, k);
  }
  return term(op, f, [&](const Value& key) -> base::Status {
    const Value* child = v.get(key);
    if (!child) return base::Status::ok();
    return walk(*child, r, i + 1, f, k);
  });
}

base::Status Evaluator::walk_data(const Node* node, const Value* base,
                                  std::vector<std::string>& path, const Term& r, size_t i,
                                  Frame& f, const ValCont& k) {
  if (!data_overrides_.empty()) {
    std::optional<Value> o;
    if (override_at(path, o)) {
      if (!o) return base::Status::ok();
      return walk(*o, r, i, f, k);
    }
    if ((!node || node->has_rules()) && override_below(path)) {
      EC_ASSIGN_OR_RETURN(auto v, full_value(node, base, path));
      return walk(v ? *v : apply_overrides(path, Value::empty_object()), r, i, f, k);
    }
  }
  if (node && node->has_rules() && !base) {
    EC_ASSIGN_OR_RETURN(auto v, node_value(node));
    if (!v) return base::Status::ok();
    return walk(*v, r, i, f, k);
  }
  if (!node || node->has_rules()) {
    if (!base) return base::Status::ok();
    return walk(apply_overrides(path, *base), r, i, f, k);
  }
  if (i == r.items.size()) {
    EC_ASSIGN_OR_RETURN(auto v, full_value(node, base, path));
    if (!v) return base::Status::ok();
    return k(*v);
  }
  const Term& op = *r.items[i];
  auto step_into = [&](const Value& key) -> base::Status {
    const Node* child = nullptr;
    if (key.is_string()) {
      auto it = node->children.find(key.as_string());
      if (it != node->children.end()) child = it->second.get();
    }
    const Value* b = base ? base->get(key) : nullptr;
    if (!child && !b && data_overrides_.empty()) return base::Status::ok();
    if (!key.is_string()) {
      if (!b) return base::Status::ok();
      return walk(*b, r, i + 1, f, k);
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
    return error_at(node->rules.empty() ? Location{} : node->rules[0]->loc,
                    "rego_recursion_error", "rule data." + node->path.back() + " is recursive");
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
  RuleKind node_kind = node->rules.empty() ? node->default_rule->kind : node->rules[0]->kind;
  for (const auto& rp : node->rules) {
    if (rp->kind == RuleKind::kComplete) node_kind = RuleKind::kComplete;
  }
  std::optional<Value> result;
  std::vector<Value> set_items;
  ObjTree tree;
  bool any = false;
  for (const auto& rp : node->rules) {
    for (const Rule* r = rp.get(); r; r = r->else_rule.get()) {
      file_ = &r->file;
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
                  if (t->leaf) members.assign(t->leaf->set_items().begin(), t->leaf->set_items().end());
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
        return st;
      }
      if (produced) {
        any = true;
        break;  // else branches only when this one produced nothing
      }
    }
  }
  file_ = saved_file;
  switch (node_kind) {
    case RuleKind::kPartialSet: return std::optional<Value>(Value::set(std::move(set_items)));
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
