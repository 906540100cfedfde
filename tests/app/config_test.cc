// app: configuration precedence and refusals, and the policies the server loads.
#include "app/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <fstream>

#include "app/policies.h"

namespace app {
namespace {

namespace json = boost::json;

// Sets environment variables for one test and restores them after.
class EnvTest : public ::testing::Test {
 protected:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name, value, 1);
  }
  void TearDown() override {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }
  std::filesystem::path temp(const std::string& name) {
    auto dir =
        std::filesystem::temp_directory_path() / ("edgeclass_app_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir / name;
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(EnvTest, FlagsOverEnvironmentOverFileOverDefaults) {
  auto file = temp("edgeclass.conf");
  std::ofstream(file) << "# a comment\nEDGECLASS_THREADS=3\nMAX_STUDENTS=40\n"
                         "EDGECLASS_LISTEN=127.0.0.1:9000\n";
  set("EDGECLASS_CONFIG", file.c_str());
  set("MAX_STUDENTS", "50");  // the case study's name
  auto c = load_config({"--listen", "127.0.0.1:9100"});
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->threads, 3);             // file
  EXPECT_EQ(c->max_students, 50);       // environment over file
  EXPECT_EQ(c->listen_port, 9100);      // flag over both
  EXPECT_EQ(c->video_quality, "720p");  // default
}

TEST_F(EnvTest, BadValuesAreRefusedNamingTheirSource) {
  set("EDGECLASS_THREADS", "many");
  auto c = load_config({});
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("EDGECLASS_THREADS"), std::string::npos)
      << c.status().message();
  auto flag = load_config({"--no-such-flag", "1"});
  ASSERT_FALSE(flag.is_ok());
  EXPECT_NE(flag.status().message().find("--no-such-flag"), std::string::npos);
  auto missing = load_config({"--listen"});
  EXPECT_FALSE(missing.is_ok());
}

TEST_F(EnvTest, EveryListedSettingHasAnEnvironmentNameAndHelp) {
  for (const Setting& s : settings()) {
    // EDGECLASS_*, or the case study's own names (MAX_STUDENTS, VIDEO_QUALITY).
    EXPECT_FALSE(std::string(s.env).empty()) << s.flag;
    EXPECT_TRUE(std::string(s.flag).starts_with("--")) << s.flag;
    EXPECT_NE(std::string(s.help), "") << s.env;
    EXPECT_NE(settings_help().find(s.env), std::string::npos) << s.env;
  }
}

TEST_F(EnvTest, EmbeddedPoliciesDecideTheCaseStudysJoinRule) {
  size_t files = 0;
  auto a = load_policies("", &files);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_GE(files, 1u);
  json::object in{{"action", "join"},
                  {"user", json::object{{"id", "s1"}, {"role", "student"}}},
                  {"course", json::object{{"status", "active"},
                                          {"capacity", 2},
                                          {"enrolled", 1},
                                          {"students", json::array{"s2"}}}}};
  EXPECT_TRUE((*a)->decide(in).allow);
  in["course"].as_object()["students"] = json::array{"s2", "s3"};
  auto full = (*a)->decide(in);
  EXPECT_FALSE(full.allow);
  EXPECT_NE(full.reason.find("full"), std::string::npos) << full.reason;
}

TEST_F(EnvTest, ABrokenPolicyIsRefusedWithItsPosition) {
  auto dir = temp("policies");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bad.rego") << "package education\n\nallow if {\n  input.x ==\n";
  size_t files = 0;
  auto a = load_policies(dir.string(), &files);
  ASSERT_FALSE(a.is_ok());
  EXPECT_NE(a.status().message().find("bad.rego:"), std::string::npos) << a.status().message();
  auto none = load_policies((dir / "nope").string(), &files);
  EXPECT_FALSE(none.is_ok());
}

// Without a configured secret the server makes a development one in the data directory, once:
// mode 0600, kept across restarts, replaced when the file holds nothing usable. The Wasm
// server shares this code (base::load_or_make_dev_secret).
TEST(DevSecretTest, MadeOncePrivateAndKept) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("edgeclass-secret-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Config c;
  c.data_dir = (dir / "data").string();  // not there yet: made
  bool generated = false;
  auto first = resolve_jwt_secret(c, &generated);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_TRUE(generated);
  EXPECT_EQ(first->size(), 48u);
  const std::string file = c.data_dir + "/dev-jwt-secret";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto again = resolve_jwt_secret(c, &generated);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(generated);
  EXPECT_EQ(*again, *first);

  {  // a file too short to be a secret (say, truncated by a full disk) is replaced
    std::ofstream(file, std::ios::trunc) << "short\n";
    ::chmod(file.c_str(), 0644);
  }
  auto replaced = resolve_jwt_secret(c, &generated);
  ASSERT_TRUE(replaced.is_ok());
  EXPECT_TRUE(generated);
  EXPECT_NE(*replaced, *first);
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  {  // a secret put there by hand is read whole, however long its line
    std::ofstream(file, std::ios::trunc) << std::string(300, 'k') << "\nsecond line\n";
  }
  auto long_one = resolve_jwt_secret(c, &generated);
  ASSERT_TRUE(long_one.is_ok());
  EXPECT_FALSE(generated);
  EXPECT_EQ(*long_one, std::string(300, 'k'));

  c.jwt_secret = "configured-secret-0123456789";  // a configured one wins, nothing written
  auto configured = resolve_jwt_secret(c, &generated);
  ASSERT_TRUE(configured.is_ok());
  EXPECT_FALSE(generated);
  EXPECT_EQ(*configured, c.jwt_secret);

  c.jwt_secret.clear();
  c.data_dir = "/proc/edgeclass-cannot-be-here";
  auto refused = resolve_jwt_secret(c, &generated);
  EXPECT_FALSE(refused.is_ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace app
