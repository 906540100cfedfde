// Delta bundles: OPA's patch.json applied to the active snapshot's data.
#include <algorithm>
#include <charconv>
#include <span>

#include "app/bundle.h"

namespace app {
namespace {

using policy::Value;

base::Status bad_patch(const PatchOp& op, std::string why) {
  std::string path;
  for (const auto& s : op.path) path += "/" + s;
  return base::invalid_argument(
      "bundle: patch.json: " + op.op + " " + (path.empty() ? "/" : path) + ": " + std::move(why),
      "bundle_invalid");
}

std::optional<size_t> index_of(std::string_view seg) {
  size_t i = 0;
  auto r = std::from_chars(seg.data(), seg.data() + seg.size(), i);
  if (r.ec != std::errc() || r.ptr != seg.data() + seg.size() || seg.empty() ||
      (seg.size() > 1 && seg[0] == '0'))
    return std::nullopt;
  return i;
}

// `doc` with `op` applied at `path` (the rest of op.path below `doc`).
base::Result<Value> apply(const Value& doc, std::span<const std::string> path, const PatchOp& op) {
  if (path.empty()) return op.value;  // upsert or replace of the whole document
  const std::string& key = path[0];
  bool last = path.size() == 1;
  if (doc.is_object()) {
    std::vector<policy::ObjectItem> items(doc.object_items().begin(), doc.object_items().end());
    auto it = std::find_if(items.begin(), items.end(), [&](const policy::ObjectItem& kv) {
      return kv.first.is_string() && kv.first.as_string() == key;
    });
    if (last) {
      if (op.op == "remove" || op.op == "replace") {
        if (it == items.end()) return bad_patch(op, "the path does not exist");
        if (op.op == "remove") {
          items.erase(it);
        } else {
          it->second = op.value;
        }
      } else if (it == items.end()) {
        items.emplace_back(Value::string(key), op.value);
      } else {
        it->second = op.value;
      }
      return Value::object(std::move(items));
    }
    if (it == items.end()) {
      if (op.op != "upsert") return bad_patch(op, "the path does not exist");
      items.emplace_back(Value::string(key), Value::empty_object());
      it = items.end() - 1;
    }
    EC_ASSIGN_OR_RETURN(Value child, apply(it->second, path.subspan(1), op));
    it->second = std::move(child);
    return Value::object(std::move(items));
  }
  if (doc.is_array()) {
    std::vector<Value> items(doc.array_items().begin(), doc.array_items().end());
    if (key == "-" && last && op.op == "upsert") {
      items.push_back(op.value);
      return Value::array(std::move(items));
    }
    auto i = index_of(key);
    if (!i) return bad_patch(op, "'" + key + "' is not an array index");
    if (last && op.op == "upsert" && *i <= items.size()) {
      items.insert(items.begin() + static_cast<std::ptrdiff_t>(*i), op.value);
      return Value::array(std::move(items));
    }
    if (*i >= items.size()) return bad_patch(op, "array index " + key + " is out of range");
    if (last) {
      if (op.op == "remove") {
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(*i));
      } else {
        items[*i] = op.value;
      }
      return Value::array(std::move(items));
    }
    EC_ASSIGN_OR_RETURN(Value child, apply(items[*i], path.subspan(1), op));
    items[*i] = std::move(child);
    return Value::array(std::move(items));
  }
  return bad_patch(op, "'" + key + "' is below a " + std::string(policy::type_name(doc.type())) +
                           ", not an object or array");
}

bool under(const std::vector<std::string>& path, std::string_view root) {
  size_t i = 0, start = 0;
  while (start < root.size()) {
    size_t slash = root.find('/', start);
    if (slash == std::string_view::npos) slash = root.size();
    if (slash > start) {
      if (i >= path.size() || path[i] != root.substr(start, slash - start)) return false;
      ++i;
    }
    start = slash + 1;
  }
  return true;
}

}  // namespace

base::Result<Bundle> apply_delta(const Bundle& base, const Bundle& delta) {
  Bundle out;
  out.revision = delta.revision;
  out.roots = base.roots;
  out.modules = base.modules;
  out.verified = delta.verified;
  Value data = base.data;
  for (const PatchOp& op : delta.patch) {
    bool inside = std::any_of(base.roots.begin(), base.roots.end(),
                              [&](const std::string& r) { return under(op.path, r); });
    if (!inside) return bad_patch(op, "the path is outside the active bundle's roots");
    if (op.path.empty() && op.op == "remove") return bad_patch(op, "cannot remove the root");
    if (op.path.empty() && !op.value.is_object()) {
      return bad_patch(op, "the root document must be an object");
    }
    EC_ASSIGN_OR_RETURN(data, apply(data, op.path, op));
  }
  out.data = std::move(data);
  return out;
}

}  // namespace app
