// Migration 3's tables: class codes, attendance visits and the gradebook's reads.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "store/attendance.h"
#include "store/gradebook.h"
#include "store/join_codes.h"
#include "store/quizzes.h"
#include "test_util.h"

namespace store {
namespace {

using testing::course_row;
using testing::session_row;

using TeacherTablesTest = testing::TwoCoursesTest;

TEST_F(TeacherTablesTest, ACodeBelongsToOneCourse) {
  auto none = get_join_code(db(), "crs_1");
  ASSERT_TRUE(none.is_ok()) << none.status().to_string();
  EXPECT_FALSE(none->has_value()) << "a course starts without a code";
  ASSERT_OK(write([](Txn& t) { return set_join_code(t, "crs_1", "ABCDEFGH"); }));
  EXPECT_EQ(*get_join_code(db(), "crs_1"), std::optional<std::string>("ABCDEFGH"));
  EXPECT_EQ(*course_for_join_code(db(), "ABCDEFGH"), std::optional<std::string>("crs_1"));
  base::Status taken = write([](Txn& t) { return set_join_code(t, "crs_2", "ABCDEFGH"); });
  EXPECT_EQ(taken.reason(), "join_code_taken") << taken.to_string();
  // Rotating frees the old code.
  ASSERT_OK(write([](Txn& t) { return set_join_code(t, "crs_1", "JKMNPQRS"); }));
  EXPECT_FALSE(course_for_join_code(db(), "ABCDEFGH")->has_value());
  ASSERT_OK(write([](Txn& t) { return set_join_code(t, "crs_2", "ABCDEFGH"); }));
  base::Status missing = write([](Txn& t) { return set_join_code(t, "crs_nope", "TUVWXYZ2"); });
  EXPECT_EQ(missing.reason(), "course_not_found");
}

TEST_F(TeacherTablesTest, VisitsOpenAndClose) {
  ASSERT_OK(write([](Txn& t) -> base::Status {
    EC_RETURN_IF_ERROR(open_visit(t, {"ses_1", "s1", "Ana", "student", 100, std::nullopt}));
    EC_RETURN_IF_ERROR(open_visit(t, {"ses_1", "s2", "Ben", "student", 110, std::nullopt}));
    EC_RETURN_IF_ERROR(open_visit(t, {"ses_2", "s1", "Ana", "student", 120, std::nullopt}));
    EC_RETURN_IF_ERROR(close_visit(t, "ses_1", "s1", 200));
    EC_RETURN_IF_ERROR(open_visit(t, {"ses_1", "s1", "Ana", "student", 300, std::nullopt}));
    return close_open_visits(t, "ses_1", 50);  // never before the visit began
  }));
  auto v = list_visits(db(), "ses_1");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  ASSERT_EQ(v->size(), 3u);
  EXPECT_EQ((*v)[0].left_at, 200);
  EXPECT_EQ((*v)[1].joined_at, 300);
  EXPECT_EQ((*v)[1].left_at, 300);
  EXPECT_EQ((*v)[2].user_id, "s2");
  EXPECT_EQ((*v)[2].left_at, 110);
  EXPECT_FALSE((*list_visits(db(), "ses_2"))[0].left_at.has_value()) << "another session";
  auto counts = attendance_counts(db(), "crs_1");
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(*counts, (std::map<std::string, int64_t>{{"ses_1", 2}}));
  base::Status bad = write([](Txn& t) {
    return open_visit(t, {"ses_nope", "s1", "", "student", 1, std::nullopt});
  });
  EXPECT_EQ(bad.reason(), "session_not_found");
}

}  // namespace
}  // namespace store
