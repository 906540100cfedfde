// object.* builtins: get, keys, remove, filter, union, union_n, subset.
#include <algorithm>
#include <string>
#include <vector>

#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

BuiltinResult get(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("object.get", args, 1, Type::kObject));
  const Value& obj = args[0];
  const Value& key = args[1];
  if (!key.is_array()) {
    const Value* v = obj.find(key);
    return ok(v ? *v : args[2]);
  }
  // A path: walk objects, arrays (integer index) and sets.
  const Value* cur = &obj;
  for (const Value& k : key.array_items()) {
    if (!cur->is_collection()) return ok(args[2]);
    cur = cur->get(k);
    if (cur == nullptr) return ok(args[2]);
  }
  return ok(*cur);
}

BuiltinResult keys(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("object.keys", args, 1, Type::kObject));
  std::vector<Value> out;
  for (const auto& [k, v] : args[0].object_items()) out.push_back(k);
  return ok(Value::set_sorted(std::move(out)));
}

// The keys named by an array, set or object (its keys) operand.
base::Result<std::vector<Value>> key_list(std::string_view name, Args args, int pos) {
  const Value& v = args[static_cast<size_t>(pos - 1)];
  if (!v.is_array() && !v.is_set() && !v.is_object()) {
    // OPA lists these three in this order (not sorted).
    return operand_error(name, pos, "one of {object, set, array}", v);
  }
  std::vector<Value> out;
  if (v.is_object()) {
    for (const auto& [k, val] : v.object_items()) out.push_back(k);
  } else {
    for (const Value& e : v.elements()) out.push_back(e);
  }
  std::sort(out.begin(), out.end());
  return out;
}

template <bool Keep>
BuiltinResult select(BuiltinContext&, Args args) {
  std::string_view name = Keep ? "object.filter" : "object.remove";
  EC_RETURN_IF_ERROR(check_type(name, args, 1, Type::kObject));
  EC_ASSIGN_OR_RETURN(std::vector<Value> ks, key_list(name, args, 2));
  std::vector<ObjectItem> out;
  for (const auto& item : args[0].object_items()) {
    bool listed = std::binary_search(ks.begin(), ks.end(), item.first);
    if (listed == Keep) out.push_back(item);
  }
  return ok(Value::object_sorted(std::move(out)));
}

// Deep merge: where both sides hold objects they merge, otherwise `b` wins.
Value merge(const Value& a, const Value& b) {
  if (!a.is_object() || !b.is_object()) return b;
  std::vector<ObjectItem> out;
  auto x = a.object_items(), y = b.object_items();
  size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    if (j >= y.size() || (i < x.size() && x[i].first < y[j].first)) {
      out.push_back(x[i++]);
    } else if (i >= x.size() || y[j].first < x[i].first) {
      out.push_back(y[j++]);
    } else {
      out.emplace_back(x[i].first, merge(x[i].second, y[j].second));
      ++i, ++j;
    }
  }
  return Value::object_sorted(std::move(out));
}

BuiltinResult union_(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("object.union", args, 1, Type::kObject));
  EC_RETURN_IF_ERROR(check_type("object.union", args, 2, Type::kObject));
  return ok(merge(args[0], args[1]));
}

BuiltinResult union_n(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "object.union_n";
  EC_RETURN_IF_ERROR(check_type(kName, args, 1, Type::kArray));
  Value acc = Value::empty_object();
  for (const Value& v : args[0].array_items()) {
    if (!v.is_object()) {
      return type_error(kName, "operand 1 must be array of objects but got array containing " +
                                   std::string(type_name(v.type())));
    }
    acc = merge(acc, v);
  }
  return ok(acc);
}

bool is_subset(const Value& super, const Value& sub);

bool object_subset(const Value& super, const Value& sub) {
  for (const auto& [k, v] : sub.object_items()) {
    const Value* sv = super.find(k);
    if (sv == nullptr) return false;
    if (sv->is_collection()) {
      if (!is_subset(*sv, v)) return false;
    } else if (!(*sv == v)) {
      return false;
    }
  }
  return true;
}

bool is_subset(const Value& super, const Value& sub) {
  if (super.is_object()) return sub.is_object() && object_subset(super, sub);
  if (super.is_set()) {
    if (!sub.is_set()) return false;
    for (const Value& e : sub.set_items()) {
      if (!super.contains(e)) return false;
    }
    return true;
  }
  if (super.is_array()) {
    auto sup = super.array_items();
    if (sub.is_set()) {
      for (const Value& e : sub.set_items()) {
        if (std::find(sup.begin(), sup.end(), e) == sup.end()) return false;
      }
      return true;
    }
    if (!sub.is_array()) return false;
    // A contiguous run of `super`.
    auto s = sub.array_items();
    if (s.empty()) return true;
    return std::search(sup.begin(), sup.end(), s.begin(), s.end()) != sup.end();
  }
  return super == sub;
}

BuiltinResult subset(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "object.subset";
  EC_RETURN_IF_ERROR(check_types(kName, args, 1, {Type::kObject, Type::kSet, Type::kArray}));
  EC_RETURN_IF_ERROR(check_types(kName, args, 2, {Type::kObject, Type::kSet, Type::kArray}));
  return ok(Value::boolean(is_subset(args[0], args[1])));
}

}  // namespace

void register_object_builtins(BuiltinRegistry& r) {
  r.add("object.get", 3, get);
  r.add("object.keys", 1, keys);
  r.add("object.remove", 2, select<false>);
  r.add("object.filter", 2, select<true>);
  r.add("object.union", 2, union_);
  r.add("object.union_n", 1, union_n);
  r.add("object.subset", 2, subset);
}

}  // namespace policy::builtins
