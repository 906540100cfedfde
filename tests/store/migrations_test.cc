#include "store/migrations.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>

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
  // As a newer binary leaves it: its row and the header's copy of the version.
  ASSERT_OK((*db)->exec("INSERT INTO schema_migrations VALUES (999, 0); PRAGMA user_version=999"));
  base::Status st = migrate(**db);
  EXPECT_EQ(st.code(), base::Code::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "schema_too_new");
}

int user_version(Db& db) {
  auto st = db.prepare("PRAGMA user_version");
  EXPECT_TRUE(st.is_ok());
  EXPECT_TRUE(*st->step());
  return int(st->column_int(0));
}

int schema_bytes(Db& db) {
  int cur = 0, hi = 0;
  sqlite3_db_status(db.handle(), SQLITE_DBSTATUS_SCHEMA_USED, &cur, &hi, 0);
  return cur;
}

// Every step records the version in the header too, so that a start can tell an up-to-date
// database without reading its schema.
TEST(MigrationsTest, MigrateSetsUserVersion) {
  TempDir dir;
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  EXPECT_EQ(user_version(**db), 0);
  ASSERT_OK(migrate(**db));
  EXPECT_EQ(user_version(**db), latest_schema_version());
}

// A database migrated before user_version was kept (0 in the header, every step applied) gets
// it on its next migrate; one at the latest version is then checked from its header alone.
TEST(MigrationsTest, UpToDateDatabaseIsCheckedWithoutReadingItsSchema) {
  TempDir dir;
  {
    auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(db.is_ok());
    ASSERT_OK(migrate(**db));
    ASSERT_OK((*db)->exec("PRAGMA user_version=0"));
  }
  {
    auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(db.is_ok());
    ASSERT_OK(migrate(**db));
    EXPECT_EQ(user_version(**db), latest_schema_version());
  }
  DbOptions o;
  o.defer_schema_pragmas = true;
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite, o);
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  ASSERT_OK(migrate(**db));
  EXPECT_EQ(schema_bytes(**db), 0);  // neither open nor migrate read the schema
  ASSERT_OK((*db)->finish_open());
  EXPECT_GT(schema_bytes(**db), 0);
  auto v = schema_version(**db);
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(*v, latest_schema_version());
}

// open() with deferred pragmas on a file that is not a database fails at once, as without.
TEST(MigrationsTest, DeferredOpenOfAFileThatIsNotADatabaseFails) {
  TempDir dir;
  std::string path = dir.file("junk.db");
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  for (int i = 0; i < 512; ++i) fputs("not a database ", f);
  fclose(f);
  DbOptions o;
  o.defer_schema_pragmas = true;
  auto db = Db::open(path, OpenMode::kReadWrite, o);
  EXPECT_FALSE(db.is_ok());
}

// A malformed schema behind a valid header passes the header check and fails finish_open():
// the start that deferred it still ends with an error (app/serve.cc).
TEST(MigrationsTest, DeferredOpenFindsAMalformedSchemaAtFinishOpen) {
  TempDir dir;
  {
    auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(db.is_ok());
    ASSERT_OK(migrate(**db));
    ASSERT_OK(
        (*db)->exec("PRAGMA writable_schema=ON; UPDATE sqlite_master SET sql = "
                    "'CREATE TABLE courses (' WHERE name = 'courses'"));
  }
  DbOptions o;
  o.defer_schema_pragmas = true;
  auto db = Db::open(dir.file("m.db"), OpenMode::kReadWrite, o);
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  ASSERT_OK(migrate(**db));
  EXPECT_FALSE((*db)->finish_open().is_ok());
  // Without deferral the same file fails at open, as it always did.
  EXPECT_FALSE(Db::open(dir.file("m.db"), OpenMode::kReadWrite).is_ok());
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
