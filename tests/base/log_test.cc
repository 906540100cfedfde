#include "base/log.h"

#include <gtest/gtest.h>

#include <vector>

namespace base::log {
namespace {

TEST(LogTest, WritesOneJsonObjectPerLineAboveLevel) {
  std::vector<std::string> lines;
  set_sink([&](std::string_view l) { lines.emplace_back(l); });
  set_level(Level::kInfo);
  debug("hidden").kv("x", 1);
  info("listening").kv("addr", "127.0.0.1:8080").kv("threads", 2).kv("tls", false);
  set_sink(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  const std::string& l = lines[0];
  EXPECT_EQ(l.back(), '\n');
  EXPECT_NE(l.find("\"level\":\"info\""), std::string::npos);
  EXPECT_NE(l.find("\"msg\":\"listening\""), std::string::npos);
  EXPECT_NE(l.find("\"addr\":\"127.0.0.1:8080\""), std::string::npos);
  EXPECT_NE(l.find("\"threads\":2"), std::string::npos);
  EXPECT_NE(l.find("\"tls\":false"), std::string::npos);
}

TEST(LogTest, ParseLevel) {
  Level l;
  EXPECT_TRUE(parse_level("warn", &l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(parse_level("loud", &l));
}

}  // namespace
}  // namespace base::log
