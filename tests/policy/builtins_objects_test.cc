#include "builtins_test_util.h"

namespace policy::testing {
namespace {

TEST(BuiltinsObjects, GetKeysRemoveFilter) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("object.get", {J("{\"a\":{\"b\":[{\"c\":1}]}}"), J("[\"a\",\"b\",0,\"c\"]"), J("2")}), "1");
  EXPECT_EQ(b.show("object.get", {J("{\"a\":1}"), J("[]"), J("2")}), "{\"a\":1}");
  EXPECT_EQ(b.show("object.get", {J("{\"a\":1}"), J("\"b\""), J("2")}), "2");
  EXPECT_EQ(b.show("object.get", {J("\"x\""), J("\"b\""), J("2")}),
            "error: object.get: operand 1 must be object but got string");
  EXPECT_EQ(b.show("object.keys", {J("{\"b\":1,\"a\":2}")}), "[\"a\",\"b\"]");
  EXPECT_EQ(b.show("object.remove", {J("{\"a\":1,\"b\":2,\"d\":4}"), J("[\"d\",\"b\"]")}), "{\"a\":1}");
  EXPECT_EQ(b.show("object.filter", {J("{\"a\":1,\"b\":2,\"e\":9}"), J("{\"a\":\"x\",\"e\":\"\"}")}),
            "{\"a\":1,\"e\":9}");
  EXPECT_EQ(b.show("object.remove", {J("{\"a\":1}"), J("\"foo\"")}),
            "error: object.remove: operand 2 must be one of {object, set, array} but got string");
}

TEST(BuiltinsObjects, UnionSubset) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("object.union", {J("{\"a\":{\"b\":{\"c\":1}},\"e\":1}"),
                                    J("{\"a\":{\"b\":\"foo\",\"b1\":\"bar\"},\"d\":7,\"e\":17}")}),
            "{\"a\":{\"b\":\"foo\",\"b1\":\"bar\"},\"d\":7,\"e\":17}");
  EXPECT_EQ(b.show("object.union_n", {J("[{\"a\":1,\"b\":2},{\"a\":\"x\"}]")}), "{\"a\":\"x\",\"b\":2}");
  EXPECT_EQ(b.reason("object.union_n", {J("[{\"a\":1},\"baz\"]")}), "eval_type_error");
  EXPECT_EQ(b.show("object.subset", {J("[1,2,3,4,5,6]"), J("[3,4,5]")}), "true");
  EXPECT_EQ(b.show("object.subset", {J("[1,2,3,4,5,6]"), J("[4,5,6,8]")}), "false");
  EXPECT_EQ(b.show("object.subset", {J("{\"a\":5,\"n\":{\"x\":[6,7,8]}}"), J("{\"n\":{\"x\":[6,7]}}")}), "true");
  EXPECT_EQ(b.show("object.subset", {J("{\"a\":5,\"b\":7}"), J("{\"a\":5,\"b\":10}")}), "false");
}

TEST(BuiltinsObjects, JsonFilterRemovePatch) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("json.filter", {J("{\"a\":[{\"b\":7,\"c\":8},{\"d\":9}]}"), J("[\"a/0/b\",\"a/1\"]")}),
            "{\"a\":[{\"b\":7},{\"d\":9}]}");
  EXPECT_EQ(b.show("json.filter", {J("{\"a\":{\"b\":7}}"), J("[\"a\",\"a/b\"]")}), "{\"a\":{\"b\":7}}");
  EXPECT_EQ(b.show("json.remove", {J("{\"a\":[{\"b\":7,\"c\":8},{\"d\":9}]}"), J("[\"a/0/b\",\"a/1\"]")}),
            "{\"a\":[{\"c\":8}]}");
  EXPECT_EQ(b.show("json.remove", {J("{\"a\":{\"b\":7},\"c\":1}"), J("[\"a\",\"a/b\"]")}), "{\"c\":1}");
  EXPECT_EQ(b.show("json.remove", {J("{}"), J("[\"a\",1]")}),
            "error: json.remove: operand 2 must be one of {set, array} containing string paths or "
            "array of path segments but got number");
  EXPECT_EQ(b.show("json.patch", {J("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}"),
                                  J("[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]")}),
            "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
  EXPECT_EQ(b.show("json.patch", {J("[\"foo\",\"sil\"]"), J("[{\"op\":\"add\",\"path\":\"/3\",\"value\":1}]")}),
            "undefined");
  EXPECT_EQ(b.show("json.patch", {J("[\"foo\",\"bar\"]"), J("[{\"op\":\"test\",\"path\":\"/01\",\"value\":\"bar\"}]")}),
            "undefined");
  EXPECT_EQ(b.show("json.patch", {J("{}"), J("[{\"op\":\"add\",\"path\":\"/\",\"value\":1}]")}), "{\"\":1}");
  EXPECT_EQ(b.show("json.patch", {J("{\"/\":9,\"~1\":10}"), J("[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]")}),
            "{\"/\":9,\"~1\":10}");
}

TEST(BuiltinsCollections, ArraysNumbersBits) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("array.slice", {J("[1,2,3,4,5]"), J("-1"), J("2")}), "[1,2]");
  EXPECT_EQ(b.show("array.slice", {J("[1,2,3,4,5]"), J("-4"), J("-1")}), "[]");
  EXPECT_EQ(b.show("array.flatten", {J("[[1,2],\"s\",[3,[4]]]")}), "[1,2,\"s\",3,[4]]");
  EXPECT_EQ(b.show("numbers.range", {J("2"), J("-3")}), "[2,1,0,-1,-2,-3]");
  EXPECT_EQ(b.show("numbers.range", {J("3.14"), J("4")}),
            "error: numbers.range: operand 1 must be integer number but got floating-point number");
  EXPECT_EQ(b.show("numbers.range_step", {J("10"), J("3"), J("2")}), "[10,8,6,4]");
  EXPECT_EQ(b.show("numbers.range_step", {J("0"), J("10"), J("99999999999999999999")}), "[0]");
  EXPECT_EQ(b.reason("numbers.range_step", {J("0"), J("10"), J("-2")}), "eval_builtin_error");
  EXPECT_EQ(b.show("round", {J("-1.5")}), "-2");
  EXPECT_EQ(b.show("floor", {J("1.5")}), "1");
  EXPECT_EQ(b.show("bits.lsh", {J("2147483647"), J("1")}), "4294967294");
  EXPECT_EQ(b.show("bits.negate", {J("42")}), "-43");
  EXPECT_EQ(b.show("units.parse_bytes", {J("\"10KiB\"")}), "10240");
  EXPECT_EQ(b.show("units.parse", {J("\"100m\"")}), "0.1");
  EXPECT_EQ(b.show("intersection", {J("[]")}).substr(0, 5), "error");
}

}  // namespace
}  // namespace policy::testing

namespace policy::testing {
namespace {

TEST(BuiltinsDeprecated, V0Builtins) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("any", {J("[false, true]")}), "true");
  EXPECT_EQ(b.show("all", {J("[true, 1]")}), "false");
  EXPECT_EQ(b.show("all", {J("[]")}), "true");
  EXPECT_EQ(b.show("set_diff", {Value::set({J("1"), J("2")}), Value::set({J("2")})}), "[1]");
  EXPECT_EQ(b.show("cast_set", {J("[2, 1, 2]")}), "[1,2]");
  EXPECT_EQ(b.reason("cast_string", {J("1")}), "eval_type_error");
  EXPECT_EQ(b.show("net.cidr_overlap", {J("\"10.0.0.0/8\""), J("\"10.2.3.4\"")}), "true");
}

}  // namespace
}  // namespace policy::testing
