// `gator verify` for Gatekeeper suites.
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "policy/parser.h"
#include "policy/tools/tools.h"

namespace policy::tools {
namespace fs = std::filesystem;

namespace {

struct Template {
  std::shared_ptr<const Engine> engine;
  std::string query_ref;  // data.<package>.violation
};

base::Result<Template> load_template(const fs::path& file) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(file.string());
  } catch (const std::exception& e) {
    return base::invalid_argument(file.string() + ": " + e.what());
  }
  YAML::Node target = doc["spec"]["targets"][0];
  if (!target) return base::invalid_argument(file.string() + ": no spec.targets");
  std::string rego;
  std::vector<std::string> libs;
  if (target["rego"]) {
    rego = target["rego"].as<std::string>();
    if (target["libs"]) {
      for (const auto& l : target["libs"]) libs.push_back(l.as<std::string>());
    }
  } else if (target["code"]) {
    for (const auto& c : target["code"]) {
      if (c["engine"] && c["engine"].as<std::string>() == "Rego") {
        rego = c["source"]["rego"].as<std::string>();
        if (c["source"]["libs"]) {
          for (const auto& l : c["source"]["libs"]) libs.push_back(l.as<std::string>());
        }
      }
    }
  }
  if (rego.empty()) return base::invalid_argument(file.string() + ": no Rego in the template");
  EC_ASSIGN_OR_RETURN(ModuleAst ast, parse_module(file.string(), rego));
  std::vector<Module> modules = {{file.filename().string(), rego}};
  for (size_t i = 0; i < libs.size(); ++i) {
    modules.push_back({file.filename().string() + ".lib" + std::to_string(i), libs[i]});
  }
  Template t;
  EC_ASSIGN_OR_RETURN(t.engine, Engine::compile(std::move(modules)));
  t.query_ref = "data";
  for (const auto& seg : ast.package) t.query_ref += "." + seg;
  t.query_ref += ".violation";
  return t;
}

struct Constraint {
  Value parameters = Value::empty_object();
  std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> kinds;  // groups, kinds
  std::vector<std::string> namespaces;           // match.namespaces (empty: all); "prefix*" globs
  std::vector<std::string> excluded_namespaces;  // match.excludedNamespaces
};

base::Result<Constraint> load_constraint(const fs::path& file) {
  try {
    YAML::Node doc = YAML::LoadFile(file.string());
    Constraint c;
    if (doc["spec"]["parameters"]) c.parameters = yaml_to_value(doc["spec"]["parameters"]);
    for (const char* key : {"namespaces", "excludedNamespaces"}) {
      if (!doc["spec"]["match"][key]) continue;
      auto& list = std::string(key) == "namespaces" ? c.namespaces : c.excluded_namespaces;
      for (const auto& n : doc["spec"]["match"][key]) list.push_back(n.as<std::string>());
    }
    if (doc["spec"]["match"]["kinds"]) {
      for (const auto& k : doc["spec"]["match"]["kinds"]) {
        std::vector<std::string> groups, kinds;
        if (k["apiGroups"]) {
          for (const auto& g : k["apiGroups"]) groups.push_back(g.as<std::string>());
        }
        if (k["kinds"]) {
          for (const auto& x : k["kinds"]) kinds.push_back(x.as<std::string>());
        }
        c.kinds.emplace_back(std::move(groups), std::move(kinds));
      }
    }
    return c;
  } catch (const std::exception& e) {
    return base::invalid_argument(file.string() + ": " + e.what());
  }
}

std::string str(const Value* v) { return v && v->is_string() ? v->as_string() : std::string(); }

bool namespace_in(const std::vector<std::string>& list, const std::string& ns) {
  for (const auto& n : list) {
    if (n == ns || (!n.empty() && n.back() == '*' && ns.rfind(n.substr(0, n.size() - 1), 0) == 0)) {
      return true;
    }
  }
  return false;
}

// Gatekeeper's match on namespaces: an object without metadata.namespace is taken to be in
// "default", as `kubectl apply` would place it (cluster-scoped kinds are not checked).
bool namespace_matches(const Constraint& c, const std::string& kind, const std::string& ns) {
  static const char* kClusterScoped[] = {"Namespace", "Node", "ClusterRole", "ClusterRoleBinding",
                                         "CustomResourceDefinition", "RuntimeClass",
                                         "PersistentVolume", "StorageClass"};
  for (const char* k : kClusterScoped) {
    if (kind == k) return true;
  }
  std::string effective = ns.empty() ? "default" : ns;
  if (!c.namespaces.empty() && !namespace_in(c.namespaces, effective)) return false;
  return !namespace_in(c.excluded_namespaces, effective);
}

