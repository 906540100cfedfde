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

TEST(LogTest, EveryLimitsLinesAndCountsTheRest) {
  base::log::Every every(10);  // at most one line per 10 ns of the fake clock
  uint64_t suppressed = 99;
  EXPECT_TRUE(every.due(100, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(every.due(101, &suppressed));
  EXPECT_FALSE(every.due(109, &suppressed));
  EXPECT_TRUE(every.due(110, &suppressed));
  EXPECT_EQ(suppressed, 2u);  // the two events in between
  EXPECT_FALSE(every.due(111, &suppressed));
  EXPECT_TRUE(every.due(500, &suppressed));
  EXPECT_EQ(suppressed, 1u);
}
