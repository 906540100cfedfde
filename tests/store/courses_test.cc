#include "store/courses.h"

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

namespace store {
namespace {

class CoursesTest : public testing::StoreTest {
 protected:
  Course make_course(const std::string& id, int64_t created_at,
                     CourseStatus status = CourseStatus::kActive,
                     const std::string& teacher = "usr_teacher1") {
    Course c;
    c.id = id;
    c.title = "Title " + id;
    c.description = "About " + id;
    c.teacher_id = teacher;
    c.teacher_name = "Ms " + teacher;
    c.status = status;
    c.capacity = 30;
    c.enrolled = 99;  // ignored by insert_course
    c.created_at = created_at;
    c.updated_at = created_at;
    return c;
  }
  void add(const Course& c) {
    ASSERT_OK(write([&](Txn& t) { return insert_course(t, c); }));
  }
  Enrollment make_enrollment(const std::string& course, const std::string& student, int64_t at) {
    return Enrollment{course, student, "Name " + student, at};
  }
};

TEST_F(CoursesTest, InsertAndGetRoundTrip) {
  Course c = make_course("crs_1", 1000);
  add(c);
  auto got = get_course(db(), "crs_1");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(got->id, "crs_1");
  EXPECT_EQ(got->title, c.title);
  EXPECT_EQ(got->description, c.description);
  EXPECT_EQ(got->teacher_id, c.teacher_id);
  EXPECT_EQ(got->teacher_name, c.teacher_name);
  EXPECT_EQ(got->status, CourseStatus::kActive);
  EXPECT_EQ(got->capacity, 30);
  EXPECT_EQ(got->enrolled, 0);
  EXPECT_EQ(got->created_at, 1000);
  EXPECT_EQ(got->updated_at, 1000);
}

TEST_F(CoursesTest, GetMissingIsNotFound) {
  auto got = get_course(db(), "crs_nope");
  ASSERT_FALSE(got.is_ok());
  EXPECT_EQ(got.status().code(), base::Code::kNotFound);
  EXPECT_EQ(got.status().reason(), "course_not_found");
}

TEST_F(CoursesTest, DuplicateIdIsConflict) {
  add(make_course("crs_1", 1000));
  base::Status st = write([&](Txn& t) { return insert_course(t, make_course("crs_1", 2000)); });
  EXPECT_EQ(st.code(), base::Code::kConflict);
  EXPECT_EQ(st.reason(), "already_exists");
}

TEST_F(CoursesTest, UpdateOverwritesEditableFields) {
  add(make_course("crs_1", 1000));
  Course c = make_course("crs_1", 1000);
  c.title = "New";
  c.description = "Changed";
  c.teacher_name = "Dr X";
  c.status = CourseStatus::kArchived;
  c.capacity = 5;
  c.updated_at = 5000;
  c.created_at = 1;        // not editable
  c.teacher_id = "usr_z";  // not editable
  ASSERT_OK(write([&](Txn& t) { return update_course(t, c); }));
  auto got = get_course(db(), "crs_1");
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->title, "New");
  EXPECT_EQ(got->description, "Changed");
  EXPECT_EQ(got->teacher_name, "Dr X");
  EXPECT_EQ(got->status, CourseStatus::kArchived);
  EXPECT_EQ(got->capacity, 5);
  EXPECT_EQ(got->updated_at, 5000);
  EXPECT_EQ(got->created_at, 1000);
  EXPECT_EQ(got->teacher_id, "usr_teacher1");
}

TEST_F(CoursesTest, UpdateMissingIsNotFound) {
  base::Status st = write([&](Txn& t) { return update_course(t, make_course("crs_x", 1)); });
  EXPECT_EQ(st.code(), base::Code::kNotFound);
}

TEST_F(CoursesTest, ListPaginatesInCreationOrder) {
  // Several courses share a created_at so the id tie-break matters.
  std::vector<std::string> want;
  for (int i = 0; i < 23; ++i) {
    std::string id = "crs_" + std::string(1, char('a' + (i * 7) % 23));
    add(make_course(id, 1000 + i / 3));
  }
  auto all = list_courses(db(), {}, "", kMaxPageLimit);
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->items.size(), 23u);
  EXPECT_TRUE(all->next_cursor.empty());
  for (size_t i = 1; i < all->items.size(); ++i) {
    const Course& a = all->items[i - 1];
    const Course& b = all->items[i];
    EXPECT_TRUE(a.created_at < b.created_at || (a.created_at == b.created_at && a.id < b.id));
  }
  std::vector<std::string> paged;
  std::string cursor;
  int pages = 0;
  do {
    auto page = list_courses(db(), {}, cursor, 5);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    EXPECT_LE(page->items.size(), 5u);
    for (auto& c : page->items) paged.push_back(c.id);
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty());
  EXPECT_EQ(pages, 5);
  ASSERT_EQ(paged.size(), 23u);
  for (size_t i = 0; i < paged.size(); ++i) EXPECT_EQ(paged[i], all->items[i].id);
}