bool matches(const Constraint& c, const std::string& group, const std::string& kind) {
  if (c.kinds.empty()) return true;
  for (const auto& [groups, kinds] : c.kinds) {
    bool g = groups.empty();
    for (const auto& x : groups) g = g || x == "*" || x == group;
    bool k = kinds.empty();
    for (const auto& x : kinds) k = k || x == "*" || x == kind;
    if (g && k) return true;
  }
  return false;
}

// The `review` document for an object (or the request of an AdmissionReview).
Value make_review(const Value& obj, std::string& group, std::string& kind) {
  if (str(obj.find("kind")) == "AdmissionReview" && obj.find("request")) {
    const Value& req = *obj.find("request");
    if (const Value* k = req.find("kind")) {
      group = str(k->find("group"));
      kind = str(k->find("kind"));
    }
    return req;
  }
  std::string api = str(obj.find("apiVersion"));
  auto slash = api.find('/');
  group = slash == std::string::npos ? "" : api.substr(0, slash);
  std::string version = slash == std::string::npos ? api : api.substr(slash + 1);
  kind = str(obj.find("kind"));
  const Value* meta = obj.find("metadata");
  std::vector<ObjectItem> items = {
      {Value::string("object"), obj},
      {Value::string("kind"), Value::object({{Value::string("group"), Value::string(group)},
                                             {Value::string("version"), Value::string(version)},
                                             {Value::string("kind"), Value::string(kind)}})},
      {Value::string("operation"), Value::string("CREATE")},
  };
  if (meta) {
    if (const Value* n = meta->find("name")) items.emplace_back(Value::string("name"), *n);
    if (const Value* ns = meta->find("namespace")) items.emplace_back(Value::string("namespace"), *ns);
  }
  return Value::object(std::move(items));
}

}  // namespace

base::Result<std::vector<VerifyResult>> verify_gatekeeper_suite(const std::string& suite_yaml) {
  YAML::Node suite;
  try {
    suite = YAML::LoadFile(suite_yaml);
  } catch (const std::exception& e) {
    return base::invalid_argument(suite_yaml + ": " + e.what());
  }
  fs::path base_dir = fs::path(suite_yaml).parent_path();
  std::vector<VerifyResult> out;
  for (const auto& test : suite["tests"]) {
    std::string test_name = test["name"].as<std::string>("");
    EC_ASSIGN_OR_RETURN(Template tmpl, load_template(base_dir / test["template"].as<std::string>()));
    EC_ASSIGN_OR_RETURN(Constraint con, load_constraint(base_dir / test["constraint"].as<std::string>()));
    for (const auto& c : test["cases"]) {
      VerifyResult r;
      r.test = test_name;
      r.name = c["name"].as<std::string>("");
      Value obj;
      try {
        obj = yaml_to_value(YAML::LoadFile((base_dir / c["object"].as<std::string>()).string()));
      } catch (const std::exception& e) {
        r.message = std::string("cannot read object: ") + e.what();
        out.push_back(std::move(r));
        continue;
      }
      std::string group, kind;
      Value review = make_review(obj, group, kind);
      std::vector<std::string> msgs;
      std::string ns;
      if (const Value* meta = obj.find("metadata")) ns = str(meta->find("namespace"));
      if (matches(con, group, kind) && namespace_matches(con, kind, ns)) {
        Value input = Value::object({{Value::string("review"), review},
                                     {Value::string("parameters"), con.parameters}});
        auto v = tmpl.engine->eval_ref(tmpl.query_ref, input);
        if (!v.is_ok()) {
          r.message = "evaluation error: " + v.status().message();
          out.push_back(std::move(r));
          continue;
        }
        if (v->has_value()) {
          for (const Value& viol : (*v)->elements()) msgs.push_back(str(viol.find("msg")));
        }
      }
      r.passed = true;
      for (const auto& a : c["assertions"]) {
        size_t n = msgs.size();
        if (a["message"]) {
          RE2 re(a["message"].as<std::string>());
          n = 0;
          for (const auto& m : msgs) n += RE2::PartialMatch(m, re) ? 1 : 0;
        }
        std::string want = a["violations"] ? a["violations"].as<std::string>() : "yes";
        bool ok = want == "yes" ? n > 0 : want == "no" ? n == 0 : std::to_string(n) == want;
        if (!ok) {
          r.passed = false;
          r.message = "want violations: " + want +
                      (a["message"] ? " matching \"" + a["message"].as<std::string>() + "\"" : "") +
                      ", got " + std::to_string(n) + " (of " + std::to_string(msgs.size()) + ")";
          break;
        }
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace policy::tools
