// OPA conformance runner: runs OPA's YAML test cases against the engine.
//
//   opa_conformance [SUITE_DIR] [--filter DIR] [--verbose] [--baseline FILE]
//                   [--write-baseline FILE] [--require-all]
//
// Each case runs in a forked child with a time limit and an evaluation step budget, so a
// crash or hang fails that case only. Prints a table per directory, totals, and ends with
// "N passed, M failed". With --baseline, exits 1 (listing them) when a case named in the
// baseline does not pass; with --require-all, when any case fails (our own cases under
// tests/policy/cases must all pass).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/sanitizers.h"
#include "policy/engine.h"

namespace fs = std::filesystem;
using policy::Value;

namespace {

bool g_verbose = false;

Value yaml_to_value(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Value();
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      for (const auto& e : n) items.push_back(yaml_to_value(e));
      return Value::array(std::move(items));
    }
    case YAML::NodeType::Map: {
      std::vector<policy::ObjectItem> items;
      for (const auto& kv : n) {
        items.emplace_back(Value::string(kv.first.as<std::string>()), yaml_to_value(kv.second));
      }
      return Value::object(std::move(items));
    }
    case YAML::NodeType::Scalar: {
      std::string s = n.Scalar();
      if (n.Tag() == "!") return Value::string(s);
      if (s == "null" || s == "~" || s == "Null" || s == "NULL") return Value();
      if (s == "true" || s == "True") return Value::boolean(true);
      if (s == "false" || s == "False") return Value::boolean(false);
      if (!s.empty() && (isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '.')) {
        auto v = Value::parse_json(s);
        if (v.is_ok() && v->is_number()) return *v;
        char* end = nullptr;
        double d = strtod(s.c_str(), &end);
        if (end == s.c_str() + s.size()) return Value::number(d);
      }
      return Value::string(s);
    }
  }
  return Value();
}

// Sets become sorted arrays, as in OPA's JSON results.
Value normalize(const Value& v) { return Value::from_json(v.to_json_value()); }

Value sort_arrays(const Value& v) {
  if (!v.is_array()) return v;
  std::vector<Value> items(v.array_items().begin(), v.array_items().end());
  std::sort(items.begin(), items.end());
  return Value::array(std::move(items));
}

// Runs one case; returns true when it passes. Prints why it failed when verbose.
bool run_case(const YAML::Node& c, const std::string& key) {
  auto fail = [&](const std::string& why) {
    if (g_verbose)
      std::cout << "FAIL " << key << " (" << c["note"].as<std::string>("") << "): " << why << "\n";
    return false;
  };
  std::vector<policy::Module> modules;
  if (c["modules"]) {
    int i = 0;
    for (const auto& m : c["modules"]) {
      modules.push_back({"test-" + std::to_string(i++) + ".rego", m.as<std::string>()});
    }
  }
  policy::CompileOptions copts;
  copts.syntax = policy::Syntax::kV1;
  if (c["data"] && c["data"].IsMap()) copts.data = yaml_to_value(c["data"]);
  bool want_err = c["want_error_code"] || c["want_error"];
  std::string want_code = c["want_error_code"] ? c["want_error_code"].as<std::string>() : "";
  std::string want_msg = c["want_error"] ? c["want_error"].as<std::string>() : "";
  auto check_error = [&](const base::Status& s) {
    if (!want_err) return fail("unexpected error: " + s.message());
    if (!want_code.empty() && s.reason() != want_code) {
      return fail("want code " + want_code + ", got " + std::string(s.reason()) + ": " +
                  s.message());
    }
    if (!want_msg.empty() && s.message().find(want_msg) == std::string::npos) {
      return fail("want error containing '" + want_msg + "', got: " + s.message());
    }
    return true;
  };
  auto engine = policy::Engine::compile(modules, copts);
  if (!engine.is_ok()) return check_error(engine.status());
  std::optional<Value> input;
  if (c["input_term"]) {
    auto e = policy::Engine::compile({}, {}).value();
    auto r = e->query("input_term_value = " + c["input_term"].as<std::string>(), nullptr);
    if (!r.is_ok() || r->rows.empty()) return fail("bad input_term");
    input = r->rows[0]["input_term_value"];
  } else if (c["input"]) {
    input = yaml_to_value(c["input"]);
  }
  policy::EvalOptions eopts;
  eopts.strict_builtin_errors = c["strict_error"] && c["strict_error"].as<bool>();
  eopts.max_steps = 5'000'000;
  auto res = (*engine)->query(c["query"].as<std::string>(), input ? &*input : nullptr, eopts);
  if (!res.is_ok()) return check_error(res.status());
  if (want_err && !c["want_result"]) return fail("want an error, got results");
  bool sort_bindings = c["sort_bindings"] && c["sort_bindings"].as<bool>();
  bool ignore_gen = c["ignore_generated_vars"] && c["ignore_generated_vars"].as<bool>();
  std::set<Value> got, want;
  for (const auto& row : res->rows) {
    std::vector<policy::ObjectItem> items;
    for (const auto& [k, v] : row) {
      if (ignore_gen && k.rfind("__localq", 0) == 0) continue;
      Value nv = normalize(v);
      if (sort_bindings) nv = sort_arrays(nv);
      items.emplace_back(Value::string(k), nv);
    }
    got.insert(Value::object(std::move(items)));
  }
  if (c["want_result"]) {
    for (const auto& row : c["want_result"]) {
      Value w = yaml_to_value(row);
      if (sort_bindings && w.is_object()) {
        std::vector<policy::ObjectItem> items;
        for (const auto& [k, v] : w.object_items()) items.emplace_back(k, sort_arrays(v));
        w = Value::object(std::move(items));
      }
      want.insert(normalize(w));
    }
  }
  if (got != want) {
    std::string g, w;
    for (const auto& v : got) g += v.to_json() + " ";
    for (const auto& v : want) w += v.to_json() + " ";
    return fail("got [" + g + "] want [" + w + "]");
  }
  return true;
}

