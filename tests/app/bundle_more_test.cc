// app: OPA bundles beyond the basics: data.yaml, delta bundles (patch.json) and bundles
// signed with PEM keys (RS256, PS256, ES256), as `opa build --signing-alg` makes them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "app/bundle.h"
#include "app/policies.h"
#include "base/crypto.h"

namespace app {
namespace {

namespace json = boost::json;

// Test-only keys (made with `openssl genrsa 2048` and `openssl ecparam -name prime256v1`).
const char* kRsaKey = R"(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCNRjVcOkmEYvHb
gufsmrsbtAcT3oe6fUe0tG5nNmR1VsL38tqi9dlw8wpp5Jle2hy277gRFRg549s7
CkHqaGNupnqjzuE4p0Oo3iAa+torE5CpvvIvSCohkIo3NvVpP0FB9FVsx7TySfOU
VQcv88t1qEQyV7odWLvszClXmVURTjdO0AU4yU1nYkBbdo0zDa8GI1YtshZi8Cpu
1SS+ZprU2An7eYnTBLmcVpNDxINaDigielrc0aVW6cqT14ifKIYhX+E/3CATN1Hj
azx4Ihh94Ts8t82QWml3frt5r0gO83hMKwifFQzT7mE2jn8eZcplUwDcCbfIddZo
P22BQeZvAgMBAAECggEAMcVAykesm8vB+jwhmf0fGxDvB2R3+87kIrkIRitm8+HH
mVPBC/VCECVHj2veTojX4ekNN1NvsAFivGeONldlZFeZUDlzpiJjV0w+ElM65j8j
0XF4YAjz8tQ5pV8i0VvcETDToZmv2UYNXr4f5JhmnwJTWEsIwgr/VdrNW9OkoQ4f
mDymEsaeosmjAfXotDFwyojg4R3A8eGopE7HlZhXFtPPgyGixnHVUf+4XlEzx0PM
wJCxclGxP6ciSS0XdjRQeiS5y4z7bwRqsFo9SlS1rxmRQrW4XGdAp6pxhYYmETuX
0+J4RxNNZPrv/Wu5d3gl88xxaIYTMoQWn846dI172QKBgQDGNxRmdWl2weTA1YXF
ceezYuQ+P5ScWc7QG5zIR61JXjmYv8WTj7/+doyimuyssbpsKTWbRxwwowdn8NIY
8GWY8B24eGRcCC8ezrG7eEXnrC30Ob3iWH55I77WWXbCYRX46QoKPXfDDw95WVyH
nSPrT7kpQ5LbV5EiXu8NAA34CQKBgQC2dZf94WXdmuSRGKNixX+sD587H26cXKXU
Snpzd3v3sHncKKWhzms2uQGaJv++CZlncpSYyd6kATvhhCpS4P8/XrGhgVtWQIKP
2AOrHZYgfSzpaqtWyOtPsxNbLBPIJtNS64K93docRz+GXu+1IaEqiB3Z0xdQuRUq
loeKkY7YtwKBgQCrhWgizUEo4dnYQCzU0Z9FbLLDZvNrZI+BKBPAf73k+iNvGauX
6FGkmeNSpitduSHvjK11o9AyCjFTcWHs8MGJ2WZuhceal/5mc0f7SLV9J1JQv1Kg
NiGjJBp0k9AfnjGMReRJPi2PXk3unTRjqcg2TLOWkIHZSmotyuajYkO0OQKBgHpB
tzM1OXVQmUCj2q6PGWooGZCbEhmRdsgVk5EVCarAxBaB4eHWlz5Wnr00zn3+npyT
SQBLm3QXI5GLZnScMEu83pcSPyo/FXzeyC57J6HjXhmVEPOYsxt3KUwY77RYV5cj
GTqxkbkLAIS/zix3OS9vf1j6OZAsRAOCU5XEzItnAoGABe6x1jO6KxEwlvoA1ffM
7uYceaqVQMl/bAKTd4Hp1wQ6hMb6eueH0KRYfh8zI7oiEuMGcFKKq427yu/sVgfv
lT/uTD1eki73cEAPT6JPQ/bXzUQQjVuKXDHsT7uwAc061APnlOy3gJWM38s8RbHM
Jtgj2VJ7gKltqnfPYlQnrGQ=
-----END PRIVATE KEY-----)";
const char* kRsaPub = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAjUY1XDpJhGLx24Ln7Jq7
G7QHE96Hun1HtLRuZzZkdVbC9/LaovXZcPMKaeSZXtoctu+4ERUYOePbOwpB6mhj
bqZ6o87hOKdDqN4gGvraKxOQqb7yL0gqIZCKNzb1aT9BQfRVbMe08knzlFUHL/PL
dahEMle6HVi77MwpV5lVEU43TtAFOMlNZ2JAW3aNMw2vBiNWLbIWYvAqbtUkvmaa
1NgJ+3mJ0wS5nFaTQ8SDWg4oInpa3NGlVunKk9eInyiGIV/hP9wgEzdR42s8eCIY
feE7PLfNkFppd367ea9IDvN4TCsInxUM0+5hNo5/HmXKZVMA3Am3yHXWaD9tgUHm
bwIDAQAB
-----END PUBLIC KEY-----)";
const char* kEcKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQmEAmZwR3+oKKT7/
swWWImvDRvSTuwLzIw5iu4fgw2ehRANCAAT+aUwa3KoddpuktHWict1CIgMx773s
IDtfefozdlVz08CHGTx0JXx0I7o0AP+fhQqAgWXdH8bkA7nc9VfSN/6R
-----END PRIVATE KEY-----)";
const char* kEcPub = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/mlMGtyqHXabpLR1onLdQiIDMe+9
7CA7X3n6M3ZVc9PAhxk8dCV8dCO6NAD/n4UKgIFl3R/G5AO53PVX0jf+kQ==
-----END PUBLIC KEY-----)";

