#include "store/cursor.h"

#include <gtest/gtest.h>

#include "store/model.h"

namespace store {
namespace {

TEST(CursorTest, RoundTripsAnyIdAndTime) {
  for (const CursorKey& key :
       {CursorKey{0, "crs_0f8k3m2q9d1xa"}, CursorKey{-5, "a"},
        CursorKey{INT64_MAX, "auth0|42 x/y.é"}, CursorKey{1'700'000'000'000, "a.b.c"}}) {
    std::string c = encode_cursor(key);
    for (char ch : c) EXPECT_TRUE(isalnum((unsigned char)ch) || ch == '-' || ch == '_') << c;
    auto back = decode_cursor(c);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->time, key.time);
    EXPECT_EQ(back->id, key.id);
  }
}

TEST(CursorTest, RejectsWhatItDidNotMake) {
  std::string good = encode_cursor({12, "crs_1"});
  std::vector<std::string> bad = {
      "",
      "=",
      good + "=",
      good.substr(0, good.size() - 1) + "*",
      encode_cursor({12, "crs_1"}).substr(1),  // shifted: not "v1." any more
      "djE",                                   // "v1"
      "djEuMTIz",                              // "v1.123": no id
      "djEuYWJjLmNyc18x",                      // "v1.abc.crs_1": time is not a number
      "djIuMTIuY3JzXzE",                       // "v2.12.crs_1": unknown version
      std::string(600, 'A')};
  for (const std::string& c : bad) {
    auto r = decode_cursor(c);
    ASSERT_FALSE(r.is_ok()) << c;
    EXPECT_EQ(r.status().code(), base::Code::kInvalidArgument) << c;
    EXPECT_EQ(r.status().reason(), "invalid_cursor") << c;
  }
}

TEST(CursorTest, Limits) {
  EXPECT_TRUE(check_limit(1).is_ok());
  EXPECT_TRUE(check_limit(kMaxPageLimit).is_ok());
  EXPECT_EQ(check_limit(0).reason(), "invalid_limit");
  EXPECT_EQ(check_limit(kMaxPageLimit + 1).code(), base::Code::kInvalidArgument);
}

}  // namespace
}  // namespace store
