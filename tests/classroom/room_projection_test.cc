// What a live room is rebuilt from (classroom/room_projection.h), read from a real store.
#include "classroom/room_projection.h"

#include <gtest/gtest.h>

#include "room_test_util.h"
#include "store/chat.h"
#include "store/courses.h"
#include "store/live_rooms.h"
#include "store/quizzes.h"
#include "store/sessions.h"
#include "store/txn.h"

namespace classroom {
namespace {

class StoredRoomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::migrated_memory_db();
    ASSERT_TRUE(db_);
    write([](store::Txn& txn) -> base::Status {
      store::Course c{"crs_1", "Algebra", "", "t1", "T", store::CourseStatus::kActive, 7};
      if (auto st = store::insert_course(txn, c); !st.is_ok()) return st;
      return store::insert_session(
          txn, {"ses_1", "crs_1", "t1", "", store::SessionStatus::kLive, 1, {}});
    });
    cfg_.session_id = "ses_1";
    cfg_.course_id = "crs_1";
    cfg_.teacher_id = "t1";
  }
  void write(const store::WriteOp& op) {
    base::Status st = store::transact(*db_, op);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
  }
  store::Quiz quiz(const char* id, store::QuizStatus status, int64_t published_at) {
    store::Quiz q;
    q.id = id;
    q.session_id = "ses_1";
    q.course_id = "crs_1";
    q.title = id;
    q.status = store::QuizStatus::kDraft;
    q.questions = R"([{"kind":"single","prompt":"?","options":["a","b"],"correct":[1]}])";
    q.time_limit_ms = 60'000;
    write([&](store::Txn& txn) -> base::Status {
      if (auto st = store::insert_quiz(txn, q); !st.is_ok()) return st;
      if (status == store::QuizStatus::kDraft) return base::Status::ok();
      if (auto st = store::publish_quiz(txn, id, published_at, published_at + 60'000); !st.is_ok())
        return st;
      return status == store::QuizStatus::kClosed ? store::close_quiz(txn, id, published_at + 1)
                                                  : base::Status::ok();
    });
    return q;
  }

  std::unique_ptr<store::Db> db_;
  RoomConfig cfg_;
};

TEST_F(StoredRoomTest, RebuildsModerationChatAndTheOpenQuizWithItsAnswers) {
  quiz("qz_old", store::QuizStatus::kClosed, 100);
  quiz("qz_open", store::QuizStatus::kPublished, 50);  // open wins over a later closed one
  quiz("qz_draft", store::QuizStatus::kDraft, 0);
  write([](store::Txn& txn) -> base::Status {
    for (auto [who, q, choice] : {std::tuple{"s1", 0, "[1]"}, {"s2", 0, "[0]"}}) {
      auto r = store::insert_answer(txn, {"qz_open", who, q, choice, choice[1] == '1', 60});
      if (!r.is_ok()) return r.status();
    }
    if (auto st = store::set_member_muted(txn, "ses_1", "s2", true, 1); !st.is_ok()) return st;
    if (auto st = store::set_member_removed(txn, "ses_1", "s3", 1); !st.is_ok()) return st;
    if (auto st = store::insert_chat(txn, {"msg_1", "ses_1", "t1", "T", "hello", 5, false});
        !st.is_ok())
      return st;
    return store::insert_chat(txn, {"msg_2", "ses_1", "s1", "S", "hi", 6, false});
  });
  StoredRoom r = read_stored_room(*db_, cfg_, 1000);
  EXPECT_EQ(r.state, StoredRoom::State::kLive);
  ASSERT_TRUE(r.capacity);
  EXPECT_EQ(*r.capacity, 7u);
  EXPECT_EQ(r.restore.muted, std::vector<std::string>{"s2"});
  EXPECT_EQ(r.restore.removed, std::vector<std::string>{"s3"});
  ASSERT_EQ(r.restore.recent_chat.size(), 2u);
  EXPECT_EQ(r.restore.recent_chat[0].role, Role::kTeacher);
  EXPECT_EQ(r.restore.recent_chat[1].role, Role::kStudent);
  ASSERT_TRUE(r.restore.quiz);
  EXPECT_EQ(r.restore.quiz->id, "qz_open");
  EXPECT_FALSE(r.restore.quiz_closed);
  EXPECT_EQ(r.restore.quiz->deadline_ms, 50 + 60'000);
  ASSERT_EQ(r.restore.answers.size(), 2u);
  EXPECT_EQ(r.restore.answers[0].first, "s1");
  EXPECT_EQ(r.restore.answers[0].second, (AnswerSet{{1}}));
}

TEST_F(StoredRoomTest, EndedSessionOrArchivedCourseIsReportedInsteadOfRestored) {
  write([](store::Txn& txn) {
    store::Course c{"crs_1", "Algebra", "", "t1", "T", store::CourseStatus::kArchived, 7};
    return store::update_course(txn, c);
  });
  EXPECT_EQ(read_stored_room(*db_, cfg_, 1000).state, StoredRoom::State::kArchived);
  write([](store::Txn& txn) { return store::end_session(txn, "ses_1", 3); });
  EXPECT_EQ(read_stored_room(*db_, cfg_, 1000).state, StoredRoom::State::kEnded);
}

}  // namespace
}  // namespace classroom
