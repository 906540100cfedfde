#include "policy/value.h"

#include <gtest/gtest.h>

#include "builtins_test_util.h"
#include "policy/builtin.h"

namespace policy {
namespace {

using testing::J;  // builtins_test_util.h

TEST(ValueTest, TypeOrder) {
  std::vector<Value> v = {Value::empty_set(), Value::empty_object(), Value::empty_array(),
                          Value::string("a"), Value::integer(1), Value::boolean(false),
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

TEST(ValueTest, JsonRoundTrip) {
  Value v = J(R"([true, false, null, -3, 1.25, "é\n", {"k": [{}]}])");
  EXPECT_EQ(Value::from_json(v.to_json_value()), v);
  EXPECT_EQ(J(v.to_json()), v);
  EXPECT_FALSE(Value::parse_json("{").is_ok());
  // Invalid UTF-8 is replaced so the output stays valid JSON.
  Value bad = Value::string(std::string("a\xff") + "b");
  EXPECT_EQ(bad.to_json(), "\"a\xEF\xBF\xBD" "b\"");
  EXPECT_TRUE(Value::parse_json(bad.to_json()).is_ok());
}

TEST(BuiltinTest, OperandErrors) {
  std::vector<Value> args = {Value::integer(1)};
  auto s = check_types("count", args, 1, {Type::kArray, Type::kObject, Type::kSet, Type::kString});
  EXPECT_TRUE(is_type_error(s));
  EXPECT_EQ(s.message(), "count: operand 1 must be one of {array, object, set, string} but got number");
  EXPECT_TRUE(check_type("count", args, 1, Type::kNumber).is_ok());
  auto e = builtin_error("base64.decode", "illegal base64 data at input byte 0");
  EXPECT_TRUE(is_builtin_error(e));
  EXPECT_FALSE(is_type_error(e));
  std::vector<Value> f = {Value::number(1.5)};
  EXPECT_FALSE(arg_int("x", f, 1).is_ok());
}

}  // namespace
}  // namespace policy