struct Stats {
  int passed = 0, failed = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string suite = EDGECLASS_OPA_SUITE;
  std::string filter, baseline, write_baseline;
  bool require_all = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose")
      g_verbose = true;
    else if (a == "--filter" && i + 1 < argc)
      filter = argv[++i];
    else if (a == "--baseline" && i + 1 < argc)
      baseline = argv[++i];
    else if (a == "--write-baseline" && i + 1 < argc)
      write_baseline = argv[++i];
    else if (a == "--require-all")
      require_all = true;
    else if (a.rfind("--", 0) != 0)
      suite = a;
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(suite)) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, Stats> by_dir;
  std::set<std::string> passed_keys, all_keys;
  int unreadable = 0;  // YAML files that do not parse (a failure with --require-all)
  for (const auto& file : files) {
    std::string dir = fs::relative(file.parent_path(), suite).string();
    if (!filter.empty() && dir != filter && dir.rfind(filter + "/", 0) != 0) continue;
    YAML::Node doc;
    try {
      doc = YAML::LoadFile(file.string());
    } catch (const std::exception& ex) {
      std::cerr << "cannot parse " << file << ": " << ex.what() << "\n";
      ++unreadable;
      continue;
    }
    int idx = 0;
    for (const auto& c : doc["cases"]) {
      std::string key = dir + "/" + file.filename().string() + "#" + std::to_string(idx++);
      all_keys.insert(key);
      std::fflush(stdout);
      pid_t pid = fork();
      if (pid == 0) {
        alarm(10);
#ifndef EDGECLASS_UNDER_ASAN  // ASan's shadow memory needs far more address space than 1 GB
        rlimit rl{1ull << 30, 1ull << 30};
        setrlimit(RLIMIT_AS, &rl);
#endif
        bool ok = false;
        try {
          ok = run_case(c, key);
        } catch (const std::exception& ex) {
          if (g_verbose) std::cout << "FAIL " << key << ": exception " << ex.what() << "\n";
        }
        std::fflush(stdout);
        _exit(ok ? 0 : 1);
      }
      int status = 0;
      waitpid(pid, &status, 0);
      bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && g_verbose && !(WIFEXITED(status) && WEXITSTATUS(status) == 1)) {
        std::cout << "FAIL " << key << ": crashed or timed out (status " << status << ")\n";
      }
      if (ok) {
        by_dir[dir].passed++;
        passed_keys.insert(key);
      } else {
        by_dir[dir].failed++;
      }
    }
  }
  Stats total;
  std::printf("%-40s %7s %7s %7s\n", "directory", "passed", "failed", "total");
  for (const auto& [dir, s] : by_dir) {
    std::printf("%-40s %7d %7d %7d\n", dir.c_str(), s.passed, s.failed, s.passed + s.failed);
    total.passed += s.passed;
    total.failed += s.failed;
  }
  std::printf("%-40s %7d %7d %7d\n", "TOTAL", total.passed, total.failed,
              total.passed + total.failed);
  int rc = 0;
  if (!write_baseline.empty()) {
    std::ofstream out(write_baseline);
    for (const auto& k : passed_keys) out << k << "\n";
  }
  if (!baseline.empty()) {
    std::ifstream in(baseline);
    if (!in) {
      std::cerr << "cannot read baseline " << baseline << "\n";
      return 2;
    }
    std::string line;
    std::vector<std::string> regressed;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      if (!filter.empty() && line.rfind(filter + "/", 0) != 0) continue;
      if (!passed_keys.count(line)) regressed.push_back(line);
    }
    if (!regressed.empty()) {
      std::printf("regressions against baseline (%zu):\n", regressed.size());
      for (const auto& k : regressed) std::printf("  %s\n", k.c_str());
      rc = 1;
    }
  }
  if (require_all && (total.failed > 0 || total.passed == 0 || unreadable > 0)) rc = 1;
  std::printf("%d passed, %d failed\n", total.passed, total.failed);
  return rc;
}
