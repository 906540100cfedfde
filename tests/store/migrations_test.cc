#include "store/migrations.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace store {
namespace {

using testing::TempDir;

TEST(MigrationsTest, FreshDatabaseIsVersionZero) {
  TempDir dir;
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  auto v = schema_version(**db);
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(*v, 0);
}

TEST(MigrationsTest, MigrateBringsToLatestAndIsIdempotent) {
  TempDir dir;
  base::FakeClock clock(1'234'000);
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK(migrate(**db, clock));
  auto v = schema_version(**db);
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(*v, latest_schema_version());
  EXPECT_GE(latest_schema_version(), 1);
  ASSERT_OK(migrate(**db, clock));
  ASSERT_OK(migrate(**db, clock));
  auto st = (*db)->prepare("SELECT COUNT(*), MIN(applied_at) FROM schema_migrations");
  ASSERT_TRUE(st.is_ok());
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(st->column_int(0), latest_schema_version());
  EXPECT_EQ(st->column_int(1), 1'234'000);
}

TEST(MigrationsTest, SurvivesReopen) {
  TempDir dir;
  {
    auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(db.is_ok());
    ASSERT_OK(migrate(**db));
  }
  auto ro = Db::open(dir.file("m.db"), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.is_ok());
  auto v = schema_version(**ro);
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(*v, latest_schema_version());
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK(migrate(**db));
}

TEST(MigrationsTest, CreatesEveryTable) {
  TempDir dir;
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK(migrate(**db));
  for (const char* table : {"courses", "enrollments", "sessions", "quizzes", "answers",
                            "chat_messages", "live_rooms", "live_room_members"}) {
    auto st = (*db)->prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    ASSERT_TRUE(st.is_ok());
    st->bind_all(table);
    EXPECT_TRUE(*st->step()) << table;
  }
}

TEST(MigrationsTest, RefusesNewerSchema) {
  TempDir dir;
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK(migrate(**db));
  ASSERT_OK((*db)->exec("INSERT INTO schema_migrations VALUES (999, 0)"));
  base::Status st = migrate(**db);
  EXPECT_EQ(st.code(), base::Code::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "schema_too_new");
}

TEST(MigrationsTest, ReadOnlyConnectionCannotMigrate) {
  TempDir dir;
  {
    auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(db.is_ok());
  }
  auto ro = Db::open(dir.file("m.db"), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.is_ok());
  EXPECT_FALSE(migrate(**ro).is_ok());
}

// The list queries walk an index in order: no temporary sort, no full scan of a big table.
TEST(MigrationsTest, ListQueriesUseIndexes) {
  TempDir dir;
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK(migrate(**db));
  const char* queries[] = {
      "SELECT * FROM courses WHERE status = ? AND (created_at, id) > (?, ?) "
      "ORDER BY created_at, id LIMIT 5",
      "SELECT * FROM courses WHERE teacher_id = ? AND (created_at, id) > (?, ?) "
      "ORDER BY created_at, id LIMIT 5",
      "SELECT * FROM enrollments WHERE course_id = ? AND (joined_at, student_id) > (?, ?) "
      "ORDER BY joined_at, student_id LIMIT 5",
      "SELECT * FROM enrollments WHERE student_id = ? AND (joined_at, course_id) > (?, ?) "
      "ORDER BY joined_at, course_id LIMIT 5",
      "SELECT * FROM chat_messages WHERE session_id = ? AND (created_at, id) > (?, ?) "
      "ORDER BY created_at, id LIMIT 5",
      "SELECT * FROM answers WHERE quiz_id = ? ORDER BY student_id, question",
      "SELECT * FROM answers WHERE quiz_id = ? AND student_id = ? ORDER BY question",
      "SELECT * FROM sessions WHERE course_id = ? AND status = 'live'",
      "SELECT * FROM sessions WHERE course_id = ? ORDER BY started_at, id",
      "SELECT * FROM quizzes WHERE session_id = ? ORDER BY created_at, id",
  };
  for (const char* q : queries) {
    auto st = (*db)->prepare(std::string("EXPLAIN QUERY PLAN ") + q);
    ASSERT_TRUE(st.is_ok()) << st.status().to_string();
    std::string plan;
    while (*st->step()) plan += st->column_text(3) + "\n";
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << q << "\n" << plan;
    EXPECT_EQ(plan.find("SCAN"), std::string::npos) << q << "\n" << plan;
    EXPECT_NE(plan.find("SEARCH"), std::string::npos) << q << "\n" << plan;
  }
}

}  // namespace
}  // namespace store
