#include "policy/value.h"

#include <gtest/gtest.h>

#include "builtins_test_util.h"
#include "policy/builtin.h"

namespace policy {
namespace {

using testing::J;  // builtins_test_util.h

TEST(ValueTest, TypeOrder) {
  std::vector<Value> v = {Value::empty_set(),
                          Value::empty_object(),
                          Value::empty_array(),
                          Value::string("a"),
                          Value::integer(1),
                          Value::boolean(false),
                          Value()};
  std::sort(v.begin(), v.end());
  EXPECT_TRUE(v[0].is_null());
  EXPECT_TRUE(v[1].is_boolean());
  EXPECT_TRUE(v[2].is_number());
  EXPECT_TRUE(v[3].is_string());
  EXPECT_TRUE(v[4].is_array());
  EXPECT_TRUE(v[5].is_object());
  EXPECT_TRUE(v[6].is_set());
}

TEST(ValueTest, NumbersCompareNumerically) {
  EXPECT_EQ(Value::integer(1), Value::number(1.0));
  EXPECT_EQ(Value::integer(1).hash(), Value::number(1.0).hash());
  EXPECT_LT(Value::integer(1), Value::number(1.5));
  EXPECT_LT(Value::number(-1.5), Value::integer(-1));
  EXPECT_LT(Value::integer(INT64_MAX), Value::number(1e19));
  EXPECT_EQ(number_to_string(Value::number(2.0)), "2");
  EXPECT_EQ(number_to_string(Value::number(0.1)), "0.1");
  EXPECT_EQ(number_to_string(Value::number(1e21)), "1e+21");
  EXPECT_EQ(number_to_string(Value::integer(-42)), "-42");
}

TEST(ValueTest, ObjectsAndSets) {
  Value o = J(R"({"b": 2, "a": [1, 2.5, "x"], "c": null})");
  ASSERT_TRUE(o.is_object());
  EXPECT_EQ(o.size(), 3u);
  ASSERT_NE(o.find("a"), nullptr);
  EXPECT_EQ(o.find("a")->size(), 3u);
  EXPECT_EQ(o.find("zz"), nullptr);
  EXPECT_EQ(o.to_json(), R"({"a":[1,2.5,"x"],"b":2,"c":null})");
  Value s = Value::set({Value::integer(3), Value::integer(1), Value::number(3.0)});
  EXPECT_EQ(s.size(), 2u);
  EXPECT_TRUE(s.contains(Value::integer(3)));
  EXPECT_EQ(s.to_rego(), "{1, 3}");
  EXPECT_EQ(Value::empty_set().to_rego(), "set()");
  Value ok = Value::object({{Value::integer(1), Value::string("x")}});
  EXPECT_EQ(ok.to_json(), R"({"1":"x"})");
  EXPECT_EQ(ok.to_rego(), R"({1: "x"})");
  EXPECT_EQ(J(R"({"a":1,"b":2})"), J(R"({"b":2,"a":1.0})"));
  EXPECT_NE(J(R"({"a":1})"), J(R"({"a":2})"));
}

// A string by reference is the same value as its copy: equal, same hash, same order, same
// text; copying it counts no references (it has no owner).
TEST(ValueTest, StringRefIsTheString) {
  static const std::string kLong = "a string longer than std::string's inline storage";
  for (const std::string& s : {std::string(), std::string("ab"), kLong}) {
    Value ref = Value::string_ref(s);
    Value copy = Value::string(s);
    EXPECT_TRUE(ref.is_string());
    EXPECT_EQ(&ref.as_string(), &s);
    EXPECT_EQ(ref, copy);
    EXPECT_EQ(ref.hash(), copy.hash());
    EXPECT_EQ(ref.size(), s.size());
    EXPECT_EQ(ref.to_json(), copy.to_json());
    EXPECT_EQ(ref.compare(Value::string(s + "x")), -1);
    Value obj = Value::object({{Value::string_ref(kLong), ref}});
    EXPECT_EQ(obj, Value::object({{Value::string(kLong), copy}}));
    EXPECT_NE(obj.find(kLong), nullptr);
  }
}

TEST(ValueTest, JsonRoundTrip) {
  Value v = J(R"([true, false, null, -3, 1.25, "é\n", {"k": [{}]}])");
  EXPECT_EQ(Value::from_json(v.to_json_value()), v);
  EXPECT_EQ(J(v.to_json()), v);
  EXPECT_FALSE(Value::parse_json("{").is_ok());
  // Invalid UTF-8 is replaced so the output stays valid JSON.
  Value bad = Value::string(std::string("a\xff") + "b");
  EXPECT_EQ(bad.to_json(),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_TRUE(Value::parse_json(bad.to_json()).is_ok());
}

TEST(BigIntTest, ArithmeticAgreesWithDecimalText) {
  auto B = [](std::string_view s) { return BigInt::parse(s).value(); };
  EXPECT_EQ((B("999999999999999999999") + B("1")).to_string(), "1000000000000000000000");
  EXPECT_EQ((B("-1000000000000000000000") + B("1")).to_string(), "-999999999999999999999");
  EXPECT_EQ((B("5") - B("18446744073709551621")).to_string(), "-18446744073709551616");
  EXPECT_EQ((B("-18446744073709551617") * B("-18446744073709551617")).to_string(),
            "340282366920938463500268095579187314689");
  EXPECT_EQ((B("123") * B("0")).to_string(), "0");
  EXPECT_FALSE((B("0") * B("-5")).negative());  // no negative zero
  auto qr =
      BigInt::quo_rem(B("-340282366920938463463374607431768211457"), B("18446744073709551616"));
  ASSERT_TRUE(qr.has_value());
  EXPECT_EQ(qr->first.to_string(), "-18446744073709551616");
  EXPECT_EQ(qr->second.to_string(), "-1");
  EXPECT_FALSE(BigInt::quo_rem(B("1"), B("0")).has_value());
  EXPECT_EQ(B("-255").to_hex(false), "-ff");
  EXPECT_EQ(B("+007").to_string(), "7");
  EXPECT_FALSE(BigInt::parse("1.5").has_value());
  EXPECT_FALSE(BigInt::parse("-").has_value());
  EXPECT_EQ(B("9223372036854775807").to_int64(), INT64_MAX);
  EXPECT_EQ(B("-9223372036854775808").to_int64(), INT64_MIN);
  EXPECT_FALSE(B("9223372036854775808").to_int64().has_value());
  EXPECT_EQ(BigInt::from_double(1e30)->to_string(), "1000000000000000019884624838656");
  EXPECT_FALSE(BigInt::from_double(0.5).has_value());
  EXPECT_EQ(B("18446744073709551617").to_double(), 18446744073709551616.0);
  EXPECT_LT(B("-5").compare(B("3")), 0);
  EXPECT_GT(B("-5").compare(B("-6")), 0);
}

TEST(ValueTest, BigIntegersCompareHashAndPrintExactly) {
  Value big = J("18446744073709551617");
  ASSERT_TRUE(big.is_big());
  EXPECT_FALSE(big.is_int());
  EXPECT_FALSE(big.as_int().has_value());
  EXPECT_EQ(big.to_json(), "18446744073709551617");
  EXPECT_NE(big, J("18446744073709551616"));
  EXPECT_LT(J("18446744073709551616"), big);
  EXPECT_LT(Value::integer(INT64_MAX), J("9223372036854775808"));
  EXPECT_LT(J("-9223372036854775809"), Value::integer(INT64_MIN));
  // A double that is exactly the big integer is equal to it, and hashes alike.
  Value two64 = J("18446744073709551616");
  EXPECT_EQ(two64, Value::number(18446744073709551616.0));
  EXPECT_EQ(two64.hash(), Value::number(18446744073709551616.0).hash());
  EXPECT_LT(big, Value::number(1.9e19));
  EXPECT_LT(Value::number(1.8e19), big);
  // Back to int64 when the value fits.
  EXPECT_TRUE(Value::big_integer(BigInt::parse("42").value()).is_int());
  // Arrays of them round-trip through JSON text.
  EXPECT_EQ(J("[123456789012345678901234567890,-99999999999999999999,1.5]").to_json(),
            "[123456789012345678901234567890,-99999999999999999999,1.5]");
}

TEST(BuiltinTest, OperandErrors) {
  std::vector<Value> args = {Value::integer(1)};
  auto s = check_types("count", args, 1, {Type::kArray, Type::kObject, Type::kSet, Type::kString});
  EXPECT_TRUE(is_type_error(s));
  EXPECT_EQ(s.message(),
            "count: operand 1 must be one of {array, object, set, string} but got number");
  EXPECT_TRUE(check_type("count", args, 1, Type::kNumber).is_ok());
  auto e = builtin_error("base64.decode", "illegal base64 data at input byte 0");
  EXPECT_TRUE(is_builtin_error(e));
  EXPECT_FALSE(is_type_error(e));
  std::vector<Value> f = {Value::number(1.5)};
  EXPECT_FALSE(arg_int("x", f, 1).is_ok());
}

}  // namespace
}  // namespace policy
