#include "store/quizzes.h"

#include <gtest/gtest.h>

#include "fixtures.h"
#include "test_util.h"

namespace store {
namespace {

using testing::answer_row;
using testing::course_row;
using testing::quiz_row;
using testing::session_row;

class QuizzesTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_OK(write([](Txn& t) -> base::Status {
      EC_RETURN_IF_ERROR(insert_course(t, course_row("crs_1")));
      EC_RETURN_IF_ERROR(insert_session(t, session_row("ses_1", "crs_1")));
      return insert_quiz(t, quiz_row("qz_1", "ses_1", "crs_1", 10));
    }));
  }
  base::Result<bool> answer(const Answer& a) {
    base::Result<bool> out = false;
    base::Status st = write([&](Txn& t) {
      out = insert_answer(t, a);
      return out.status();
    });
    if (!st.is_ok()) return st;
    return out;
  }
};

TEST_F(QuizzesTest, InsertAndGetRoundTrip) {
  auto q = get_quiz(db(), "qz_1");
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  Quiz want = quiz_row("qz_1", "ses_1", "crs_1", 10);
  EXPECT_EQ(q->session_id, "ses_1");
  EXPECT_EQ(q->course_id, "crs_1");
  EXPECT_EQ(q->title, want.title);
  EXPECT_EQ(q->status, QuizStatus::kDraft);
  EXPECT_EQ(q->questions, want.questions);
  EXPECT_EQ(q->time_limit_ms, 30000);
  EXPECT_EQ(q->published_at, std::nullopt);
  EXPECT_EQ(q->deadline_at, std::nullopt);
  EXPECT_EQ(q->closed_at, std::nullopt);
  EXPECT_EQ(q->created_at, 10);
}

TEST_F(QuizzesTest, NotFoundAndConflicts) {
  EXPECT_EQ(get_quiz(db(), "qz_x").status().reason(), "quiz_not_found");
  EXPECT_EQ(
      write([](Txn& t) { return insert_quiz(t, quiz_row("qz_1", "ses_1", "crs_1")); }).reason(),
      "already_exists");
  base::Status st =
      write([](Txn& t) { return insert_quiz(t, quiz_row("qz_2", "ses_none", "crs_1")); });
  EXPECT_EQ(st.code(), base::Code::kNotFound);
  EXPECT_EQ(write([](Txn& t) { return publish_quiz(t, "qz_x", 1, std::nullopt); }).code(),
            base::Code::kNotFound);
  EXPECT_EQ(write([](Txn& t) { return close_quiz(t, "qz_x", 1); }).code(), base::Code::kNotFound);
}

TEST_F(QuizzesTest, StatusMovesForwardOnly) {
  // Closing a draft is refused.
  base::Status st = write([](Txn& t) { return close_quiz(t, "qz_1", 5); });
  EXPECT_EQ(st.code(), base::Code::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "quiz_not_published");

  ASSERT_OK(write([](Txn& t) { return publish_quiz(t, "qz_1", 100, 30100); }));
  auto q = get_quiz(db(), "qz_1");
  EXPECT_EQ(q->status, QuizStatus::kPublished);
  EXPECT_EQ(q->published_at, std::optional<int64_t>(100));
  EXPECT_EQ(q->deadline_at, std::optional<int64_t>(30100));
  EXPECT_EQ(q->time_limit_ms, 30000);  // read back, the quiz says how long it runs

  st = write([](Txn& t) { return publish_quiz(t, "qz_1", 200, std::nullopt); });
  EXPECT_EQ(st.reason(), "quiz_not_draft");

  ASSERT_OK(write([](Txn& t) { return close_quiz(t, "qz_1", 500); }));
  q = get_quiz(db(), "qz_1");
  EXPECT_EQ(q->status, QuizStatus::kClosed);
  EXPECT_EQ(q->closed_at, std::optional<int64_t>(500));
  EXPECT_EQ(q->published_at, std::optional<int64_t>(100));

  EXPECT_EQ(write([](Txn& t) { return close_quiz(t, "qz_1", 600); }).reason(),
            "quiz_not_published");
  EXPECT_EQ(write([](Txn& t) { return publish_quiz(t, "qz_1", 600, std::nullopt); }).reason(),
            "quiz_not_draft");
}

TEST_F(QuizzesTest, ListQuizzesOfSession) {
  ASSERT_OK(write([](Txn& t) -> base::Status {
    EC_RETURN_IF_ERROR(insert_quiz(t, quiz_row("qz_0", "ses_1", "crs_1", 5)));
    EC_RETURN_IF_ERROR(end_session(t, "ses_1", 50));
    EC_RETURN_IF_ERROR(insert_session(t, session_row("ses_2", "crs_1", 60)));
    return insert_quiz(t, quiz_row("qz_9", "ses_2", "crs_1", 70));
  }));
  auto list = list_quizzes(db(), "ses_1");
  ASSERT_TRUE(list.is_ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "qz_0");
  EXPECT_EQ((*list)[1].id, "qz_1");
  EXPECT_EQ(list_quizzes(db(), "ses_2")->size(), 1u);
}

TEST_F(QuizzesTest, AnswersInsertRetryAndConflict) {
  auto r = answer(answer_row("qz_1", "usr_a", 0, "[1]", 7));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(*r);
  r = answer(answer_row("qz_1", "usr_a", 0, "[1]", 8));  // same choice again: a retry
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(*r);
  r = answer(answer_row("qz_1", "usr_a", 0, "[0]", 9));  // a different choice: refused
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), base::Code::kConflict);
  EXPECT_EQ(r.status().reason(), "already_answered");

  auto mine = get_answers(db(), "qz_1", "usr_a");
  ASSERT_TRUE(mine.is_ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].choice, "[1]");
  EXPECT_TRUE((*mine)[0].correct);
  EXPECT_EQ((*mine)[0].answered_at, 7);
  EXPECT_EQ((*mine)[0].question, 0);
}

TEST_F(QuizzesTest, AnswerToMissingQuizIsNotFound) {
  auto r = answer(answer_row("qz_none", "usr_a", 0));
  EXPECT_EQ(r.status().code(), base::Code::kNotFound);
  EXPECT_EQ(r.status().reason(), "quiz_not_found");
}

TEST_F(QuizzesTest, AllAnswersOrderedByStudentThenQuestion) {
  ASSERT_TRUE(answer(answer_row("qz_1", "usr_b", 1, "[0]")).is_ok());
  ASSERT_TRUE(answer(answer_row("qz_1", "usr_a", 1, "[0,2]")).is_ok());
  ASSERT_TRUE(answer(answer_row("qz_1", "usr_b", 0)).is_ok());
  ASSERT_TRUE(answer(answer_row("qz_1", "usr_a", 0)).is_ok());
  auto all = all_answers(db(), "qz_1");
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 4u);
  std::vector<std::pair<std::string, int64_t>> keys;
  for (auto& a : *all) keys.emplace_back(a.student_id, a.question);
  EXPECT_EQ(keys, (std::vector<std::pair<std::string, int64_t>>{
                      {"usr_a", 0}, {"usr_a", 1}, {"usr_b", 0}, {"usr_b", 1}}));
  EXPECT_EQ((*all)[1].choice, "[0,2]");
  EXPECT_FALSE((*all)[1].correct);
  auto b = get_answers(db(), "qz_1", "usr_b");
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].question, 0);
  EXPECT_TRUE(get_answers(db(), "qz_1", "usr_z")->empty());
}

}  // namespace
}  // namespace store
