#include "builtins_test_util.h"

namespace policy::testing {
namespace {

TEST(BuiltinsStrings, Basics) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("concat", {J("\",\""), J("[\"a\",\"b\"]")}), "\"a,b\"");
  EXPECT_EQ(b.reason("concat", {J("\",\""), J("[\"a\",1]")}), "eval_type_error");
  EXPECT_EQ(b.show("format_int", {J("255"), J("16")}), "\"ff\"");
  EXPECT_EQ(b.show("format_int", {J("-5.9"), J("2")}), "\"-101\"");
  EXPECT_EQ(b.show("format_int", {J("1e20"), J("10")}), "\"100000000000000000000\"");
  EXPECT_EQ(b.show("format_int", {J("-18446744073709551616.0"), J("16")}), "\"-10000000000000000\"");
  EXPECT_EQ(b.show("format_int", {J("1e300"), J("3")}), "error: format_int: operand 2 must be one of {2, 8, 10, 16}");
  EXPECT_EQ(b.show("indexof", {J("\"¡¡abc\""), J("\"b\"")}), "3");
  EXPECT_EQ(b.show("indexof_n", {J("\"abab\""), J("\"b\"")}), "[1,3]");
  EXPECT_EQ(b.show("indexof", {J("\"abab\""), J("\"\"")}), "error: indexof: empty search character");
  EXPECT_EQ(b.show("split", {J("\"a.b.c\""), J("\".\"")}), "[\"a\",\"b\",\"c\"]");
  EXPECT_EQ(b.show("substring", {J("\"abcdef\""), J("1"), J("3")}), "\"bcd\"");
  EXPECT_EQ(b.show("substring", {J("\"abcdef\""), J("2"), J("-1")}), "\"cdef\"");
  EXPECT_EQ(b.reason("substring", {J("\"abcdef\""), J("-1"), J("1")}), "eval_builtin_error");
  EXPECT_EQ(b.show("trim", {J("\"¡¡¡foo, bar!!!\""), J("\"!¡\"")}), "\"foo, bar\"");
  EXPECT_EQ(b.show("trim_right", {J("\"!!!foo, bar¡¡¡\""), J("\"!\"")}), "\"!!!foo, bar¡¡¡\"");
  EXPECT_EQ(b.show("trim_space", {J("\" \\t\\n foo, bar \\n\\t\\r\\n\"")}), "\"foo, bar\"");
  EXPECT_EQ(b.show("trim_prefix", {J("\"¡¡¡foo, bar!!!\""), J("\"¡¡¡foo\"")}), "\", bar!!!\"");
  EXPECT_EQ(b.show("upper", {J("\"abcä\"")}), "\"ABCÄ\"");
  EXPECT_EQ(b.show("lower", {J("\"ŁÓDŹ ΣΟΦΊΑ Ÿ\"")}), "\"łódź σοφία ÿ\"");
  EXPECT_EQ(b.show("upper", {J("\"ąęś ÿ\"")}), "\"ĄĘŚ Ÿ\"");
  EXPECT_EQ(b.show("strings.reverse", {J("\"ab¡\"")}), "\"¡ba\"");
  EXPECT_EQ(b.show("replace", {J("\"aXbX\""), J("\"X\""), J("\"--\"")}), "\"a--b--\"");
}

TEST(BuiltinsStrings, ReplaceN) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("strings.replace_n", {J("{\"f\":\"x\",\"foo\":\"xxx\"}"), J("\"foobar\"")}),
            "\"xoobar\"");
  EXPECT_EQ(b.show("strings.replace_n",
                   {J("{\"<\":\"&lt;\",\">\":\"&gt;\"}"), J("\"This is <b>HTML</b>!\"")}),
            "\"This is &lt;b&gt;HTML&lt;/b&gt;!\"");
  EXPECT_EQ(b.show("strings.replace_n", {J("{\"f\":100}"), J("\"foo\"")}),
            "error: strings.replace_n: operand 1 non-string value found in pattern object");
}

TEST(BuiltinsStrings, Sprintf) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("sprintf", {J("\"%s/%d\""), J("[\"p\", 3]")}), "\"p/3\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%v %v\""), J("[1.5, {\"a\":[1]}]")}),
            "\"1.5 {\\\"a\\\": [1]}\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%05.2f|%-4d|%x|%q\""), J("[3.14159, 7, 255, \"hi\"]")}),
            "\"03.14|7   |ff|\\\"hi\\\"\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%d %s\""), J("[\"x\", 5]")}),
            "\"%!d(string=x) %!s(int=5)\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%d\""), J("[]")}), "\"%!d(MISSING)\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%v\""), J("[1e6]")}), "\"1000000\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%v\""), J("[1e-7]")}), "\"1e-07\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%v\""), J("[1234567.5]")}), "\"1.2345675e+06\"");
}

}  // namespace
}  // namespace policy::testing

namespace policy::testing {
namespace {

TEST(BuiltinsStrings, SprintfHostileWidths) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("sprintf", {J("\"%99999999999d\""), J("[1]")}), "\"%!(BADWIDTH)1\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%.99999999999f\""), J("[1.5]")}), "\"%!(BADPREC)1.500000\"");
  EXPECT_EQ(b.show("sprintf", {J("\"%*d\""), J("[3, 7]")}), "\"  7\"");
}

}  // namespace
}  // namespace policy::testing
