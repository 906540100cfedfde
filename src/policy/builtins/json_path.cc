// json.filter, json.remove and json.patch: documents addressed by paths, either "/a/b/0"
// strings (JSON-pointer escapes ~0 ~1, leading '/' optional) or arrays of segments. Arrays are
// indexed by the decimal text of the index; sets by their members.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

// Paths are walked recursively, one level per segment; longer paths are refused.
constexpr size_t kMaxPathLength = 4096;

std::vector<Value> split_path(std::string_view p) {
  std::vector<Value> out;
  if (p.empty()) return out;
  while (!p.empty() && p[0] == '/') p.remove_prefix(1);
  size_t start = 0;
  while (true) {
    size_t slash = p.find('/', start);
    std::string part(p.substr(start, slash == std::string_view::npos ? p.npos : slash - start));
    out.push_back(Value::string(replace_all(replace_all(part, "~1", "/"), "~0", "~")));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

base::Result<std::vector<std::vector<Value>>> paths_operand(std::string_view name, Args args) {
  const Value& ps = args[1];
  if (!ps.is_array() && !ps.is_set()) {
    return type_error(name, "operand 2 must be one of {set, array} but got " +
                                std::string(type_name(ps.type())));
  }
  std::vector<std::vector<Value>> out;
  for (const Value& p : ps.elements()) {
    if (p.size() > kMaxPathLength) return builtin_error(name, "path too long");
    if (p.is_string()) {
      out.push_back(split_path(p.as_string()));
    } else if (p.is_array()) {
      out.emplace_back(p.array_items().begin(), p.array_items().end());
    } else {
      return type_error(name,
                        "operand 2 must be one of {set, array} containing string paths or array of "
                        "path segments but got " + std::string(type_name(p.type())));
    }
  }
  return out;
}

// A trie of paths; `whole` marks a path that ends here (the entire subtree is selected).
struct PathTree {
  bool whole = false;
  std::map<Value, PathTree> children;

  void insert(std::span<const Value> path) {
    if (whole) return;
    if (path.empty()) {
      whole = true;
      children.clear();
      return;
    }
    children[path[0]].insert(path.subspan(1));
  }
  const PathTree* child(const Value& k) const {
    auto it = children.find(k);
    return it == children.end() ? nullptr : &it->second;
  }
};

Value filter(const Value& v, const PathTree& t) {
  if (t.whole) return v;
  switch (v.type()) {
    case Type::kObject: {
      std::vector<ObjectItem> out;
      for (const auto& [k, val] : v.object_items()) {
        if (const PathTree* c = t.child(k)) out.emplace_back(k, filter(val, *c));
      }
      return Value::object_sorted(std::move(out));
    }
    case Type::kArray: {
      std::vector<Value> out;
      auto items = v.array_items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (const PathTree* c = t.child(Value::string(std::to_string(i)))) {
          out.push_back(filter(items[i], *c));
        }
      }
      return Value::array(std::move(out));
    }
    case Type::kSet: {
      std::vector<Value> out;
      for (const Value& e : v.set_items()) {
        if (const PathTree* c = t.child(e)) out.push_back(filter(e, *c));
      }
      return Value::set(std::move(out));
    }
    default:
      return v;
  }
}

// The value with every path in `t` removed; nullopt when `t` removes it entirely.
std::optional<Value> remove(const Value& v, const PathTree* t) {
  if (t == nullptr) return v;
  if (t->whole) return std::nullopt;
  switch (v.type()) {
    case Type::kObject: {
      std::vector<ObjectItem> out;
      for (const auto& [k, val] : v.object_items()) {
        if (auto r = remove(val, t->child(k))) out.emplace_back(k, std::move(*r));
      }
      return Value::object_sorted(std::move(out));
    }
    case Type::kArray: {
      std::vector<Value> out;
      auto items = v.array_items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (auto r = remove(items[i], t->child(Value::string(std::to_string(i))))) {
          out.push_back(std::move(*r));
        }
      }
      return Value::array(std::move(out));
    }
    case Type::kSet: {
      std::vector<Value> out;
      for (const Value& e : v.set_items()) {
        if (auto r = remove(e, t->child(e))) out.push_back(std::move(*r));
      }
      return Value::set(std::move(out));
    }
    default:
      return v;
  }
}

template <bool Filter>
BuiltinResult filter_or_remove(BuiltinContext&, Args args) {
  std::string_view name = Filter ? "json.filter" : "json.remove";
  EC_RETURN_IF_ERROR(check_type(name, args, 1, Type::kObject));
  EC_ASSIGN_OR_RETURN(auto paths, paths_operand(name, args));
  PathTree tree;
  for (const auto& p : paths) tree.insert(p);
  if (Filter) {
    if (paths.empty()) return ok(Value::empty_object());
    return ok(filter(args[0], tree));
  }
  auto r = remove(args[0], &tree);
  return ok(r ? *r : Value::empty_object());
}

// --- json.patch (RFC 6902) ------------------------------------------------------------------

enum class Edit { kAdd, kRemove, kReplace };

// An array index segment: a number, or decimal text without leading zeros. "-" is the end
// (only when `allow_end`).
std::optional<size_t> array_index(const Value& seg, size_t len, bool allow_end) {
  if (seg.is_number()) {
    auto i = seg.as_int();
    if (!i || *i < 0) return std::nullopt;
    return static_cast<size_t>(*i);
  }
  if (!seg.is_string()) return std::nullopt;
  const std::string& s = seg.as_string();
  if (s == "-" && allow_end) return len;
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return static_cast<size_t>(std::stoll(s));
}