const char* kJoinPolicy = R"(package education
default allow = false
allow { input.action == "join"; data.config.open == true }
)";

policy::Value data_of(const Bundle& b, std::string_view path) {
  const policy::Value* at = &b.data;
  size_t start = 0;
  while (at != nullptr && start < path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) dot = path.size();
    at = at->find(path.substr(start, dot - start));
    start = dot + 1;
  }
  return at != nullptr ? *at : policy::Value();
}

TEST(BundleYamlTest, DataYamlIsReadAndHashedAsItsJson) {
  auto b = read_bundle(
      tar_gz({{"edu/p.rego", kJoinPolicy},
              {"config/data.yaml", "open: true\nlimits:\n  seats: 30\n  tags: [a, b]\n"}}),
      {});
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_EQ(data_of(*b, "config.limits").to_json(), R"({"seats":30,"tags":["a","b"]})");
  auto a = authorizer_from_bundle(std::move(b).value(), kDefaultPolicyQuery, nullptr);
  ASSERT_TRUE(a.is_ok());
  EXPECT_TRUE((*a)->decide(json::object{{"action", "join"}}).allow);
  // The digest is the canonical JSON's, whatever the YAML spelling.
  EXPECT_EQ(bundle_file_digest("config/data.yaml", "b: [1, x]\na: {c: null}\n"),
            bundle_file_digest("config/data.json", R"({"a":{"c":null},"b":[1,"x"]})"));
  auto bad = read_bundle(tar_gz({{"p.rego", kJoinPolicy}, {"data.yaml", "a: [1, 2\n"}}), {});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("data.yaml"), std::string::npos);
  // data.json and data.yaml of one directory merge; the same key twice is a clash.
  EXPECT_TRUE(
      read_bundle(
          tar_gz({{"p.rego", kJoinPolicy}, {"c/data.json", R"({"x": 1})"}, {"c/data.yaml", "y: 2\n"}}),
          {})
          .is_ok());
  EXPECT_FALSE(
      read_bundle(
          tar_gz({{"p.rego", kJoinPolicy}, {"c/data.json", R"({"x": 1})"}, {"c/data.yaml", "x: 2\n"}}),
          {})
          .is_ok());
}

