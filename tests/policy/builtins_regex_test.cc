#include "builtins_test_util.h"

namespace policy::testing {
namespace {

TEST(BuiltinsRegex, FindAndSplit) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("regex.find_n", {J("\"a.\""), J("\"paranormal\""), J("-1")}), "[\"ar\",\"an\",\"al\"]");
  EXPECT_EQ(b.show("regex.find_n", {J("\"^a.\""), J("\"abacadaeaf\""), J("-1")}), "[\"ab\"]");
  EXPECT_EQ(b.show("regex.find_n", {J("\".$\""), J("\"abacadaeaf\""), J("-1")}), "[\"f\"]");
  EXPECT_EQ(b.show("regex.find_all_string_submatch_n",
                   {J("\"[^aouiye]([aouiye])([^aouiye])?\""), J("\"somestri\""), J("-1")}),
            "[[\"som\",\"o\",\"m\"],[\"ri\",\"i\",\"\"]]");
  EXPECT_EQ(b.show("regex.split", {J("\"^[a-z ]+$\""), J("\"foobar baz\"")}), "[\"\",\"\"]");
  EXPECT_EQ(b.show("regex.split", {J("\"[a-z]+$\""), J("\"foobar baz\"")}), "[\"foobar \",\"\"]");
  EXPECT_EQ(b.show("regex.split", {J("\"a\""), J("\"banana\"")}), "[\"b\",\"n\",\"n\",\"\"]");
  EXPECT_EQ(b.show("regex.split", {J("\"x\""), J("\"\"")}), "[\"\"]");
}

TEST(BuiltinsRegex, MatchReplaceTemplate) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("regex.match", {J("\"^[a-z]+\\\\[[0-9]+\\\\]$\""), J("\"foo[1]\"")}), "true");
  EXPECT_EQ(b.reason("regex.match", {J("\"$^[[[\""), J("\"x\"")}), "eval_builtin_error");
  EXPECT_EQ(b.show("regex.is_valid", {J("\"[\"")}), "false");
  EXPECT_EQ(b.show("regex.replace", {J("\"-wy-wxxy-\""), J("\"w(x*)y\""), J("\"0\"")}), "\"-0-0-\"");
  EXPECT_EQ(b.show("regex.replace", {J("\"foo\""), J("\"(foo)\""), J("\"$1$1\"")}), "\"foofoo\"");
  EXPECT_EQ(b.show("regex.replace", {J("\"foo barx\""), J("\"[a-z]{2}\""), J("\"_\"")}), "\"_o __\"");
  EXPECT_EQ(b.show("regex.template_match",
                   {J("\"urn:foo:{.*}\""), J("\"urn:foo:bar:baz\""), J("\"{\""), J("\"}\"")}),
            "true");
  EXPECT_EQ(b.show("regex.template_match",
                   {J("\"urn:foo.{[a-z]+}\""), J("\"urn:foo:bar\""), J("\"{\""), J("\"}\"")}),
            "false");
}

TEST(BuiltinsGlob, Match) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("glob.match", {J("\"*.github.com\""), J("[\".\"]"), J("\"api.github.com\"")}), "true");
  EXPECT_EQ(b.show("glob.match", {J("\"*\""), J("[]"), J("\"foo.bar\"")}), "false");
  EXPECT_EQ(b.show("glob.match", {J("\"*\""), J("null"), J("\"foo.bar\"")}), "true");
  EXPECT_EQ(b.show("glob.match", {J("\"{cat,bat,[fr]at}\""), J("[]"), J("\"rat\"")}), "true");
  EXPECT_EQ(b.show("glob.match", {J("\"?at\""), J("[\"f\"]"), J("\"fat\"")}), "false");
  EXPECT_EQ(b.reason("glob.match", {J("\"[abc\""), J("[]"), J("\"a\"")}), "eval_builtin_error");
  EXPECT_EQ(b.show("glob.quote_meta", {J("\"*.github.com\"")}), "\"\\\\*.github.com\"");
}

}  // namespace
}  // namespace policy::testing
