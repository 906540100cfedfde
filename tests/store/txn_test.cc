#include "store/txn.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace store {
namespace {

class TxnTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_OK(db().exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)"));
  }
  static WriteOp put(std::string k, int64_t v) {
    return [k, v](Txn& t) -> base::Status {
      EC_ASSIGN_OR_RETURN(Stmt st, t.db().prepare("INSERT INTO kv VALUES (?, ?)"));
      st.bind_all(k, v);
      return st.run();
    };
  }
  int64_t count() {
    auto st = db().prepare("SELECT COUNT(*) FROM kv");
    EXPECT_TRUE(st.is_ok());
    EXPECT_TRUE(*st->step());
    return st->column_int(0);
  }
  bool has(const std::string& k) {
    auto st = db().prepare("SELECT 1 FROM kv WHERE k = ?");
    st->bind_all(k);
    return *st->step();
  }
};

TEST_F(TxnTest, EmptyBatchDoesNothing) {
  BatchResult r = commit_batch(db(), {});
  EXPECT_TRUE(r.statuses.empty());
  EXPECT_OK(r.commit);
}

TEST_F(TxnTest, FailingOpIsRolledBackAloneAndOthersCommit) {
  std::vector<WriteOp> ops;
  ops.push_back(put("a", 1));
  // Writes, then fails: its write must vanish.
  ops.push_back([](Txn& t) -> base::Status {
    EC_RETURN_IF_ERROR(put("ghost", 9)(t));
    return base::failed_precondition("nope", "nope");
  });
  ops.push_back(put("a", 2));  // duplicate key: a SQL error, also rolled back alone
  ops.push_back(put("b", 3));
  BatchResult r = commit_batch(db(), ops);
  ASSERT_OK(r.commit);
  ASSERT_EQ(r.statuses.size(), 4u);
  EXPECT_OK(r.statuses[0]);
  EXPECT_EQ(r.statuses[1].reason(), "nope");
  EXPECT_EQ(r.statuses[2].code(), base::Code::kConflict);
  EXPECT_OK(r.statuses[3]);
  EXPECT_EQ(r.failed_ops, 2u);
  EXPECT_TRUE(has("a"));
  EXPECT_TRUE(has("b"));
  EXPECT_FALSE(has("ghost"));
  EXPECT_EQ(count(), 2);
  EXPECT_TRUE(db().autocommit());
}

TEST_F(TxnTest, OpThatEndsTheTransactionFailsTheWholeGroup) {
  std::vector<WriteOp> ops;
  ops.push_back(put("a", 1));
  ops.push_back([](Txn& t) { return t.db().exec("ROLLBACK"); });  // breaks the contract
  ops.push_back(put("b", 2));
  BatchResult r = commit_batch(db(), ops);
  EXPECT_FALSE(r.commit.is_ok());
  EXPECT_EQ(r.failed_ops, 3u);
  for (auto& s : r.statuses) EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(count(), 0);
  EXPECT_TRUE(db().autocommit());
}

TEST_F(TxnTest, BatchInsideOpenTransactionIsRefused) {
  ASSERT_OK(db().exec("BEGIN"));
  BatchResult r = commit_batch(db(), std::vector<WriteOp>{put("a", 1)});
  EXPECT_FALSE(r.commit.is_ok());
  EXPECT_FALSE(r.statuses[0].is_ok());
  ASSERT_OK(db().exec("ROLLBACK"));
}

TEST_F(TxnTest, EmptyOpIsAnErrorNotACrash) {
  BatchResult r = commit_batch(db(), std::vector<WriteOp>{WriteOp(), put("a", 1)});
  EXPECT_FALSE(r.statuses[0].is_ok());
  EXPECT_OK(r.statuses[1]);
}

TEST_F(TxnTest, TransactReturnsTheOpStatus) {
  EXPECT_OK(transact(db(), put("a", 1)));
  EXPECT_EQ(transact(db(), put("a", 1)).code(), base::Code::kConflict);
  EXPECT_EQ(count(), 1);
}

TEST_F(TxnTest, CommitFailureFailsEveryOp) {
  // A deferred foreign key is only checked at COMMIT, so COMMIT itself fails.
  ASSERT_OK(db().exec(
      "CREATE TABLE parent (id TEXT PRIMARY KEY);"
      "CREATE TABLE child (pid TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"));
  std::vector<WriteOp> ops;
  ops.push_back(put("a", 1));
  ops.push_back([](Txn& t) { return t.db().exec("INSERT INTO child VALUES ('orphan')"); });
  BatchResult r = commit_batch(db(), ops);
  EXPECT_FALSE(r.commit.is_ok());
  EXPECT_EQ(r.failed_ops, 2u);
  EXPECT_FALSE(r.statuses[0].is_ok());
  EXPECT_FALSE(r.statuses[1].is_ok());
  EXPECT_EQ(count(), 0);
  EXPECT_TRUE(db().autocommit());
}

}  // namespace
}  // namespace store