TEST(BundleDigestTest, StructuredFilesHashAsOpaEncodesThem) {
  // Numbers keep their spelling (OPA reads json.Number), keys sort byte-wise, the last of a
  // repeated key wins, strings are re-escaped as Go does (U+2028 escaped, < > & not, é raw).
  std::string in =
      "{ \"c\": [1e3, -0.5E-2, {\"k\": null}], \"b\": 2, \"b\": 1.0,\n"
      "  \"a\": \"x\xE2\x80\xA8<y\\u0001\" }";
  auto c = canonical_json(in);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, R"({"a":"x\u2028<y\u0001","b":1.0,"c":[1e3,-0.5E-2,{"k":null}]})");
  // sha256 of that text, computed with Python's hashlib.
  EXPECT_EQ(bundle_file_digest("x/data.json", in),
            "cbb559fc8f7becaff67e11baca196fe88ebc1c32aea75661cc44fbb1599d0d91");
  EXPECT_EQ(canonical_json(R"(["\u00e9\ud83d\ude00", "\/"])"),
            "[\"\xC3\xA9\xF0\x9F\x98\x80\",\"/\"]");
  EXPECT_FALSE(canonical_json("{\"a\": 01}").has_value());
  EXPECT_FALSE(canonical_json("[1,]").has_value());
  EXPECT_FALSE(canonical_json("{} x").has_value());
  // A file that is not JSON is hashed byte for byte.
  EXPECT_EQ(bundle_file_digest("data.json", "{"), bundle_file_digest("p.rego", "{"));
}

Bundle snapshot() {
  auto b =
      read_bundle(tar_gz({{".manifest", R"({"revision": "s1", "roots": ["education", "config"]})"},
                          {"edu/p.rego", kJoinPolicy},
                          {"config/data.json", R"({"open": false, "list": [1, 2]})"}}),
                  {});
  EXPECT_TRUE(b.is_ok()) << b.status().to_string();
  return std::move(b).value();
}

base::Result<Bundle> delta(std::string_view patch) {
  return read_bundle(tar_gz({{".manifest", R"({"revision": "d1", "roots": ["config"]})"},
                             {"patch.json", std::string(patch)}}),
                     {});
}

TEST(BundleDeltaTest, PatchJsonUpsertsReplacesAndRemoves) {
  auto d = delta(R"({"data": [
      {"op": "upsert", "path": "/config/open", "value": true},
      {"op": "upsert", "path": "/config/new/deep", "value": {"x": 1}},
      {"op": "upsert", "path": "/config/list/-", "value": 3},
      {"op": "upsert", "path": "/config/list/0", "value": 0},
      {"op": "replace", "path": "/config/list/1", "value": 10},
      {"op": "remove", "path": "/config/new/deep/x"}]})");
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_TRUE(d->delta);
  EXPECT_EQ(d->patch.size(), 6u);
  Bundle base = snapshot();
  auto full = apply_delta(base, *d);
  ASSERT_TRUE(full.is_ok()) << full.status().to_string();
  EXPECT_EQ(full->revision, "d1");
  EXPECT_EQ(full->modules.size(), 1u);
  EXPECT_EQ(data_of(*full, "config").to_json(),
            R"({"list":[0,10,2,3],"new":{"deep":{}},"open":true})");
  // The snapshot itself is unchanged (values are immutable).
  EXPECT_EQ(data_of(base, "config.open").to_json(), "false");
  auto a = authorizer_from_bundle(std::move(full).value(), kDefaultPolicyQuery, nullptr);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ((*a)->revision(), "d1");
  EXPECT_TRUE((*a)->decide(json::object{{"action", "join"}}).allow);
}

