// `edgeclass policy capabilities` against OPA v1.19.0's capabilities file
// (third_party/opa-conformance/capabilities-v1.19.0.json): every builtin we claim must have
// OPA's name, arity, declared types and flags; what we lack is listed (and must be exactly
// kKnownMissing, so the list stays true as builtins arrive).
#include "policy/capabilities.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace policy {
namespace {

namespace json = boost::json;

// OPA builtins this engine does not offer yet (the "capabilities diff").
const std::set<std::string> kKnownMissing = {};

// Registry builtins that are not OPA builtins (engine-only; left out of the document).
const std::set<std::string> kEngineOnly = {"test.sleep"};

// Attributes where this engine deliberately differs from OPA: name -> why.
const std::map<std::string, std::string> kFlagDifferences = {
    {"crypto.x509.parse_and_verify_certificates",
     "reads the query's clock (certificate validity), so never folded at compile time"},
    {"crypto.x509.parse_and_verify_certificates_with_options",
     "reads the query's clock (certificate validity), so never folded at compile time"},
};

json::object load_opa() {
  std::ifstream f(std::string(EDGECLASS_SOURCE_DIR) +
                  "/third_party/opa-conformance/capabilities-v1.19.0.json");
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_TRUE(f.good()) << "cannot read the vendored capabilities file";
  return json::parse(ss.str()).as_object();
}

std::map<std::string, json::object> by_name(const json::array& builtins) {
  std::map<std::string, json::object> out;
  for (const auto& b : builtins) out[std::string(b.at("name").as_string())] = b.as_object();
  return out;
}

TEST(CapabilitiesTest, EverySignatureParses) {
  for (const BuiltinDecl& d : builtin_decls()) {
    auto j = decl_json(d);
    EXPECT_TRUE(j.is_ok()) << d.name << ": " << j.status().message();
  }
}

TEST(CapabilitiesTest, SignatureErrorsSayWhere) {
  BuiltinDecl bad{"x", "(number, strin) => number"};
  auto j = decl_json(bad);
  ASSERT_FALSE(j.is_ok());
  EXPECT_NE(j.status().message().find("unknown type 'strin'"), std::string::npos)
      << j.status().message();
}

TEST(CapabilitiesTest, MatchesOpaForEveryBuiltinWeClaim) {
  auto opa = by_name(load_opa().at("builtins").as_array());
  ASSERT_EQ(opa.size(), 206u);
  auto ours = by_name(capabilities_json(BuiltinRegistry::standard()).at("builtins").as_array());
  for (const auto& [name, entry] : ours) {
    auto it = opa.find(name);
    if (it == opa.end()) {
      ADD_FAILURE() << name << " is in our capabilities but not OPA's";
      continue;
    }
    EXPECT_EQ(json::serialize(entry.at("decl")), json::serialize(it->second.at("decl")))
        << name << ": declared types differ";
    for (const char* flag : {"infix", "deprecated", "relation", "nondeterministic"}) {
      const json::value* a = entry.if_contains(flag);
      const json::value* b = it->second.if_contains(flag);
      bool same = (!a && !b) || (a && b && *a == *b);
      if (!same && kFlagDifferences.count(name)) continue;
      EXPECT_TRUE(same) << name << ": \"" << flag << "\" differs";
    }
  }
  std::set<std::string> missing;
  for (const auto& [name, entry] : opa) {
    if (!ours.count(name)) missing.insert(name);
  }
  std::string listed;
  for (const auto& m : missing) listed += " " + m;
  std::cout << "capabilities diff: " << ours.size() << " of " << opa.size()
            << " OPA builtins; missing:" << (listed.empty() ? " none" : listed) << "\n";
  EXPECT_EQ(missing, kKnownMissing) << "update kKnownMissing (and docs/policy.md)";
}

TEST(CapabilitiesTest, RegistryArityMatchesDeclarations) {
  const BuiltinRegistry& r = BuiltinRegistry::standard();
  for (std::string_view name : r.names()) {
    const BuiltinDecl* d = find_decl(name);
    if (kEngineOnly.count(std::string(name))) {
      EXPECT_EQ(d, nullptr) << name;
      continue;
    }
    ASSERT_NE(d, nullptr) << name << " is registered but has no declaration";
    EXPECT_EQ(decl_arity(*d), r.find(name)->arity) << name;
  }
}

TEST(CapabilitiesTest, DocumentShape) {
  json::object caps = capabilities_json(BuiltinRegistry::standard());
  EXPECT_TRUE(caps.contains("future_keywords"));
  EXPECT_TRUE(caps.at("wasm_abi_versions").as_array().empty());
  std::string text = pretty_json(caps);
  // Round-trips, and is indented as `opa capabilities` prints it.
  EXPECT_EQ(json::parse(text), json::value(caps));
  EXPECT_EQ(text.substr(0, 35), "{\n  \"builtins\": [\n    {\n      \"name");
}

}  // namespace
}  // namespace policy
