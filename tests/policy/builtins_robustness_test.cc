// Every library builtin, called with operands of every type (and some hostile strings), must
// return a value, undefined or an error: never crash, throw or hang.
#include "builtins_test_util.h"

namespace policy::testing {
namespace {

std::vector<Value> samples() {
  return {Value::null(),
          Value::boolean(true),
          Value::integer(0),
          Value::integer(-1),
          Value::integer(INT64_MAX),
          Value::number(1.5),
          Value::number(1e300),
          Value::string(""),
          Value::string("a"),
          Value::string("{{range .x}}{{else if}}"),
          Value::string("-----BEGIN CERTIFICATE-----\nZm9v\n-----END CERTIFICATE-----"),
          Value::string("a.b.c"),
          Value::string("[\\"),
          Value::string("\xff\xfe%zz"),
          Value::string("2006-01-02T15:04:05Z07:00"),
          J("[]"),
          J("[1, \"x\", [\"y\"]]"),
          J("{}"),
          J("{\"a\": {\"b\": [1, 2]}, \"op\": \"add\", \"path\": \"/a/-\", \"value\": 1}"),
          Value::set({Value::string("a"), Value::integer(1)})};
}

TEST(BuiltinsRobustness, AllOperandTypes) {
  const auto vals = samples();
  const size_t n = vals.size();
  size_t calls = 0;
  for (std::string_view name : BuiltinRegistry::standard().names()) {
    const Builtin* b = BuiltinRegistry::standard().find(name);
    if (name == "test.sleep" || name == "http.send" || b->arity > 4) continue;
    BuiltinCaller caller;
    // All combinations for one or two operands; a diagonal sweep for three and four.
    size_t combos = b->arity == 0 ? 1 : b->arity == 1 ? n : b->arity == 2 ? n * n : n * n;
    for (size_t c = 0; c < combos; ++c) {
      std::vector<Value> args;
      for (int k = 0; k < b->arity; ++k) {
        size_t pick = k == 0 ? c % n : k == 1 ? (c / n) % n : (c + 7 * k) % n;
        args.push_back(vals[pick]);
      }
      auto r = caller.call(name, args);
      if (!r.is_ok()) {
        EXPECT_TRUE(is_type_error(r.status()) || is_builtin_error(r.status()))
            << name << ": " << r.status().message();
        EXPECT_EQ(r.status().message().rfind(std::string(name) + ":", 0), 0u) << r.status().message();
      }
      ++calls;
    }
  }
  EXPECT_GT(calls, 10000u);
}

TEST(BuiltinsRobustness, HostileSizesAreRefused) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("numbers.range", {J("0"), J("1000000000000")}), "error: numbers.range: range too large");
  EXPECT_EQ(b.show("numbers.range_step", {J("0"), J("1000000000000"), J("1000000")}).substr(0, 6), "[0,100");
  std::string big(1 << 20, 'x');
  EXPECT_EQ(b.show("replace", {Value::string(big), J("\"\""), Value::string(std::string(100, 'y'))}),
            "error: replace: result too large");
}

}  // namespace
}  // namespace policy::testing
