#include "builtins_test_util.h"

namespace policy::testing {
namespace {

TEST(BuiltinsEncoding, Base64AndHex) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("base64.encode", {J("\"hello\"")}), "\"aGVsbG8=\"");
  EXPECT_EQ(b.show("base64.decode", {J("\"aGVsbG8=\"")}), "\"hello\"");
  EXPECT_EQ(b.show("base64.is_valid", {J("\"aGVsbG8\"")}), "false");
  EXPECT_EQ(b.show("base64.is_valid", {J("\"aGVsbA==\"")}), "true");
  EXPECT_EQ(b.show("base64url.decode", {J("\"aGVsbG8\"")}), "\"hello\"");
  EXPECT_EQ(b.show("base64url.encode_no_pad", {J("\"there\"")}), "\"dGhlcmU\"");
  EXPECT_EQ(b.show("hex.encode", {J("\"lorem ipsum\"")}), "\"6c6f72656d20697073756d\"");
  EXPECT_EQ(b.show("hex.decode", {J("\"fghijkl\"")}),
            "error: hex.decode: encoding/hex: invalid byte: U+0067 'g'");
}

TEST(BuiltinsEncoding, UrlQuery) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("urlquery.encode", {J("\"a=b+1\"")}), "\"a%3Db%2B1\"");
  EXPECT_EQ(b.show("urlquery.decode", {J("\"a%3Db%2B1\"")}), "\"a=b+1\"");
  EXPECT_EQ(b.show("urlquery.encode_object", {J("{\"a\":[\"b+1\",\"c+2\"],\"c\":\"d\"}")}),
            "\"a=b%2B1&a=c%2B2&c=d\"");
  EXPECT_EQ(b.show("urlquery.decode_object", {J("\"a=value_a1&b&a=value_a2\"")}),
            "{\"a\":[\"value_a1\",\"value_a2\"],\"b\":[\"\"]}");
  EXPECT_EQ(b.show("uri.parse", {J("\"https://example.com:8080/api?q=1#top\"")}),
            "{\"fragment\":\"top\",\"hostname\":\"example.com\",\"path\":\"/api\",\"port\":\"8080\","
            "\"raw_path\":\"/api\",\"raw_query\":\"q=1\",\"scheme\":\"https\"}");
  EXPECT_EQ(b.show("uri.parse", {J("\"mailto:user@example.com\"")}), "{\"scheme\":\"mailto\"}");
  EXPECT_EQ(b.show("uri.is_valid", {J("\"http://[invalid\"")}), "false");
}

TEST(BuiltinsEncoding, JsonYaml) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("json.marshal_with_options", {J("[1,2]"), J("{\"prefix\":\"P\"}")}),
            "\"P[\\nP\\t1,\\nP\\t2\\nP]\"");
  EXPECT_EQ(b.show("json.marshal_with_options", {J("[]"), J("{\"indent\":\" \",\"prefix\":\"---\"}")}),
            "\"---[]\"");
  EXPECT_EQ(b.reason("json.marshal_with_options", {J("[]"), J("{\"x\":1}")}), "eval_type_error");
  EXPECT_EQ(b.show("yaml.unmarshal", {J("\"foo:\\n - qux: bar\\n - baz: 2\\n - 'yes'\\n - yes\"")}),
            "{\"foo\":[{\"qux\":\"bar\"},{\"baz\":2},\"yes\",true]}");
  auto y = b.call("yaml.marshal", {J("[{\"foo\":[1,\"2\",true]}]")});
  ASSERT_TRUE(y.is_ok());
  EXPECT_EQ(b.show("yaml.unmarshal", {**y}), "[{\"foo\":[1,\"2\",true]}]");
  EXPECT_EQ(b.show("yaml.is_valid", {J("\"foo:\\n - baz: {\"")}), "false");
  EXPECT_EQ(b.show("yaml.unmarshal", {J("\"[1,2,3\"")}).substr(0, 43),
            "error: yaml.unmarshal: yaml: line 1: did no");
}

TEST(BuiltinsTime, ParseFormat) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("time.parse_rfc3339_ns", {J("\"2017-06-02T19:00:00-07:00\"")}), "1496455200000000000");
  EXPECT_EQ(b.reason("time.parse_ns", {J("\"2006-01-02T15:04:05Z07:00\""),
                                       J("\"2262-04-11T23:47:16.854775808-00:00\"")}),
            "eval_builtin_error");
  EXPECT_EQ(b.show("time.date", {J("[1517814000000000000, \"America/Los_Angeles\"]")}), "[2018,2,4]");
  EXPECT_EQ(b.show("time.clock", {J("[1517832000000000000, \"America/New_York\"]")}), "[7,0,0]");
  EXPECT_EQ(b.show("time.weekday", {J("1517832000000000000")}), "\"Monday\"");
  EXPECT_EQ(b.show("time.add_date", {J("1585852421593912000"), J("3"), J("9"), J("12")}),
            "1705257221593912000");
  EXPECT_EQ(b.show("time.add_date", {J("1585852421593912000"), J("-1"), J("-1"), J("-1")}),
            "1551465221593912000");
  EXPECT_EQ(b.show("time.format", {J("[1670006453141828752, \"Asia/Kolkata\", \"RFC1123Z\"]")}),
            "\"Sat, 03 Dec 2022 00:10:53 +0530\"");
  EXPECT_EQ(b.show("time.diff", {J("1580601600000000000"), J("1583020800000000000")}),
            "[0,0,28,0,0,0]");
  EXPECT_EQ(b.show("time.date", {J("1.5829776e27")}), "error: time.date: timestamp too big");
  EXPECT_EQ(b.show("time.now_ns", {}), "1700000000000000000");
}

}  // namespace
}  // namespace policy::testing

namespace policy::testing {
namespace {

TEST(BuiltinsEncoding, GoJsonEscaping) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("json.marshal", {J("{\"a\":\"<b>&\"}")}), "\"{\\\"a\\\":\\\"\\\\u003cb\\\\u003e\\\\u0026\\\"}\"");
  // The prefix is layout, not data: it stays as given.
  EXPECT_EQ(b.show("json.marshal_with_options", {J("[\"<\"]"), J("{\"prefix\":\"=> \"}")}),
            "\"=> [\\n=> \\t\\\"\\\\u003c\\\"\\n=> ]\"");
}

}  // namespace
}  // namespace policy::testing

namespace policy::testing {
namespace {

TEST(BuiltinsEncoding, YamlMarshalLayout) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("yaml.marshal", {J("{\"b\":[1,{\"c\":\"x y\",\"d\":[]}],\"a\":{\"e\":\"true\",\"f\":\"\"}}")}),
            "\"a:\\n  e: \\\"true\\\"\\n  f: \\\"\\\"\\nb:\\n- 1\\n- c: x y\\n  d: []\\n\"");
  auto y = b.call("yaml.marshal", {J("{\"k\":[\"- a\",\"#x\",\"a: b\",\"line\\nbreak\",null,1.5,{\"n\":{}}]}")});
  ASSERT_TRUE(y.is_ok());
  EXPECT_EQ(b.show("yaml.unmarshal", {**y}),
            "{\"k\":[\"- a\",\"#x\",\"a: b\",\"line\\nbreak\",null,1.5,{\"n\":{}}]}");
}

}  // namespace
}  // namespace policy::testing
