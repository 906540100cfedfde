#include "policy/tools/tools.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace policy::tools {
namespace {
namespace fs = std::filesystem;

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("policy_tools_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "lib" / "limits");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& rel, const std::string& text) {
    std::ofstream(dir_ / rel) << text;
  }
  fs::path dir_;
};

TEST_F(ToolsTest, LoadsRegoAndDataAndRunsTests) {
  write("main.rego", R"(package app
import rego.v1
allow if input.n <= data.lib.limits.max
test_small if allow with input as {"n": 1}
test_big_denied if not allow with input as {"n": 100}
test_fails if allow with input as {"n": 100}
)");
  write("v0.rego", "package app.old\nok { data.app.allow }\n");
  write("lib/limits/data.yaml", "max: 10\nname: limits\n");
  write("data.json", R"({"top": true})");
  auto bundle = load_policy_dir(dir_.string());
  ASSERT_TRUE(bundle.is_ok()) << bundle.status().message();
  EXPECT_EQ(bundle->modules.size(), 2u);
  EXPECT_EQ(bundle->data.to_json(), R"({"lib":{"limits":{"max":10,"name":"limits"}},"top":true})");
  auto engine = compile_bundle(*bundle);
  ASSERT_TRUE(engine.is_ok()) << engine.status().message();
  auto results = run_rego_tests(**engine);
  ASSERT_EQ(results.size(), 3u);
  int passed = 0;
  for (const auto& r : results) {
    passed += r.passed;
    if (r.name == "data.app.test_fails") {
      EXPECT_FALSE(r.passed);
    }
  }
  EXPECT_EQ(passed, 2);
}

TEST_F(ToolsTest, MissingDirectoryAndBadData) {
  EXPECT_FALSE(load_policy_dir((dir_ / "nope").string()).is_ok());
  write("data.json", "[1, 2]");
  EXPECT_FALSE(load_policy_dir(dir_.string()).is_ok());
}

TEST(GatekeeperTest, LibrarySuitesPass) {
  fs::path root = fs::path(EDGECLASS_GATEKEEPER_DIR);
  ASSERT_TRUE(fs::is_directory(root)) << root;
  int suites = 0, cases = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    fs::path suite = e.path() / "suite.yaml";
    if (!fs::exists(suite)) continue;
    ++suites;
    auto r = verify_gatekeeper_suite(suite.string());
    ASSERT_TRUE(r.is_ok()) << suite << ": " << r.status().message();
    for (const auto& c : *r) {
      ++cases;
      EXPECT_TRUE(c.passed) << suite << " " << c.test << "/" << c.name << ": " << c.message;
    }
  }
  EXPECT_GE(suites, 7);
  EXPECT_GT(cases, 20);
}

TEST(GatekeeperTest, WrongExpectationFails) {
  fs::path tmp = fs::temp_directory_path() / "gk_wrong_expectation";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::ofstream(tmp / "template.yaml") << R"(kind: ConstraintTemplate
spec:
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sdemo
        violation[{"msg": msg}] {
          not input.review.object.metadata.labels.owner
          msg := "missing owner"
        }
)";
  std::ofstream(tmp / "constraint.yaml") << "kind: K8sDemo\nspec:\n  match:\n    kinds:\n      - apiGroups: [\"\"]\n        kinds: [\"Pod\"]\n";
  std::ofstream(tmp / "pod.yaml") << "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n";
  std::ofstream(tmp / "suite.yaml") << R"(kind: Suite
tests:
- name: demo
  template: template.yaml
  constraint: constraint.yaml
  cases:
  - name: expects-none-but-violates
    object: pod.yaml
    assertions:
    - violations: no
  - name: violates
    object: pod.yaml
    assertions:
    - violations: 1
      message: owner
)";
  auto r = verify_gatekeeper_suite((tmp / "suite.yaml").string());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_FALSE((*r)[0].passed);
  EXPECT_TRUE((*r)[1].passed) << (*r)[1].message;
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace policy::tools
