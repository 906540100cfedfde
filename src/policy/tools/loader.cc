#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy/program.h"
#include "policy/tools/tools.h"

namespace policy::tools {
namespace fs = std::filesystem;

namespace {

base::Result<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return base::not_found("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Places `v` at `path` inside `root`, merging objects.
Value put_at(const Value& root, const std::vector<std::string>& path, size_t i, const Value& v) {
  if (i == path.size()) {
    if (!root.is_object() || !v.is_object()) return v;
    std::vector<ObjectItem> items(root.object_items().begin(), root.object_items().end());
    for (const auto& [k, val] : v.object_items()) {
      bool found = false;
      for (auto& [rk, rv] : items) {
        if (rk == k) {
          rv = put_at(rv, {}, 0, val);
          found = true;
        }
      }
      if (!found) items.emplace_back(k, val);
    }
    return Value::object(std::move(items));
  }
  std::vector<ObjectItem> items;
  if (root.is_object()) items.assign(root.object_items().begin(), root.object_items().end());
  Value key = Value::string(path[i]);
  for (auto& [k, val] : items) {
    if (k == key) {
      val = put_at(val, path, i + 1, v);
      return Value::object(std::move(items));
    }
  }
  items.emplace_back(key, put_at(Value::empty_object(), path, i + 1, v));
  return Value::object(std::move(items));
}

}  // namespace

base::Result<PolicyBundle> load_policy_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return base::not_found("not a directory: " + dir);
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return base::internal_error("cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  PolicyBundle bundle;
  for (const auto& p : files) {
    std::string rel = fs::relative(p, dir).generic_string();
    std::string name = p.filename().string();
    if (p.extension() == ".rego") {
      EC_ASSIGN_OR_RETURN(std::string src, read_file(p));
      bundle.modules.push_back({rel, std::move(src)});
      continue;
    }
    if (name != "data.json" && name != "data.yaml" && name != "data.yml") continue;
    EC_ASSIGN_OR_RETURN(std::string text, read_file(p));
    Value v;
    if (name == "data.json") {
      auto parsed = Value::parse_json(text);
      if (!parsed.is_ok()) return base::invalid_argument(rel + ": " + parsed.status().message());
      v = *parsed;
    } else {
      try {
        v = yaml_to_value(YAML::Load(text));
      } catch (const std::exception& e) {
        return base::invalid_argument(rel + ": " + e.what());
      }
    }
    std::vector<std::string> path;
    for (const auto& seg : fs::path(rel).parent_path()) {
      if (!seg.empty() && seg != ".") path.push_back(seg.string());
    }
    if (path.empty() && !v.is_object()) {
      return base::invalid_argument(rel + ": the root data document must be an object");
    }
    bundle.data = put_at(bundle.data, path, 0, v);
  }
  return bundle;
}

base::Result<std::shared_ptr<const Engine>> compile_bundle(PolicyBundle bundle, Syntax syntax) {
  CompileOptions opts;
  opts.syntax = syntax;
  opts.data = std::move(bundle.data);
  return Engine::compile(std::move(bundle.modules), std::move(opts));
}

std::vector<RegoTestResult> run_rego_tests(const Engine& engine, const EvalOptions& opts) {
  std::vector<RegoTestResult> out;
  std::vector<std::string> seen;
  for (const auto& m : engine.program().modules) {
    for (const auto& r : m.rules) {
      const std::string& leaf = r->path.back();
      if (leaf.rfind("test_", 0) != 0 || r->kind == RuleKind::kFunction) continue;
      std::string name = "data";
      for (const auto& seg : r->path) name += "." + seg;
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
      seen.push_back(name);
      RegoTestResult t;
      t.name = name;
      t.file = m.file;
      Value empty = Value::empty_object();
      auto v = engine.eval_ref(name, empty, opts);
      if (!v.is_ok()) {
        t.error = v.status().message();
      } else {
        t.passed = v->has_value() && !(**v == Value::boolean(false));
        if (!t.passed) t.error = v->has_value() ? "false" : "undefined";
      }
      out.push_back(std::move(t));
    }
  }
  return out;
}

}  // namespace policy::tools
