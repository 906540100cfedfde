#include "base/strings.h"

#include <gtest/gtest.h>

namespace base {
namespace {

TEST(StringsTest, JsonEscape) {
  std::string out;
  append_json_escaped(out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\u0001");
}

TEST(StringsTest, ParseInt) {
  EXPECT_EQ(parse_int("123"), 123);
  EXPECT_EQ(parse_int("-5"), -5);
  EXPECT_FALSE(parse_int(""));
  EXPECT_FALSE(parse_int("12a"));
  EXPECT_FALSE(parse_int("99999999999999999999"));
}

TEST(StringsTest, ParseDuration) {
  EXPECT_EQ(parse_duration_ms("1h"), 3'600'000);
  EXPECT_EQ(parse_duration_ms("30s"), 30'000);
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("15m"), 900'000);
  EXPECT_FALSE(parse_duration_ms("h"));
  EXPECT_FALSE(parse_duration_ms("10y"));
}

TEST(StringsTest, Split) {
  auto p = split("a/b//c", '/');
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[2], "");
  EXPECT_EQ(p[3], "c");
}

}  // namespace
}  // namespace base
