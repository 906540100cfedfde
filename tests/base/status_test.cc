#include "base/status.h"

#include <gtest/gtest.h>

namespace base {
namespace {

Result<int> half(int n) {
  if (n % 2) return invalid_argument("odd number", "odd");
  return n / 2;
}

Status quarter(int n, int* out) {
  EC_ASSIGN_OR_RETURN(int h, half(n));
  EC_ASSIGN_OR_RETURN(*out, half(h));
  return Status::ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::ok().is_ok());
  Status s = not_found("no such course");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.reason(), "not_found");
  EXPECT_EQ(conflict("x", "already_answered").reason(), "already_answered");
  EXPECT_EQ(s.to_string(), "not_found: no such course");
}

TEST(StatusTest, ResultPropagates) {
  int out = 0;
  EXPECT_TRUE(quarter(8, &out).is_ok());
  EXPECT_EQ(out, 2);
  Status s = quarter(6, &out);
  EXPECT_EQ(s.reason(), "odd");
  EXPECT_EQ(s.message(), "odd number");
}

}  // namespace
}  // namespace base
