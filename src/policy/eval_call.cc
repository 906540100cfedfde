// Evaluator: function calls (builtins, user functions, mocks, special operators).
#include "policy/eval.h"

namespace policy {

namespace {

bool member(const Value& x, const Value& coll) {
  if (coll.is_set()) return coll.contains(x);
  if (coll.is_array()) {
    for (const Value& v : coll.array_items()) {
      if (v == x) return true;
    }
    return false;
  }
  if (coll.is_object()) {
    for (const auto& [k, v] : coll.object_items()) {
      if (v == x) return true;
    }
  }
  return false;
}

void walk_paths(const Value& v, std::vector<Value>& path, std::vector<Value>& out) {
  out.push_back(Value::array({Value::array(path), v}));
  if (v.is_array()) {
    auto items = v.array_items();
    for (size_t i = 0; i < items.size(); ++i) {
      path.push_back(Value::integer(static_cast<int64_t>(i)));
      walk_paths(items[i], path, out);
      path.pop_back();
    }
  } else if (v.is_object()) {
    for (const auto& [k, c] : v.object_items()) {
      path.push_back(k);
      walk_paths(c, path, out);
      path.pop_back();
    }
  } else if (v.is_set()) {
    for (const Value& m : v.set_items()) {
      path.push_back(m);
      walk_paths(m, path, out);
      path.pop_back();
    }
  }
}

}  // namespace

base::Status Evaluator::call(const Term& t, Frame& f, const ValCont& k) {
  EC_RETURN_IF_ERROR(step());
  const std::string& name = t.fn_name;
  size_t nargs = t.items.size() - 1;
  if (t.op == CallOp::kEq || t.op == CallOp::kAssign) {
    return unify(*t.items[1], *t.items[2], f, [&]() { return k(Value::boolean(true)); });
  }
  if (t.op == CallOp::kPrint) {
    std::string line;
    for (size_t i = 1; i < t.items.size(); ++i) {
      std::vector<Value> vals;
      EC_RETURN_IF_ERROR(term(*t.items[i], f, [&](const Value& v) {
        vals.push_back(v);
        return base::Status::ok();
      }));
      if (i > 1) line += " ";
      if (vals.empty()) {
        line += "<undefined>";
      } else if (vals[0].is_string()) {
        line += vals[0].as_string();
      } else {
        line += vals[0].to_rego();
      }
    }
    if (ctx_.print) ctx_.print(line);
    return k(Value::boolean(true));
  }
  if (t.op == CallOp::kMetaRule) {
    return k(rule_ && rule_->annotations.is_object() ? rule_->annotations : Value::empty_object());
  }
  if (t.op == CallOp::kMetaChain) {
    // OPA's chain: the rule itself (with its rule-scoped annotations), then document-scoped
    // annotations of any rule at the same path, then the package's and its ancestors'
    // (package scope on the rule's package, subpackages scope on it and its ancestors).
    std::vector<Value> chain;
    if (rule_) {
      auto path_value = [](const std::vector<std::string>& p) {
        std::vector<Value> out;
        for (const auto& seg : p) out.push_back(Value::string(seg));
        return Value::array(std::move(out));
      };
      auto scope_of = [](const Value& a) {
        const Value* s = a.is_object() ? a.find("scope") : nullptr;
        return s != nullptr && s->is_string() ? s->as_string() : std::string();
      };
      std::vector<ObjectItem> entry = {{Value::string("path"), path_value(rule_->path)}};
      if (scope_of(rule_->annotations) == "rule") {
        entry.emplace_back(Value::string("annotations"), rule_->annotations);
      }
      chain.push_back(Value::object(std::move(entry)));
      if (const Node* node = prog_.find(rule_->path)) {
        std::vector<RulePtr> rules = node->rules;
        if (node->default_rule) rules.push_back(node->default_rule);
        for (const RulePtr& r : rules) {
          if (scope_of(r->annotations) != "document") continue;
          chain.push_back(Value::object({{Value::string("annotations"), r->annotations},
                                         {Value::string("path"), path_value(rule_->path)}}));
          break;
        }
      }
      const ModuleAst* own = nullptr;
      for (const ModuleAst& m : prog_.modules) {
        if (m.file == rule_->file) own = &m;
      }
      if (own != nullptr) {
        std::vector<std::string> pkg = own->package;
        for (bool first = true;; first = false) {
          for (const ModuleAst& m : prog_.modules) {
            if (m.package != pkg || !m.package_annotations.is_object()) continue;
            std::string scope = scope_of(m.package_annotations);
            if ((first && scope == "package") || scope == "subpackages") {
              chain.push_back(Value::object({{Value::string("annotations"), m.package_annotations},
                                             {Value::string("path"), path_value(pkg)}}));
              break;
            }
          }
          if (pkg.empty()) break;
          pkg.pop_back();
        }
      }
    }
    return k(Value::array(std::move(chain)));
  }
  if (t.op == CallOp::kWalk) {
    return term(*t.items[1], f, [&](const Value& v) -> base::Status {
      std::vector<Value> path, pairs;
      walk_paths(v, path, pairs);
      for (const Value& p : pairs) {
        if (nargs == 1) {
          EC_RETURN_IF_ERROR(k(p));
          continue;
        }
        EC_RETURN_IF_ERROR(
            unify_value(*t.items[2], p, f, [&]() { return k(Value::boolean(true)); }));
      }
      return base::Status::ok();
    });
  }
  if (t.op == CallOp::kMember3) {
    // k, v in coll
    return term(*t.items[3], f, [&](const Value& coll) -> base::Status {
      auto check = [&](const Value& key, const Value& val) -> base::Status {
        return unify_value(*t.items[1], key, f, [&]() {
          return unify_value(*t.items[2], val, f, [&]() { return k(Value::boolean(true)); });
        });
      };
      bool found = false;
      auto once = [&](const Value& key, const Value& val) -> base::Status {
        // `k, v in xs` with ground k, v is a membership test (true or false).
        return check(key, val);
      };
      if (!is_pattern(*t.items[1], f) && !is_pattern(*t.items[2], f)) {
        std::optional<Value> kv, vv;
        EC_RETURN_IF_ERROR(term(*t.items[1], f, [&](const Value& v) {
          kv = v;
          return base::Status::ok();
        }));
        EC_RETURN_IF_ERROR(term(*t.items[2], f, [&](const Value& v) {
          vv = v;
          return base::Status::ok();
        }));
        if (!kv || !vv) return base::Status::ok();
        const Value* got = coll.is_set() ? (coll.contains(*kv) ? &*kv : nullptr) : coll.get(*kv);
        found = got && *got == *vv;
        return k(Value::boolean(found));
      }
      if (coll.is_array()) {
        auto items = coll.array_items();
        for (size_t i = 0; i < items.size(); ++i) {
          EC_RETURN_IF_ERROR(once(Value::integer(static_cast<int64_t>(i)), items[i]));
        }
      } else if (coll.is_object()) {
        for (const auto& [key, v] : coll.object_items()) EC_RETURN_IF_ERROR(once(key, v));
      } else if (coll.is_set()) {
        for (const Value& v : coll.set_items()) EC_RETURN_IF_ERROR(once(v, v));
      }
      return base::Status::ok();
    });
  }
  if (t.op == CallOp::kMember2) {
    if (is_pattern(*t.items[1], f)) {
      return term(*t.items[2], f, [&](const Value& coll) -> base::Status {
        for (const Value& v : coll.is_object() ? std::vector<Value>()
                                               : std::vector<Value>(coll.elements().begin(),
                                                                    coll.elements().end())) {
          EC_RETURN_IF_ERROR(
              unify_value(*t.items[1], v, f, [&]() { return k(Value::boolean(true)); }));
        }
        if (coll.is_object()) {
          for (const auto& [key, v] : coll.object_items()) {
            EC_RETURN_IF_ERROR(
                unify_value(*t.items[1], v, f, [&]() { return k(Value::boolean(true)); }));
          }
        }
        return base::Status::ok();
      });
    }
  }
  // Evaluate the arguments (all but an output operand).
  size_t want = nargs;
  const Node* fn = t.fn_node;
  const Builtin* b = t.builtin;
  FnMock* mock = nullptr;
  for (auto it = mocks_.rbegin(); it != mocks_.rend(); ++it) {
    if (it->name == name && it->active) {
      mock = &*it;
      break;
    }
  }
  std::string mock_name = mock ? mock->name : std::string();
  if (mock) {
    if (mock->node) {
      fn = mock->node;
      b = nullptr;
    } else if (mock->builtin) {
      b = mock->builtin;
      fn = nullptr;
    }
  }
  size_t arity = nargs;
  if (fn && !fn->rules.empty())
    arity = fn->rules[0]->args.size();
  else if (b)
    arity = static_cast<size_t>(b->arity);
  else if (t.op == CallOp::kMember2)
    arity = 2;
  bool has_out = nargs == arity + 1;
  if (!has_out && nargs != arity) {
    return error_at(t.loc, "rego_type_error",
                    name + ": arity mismatch: expected " + std::to_string(arity) +
                        " arguments, got " + std::to_string(nargs));
  }
  want = arity;
  std::vector<TermPtr> arg_terms(t.items.begin() + 1,
                                 t.items.begin() + 1 + static_cast<long>(want));
  // Plain unbound vars are evaluated last: another argument may bind them
  // (e.g. `foo == input.foos[foo]`).
  std::vector<size_t> order;
  for (size_t i = 0; i < want; ++i) {
    if (!is_pattern(*arg_terms[i], f)) order.push_back(i);
  }
  for (size_t i = 0; i < want; ++i) {
    if (is_pattern(*arg_terms[i], f)) order.push_back(i);
  }
  std::vector<Value> args(want);
  std::function<base::Status(size_t, const Cont&)> eval_args =
      [&](size_t j, const Cont& done) -> base::Status {
    if (j == order.size()) return done();
    return term(*arg_terms[order[j]], f, [&](const Value& v) -> base::Status {
      args[order[j]] = v;
      return eval_args(j + 1, done);
    });
  };
  return eval_args(0, [&]() -> base::Status {
    std::optional<Value> out;
    if (mock && !mock->node && !mock->builtin) {
      // Value replacement: the mock's value is the result.
      out = mock->value;
    } else if (t.op == CallOp::kMember2 && !b) {
      out = Value::boolean(member(args[0], args[1]));
    } else if (fn && mock) {
      // The replacement runs without mocks (it may call the original, and never another
      // mock).
      std::vector<FnMock> saved_mocks;
      std::swap(saved_mocks, mocks_);
      auto saved_cache = std::move(cache_);
      cache_.clear();
      base::Status cs = call_function(fn, args, out, t.loc);
      std::swap(saved_mocks, mocks_);
      cache_ = std::move(saved_cache);
      EC_RETURN_IF_ERROR(cs);
    } else if (fn) {
      EC_RETURN_IF_ERROR(call_function(fn, args, out, t.loc));
    } else if (b) {
      auto r = b->fn(ctx_, args);
      if (!r.is_ok()) {
        base::Status s = r.status();
        if ((is_builtin_error(s) || is_type_error(s)) && !limits_.strict_builtin_errors)
          return base::Status::ok();
        std::string code(s.reason());
        if (code != kTypeError && code != kBuiltinError) code = std::string(kBuiltinError);
        return error_at(t.loc, code, s.message());
      }
      out = std::move(r).value();
    } else {
      return error_at(t.loc, "rego_type_error", "undefined function " + name);
    }
    if (!out) return base::Status::ok();
    if (has_out) {
      return unify_value(*t.items.back(), *out, f, [&]() { return k(Value::boolean(true)); });
    }
    return k(*out);
  });
}

base::Status Evaluator::call_function(const Node* node, std::span<const Value> args,
                                      std::optional<Value>& out, Location loc) {
  if (++depth_ > limits_.max_depth) {
    --depth_;
    return error_at(loc, "rego_recursion_error", "function call too deep");
  }
  const std::string* saved_file = file_;
  const Rule* saved_rule = rule_;
  base::Status result;
  BodySet candidates(node->index ? node->index->num_words : 0);
  const bool indexed = candidate_bodies(node, args, candidates);
  size_t body_no = 0;
  for (const auto& rp : node->rules) {
    size_t b = body_no;
    for (const Rule* r = rp.get(); r; r = r->else_rule.get()) ++body_no;
    for (const Rule* r = rp.get(); r; r = r->else_rule.get()) {
      if (indexed && !candidates.test(b++)) continue;
      file_ = &r->file;
      rule_ = r;
      Frame f(r->num_slots);
      bool produced = false;
      std::function<base::Status(size_t)> bind = [&](size_t i) -> base::Status {
        if (i == r->args.size()) {
          return eval_body(r->body, f, [&]() -> base::Status {
            auto emit = [&](const Value& v) -> base::Status {
              produced = true;
              if (out && !(*out == v)) {
                return error_at(r->loc, "eval_conflict_error",
                                "functions must not produce multiple outputs for same inputs");
              }
              out = v;
              return base::Status::ok();
            };
            if (!r->value) return emit(Value::boolean(true));
            return term(*r->value, f, emit);
          });
        }
        return unify_value(*r->args[i], args[i], f, [&]() { return bind(i + 1); });
      };
      result = bind(0);
      if (!result.is_ok()) break;
      if (produced) break;
    }
    if (!result.is_ok()) break;
  }
  file_ = saved_file;
  rule_ = saved_rule;
  --depth_;
  if (!result.is_ok()) return result;
  if (!out && node->default_rule && node->default_rule->value) {
    out = node->default_rule->value->value;
  }
  return base::Status::ok();
}

}  // namespace policy
