// Test helpers for the library builtins: call a builtin by name with JSON-written operands.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "policy/builtin.h"
#include "policy/value.h"

namespace policy::testing {

inline Value J(std::string_view json) {
  auto v = Value::parse_json(json);
  EXPECT_TRUE(v.is_ok()) << json;
  return v.is_ok() ? *v : Value();
}

struct BuiltinCaller {
  base::FakeClock clock{1'700'000'000'000};
  base::SeededRandom random{42};
  BuiltinContext ctx;
  BuiltinCaller() {
    ctx.clock = &clock;
    ctx.random = &random;
    ctx.now_ns = clock.now_unix_ms() * 1'000'000;
  }
  BuiltinResult call(std::string_view name, std::vector<Value> args) {
    const Builtin* b = BuiltinRegistry::standard().find(name);
    if (b == nullptr) return base::not_found("no builtin " + std::string(name));
    EXPECT_EQ(b->arity, static_cast<int>(args.size())) << name;
    return b->fn(ctx, args);
  }
  // The result as JSON text, "undefined", or "error: <message>".
  std::string show(std::string_view name, std::vector<Value> args) {
    auto r = call(name, std::move(args));
    if (!r.is_ok()) return "error: " + r.status().message();
    if (!r->has_value()) return "undefined";
    return (*r)->to_json();
  }
  // The error's reason ("eval_type_error" / "eval_builtin_error") or "ok".
  std::string reason(std::string_view name, std::vector<Value> args) {
    auto r = call(name, std::move(args));
    return r.is_ok() ? "ok" : std::string(r.status().reason());
  }
};

}  // namespace policy::testing