const Value* lookup(const Value& doc, std::span<const Value> path) {
  const Value* cur = &doc;
  for (const Value& seg : path) {
    if (cur->is_array()) {
      auto i = array_index(seg, cur->size(), false);
      if (!i) return nullptr;
      cur = cur->at(static_cast<int64_t>(*i));
    } else if (cur->is_object()) {
      cur = cur->find(seg);
    } else if (cur->is_set()) {
      cur = cur->contains(seg) ? cur->get(seg) : nullptr;
    } else {
      return nullptr;
    }
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::optional<Value> edit(const Value& doc, std::span<const Value> path, Edit op,
                          const Value& value) {
  if (path.empty()) {
    if (op == Edit::kRemove) return std::nullopt;
    return value;
  }
  const Value& seg = path[0];
  bool last = path.size() == 1;
  switch (doc.type()) {
    case Type::kObject: {
      std::vector<ObjectItem> items(doc.object_items().begin(), doc.object_items().end());
      auto it = std::find_if(items.begin(), items.end(), [&](const ObjectItem& i) { return i.first == seg; });
      if (last) {
        if (op == Edit::kAdd) {
          if (it != items.end()) it->second = value;
          else items.emplace_back(seg, value);
        } else {
          if (it == items.end()) return std::nullopt;
          if (op == Edit::kRemove) items.erase(it);
          else it->second = value;
        }
      } else {
        if (it == items.end()) return std::nullopt;
        auto child = edit(it->second, path.subspan(1), op, value);
        if (!child) return std::nullopt;
        it->second = std::move(*child);
      }
      return Value::object(std::move(items));
    }
    case Type::kArray: {
      std::vector<Value> items(doc.array_items().begin(), doc.array_items().end());
      auto i = array_index(seg, items.size(), last && op == Edit::kAdd);
      if (!i) return std::nullopt;
      if (last && op == Edit::kAdd) {
        if (*i > items.size()) return std::nullopt;
        items.insert(items.begin() + static_cast<ptrdiff_t>(*i), value);
      } else {
        if (*i >= items.size()) return std::nullopt;
        if (!last) {
          auto child = edit(items[*i], path.subspan(1), op, value);
          if (!child) return std::nullopt;
          items[*i] = std::move(*child);
        } else if (op == Edit::kRemove) {
          items.erase(items.begin() + static_cast<ptrdiff_t>(*i));
        } else {
          items[*i] = value;
        }
      }
      return Value::array(std::move(items));
    }
    case Type::kSet: {
      std::vector<Value> items(doc.set_items().begin(), doc.set_items().end());
      auto it = std::find(items.begin(), items.end(), seg);
      if (last) {
        if (op == Edit::kAdd) {
          // A set member is its own key: the value must be the path's last segment.
          if (!(value == seg)) return std::nullopt;
          items.push_back(value);
        } else {
          if (it == items.end()) return std::nullopt;
          items.erase(it);
          if (op == Edit::kReplace) items.push_back(value);
        }
      } else {
        if (it == items.end()) return std::nullopt;
        auto child = edit(*it, path.subspan(1), op, value);
        if (!child) return std::nullopt;
        *it = std::move(*child);
      }
      return Value::set(std::move(items));
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::vector<Value>> patch_path(const Value& p) {
  if (p.is_string()) return split_path(p.as_string());
  if (p.is_array()) return std::vector<Value>(p.array_items().begin(), p.array_items().end());
  return std::nullopt;
}

std::optional<Value> apply(Value doc, const Value& op_v) {
  if (!op_v.is_object()) return std::nullopt;
  const Value* op = op_v.find("op");
  const Value* path_v = op_v.find("path");
  if (op == nullptr || !op->is_string() || path_v == nullptr) return std::nullopt;
  auto path = patch_path(*path_v);
  if (!path || path->size() > kMaxPathLength) return std::nullopt;
  const std::string& name = op->as_string();
  const Value* value = op_v.find("value");
  if (name == "add" || name == "replace") {
    if (value == nullptr) return std::nullopt;
    return edit(doc, *path, name == "add" ? Edit::kAdd : Edit::kReplace, *value);
  }
  if (name == "remove") return edit(doc, *path, Edit::kRemove, Value());
  if (name == "test") {
    if (value == nullptr) return std::nullopt;
    const Value* cur = lookup(doc, *path);
    if (cur == nullptr || !(*cur == *value)) return std::nullopt;
    return doc;
  }
  if (name == "move" || name == "copy") {
    const Value* from_v = op_v.find("from");
    if (from_v == nullptr) return std::nullopt;
    auto from = patch_path(*from_v);
    if (!from || from->size() > kMaxPathLength) return std::nullopt;
    const Value* src = lookup(doc, *from);
    if (src == nullptr) return std::nullopt;
    Value moved = *src;
    if (name == "move") {
      if (*from == *path) return doc;
      auto removed = edit(doc, *from, Edit::kRemove, Value());
      if (!removed) return std::nullopt;
      doc = std::move(*removed);
    }
    return edit(doc, *path, Edit::kAdd, moved);
  }
  return std::nullopt;
}

BuiltinResult patch(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("json.patch", args, 2, Type::kArray));
  Value doc = args[0];
  for (const Value& op : args[1].array_items()) {
    auto next = apply(doc, op);
    if (!next) return undefined();
    doc = std::move(*next);
  }
  return ok(doc);
}

}  // namespace

void register_json_path_builtins(BuiltinRegistry& r) {
  r.add("json.filter", 2, filter_or_remove<true>);
  r.add("json.remove", 2, filter_or_remove<false>);
  r.add("json.patch", 2, patch);
}

}  // namespace policy::builtins
