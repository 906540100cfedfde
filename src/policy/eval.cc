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
    return base::Status(base::Code::kResourceExhausted,
                        "eval_cancel_error: evaluation budget exceeded", "eval_cancel_error");
  }
  return base::Status::ok();
}

base::Status Evaluator::error_at(Location loc, std::string_view code, std::string msg) {
  // OPA's evaluation errors name the file and row only ("policy.rego:4: eval_type_error: ...").
  std::string m = file_ ? *file_ : std::string("query");
  m += ":" + std::to_string(loc.line) + ": ";
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
    case TermKind::kVar:
      return t.slot >= 0 && !f.bound[static_cast<size_t>(t.slot)];
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
    default:
      return false;
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
    case TermKind::kScalar:
      return k(t.value);
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
    case TermKind::kRef:
      return ref(t, f, k);
    case TermKind::kArray:
    case TermKind::kSet: {
      if (t.ground) return k(t.value);  // folded at compile time (fold_ground_terms)
      std::vector<Value> out;
      out.reserve(t.items.size());
      return terms(t.items, 0, out, f, [&]() -> base::Status {
        return k(t.kind == TermKind::kArray ? Value::array(out) : Value::set(out));
      });
    }
    case TermKind::kObject: {
      if (t.ground) return k(t.value);
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
    case TermKind::kObjectCompr:
      return comprehension(t, f, k);
    case TermKind::kCall:
      return call(t, f, k);
    case TermKind::kTemplate:
      return template_string(t, f, k);
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
    case TermKind::kArrayCompr:
      return k(Value::array(std::move(items)));
    case TermKind::kSetCompr:
      return k(Value::set(std::move(items)));
    default:
      return k(Value::object(std::move(pairs)));
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
  if (pa && pb && a.kind == TermKind::kObject && b.kind == TermKind::kObject) {
    // {"x": x, "y": 2} = {"x": 1, "y": y}: keys are ground; values unify pairwise by key.
    if (a.pairs.size() != b.pairs.size()) return base::Status::ok();
    size_t n = a.pairs.size();
    std::vector<Value> keys_a(n), keys_b(n);
    std::function<base::Status(size_t)> match = [&](size_t i) -> base::Status {
      if (i == n) return k();
      size_t j = 0;
      while (j < n && !(keys_b[j] == keys_a[i])) ++j;
      if (j == n) return base::Status::ok();
      return unify(*a.pairs[i].second, *b.pairs[j].second, f, [&]() { return match(i + 1); });
    };
    std::function<base::Status(size_t)> eval_keys = [&](size_t i) -> base::Status {
      if (i == 2 * n) return match(0);
      const Term& key = i < n ? *a.pairs[i].first : *b.pairs[i - n].first;
      return term(key, f, [&](const Value& v) -> base::Status {
        (i < n ? keys_a[i] : keys_b[i - n]) = v;
        return eval_keys(i + 1);
      });
    };
    return eval_keys(0);
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
    default:
      break;
  }
  return term(pat, f,
              [&](const Value& x) -> base::Status { return x == v ? k() : base::Status::ok(); });
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

base::Status Evaluator::walk(const Value& v, const Term& r, size_t i, Frame& f, const ValCont& k,
                             bool in_data) {
  if (i == r.items.size()) return k(v);
  const Term& op = *r.items[i];
  if (is_pattern(op, f)) {
    auto each = [&](const Value& key, const Value& child) -> base::Status {
      return unify_value(op, key, f, [&]() { return walk(child, r, i + 1, f, k, in_data); });
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
  auto step = [&](const Value& key) -> base::Status {
    const Value* child = v.get(key);
    if (!child && in_data && key.is_int() && v.is_object()) {
      child = v.get(Value::string(number_to_string(key)));
    }
    if (!child) return base::Status::ok();
    return walk(*child, r, i + 1, f, k, in_data);
  };
  if (op.kind == TermKind::kScalar) return step(op.value);
  return term(op, f, step);
}

}  // namespace policy
