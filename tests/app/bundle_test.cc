// app: OPA bundles (archive, manifest, data, signatures, build) and decision logs.
#include "app/bundle.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "app/decision_log.h"
#include "app/policies.h"
#include "base/crypto.h"

namespace app {
namespace {

namespace json = boost::json;

const char* kPolicy = R"(package education
default allow = false
allow { input.action == "join"; data.config.open == true }
deny_reason["closed"] { input.action == "join" }
)";

std::string sign_hs256(std::string_view secret, const json::object& payload) {
  std::string input = base::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                      base::base64url_encode(json::serialize(payload));
  return input + "." + base::base64url_encode(base::as_bytes(base::hmac_sha256(secret, input)));
}

std::vector<BundleFile> files_r1() {
  return {{".manifest", R"({"revision": "r1", "roots": [""]})"},
          {"edu/education.rego", kPolicy},
          {"config/data.json", R"({"open": false})"}};
}

std::string signatures_for(const std::vector<BundleFile>& files, std::string_view secret) {
  json::array listed;
  for (const auto& f : files) {
    listed.push_back(json::object{
        {"name", f.path}, {"hash", bundle_file_digest(f.path, f.bytes)}, {"algorithm", "SHA-256"}});
  }
  return json::serialize(
      json::object{{"signatures", json::array{sign_hs256(secret, {{"files", listed}})}}});
}

TEST(BundleTest, ArchiveRoundTripsAndRefusesEscapes) {
  std::vector<BundleFile> files = {{"a/b.rego", "package b\n"},
                                   {std::string(120, 'x') + "/long/name.rego", "package c\n"}};
  files[1].path = "dir/" + std::string(110, 'y') + "/n.rego";
  auto back = untar_gz(tar_gz(files));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].path, "a/b.rego");
  EXPECT_EQ((*back)[1].path, files[1].path);
  EXPECT_EQ((*back)[1].bytes, "package c\n");
  EXPECT_FALSE(untar_gz(tar_gz({{"../etc/passwd", "x"}})).is_ok());
  EXPECT_FALSE(untar_gz("not gzip at all").is_ok());
  // The uncompressed size limit holds (a gzip bomb stops at the limit).
  auto big = untar_gz(tar_gz({{"big.rego", std::string(1 << 20, 'a')}}), 1 << 16);
  ASSERT_FALSE(big.is_ok());
  EXPECT_NE(big.status().message().find("larger than"), std::string::npos);
}

TEST(BundleTest, DigestsAreOpasCanonicalJsonOrBytes) {
  // Expected values computed independently (Python hashlib) over the canonical text.
  EXPECT_EQ(bundle_file_digest("x/data.json", R"({ "b": [true, "x<y"], "a": 1 })"),
            "de483f38b9233cf30211ed7ed5a1cac975273f132cc116eaff2e74956ef4dce1");
  EXPECT_EQ(bundle_file_digest("p.rego", "package p\n"),
            "0ad6261536f6380b14ade1a508ac911b8c48230731746e0c76abd26bf3e3a15d");
}

TEST(BundleTest, ReadsManifestDataAndModules) {
  auto b = read_bundle(tar_gz(files_r1()), {});
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_EQ(b->revision, "r1");
  EXPECT_FALSE(b->verified);
  ASSERT_EQ(b->modules.size(), 1u);
  auto a = authorizer_from_bundle(std::move(b).value(), kDefaultPolicyQuery, nullptr);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ((*a)->revision(), "r1");
  auto d = (*a)->decide(json::object{{"action", "join"}});
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason, "closed");
  auto files = files_r1();
  files[2].bytes = R"({"open": true})";
  auto open =
      authorizer_from_bundle(read_bundle(tar_gz(files), {}).value(), kDefaultPolicyQuery, nullptr);
  ASSERT_TRUE(open.is_ok());
  EXPECT_TRUE((*open)->decide(json::object{{"action", "join"}}).allow);
  // Data that clashes, a bad manifest and a bundle without policies are refused.
  files.push_back({"data.json", R"({"config": {"open": false}})"});
  EXPECT_FALSE(read_bundle(tar_gz(files), {}).is_ok());
  EXPECT_FALSE(read_bundle(tar_gz({{".manifest", "[1]"}, {"p.rego", "package p"}}), {}).is_ok());
  EXPECT_FALSE(read_bundle(tar_gz({{"data.json", "{}"}}), {}).is_ok());
}

TEST(BundleTest, PackagesAndDataMustLieUnderTheManifestsRoots) {
  auto files = files_r1();
  files[0].bytes = R"({"revision": "r1", "roots": ["education", "config"]})";
  EXPECT_TRUE(read_bundle(tar_gz(files), {}).is_ok());
  files[0].bytes = R"({"revision": "r1", "roots": ["education"]})";
  auto data_out = read_bundle(tar_gz(files), {});
  ASSERT_FALSE(data_out.is_ok());
  EXPECT_NE(data_out.status().message().find("data at 'config' is outside"), std::string::npos)
      << data_out.status().message();
  files[0].bytes = R"({"revision": "r1", "roots": ["config", "education/x"]})";
  auto pkg_out = read_bundle(tar_gz(files), {});
  ASSERT_FALSE(pkg_out.is_ok());
  EXPECT_NE(pkg_out.status().message().find("package education is outside"), std::string::npos)
      << pkg_out.status().message();
  // A root below a data document: its other members are outside.
  files[0].bytes = R"({"revision": "r1", "roots": ["education", "config/open"]})";
  EXPECT_TRUE(read_bundle(tar_gz(files), {}).is_ok());
  files[2].bytes = R"({"open": true, "other": 1})";
  EXPECT_FALSE(read_bundle(tar_gz(files), {}).is_ok());
}

