// Evaluator: `with` modifiers (input and data overrides, function mocks).
#include <algorithm>

#include "policy/eval.h"

namespace policy {

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


}  // namespace policy
