#include "app/cli_policy.h"

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/bundle.h"
#include "policy/capabilities.h"
#include "policy/engine.h"
#include "policy/tools/tools.h"

namespace app {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr const char* kUsage = R"(Usage:
  edgeclass policy eval [-d DIR]... [-i INPUT.json] [--strict] QUERY
      evaluate a Rego query against the policies (and data.json/yaml files) in DIR, like
      `opa eval`; prints {"result": [...]} ({} when undefined)
  edgeclass policy test DIR...
      run every test_* rule, like `opa test`; exit 1 when one fails
  edgeclass policy verify PATH...
      run Gatekeeper suites (suite.yaml files under PATH), like `gator verify`
  edgeclass policy capabilities
      print the builtins this engine supports in OPA's capabilities format, like
      `opa capabilities --current`
  edgeclass policy build [-o bundle.tar.gz] [-r REVISION] [--signing-key FILE]
                         [--signing-alg ALG] DIR
      an OPA bundle of DIR's .rego, data.json and data.yaml files with a .manifest, like
      `opa build`; --signing-key FILE adds .signatures.json: a PEM private key signs with
      RS256 (as `opa build` does by default) or --signing-alg RS384/RS512/PS256/PS384/PS512/
      ES256/ES384/ES512, an HMAC secret with HS256; refused when the policies do not compile
)";

int usage(const std::string& msg) {
  std::cerr << "edgeclass policy: " << msg << "\n" << kUsage;
  return 2;
}

// Loads and merges several policy directories into one engine.
base::Result<std::shared_ptr<const policy::Engine>> load_dirs(const std::vector<std::string>& dirs) {
  policy::tools::PolicyBundle all;
  for (const auto& d : dirs) {
    EC_ASSIGN_OR_RETURN(policy::tools::PolicyBundle b, policy::tools::load_policy_dir(d));
    for (auto& m : b.modules) {
      m.filename = (fs::path(d) / m.filename).string();
      all.modules.push_back(std::move(m));
    }
    if (dirs.size() == 1) all.data = std::move(b.data);
  }
  return policy::tools::compile_bundle(std::move(all));
}

int cmd_eval(const std::vector<std::string>& args) {
  std::vector<std::string> dirs;
  std::string input_file, query;
  bool strict = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "-d" || a == "--data") && i + 1 < args.size()) dirs.push_back(args[++i]);
    else if ((a == "-i" || a == "--input") && i + 1 < args.size()) input_file = args[++i];
    else if (a == "--strict") strict = true;
    else if (!a.empty() && a[0] == '-') return usage("unknown flag " + a);
    else if (query.empty()) query = a;
    else return usage("only one query");
  }
  if (query.empty()) return usage("eval needs a QUERY");
  std::shared_ptr<const policy::Engine> engine;
  if (dirs.empty()) {
    auto e = policy::Engine::compile({});
    if (!e.is_ok()) return usage(e.status().message());
    engine = *e;
  } else {
    auto e = load_dirs(dirs);
    if (!e.is_ok()) {
      std::cerr << e.status().message() << "\n";
      return 1;
    }
    engine = *e;
  }
  policy::Value input;
  const policy::Value* in = nullptr;
  if (!input_file.empty()) {
    std::ifstream f(input_file);
    std::stringstream ss;
    ss << f.rdbuf();
    if (!f) return usage("cannot read " + input_file);
    auto v = policy::Value::parse_json(ss.str());
    if (!v.is_ok()) {
      std::cerr << input_file << ": " << v.status().message() << "\n";
      return 1;
    }
    input = *v;
    in = &input;
  }
  policy::EvalOptions opts;
  opts.strict_builtin_errors = strict;
  opts.print = [](std::string_view s) { std::cerr << s << "\n"; };
  // A query that is one term also reports its value, as `opa eval` shows expressions.
  const std::string kVar = "edgeclass_eval_value";
  auto res = engine->query(kVar + " := (" + query + ")", in, opts);
  bool as_term = res.is_ok();
  if (!as_term) res = engine->query(query, in, opts);
  if (!res.is_ok()) {
    std::cerr << res.status().to_string() << "\n";
    return 1;
  }
  json::object out;
  if (!res->rows.empty()) {
    json::array rows;
    for (const auto& row : res->rows) {
      json::object r;
      json::object bindings;
      for (const auto& [name, value] : row) {
        if (name == kVar) {
          r["expressions"] = json::array{json::object{{"value", value.to_json_value()}, {"text", query}}};
        } else if (name.rfind("__", 0) != 0) {
          bindings[name] = value.to_json_value();
        }
      }
      if (!bindings.empty()) r["bindings"] = std::move(bindings);
      if (!as_term) r["expressions"] = json::array{json::object{{"value", true}, {"text", query}}};
      rows.emplace_back(std::move(r));
    }
    out["result"] = std::move(rows);
  }
  std::cout << json::serialize(out) << "\n";
  return 0;
}