TEST(BundleTest, SignaturesAreVerifiedWhenAKeyIsConfigured) {
  BundleVerification v{"s3cret", ""};
  auto files = files_r1();
  auto unsigned_ = read_bundle(tar_gz(files), v);
  ASSERT_FALSE(unsigned_.is_ok());
  EXPECT_NE(unsigned_.status().message().find(".signatures.json"), std::string::npos);

  auto signed_files = files;
  signed_files.push_back({".signatures.json", signatures_for(files, "s3cret")});
  auto ok = read_bundle(tar_gz(signed_files), v);
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_TRUE(ok->verified);
  // Without a key the signature is not looked at.
  EXPECT_TRUE(read_bundle(tar_gz(signed_files), {}).is_ok());

  auto wrong_key = read_bundle(tar_gz(signed_files), {"other", ""});
  ASSERT_FALSE(wrong_key.is_ok());
  EXPECT_NE(wrong_key.status().message().find("does not verify"), std::string::npos)
      << wrong_key.status().message();

  auto tampered = signed_files;
  tampered[2].bytes = R"({"open": true})";
  auto t = read_bundle(tar_gz(tampered), v);
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("config/data.json: digest mismatch"), std::string::npos)
      << t.status().message();

  auto extra = signed_files;
  extra.push_back({"sneaky.rego", "package education\nallow = true\n"});
  auto e = read_bundle(tar_gz(extra), v);
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find("sneaky.rego: not included"), std::string::npos);

  auto scoped = read_bundle(tar_gz(signed_files), {"s3cret", "write"});
  ASSERT_FALSE(scoped.is_ok());
  EXPECT_NE(scoped.status().message().find("scope"), std::string::npos);
}

TEST(BundleTest, BuildMakesAVerifiableBundleOfADirectory) {
  auto dir =
      std::filesystem::temp_directory_path() / ("edgeclass_bundle_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "config");
  std::ofstream(dir / "education.rego") << kPolicy;
  std::ofstream(dir / "config" / "data.json") << R"({"open": true})";
  std::ofstream(dir / "notes.txt") << "not in the bundle";
  auto built = build_bundle(dir.string(), "v9", "k");
  ASSERT_TRUE(built.is_ok()) << built.status().to_string();
  auto b = read_bundle(*built, {"k", ""});
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_EQ(b->revision, "v9");
  EXPECT_TRUE(b->verified);
  auto names = untar_gz(*built).value();
  for (const auto& f : names) EXPECT_NE(f.path, "notes.txt");
  std::ofstream(dir / "broken.rego") << "package x\nallow { \n";
  EXPECT_FALSE(build_bundle(dir.string(), "v10", "").is_ok());
  std::filesystem::remove_all(dir);
}

TEST(DecisionLogTest, EventsFollowOpasFormatWithMaskedPaths) {
  std::vector<std::string> lines;
  auto log = DecisionLog::make("/input/user/name, /input/course/students",
                               [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  auto b = read_bundle(tar_gz(files_r1()), {}).value();
  b.modules[0].source = "package education\nallow { input.user.role == \"student\" }\n";
  auto a = authorizer_from_bundle(std::move(b), kDefaultPolicyQuery, *log);
  ASSERT_TRUE(a.is_ok());
  json::object in{{"action", "join"},
                  {"user", json::object{{"id", "s1"}, {"name", "Sam"}, {"role", "student"}}},
                  {"course", json::object{{"capacity", 2}}}};
  EXPECT_TRUE((*a)->decide(in).allow);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].back(), '\n');
  json::object e = json::parse(lines[0]).as_object();
  EXPECT_EQ(e.at("path"), "education/allow");
  EXPECT_EQ(e.at("result"), true);
  EXPECT_EQ(e.at("bundles").at("edgeclass").at("revision"), "r1");
  EXPECT_EQ(e.at("input").at("user").as_object().count("name"), 0u);
  EXPECT_EQ(e.at("input").at("user").at("id"), "s1");
  EXPECT_EQ(e.at("erased"), (json::array{"/input/user/name"}));  // students absent: not erased
  EXPECT_EQ(e.at("decision_id").as_string().size(), 36u);
  EXPECT_TRUE(e.at("metrics").at("timer_rego_query_eval_ns").is_int64());
  EXPECT_TRUE(e.at("timestamp").is_string());
  // A second decision gets another id; undefined results are omitted.
  (*a)->decide(json::object{{"action", "join"}});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(json::parse(lines[1]).at("decision_id"), e.at("decision_id"));
  EXPECT_FALSE(DecisionLog::make("/user/name").is_ok());
  EXPECT_FALSE(DecisionLog::make("/input//x").is_ok());
}

}  // namespace
}  // namespace app

TEST(QueryDataTest, APathIsSlashSeparatedRegoIdentifiers) {
  auto engine = policy::Engine::compile({{"x.rego", "package a.b\n\nc := 1\n"}});
  ASSERT_TRUE(engine.is_ok()) << engine.status().message();
  const policy::Engine& e = **engine;
  for (std::string_view ok : {"a/b/c", "a/b/c/", "/a/b/c", ""}) {
    auto r = app::query_data(e, ok, boost::json::object{});
    ASSERT_TRUE(r.is_ok()) << ok << ": " << r.status().message();
  }
  EXPECT_EQ(app::query_data(e, "a/b/c", boost::json::object{})->at("result"),
            boost::json::value(1));
  for (std::string_view bad : {"a//b/c", "a/b//c", "a/1b", "a/b-c", "a/b/c//"}) {
    auto r = app::query_data(e, bad, boost::json::object{});
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().reason(), "invalid_path") << bad;
  }
}