TEST(BundleDeltaTest, BadPatchesAreRefusedWithThePath) {
  Bundle base = snapshot();
  auto expect_error = [&](std::string_view patch, std::string_view want) {
    auto d = delta(patch);
    std::string msg;
    if (!d.is_ok()) {
      msg = d.status().message();
    } else {
      auto full = apply_delta(base, *d);
      ASSERT_FALSE(full.is_ok()) << patch;
      msg = full.status().message();
    }
    EXPECT_NE(msg.find(want), std::string::npos) << msg;
  };
  expect_error(R"({"data": [{"op": "replace", "path": "/config/missing", "value": 1}]})",
               "replace /config/missing: the path does not exist");
  expect_error(R"({"data": [{"op": "remove", "path": "/config/a/b"}]})",
               "remove /config/a/b: the path does not exist");
  expect_error(R"({"data": [{"op": "upsert", "path": "/other/x", "value": 1}]})",
               "outside the active bundle's roots");
  expect_error(R"({"data": [{"op": "upsert", "path": "/config/open/x", "value": 1}]})",
               "below a boolean");
  expect_error(R"({"data": [{"op": "upsert", "path": "/config/list/9", "value": 1}]})",
               "out of range");
  expect_error(R"({"data": [{"op": "add", "path": "/config/x", "value": 1}]})", "unknown op 'add'");
  expect_error(R"({"data": [{"op": "upsert", "path": "/config/x"}]})", "without a value");
  expect_error(R"({"ops": []})", "expected {\"data\"");
  // A delta bundle carries nothing but its patch.
  auto mixed = read_bundle(tar_gz({{"patch.json", R"({"data": []})"}, {"p.rego", kJoinPolicy}}), {});
  ASSERT_FALSE(mixed.is_ok());
  EXPECT_NE(mixed.status().message().find("delta bundle"), std::string::npos);
}

std::filesystem::path policy_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("edgeclass_bundle_pem_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "config");
  std::ofstream(dir / "education.rego") << kJoinPolicy;
  std::ofstream(dir / "config" / "data.yaml") << "open: true\n";
  return dir;
}

TEST(BundleSigningTest, PemKeysSignAsOpaBuildDoes) {
  auto dir = policy_dir();
  for (const auto& [alg, key, pub] :
       {std::tuple{"RS256", kRsaKey, kRsaPub}, std::tuple{"PS384", kRsaKey, kRsaPub},
        std::tuple{"ES256", kEcKey, kEcPub}}) {
    auto built = build_bundle(dir.string(), "v1", key, alg);
    ASSERT_TRUE(built.is_ok()) << alg << ": " << built.status().to_string();
    auto b = read_bundle(*built, {pub, ""});
    ASSERT_TRUE(b.is_ok()) << alg << ": " << b.status().to_string();
    EXPECT_TRUE(b->verified);
    EXPECT_EQ(data_of(*b, "config.open").to_json(), "true");
    // Another key does not verify it.
    EXPECT_FALSE(read_bundle(*built, {std::string(alg) == "ES256" ? kRsaPub : kEcPub, ""}).is_ok());
    // The header names the algorithm.
    auto files = untar_gz(*built);  // kept: a range-for over .value() of a temporary dangles
    ASSERT_TRUE(files.is_ok());
    for (const auto& f : *files) {
      if (f.path != ".signatures.json") continue;
      auto token = json::parse(f.bytes).at("signatures").at(0).as_string();
      auto header = base::base64url_decode(std::string(token).substr(0, token.find('.')));
      ASSERT_TRUE(header.has_value());
      EXPECT_EQ(json::parse(*header).at("alg").as_string(), alg);
    }
  }
  // A key of the wrong kind for the algorithm is refused with a reason.
  auto wrong = build_bundle(dir.string(), "v1", kRsaKey, "ES256");
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("needs an EC private key"), std::string::npos);
  auto junk = build_bundle(dir.string(), "v1", "-----BEGIN nothing", "RS256");
  ASSERT_FALSE(junk.is_ok());
  EXPECT_NE(junk.status().message().find("not a PEM private key"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace app
