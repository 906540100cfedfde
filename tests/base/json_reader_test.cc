#include "base/json_reader.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace base {
namespace {

namespace json = boost::json;

json::value parse(std::string_view text) { return json::parse(text); }

void expect_error(const Status& s, std::string_view reason, std::string_view field) {
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.reason(), reason) << s.message();
  EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
}

TEST(JsonReader, RequiredFieldsReturnTheirValues) {
  json::value v = parse(R"({"title":"Algebra","capacity":40,"open":true,"kind":"single",
                            "items":[1,2],"any":{"x":1}})");
  JsonReader r(v);
  auto title = r.string("title", 1, 200);
  auto cap = r.integer("capacity", 1, 100);
  auto open = r.boolean("open");
  auto kind = r.one_of("kind", {"single", "multiple"});
  auto items = r.array("items", 1, 5);
  auto any = r.value("any");
  ASSERT_TRUE(title.is_ok() && cap.is_ok() && open.is_ok() && kind.is_ok() && items.is_ok() &&
              any.is_ok());
  EXPECT_EQ(*title, "Algebra");
  EXPECT_EQ(*cap, 40);
  EXPECT_TRUE(*open);
  EXPECT_EQ(*kind, "single");
  EXPECT_EQ((*items)->size(), 2u);
  EXPECT_TRUE((*any)->is_object());
  EXPECT_TRUE(r.finish().is_ok());
}

// The class of defect behind the crashes: null where a value is required must be an error for
// every accessor, never an empty value a caller might dereference.
TEST(JsonReader, NullIsAnErrorForEveryAccessor) {
  json::value v = parse(R"({"f":null})");
  expect_error(JsonReader(v).string("f", 0, 10).status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).integer("f", 0, 10).status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).boolean("f").status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).one_of("f", {"a"}).status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).array("f", 0, 10).status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).value("f").status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).optional_string("f", 0, 10).status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).optional_integer("f", 0, 10).status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).optional_boolean("f").status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).optional_one_of("f", {"a"}).status(), "invalid_field", "'f'");
  expect_error(JsonReader(v).optional_value("f").status(), "invalid_field", "'f'");
  // Only optional_any (OPA's input) lets null through, as a value.
  JsonReader r(v);
  const json::value* any = r.optional_any("f");
  ASSERT_NE(any, nullptr);
  EXPECT_TRUE(any->is_null());
}

TEST(JsonReader, MissingRequiredFieldsAreMissingAndOptionalOnesAreEmpty) {
  json::value v = parse("{}");
  JsonReader r(v, "answers[3].");
  expect_error(r.string("title", 1, 2).status(), "missing_field", "'answers[3].title'");
  expect_error(r.integer("n", 1, 2).status(), "missing_field", "'answers[3].n'");
  expect_error(r.value("choice").status(), "missing_field", "'answers[3].choice'");
  auto s = r.optional_string("s", 0, 1);
  auto n = r.optional_integer("n", 0, 1);
  auto b = r.optional_boolean("b");
  auto p = r.optional_value("p");
  ASSERT_TRUE(s.is_ok() && n.is_ok() && b.is_ok() && p.is_ok());
  EXPECT_FALSE(s->has_value());
  EXPECT_FALSE(n->has_value());
  EXPECT_FALSE(b->has_value());
  EXPECT_EQ(*p, nullptr);
}

TEST(JsonReader, WrongTypesAndRangesNameTheFieldAndWhatWasSent) {
  json::value v = parse(R"({"s":5,"n":"5","big":1e300,"neg":-1,"frac":1.5,"u":18446744073709551615,
                            "long":"abcdef","arr":[1,2,3],"e":"maybe"})");
  Status s = JsonReader(v).string("s", 0, 10).status();
  expect_error(s, "invalid_field", "'s'");
  EXPECT_NE(s.message().find("a number"), std::string::npos) << s.message();
  expect_error(JsonReader(v).integer("n", 0, 10).status(), "invalid_field", "'n'");
  expect_error(JsonReader(v).integer("big", 0, 86400).status(), "invalid_field", "'big'");
  expect_error(JsonReader(v).integer("neg", 0, 10).status(), "invalid_field", "'neg'");
  expect_error(JsonReader(v).integer("frac", 0, 10).status(), "invalid_field", "'frac'");
  expect_error(JsonReader(v).integer("u", 0, 86400).status(), "invalid_field", "'u'");
  expect_error(JsonReader(v).string("long", 1, 5).status(), "invalid_field", "'long'");
  expect_error(JsonReader(v).array("arr", 1, 2).status(), "invalid_field", "'arr'");
  expect_error(JsonReader(v).one_of("e", {"yes", "no"}).status(), "invalid_field", "'e'");
}

TEST(JsonReader, IntegralDoublesAreIntegers) {
  json::value v = parse(R"({"n":60.0})");
  auto n = JsonReader(v).integer("n", 1, 100);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 60);
}

TEST(JsonReader, UnknownFieldsFailFinish) {
  json::value v = parse(R"({"title":"x","capcity":3})");
  JsonReader r(v);
  ASSERT_TRUE(r.string("title", 1, 10).is_ok());
  expect_error(r.finish(), "unknown_field", "'capcity'");
}

TEST(JsonReader, ABodyThatIsNotAnObjectFailsEveryAccessor) {
  for (const char* text : {"null", "[]", "3", "\"x\"", "true"}) {
    json::value v = parse(text);
    JsonReader r(v);
    expect_error(r.string("title", 1, 10).status(), "invalid_body", "JSON object");
    expect_error(r.optional_integer("n", 1, 10).status(), "invalid_body", "JSON object");
    EXPECT_EQ(r.optional_any("x"), nullptr);
    expect_error(r.finish(), "invalid_body", "JSON object");
  }
}

TEST(ParseJson, EmptyAndBrokenTextSayWhatWasExpected) {
  auto empty = parse_json("", "a live message");
  expect_error(empty.status(), "invalid_json", "a live message");
  auto broken = parse_json("{\"a\":");
  expect_error(broken.status(), "invalid_json", "the request body");
  std::string deep(100, '[');
  EXPECT_FALSE(parse_json(deep).is_ok());
}

}  // namespace
}  // namespace base