TEST_F(CoursesTest, ExactMultipleOfLimitHasNoDanglingCursor) {
  for (int i = 0; i < 4; ++i) add(make_course("crs_" + std::to_string(i), i));
  auto p1 = list_courses(db(), {}, "", 2);
  ASSERT_TRUE(p1.is_ok());
  ASSERT_FALSE(p1->next_cursor.empty());
  auto p2 = list_courses(db(), {}, p1->next_cursor, 2);
  ASSERT_TRUE(p2.is_ok());
  EXPECT_EQ(p2->items.size(), 2u);
  EXPECT_TRUE(p2->next_cursor.empty());
}

TEST_F(CoursesTest, ListFiltersByStatusAndTeacher) {
  add(make_course("crs_a", 1, CourseStatus::kActive, "usr_t1"));
  add(make_course("crs_b", 2, CourseStatus::kDraft, "usr_t1"));
  add(make_course("crs_c", 3, CourseStatus::kActive, "usr_t2"));
  add(make_course("crs_d", 4, CourseStatus::kArchived, "usr_t2"));
  auto ids = [&](const CourseFilter& f) {
    std::vector<std::string> out;
    auto page = list_courses(db(), f, "", 100);
    EXPECT_TRUE(page.is_ok());
    for (auto& c : page->items) out.push_back(c.id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({CourseStatus::kActive, std::nullopt}), (V{"crs_a", "crs_c"}));
  EXPECT_EQ(ids({std::nullopt, std::string("usr_t2")}), (V{"crs_c", "crs_d"}));
  EXPECT_EQ(ids({CourseStatus::kActive, std::string("usr_t2")}), (V{"crs_c"}));
  EXPECT_EQ(ids({CourseStatus::kDraft, std::string("usr_t2")}), V{});
  // Paging through a filter keeps the filter.
  auto p1 = list_courses(db(), {std::nullopt, std::string("usr_t2")}, "", 1);
  ASSERT_TRUE(p1.is_ok());
  ASSERT_EQ(p1->items.size(), 1u);
  auto p2 = list_courses(db(), {std::nullopt, std::string("usr_t2")}, p1->next_cursor, 1);
  ASSERT_TRUE(p2.is_ok());
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_EQ(p2->items[0].id, "crs_d");
}

TEST_F(CoursesTest, BadCursorsAndLimitsAreInvalidArgument) {
  add(make_course("crs_a", 1));
  for (std::string bad : std::vector<std::string>{
           "x", "!!!!", "djE", "djEuMTIz", "djEuYWJjLmNyc18x", "Zm9v", std::string(600, 'A')}) {
    auto page = list_courses(db(), {}, bad, 10);
    ASSERT_FALSE(page.is_ok()) << bad;
    EXPECT_EQ(page.status().code(), base::Code::kInvalidArgument) << bad;
    EXPECT_EQ(page.status().reason(), "invalid_cursor") << bad;
    auto roster = list_enrollments(db(), "crs_a", bad, 10);
    EXPECT_EQ(roster.status().code(), base::Code::kInvalidArgument) << bad;
  }
  for (int limit : {0, -1, kMaxPageLimit + 1}) {
    auto page = list_courses(db(), {}, "", limit);
    EXPECT_EQ(page.status().code(), base::Code::kInvalidArgument) << limit;
  }
}

TEST_F(CoursesTest, EnrollmentBumpsAndDecrementsCount) {
  add(make_course("crs_1", 1));
  auto ins = [&](const std::string& student) {
    base::Result<bool> out = false;
    EXPECT_OK(write([&](Txn& t) {
      out = insert_enrollment(t, make_enrollment("crs_1", student, 10));
      return out.status();
    }));
    return out.is_ok() && *out;
  };
  EXPECT_TRUE(ins("usr_a"));
  EXPECT_TRUE(ins("usr_b"));
  EXPECT_FALSE(ins("usr_a"));  // already enrolled: unchanged
  EXPECT_EQ(get_course(db(), "crs_1")->enrolled, 2);
  EXPECT_EQ(*count_enrollments(db(), "crs_1"), 2);
  EXPECT_TRUE(*is_enrolled(db(), "crs_1", "usr_a"));
  EXPECT_FALSE(*is_enrolled(db(), "crs_1", "usr_c"));

  auto got = get_enrollment(db(), "crs_1", "usr_b");
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->student_name, "Name usr_b");
  EXPECT_EQ(got->joined_at, 10);
  EXPECT_EQ(get_enrollment(db(), "crs_1", "usr_c").status().reason(), "enrollment_not_found");

  base::Result<bool> removed = false;
  ASSERT_OK(write([&](Txn& t) {
    removed = delete_enrollment(t, "crs_1", "usr_a");
    return removed.status();
  }));
  EXPECT_TRUE(*removed);
  ASSERT_OK(write([&](Txn& t) {
    removed = delete_enrollment(t, "crs_1", "usr_a");
    return removed.status();
  }));
  EXPECT_FALSE(*removed);
  EXPECT_EQ(get_course(db(), "crs_1")->enrolled, 1);
  EXPECT_EQ(*count_enrollments(db(), "crs_1"), 1);
}

