#include "store/sessions.h"

#include <gtest/gtest.h>

#include "fixtures.h"
#include "test_util.h"

namespace store {
namespace {

using testing::course_row;
using testing::session_row;

class SessionsTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_OK(write([](Txn& t) -> base::Status {
      EC_RETURN_IF_ERROR(insert_course(t, course_row("crs_1")));
      return insert_course(t, course_row("crs_2"));
    }));
  }
  base::Status add(const Session& s) {
    return write([&](Txn& t) { return insert_session(t, s); });
  }
};

TEST_F(SessionsTest, InsertGetAndLive) {
  ASSERT_OK(add(session_row("ses_1", "crs_1", 100)));
  auto got = get_session(db(), "ses_1");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(got->course_id, "crs_1");
  EXPECT_EQ(got->teacher_id, "usr_teacher");
  EXPECT_EQ(got->title, "Session ses_1");
  EXPECT_EQ(got->status, SessionStatus::kLive);
  EXPECT_EQ(got->started_at, 100);
  EXPECT_EQ(got->ended_at, std::nullopt);
  auto live = live_session_for_course(db(), "crs_1");
  ASSERT_TRUE(live.is_ok());
  ASSERT_TRUE(live->has_value());
  EXPECT_EQ((*live)->id, "ses_1");
  auto none = live_session_for_course(db(), "crs_2");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(SessionsTest, MissingIsNotFound) {
  EXPECT_EQ(get_session(db(), "ses_x").status().reason(), "session_not_found");
  base::Status st = write([](Txn& t) { return end_session(t, "ses_x", 5); });
  EXPECT_EQ(st.code(), base::Code::kNotFound);
}

TEST_F(SessionsTest, OnlyOneLiveSessionPerCourse) {
  ASSERT_OK(add(session_row("ses_1", "crs_1")));
  base::Status st = add(session_row("ses_2", "crs_1"));
  EXPECT_EQ(st.code(), base::Code::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "session_already_live");
  ASSERT_OK(add(session_row("ses_3", "crs_2")));  // another course is fine
  ASSERT_OK(write([](Txn& t) { return end_session(t, "ses_1", 500); }));
  ASSERT_OK(add(session_row("ses_2", "crs_1", 600)));  // after ending, a new one may start
}

TEST_F(SessionsTest, EndSessionOnceThenFailedPrecondition) {
  ASSERT_OK(add(session_row("ses_1", "crs_1")));
  ASSERT_OK(write([](Txn& t) { return end_session(t, "ses_1", 900); }));
  auto got = get_session(db(), "ses_1");
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->status, SessionStatus::kEnded);
  EXPECT_EQ(got->ended_at, std::optional<int64_t>(900));
  base::Status again = write([](Txn& t) { return end_session(t, "ses_1", 1000); });
  EXPECT_EQ(again.code(), base::Code::kFailedPrecondition);
  EXPECT_EQ(again.reason(), "session_ended");
  EXPECT_FALSE(live_session_for_course(db(), "crs_1")->has_value());
}

TEST_F(SessionsTest, DuplicateIdAndMissingCourse) {
  ASSERT_OK(add(session_row("ses_1", "crs_1")));
  ASSERT_OK(write([](Txn& t) { return end_session(t, "ses_1", 2); }));
  EXPECT_EQ(add(session_row("ses_1", "crs_1")).reason(), "already_exists");
  base::Status st = add(session_row("ses_9", "crs_none"));
  EXPECT_EQ(st.code(), base::Code::kNotFound);
  EXPECT_EQ(st.reason(), "course_not_found");
}

TEST_F(SessionsTest, ListSessionsOldestFirst) {
  ASSERT_OK(add(session_row("ses_b", "crs_1", 10)));
  ASSERT_OK(write([](Txn& t) { return end_session(t, "ses_b", 11); }));
  ASSERT_OK(add(session_row("ses_a", "crs_1", 20)));
  ASSERT_OK(add(session_row("ses_c", "crs_2", 5)));
  auto list = list_sessions(db(), "crs_1");
  ASSERT_TRUE(list.is_ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "ses_b");
  EXPECT_EQ((*list)[0].status, SessionStatus::kEnded);
  EXPECT_EQ((*list)[1].id, "ses_a");
  EXPECT_TRUE(list_sessions(db(), "crs_none")->empty());
}

}  // namespace
}  // namespace store
