#include "classroom/quiz.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace classroom {
namespace {

namespace json = boost::json;

TEST(QuizTest, ParsesAllKinds) {
  auto qs = parse_questions(json::parse(R"([
    {"kind":"single","prompt":"2+2?","options":["3","4"],"correct":[1]},
    {"kind":"multiple","prompt":"primes","options":["2","4","5"],"correct":[2,0]},
    {"kind":"true_false","prompt":"sky is blue","correct":0}
  ])"));
  ASSERT_TRUE(qs.is_ok()) << qs.status().to_string();
  ASSERT_EQ(qs->size(), 3u);
  EXPECT_EQ((*qs)[1].correct, (std::vector<int>{0, 2}));
  EXPECT_EQ((*qs)[2].options.size(), 2u);
  auto back = questions_from_storage(questions_to_storage(*qs));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ((*back)[1].correct, (*qs)[1].correct);
  EXPECT_EQ((*back)[2].kind, QuestionKind::kTrueFalse);
}

TEST(QuizTest, RejectsBadQuestionsWithFieldNames) {
  struct Case {
    const char* body;
    const char* needle;
  } cases[] = {
      {R"([])", "questions must be an array"},
      {R"([{"kind":"single","prompt":"x","options":["a"],"correct":[0]}])", "questions[0].options"},
      {R"([{"kind":"single","prompt":"x","options":["a","b"],"correct":[0,1]}])", "exactly one"},
      {R"([{"kind":"single","prompt":"x","options":["a","b"],"correct":[5]}])", "option 5"},
      {R"([{"kind":"essay","prompt":"x","correct":[0]}])", "questions[0].kind"},
      {R"([{"kind":"single","prompt":"x","options":["a","b"]}])", "questions[0].correct"},
      {R"([{"kind":"single","prompt":"x","options":["a","b"],"correct":[0],"extra":1}])", "unknown field 'questions[0].extra'"},
  };
  for (const auto& c : cases) {
    auto r = parse_questions(json::parse(c.body));
    ASSERT_FALSE(r.is_ok()) << c.body;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << c.body << " -> " << r.status().message();
  }
}

TEST(QuizTest, NormalizesAndGradesChoices) {
  Question q{QuestionKind::kMultiple, "p", {"a", "b", "c"}, {0, 2}};
  auto c = normalize_choice(q, json::parse("[2,0,2]"));
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(*c, (std::vector<int>{0, 2}));
  EXPECT_TRUE(is_correct(q, *c));
  EXPECT_FALSE(is_correct(q, {0}));
  EXPECT_FALSE(normalize_choice(q, json::parse("[]")).is_ok());
  EXPECT_FALSE(normalize_choice(q, json::parse("[3]")).is_ok());
  EXPECT_FALSE(normalize_choice(q, json::parse("\"a\"")).is_ok());
  Question s{QuestionKind::kSingle, "p", {"a", "b"}, {1}};
  EXPECT_FALSE(normalize_choice(s, json::parse("[0,1]")).is_ok());
  EXPECT_EQ(*normalize_choice(s, json::parse("1")), std::vector<int>{1});
  EXPECT_EQ(choice_to_string({0, 2}), "[0,2]");
  EXPECT_EQ(*choice_from_string("[0,2]"), (std::vector<int>{0, 2}));
}

}  // namespace
}  // namespace classroom