TEST_F(CoursesTest, EnrollingInMissingCourseIsNotFound) {
  base::Status st = write([&](Txn& t) {
    return insert_enrollment(t, make_enrollment("crs_none", "usr_a", 1)).status();
  });
  EXPECT_EQ(st.code(), base::Code::kNotFound);
  EXPECT_EQ(st.reason(), "course_not_found");
}

TEST_F(CoursesTest, WritesInAGroupSeeEachOther) {
  add(make_course("crs_1", 1));
  // What the lead's join does: read the count, decide, insert; twice in one transaction.
  std::vector<WriteOp> ops;
  std::vector<int64_t> seen;
  for (const char* s : {"usr_a", "usr_b"}) {
    ops.push_back([&, s](Txn& t) -> base::Status {
      EC_ASSIGN_OR_RETURN(Course c, get_course(t.db(), "crs_1"));
      seen.push_back(c.enrolled);
      return insert_enrollment(t, make_enrollment("crs_1", s, 1)).status();
    });
  }
  BatchResult r = commit_batch(db(), ops);
  ASSERT_OK(r.commit);
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1}));
}

TEST_F(CoursesTest, RosterPaginatesByJoinTime) {
  add(make_course("crs_1", 1));
  add(make_course("crs_2", 1));
  ASSERT_OK(write([&](Txn& t) -> base::Status {
    for (int i = 0; i < 12; ++i) {
      std::string s = "usr_" + std::to_string(100 - i);  // ids sort against join order
      EC_RETURN_IF_ERROR(insert_enrollment(t, make_enrollment("crs_1", s, 50 + i / 4)).status());
    }
    return insert_enrollment(t, make_enrollment("crs_2", "usr_other", 1)).status();
  }));
  std::vector<Enrollment> all;
  std::string cursor;
  do {
    auto page = list_enrollments(db(), "crs_1", cursor, 5);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    for (auto& e : page->items) all.push_back(e);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  ASSERT_EQ(all.size(), 12u);
  std::set<std::string> unique;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].course_id, "crs_1");
    unique.insert(all[i].student_id);
    if (i > 0) {
      EXPECT_TRUE(
          all[i - 1].joined_at < all[i].joined_at ||
          (all[i - 1].joined_at == all[i].joined_at && all[i - 1].student_id < all[i].student_id));
    }
  }
  EXPECT_EQ(unique.size(), 12u);
}

TEST_F(CoursesTest, StudentEnrollmentsAcrossCourses) {
  for (int i = 0; i < 7; ++i) add(make_course("crs_" + std::string(1, char('g' - i)), i));
  ASSERT_OK(write([&](Txn& t) -> base::Status {
    for (int i = 0; i < 7; ++i) {
      std::string c = "crs_" + std::string(1, char('g' - i));
      EC_RETURN_IF_ERROR(insert_enrollment(t, make_enrollment(c, "usr_me", 100 + i / 3)).status());
      EC_RETURN_IF_ERROR(insert_enrollment(t, make_enrollment(c, "usr_other", 1)).status());
    }
    return base::Status::ok();
  }));
  std::vector<Enrollment> mine;
  std::string cursor;
  do {
    auto page = list_student_enrollments(db(), "usr_me", cursor, 3);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    for (auto& e : page->items) mine.push_back(e);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  ASSERT_EQ(mine.size(), 7u);
  for (size_t i = 0; i < mine.size(); ++i) {
    EXPECT_EQ(mine[i].student_id, "usr_me");
    if (i > 0) {
      EXPECT_TRUE(mine[i - 1].joined_at < mine[i].joined_at ||
                  (mine[i - 1].joined_at == mine[i].joined_at &&
                   mine[i - 1].course_id < mine[i].course_id));
    }
  }
  EXPECT_EQ(list_student_enrollments(db(), "usr_me", "bad!", 3).status().reason(),
            "invalid_cursor");
  EXPECT_TRUE(list_student_enrollments(db(), "usr_nobody", "", 3)->items.empty());
}

TEST_F(CoursesTest, RosterCursorCarriesAnyStudentId) {
  add(make_course("crs_1", 1));
  std::vector<std::string> ids = {"auth0|42", "a.b@example.org", "x y/z", "usr_\xc3\xa9"};
  ASSERT_OK(write([&](Txn& t) -> base::Status {
    for (const auto& s : ids) {
      EC_RETURN_IF_ERROR(insert_enrollment(t, make_enrollment("crs_1", s, 7)).status());
    }
    return base::Status::ok();
  }));
  size_t seen = 0;
  std::string cursor;
  do {
    auto page = list_enrollments(db(), "crs_1", cursor, 1);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    seen += page->items.size();
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(seen, ids.size());
}

}  // namespace
}  // namespace store
