// Policy tooling with file I/O, for the CLI (`edgeclass policy eval|test|verify`): loading a
// policy directory, running Rego unit tests like `opa test`, and verifying Gatekeeper
// ConstraintTemplate suites like `gator verify`. Not part of the portable core.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "policy/engine.h"
#include "policy/value.h"

namespace YAML {
class Node;
}

namespace policy::tools {

// Converts parsed YAML into a Value (plain scalars are typed as YAML 1.2 core: null, booleans,
// numbers; quoted scalars stay strings).
Value yaml_to_value(const YAML::Node& node);

// Every `*.rego` file under `dir` (recursively, sorted by path) plus base data: each
// `data.json` / `data.yaml` / `data.yml` is placed at its directory's path relative to `dir`
// (as in OPA bundles; the root's data is the whole document).
struct PolicyBundle {
  std::vector<Module> modules;  // filename = path relative to `dir`
  Value data = Value::empty_object();
};
base::Result<PolicyBundle> load_policy_dir(const std::string& dir);

// Compiles a bundle into an engine.
base::Result<std::shared_ptr<const Engine>> compile_bundle(PolicyBundle bundle,
                                                           Syntax syntax = Syntax::kAuto);

// One `test_*` rule: passes when its value is defined and not false (as `opa test`).
struct RegoTestResult {
  std::string name;  // e.g. "data.edgeclass.test_student_can_join"
  std::string file;
  bool passed = false;
  std::string error;  // evaluation error, if any
};
// Runs every rule whose name starts with `test_` (rules named `todo_test_*` are skipped), in
// file and source order.
std::vector<RegoTestResult> run_rego_tests(const Engine& engine, const EvalOptions& opts = {});

// One case of a gator suite.
struct VerifyResult {
  std::string test;  // suite test name
  std::string name;  // case name
  bool passed = false;
  std::string message;  // why it failed
};
// Runs a Gatekeeper suite.yaml (kind: Suite): for each test, compiles the ConstraintTemplate's
// Rego (v0 syntax and libs), reads the constraint's parameters and match kinds, evaluates
// `violation` for every case object with input {"review": ..., "parameters": ...} and checks
// the assertions (violations: yes|no|N, optional message regex).
base::Result<std::vector<VerifyResult>> verify_gatekeeper_suite(const std::string& suite_yaml);

}  // namespace policy::tools
