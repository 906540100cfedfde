// The authorizer the ws tests' servers decide with: the real default policies
// (policies/education.rego, embedded in the binary) through the Rego engine.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "app/policies.h"
#include "classroom/authz.h"

namespace ws::testing {

// Loads them afresh on every call; a load failure fails the calling test and gives nullptr.
inline std::shared_ptr<const classroom::Authorizer> default_policies() {
  size_t files = 0;
  auto a = app::load_policies("", &files);
  EXPECT_TRUE(a.is_ok()) << a.status().to_string();
  return a.is_ok() ? std::shared_ptr<const classroom::Authorizer>(*a) : nullptr;
}

}  // namespace ws::testing
