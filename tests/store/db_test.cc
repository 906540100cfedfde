#include "store/db.h"

#include <gtest/gtest.h>

#include "store/txn.h"
#include "test_util.h"

namespace store {
namespace {

using testing::TempDir;

TEST(DbTest, OpenCreatesParentDirectoriesAndUsesWal) {
  TempDir dir;
  std::string path = dir.file("a/b/c/edgeclass.db");
  auto db = Db::open(path, OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  EXPECT_TRUE(TempDir::exists(path));
  auto st = (*db)->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(st.is_ok());
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(st->column_text(0), "wal");
}

TEST(DbTest, PragmasAreApplied) {
  TempDir dir;
  auto db = Db::open(dir.file("x.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  auto check = [&](const char* sql, int64_t want) {
    auto st = (*db)->prepare(sql);
    ASSERT_TRUE(st.is_ok()) << st.status().to_string();
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->column_int(0), want) << sql;
  };
  check("PRAGMA foreign_keys", 1);
  check("PRAGMA synchronous", 2);  // FULL
  check("PRAGMA busy_timeout", 5000);
}

TEST(DbTest, ReadOnlyOpenOfMissingFileFailsWithPath) {
  TempDir dir;
  auto db = Db::open(dir.file("missing.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(db.is_ok());
  EXPECT_EQ(db.status().code(), base::Code::kUnavailable);
  EXPECT_NE(db.status().message().find("missing.db"), std::string::npos);
}

TEST(DbTest, AReaderConnectedOnFirstUseOpensAtItsFirstStatement) {
  TempDir dir;
  DbOptions lazy;
  lazy.connect_on_first_use = true;
  // Nothing is opened yet: a missing file fails the first statement, and the next one tries
  // again (and finds the file once it exists).
  auto ro = Db::open(dir.file("later.db"), OpenMode::kReadOnly, lazy);
  ASSERT_TRUE(ro.is_ok()) << ro.status().to_string();
  EXPECT_EQ((*ro)->handle(), nullptr);
  EXPECT_TRUE((*ro)->autocommit());
  base::Status missing = (*ro)->exec("SELECT 1");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.code(), base::Code::kUnavailable);
  EXPECT_NE(missing.message().find("later.db"), std::string::npos);
  auto rw = Db::open(dir.file("later.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(rw.is_ok());
  ASSERT_OK((*rw)->exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (7)"));
  auto st = (*ro)->prepare("SELECT v FROM t");
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  auto row = st->step();
  ASSERT_TRUE(row.is_ok() && *row);
  EXPECT_EQ(st->column_int(0), 7);
  EXPECT_NE((*ro)->handle(), nullptr);
  EXPECT_FALSE((*ro)->exec("INSERT INTO t VALUES (1)").is_ok());  // still read-only
}

TEST(DbTest, ReadOnlyConnectionRejectsWrites) {
  TempDir dir;
  auto rw = Db::open(dir.file("x.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(rw.is_ok());
  ASSERT_OK((*rw)->exec("CREATE TABLE t (v INTEGER)"));
  auto ro = Db::open(dir.file("x.db"), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.is_ok()) << ro.status().to_string();
  base::Status st = (*ro)->exec("INSERT INTO t VALUES (1)");
  EXPECT_FALSE(st.is_ok());
  BatchResult r = commit_batch(**ro, std::vector<WriteOp>{[](Txn&) { return base::Status(); }});
  EXPECT_FALSE(r.statuses[0].is_ok());
}

// A table t (empty) on a file, with the writer's connection and a reader's (the native
// server's shape; in the wasm build the reader never sees the writer's later commits).
struct TwoConnections {
  TempDir dir;
  std::unique_ptr<Db> rw, ro;
  base::Status open() {
    EC_ASSIGN_OR_RETURN(rw, Db::open(dir.file("x.db"), OpenMode::kReadWrite));
    EC_RETURN_IF_ERROR(rw->exec("CREATE TABLE t (v INTEGER)"));
    EC_ASSIGN_OR_RETURN(ro, Db::open(dir.file("x.db"), OpenMode::kReadOnly));
    return base::Status::ok();
  }
};

// The rows of t as `db` sees them.
int64_t count_rows(Db& db) {
  auto st = db.prepare("SELECT COUNT(*) FROM t");
  EXPECT_TRUE(st.is_ok());
  EXPECT_TRUE(*st->step());
  return st->column_int(0);
}

TEST(DbTest, ReaderSeesCommittedWritesOfWriter) {
  TwoConnections c;
  ASSERT_OK(c.open());
  auto count = [&] { return count_rows(*c.ro); };
  ASSERT_OK(c.rw->exec("BEGIN; INSERT INTO t VALUES (7)"));
  EXPECT_EQ(count(), 0);  // uncommitted: invisible, and the reader is not blocked
  ASSERT_OK(c.rw->exec("COMMIT"));
  EXPECT_EQ(count(), 1);
}

// A scope with no statement begins nothing; one nested in a scope still pending leaves the
// outer one to begin, and the outer one's snapshot holds for both.
TEST(DbTest, AReadScopeBeginsWithItsFirstStatementOnly) {
  TwoConnections c;
  ASSERT_OK(c.open());
  auto count = [&] { return count_rows(*c.ro); };
  { ReadScope unused(*c.ro); }
  EXPECT_TRUE(c.ro->autocommit());
  EXPECT_EQ(count(), 0);
  {
    ReadScope outer(*c.ro);
    {
      ReadScope inner(*c.ro);
      EXPECT_EQ(count(), 0);  // begins the outer scope's transaction
      EXPECT_FALSE(c.ro->autocommit());
    }
    EXPECT_FALSE(c.ro->autocommit()) << "the inner scope ended the outer one's transaction";
    ASSERT_OK(c.rw->exec("INSERT INTO t VALUES (1)"));
    EXPECT_EQ(count(), 0);  // still the outer scope's snapshot
  }
  EXPECT_TRUE(c.ro->autocommit());
  EXPECT_EQ(count(), 1);
}

TEST(DbTest, AReadScopeReadsOneSnapshotAndEndsWithIt) {
  TwoConnections c;
  ASSERT_OK(c.open());
  auto count = [&] { return count_rows(*c.ro); };
  {
    ReadScope scope(*c.ro);
    EXPECT_TRUE(c.ro->autocommit());  // lazy: nothing begun before the first statement
    EXPECT_EQ(count(), 0);
    EXPECT_FALSE(c.ro->autocommit());
    ASSERT_OK(c.rw->exec("INSERT INTO t VALUES (7)"));  // committed meanwhile
    EXPECT_EQ(count(), 0);                               // the scope's reads keep their snapshot
    {
      ReadScope inner(*c.ro);  // already in a transaction: nothing begun, nothing ended
      EXPECT_EQ(count(), 0);
    }
    EXPECT_FALSE(c.ro->autocommit());
  }
  EXPECT_TRUE(c.ro->autocommit());  // ended with the scope
  EXPECT_EQ(count(), 1);
  // The writer's checkpoint is not held back once the scope is gone.
  auto cp = c.rw->prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_TRUE(cp.is_ok());
  ASSERT_TRUE(*cp->step());
  EXPECT_EQ(cp->column_int(0), 0);  // not busy
}

// The reader read before the scope (in autocommit), so its view of the file is older than the
// write made during the scope: the read after the scope must still see that write.
TEST(DbTest, AReadAfterAScopeSeesAWriteCommittedDuringIt) {
  TwoConnections c;
  ASSERT_OK(c.open());
  auto count = [&] { return count_rows(*c.ro); };
  EXPECT_EQ(count(), 0);
  {
    ReadScope scope(*c.ro);
    ASSERT_OK(c.rw->exec("INSERT INTO t VALUES (1)"));
  }
  EXPECT_TRUE(c.ro->autocommit());
  EXPECT_EQ(count(), 1);
}

// The wasm server reads and writes through one connection (one per file there): a scope on
// the writer's connection ends before the write, which then commits, and the next read sees it.
TEST(DbTest, AReadScopeOnTheWritersConnection) {
  TempDir dir;
  auto db = Db::open(dir.file("x.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK((*db)->exec("CREATE TABLE t (v INTEGER)"));
  auto count = [&] { return count_rows(**db); };
  EXPECT_EQ(count(), 0);
  {
    ReadScope unused(**db);
    EXPECT_TRUE((*db)->autocommit());  // nothing begun before a statement
  }
  {
    ReadScope scope(**db);
    EXPECT_EQ(count(), 0);
    EXPECT_FALSE((*db)->autocommit());
  }
  EXPECT_TRUE((*db)->autocommit());
  ASSERT_OK(transact(**db, [](Txn& txn) { return txn.db().exec("INSERT INTO t VALUES (1)"); }));
  {
    ReadScope scope(**db);
    EXPECT_EQ(count(), 1);
  }
  EXPECT_TRUE((*db)->autocommit());
}

TEST(DbTest, StatementCacheAndBinding) {
  auto db = Db::open(":memory:", OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK((*db)->exec("CREATE TABLE t (i INTEGER, s TEXT, n INTEGER)"));
  for (int i = 0; i < 3; ++i) {
    auto st = (*db)->prepare("INSERT INTO t VALUES (?, ?, ?)");
    ASSERT_TRUE(st.is_ok());
    std::optional<int64_t> n;
    if (i == 1) n = 42;
    st->bind_all(int64_t(i), std::string("s") + std::to_string(i), n);
    ASSERT_OK(st->run());
    EXPECT_EQ((*db)->changes(), 1);
  }
  auto outer = (*db)->prepare("SELECT i, s, n FROM t ORDER BY i");
  ASSERT_TRUE(outer.is_ok());
  ASSERT_TRUE(*outer->step());
  // The same SQL while the cached one is checked out: a separate statement.
  auto inner = (*db)->prepare("SELECT i, s, n FROM t ORDER BY i");
  ASSERT_TRUE(inner.is_ok());
  ASSERT_TRUE(*inner->step());
  ASSERT_TRUE(*inner->step());
  EXPECT_EQ(inner->column_int(0), 1);
  EXPECT_EQ(inner->column_opt_int(2), std::optional<int64_t>(42));
  EXPECT_EQ(outer->column_int(0), 0);
  EXPECT_EQ(outer->column_text(1), "s0");
  EXPECT_TRUE(outer->column_is_null(2));
  EXPECT_EQ(outer->column_opt_int(2), std::nullopt);
}

TEST(DbTest, BadParameterIndexIsReportedByStep) {
  auto db = Db::open(":memory:", OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  auto st = (*db)->prepare("SELECT ?");
  ASSERT_TRUE(st.is_ok());
  st->bind(5, int64_t(1));
  auto row = st->step();
  EXPECT_FALSE(row.is_ok());
}

TEST(DbTest, SyntaxErrorNamesTheSql) {
  auto db = Db::open(":memory:", OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  auto st = (*db)->prepare("SELEC nope");
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.status().message().find("SELEC nope"), std::string::npos);
  EXPECT_NE(st.status().message().find("syntax error"), std::string::npos);
}

TEST(DbTest, LongSqlIsShortenedInMessages) {
  auto db = Db::open(":memory:", OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  std::string sql = "CREATE TABLE t (\n  a INTEGER,\n" + std::string(2000, ' ') + "b NOPE NOPE(";
  base::Status st = (*db)->exec(sql);
  ASSERT_FALSE(st.is_ok());
  EXPECT_LT(st.message().size(), 400u) << st.message();
  EXPECT_NE(st.message().find("\"CREATE TABLE t ( a INTEGER, b NOPE"), std::string::npos)
      << st.message();
}

TEST(DbTest, UncreatableDirectoryIsAnActionableError) {
  TempDir dir;
  ASSERT_OK(Db::open(dir.file("file.db"), OpenMode::kReadWrite).status());
  // A directory cannot be made under a regular file.
  auto db = Db::open(dir.file("file.db/sub/x.db"), OpenMode::kReadWrite);
  ASSERT_FALSE(db.is_ok());
  EXPECT_NE(db.status().message().find("cannot create the directory"), std::string::npos)
      << db.status().message();
}

TEST(DbTest, LockHeldByAnotherWriterIsUnavailableAfterBusyTimeout) {
  TempDir dir;
  auto a = Db::open(dir.file("x.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(a.is_ok());
  DbOptions quick;
  quick.busy_timeout_ms = 20;
  auto b = Db::open(dir.file("x.db"), OpenMode::kReadWrite, quick);
  ASSERT_TRUE(b.is_ok());
  ASSERT_OK((*a)->exec("BEGIN IMMEDIATE"));
  BatchResult r = commit_batch(**b, std::vector<WriteOp>{[](Txn&) { return base::Status(); }});
  EXPECT_EQ(r.commit.code(), base::Code::kUnavailable);
  EXPECT_EQ(r.commit.reason(), "database_busy");
  EXPECT_EQ(r.statuses[0].code(), base::Code::kUnavailable);
  ASSERT_OK((*a)->exec("COMMIT"));
  r = commit_batch(**b, std::vector<WriteOp>{[](Txn&) { return base::Status(); }});
  EXPECT_OK(r.commit);
}

TEST(DbTest, ConstraintViolationIsConflict) {
  auto db = Db::open(":memory:", OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY)"));
  ASSERT_OK((*db)->exec("INSERT INTO t VALUES ('a')"));
  auto st = (*db)->prepare("INSERT INTO t VALUES ('a')");
  ASSERT_TRUE(st.is_ok());
  base::Status s = st->run();
  EXPECT_EQ(s.code(), base::Code::kConflict);
  EXPECT_EQ(s.reason(), "constraint_violation");
  EXPECT_NE(st->last_error_code(), 0);
}

TEST(DbTest, CollectReadsEveryRowInOrderAndEachRowStopsAtAStepError) {
  TempDir dir;
  auto db = Db::open(dir.file("rows.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  auto st = (*db)->prepare("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
                           "SELECT i, 'r' || i FROM n");
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  auto rows = st->collect([](const Stmt& row) { return row.column_text(1); });
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  EXPECT_EQ(*rows, (std::vector<std::string>{"r1", "r2", "r3", "r4", "r5"}));

  // The third row overflows abs(): SQLite fails that step, after handing out two rows.
  auto bad = (*db)->prepare("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
                            "SELECT i, abs(CASE WHEN i = 3 THEN -9223372036854775807 - 1 ELSE i END) FROM n");
  ASSERT_TRUE(bad.is_ok()) << bad.status().to_string();
  std::vector<int64_t> seen;
  base::Status s = bad->each_row([&](const Stmt& row) { seen.push_back(row.column_int(1)); });
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
}

}  // namespace
}  // namespace store
