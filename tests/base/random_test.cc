#include "base/random.h"

#include <gtest/gtest.h>

#include <set>

namespace base {
namespace {

TEST(RandomTest, IdsHaveShapeAndDiffer) {
  SeededRandom r(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_id("crs", r);
    EXPECT_TRUE(is_valid_id(id, "crs")) << id;
    EXPECT_FALSE(is_valid_id(id, "ses"));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RandomTest, RejectsMalformedIds) {
  EXPECT_FALSE(is_valid_id("", "crs"));
  EXPECT_FALSE(is_valid_id("crs_", "crs"));
  EXPECT_FALSE(is_valid_id("crs_0123456789abc0", "crs"));  // too long
  EXPECT_FALSE(is_valid_id("crs_0123456789abU", "crs"));   // upper case
  EXPECT_FALSE(is_valid_id("crs-0123456789abc", "crs"));
  EXPECT_TRUE(is_valid_id("crs_0123456789abc", "crs"));
}

TEST(RandomTest, SystemRandomFills) {
  uint64_t a = SystemRandom::instance().next_u64();
  uint64_t b = SystemRandom::instance().next_u64();
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace base