int cmd_test(const std::vector<std::string>& dirs) {
  if (dirs.empty()) return usage("test needs a DIR");
  auto engine = load_dirs(dirs);
  if (!engine.is_ok()) {
    std::cerr << engine.status().message() << "\n";
    return 1;
  }
  auto results = policy::tools::run_rego_tests(**engine);
  int passed = 0, failed = 0;
  for (const auto& r : results) {
    if (r.passed) {
      ++passed;
      std::cout << "PASS " << r.name << "\n";
    } else {
      ++failed;
      std::cout << "FAIL " << r.name << " (" << r.file << ")"
                << (r.error.empty() ? "" : ": " + r.error) << "\n";
    }
  }
  if (results.empty()) {
    std::cout << "no test_* rules found\n";
    return 1;
  }
  std::cout << "--------------------------------------------------------------------------------\n"
            << (failed ? "FAIL" : "PASS") << ": " << passed << "/" << results.size() << "\n";
  return failed ? 1 : 0;
}

int cmd_verify(const std::vector<std::string>& paths) {
  if (paths.empty()) return usage("verify needs a PATH");
  std::vector<std::string> suites;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      suites.push_back(p);
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(p, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().filename() == "suite.yaml") {
        suites.push_back(it->path().string());
      }
    }
    if (ec) return usage("cannot read " + p + ": " + ec.message());
  }
  std::sort(suites.begin(), suites.end());
  if (suites.empty()) return usage("no suite.yaml under the given paths");
  int passed = 0, failed = 0;
  for (const auto& suite : suites) {
    auto results = policy::tools::verify_gatekeeper_suite(suite);
    if (!results.is_ok()) {
      ++failed;
      std::cout << "FAIL " << suite << ": " << results.status().message() << "\n";
      continue;
    }
    for (const auto& r : *results) {
      if (r.passed) {
        ++passed;
        std::cout << "ok   " << suite << " " << r.test << "/" << r.name << "\n";
      } else {
        ++failed;
        std::cout << "FAIL " << suite << " " << r.test << "/" << r.name << ": " << r.message << "\n";
      }
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}

int cmd_build(const std::vector<std::string>& args) {
  std::string out = "bundle.tar.gz", revision, key_file, dir, alg;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* dst) {
      if (i + 1 >= args.size()) return false;
      *dst = args[++i];
      return true;
    };
    if (a == "-o" || a == "--output") {
      if (!value(&out)) return usage(a + " needs a file");
    } else if (a == "-r" || a == "--revision") {
      if (!value(&revision)) return usage(a + " needs a revision");
    } else if (a == "--signing-key") {
      if (!value(&key_file)) return usage(a + " needs a file");
    } else if (a == "--signing-alg") {
      if (!value(&alg)) return usage(a + " needs an algorithm");
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown flag " + a);
    } else if (dir.empty()) {
      dir = a;
    } else {
      return usage("build takes one DIR");
    }
  }
  if (dir.empty()) return usage("build needs a DIR");
  std::string key;
  if (!key_file.empty()) {
    std::ifstream in(key_file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return usage("cannot read " + key_file);
    key = ss.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    bool pem = key.find("-----BEGIN") != std::string::npos;
    if (alg.empty()) alg = pem ? "RS256" : "HS256";
    if (pem != !alg.starts_with("HS")) {
      return usage("--signing-alg " + alg + (pem ? " needs an HMAC secret, not a PEM key"
                                                : " needs a PEM private key"));
    }
  } else if (!alg.empty()) {
    return usage("--signing-alg needs --signing-key");
  }
  auto bundle = build_bundle(dir, revision, key, alg.empty() ? "HS256" : alg);
  if (!bundle.is_ok()) {
    std::cerr << "edgeclass policy build: " << bundle.status().message() << "\n";
    return 1;
  }
  std::ofstream o(out, std::ios::binary | std::ios::trunc);
  o << *bundle;
  if (!o) {
    std::cerr << "edgeclass policy build: cannot write " << out << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int cmd_policy(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "eval") return cmd_eval(rest);
  if (args[0] == "test") return cmd_test(rest);
  if (args[0] == "verify") return cmd_verify(rest);
  if (args[0] == "build") return cmd_build(rest);
  if (args[0] == "capabilities") {
    if (!rest.empty()) return usage("capabilities takes no arguments");
    std::cout << policy::pretty_json(
        policy::capabilities_json(policy::BuiltinRegistry::standard()));
    return 0;
  }
  return usage("unknown policy command '" + args[0] + "'");
}

}  // namespace app
