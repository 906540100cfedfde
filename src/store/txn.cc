#include "store/txn.h"

#include <string>
#include <utility>

namespace store {

// The one place allowed to make a Txn (its constructor is private).
struct TxnAccess {
  static Txn make(Db& db) { return Txn(db); }
};

namespace {

base::Status run_sql(Db& db, std::string_view sql) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(sql));
  return st.run();
}

void fail_all(BatchResult& r, const base::Status& st) {
  for (auto& s : r.statuses) s = st;
  r.failed_ops = r.statuses.size();
  r.commit = st;
}

}  // namespace

BatchResult commit_batch(Db& db, std::span<const WriteOp> ops) {
  BatchResult r;
  r.statuses.resize(ops.size());
  if (ops.empty()) return r;
  if (db.read_only()) {
    fail_all(r, base::internal_error("writing to " + db.path() +
                                     " through a read-only connection (use the Writer's)"));
    return r;
  }
  if (!db.autocommit()) {
    fail_all(r, base::internal_error("commit_batch on " + db.path() +
                                     " while a transaction is already open"));
    return r;
  }
  if (base::Status st = run_sql(db, "BEGIN IMMEDIATE"); !st.is_ok()) {
    fail_all(r, st);
    return r;
  }
  Txn txn = TxnAccess::make(db);
  for (size_t i = 0; i < ops.size(); ++i) {
    base::Status st = run_sql(db, "SAVEPOINT op");
    if (st.is_ok()) {
      st = ops[i] ? ops[i](txn) : base::internal_error("empty write op");
      if (st.is_ok() && !db.autocommit()) {
        st = run_sql(db, "RELEASE op");
      }
      if (!st.is_ok() && !db.autocommit()) {
        // Undo only this op's writes; the group carries on.
        (void)run_sql(db, "ROLLBACK TO op");
        (void)run_sql(db, "RELEASE op");
      }
    }
    r.statuses[i] = st;
    if (db.autocommit()) {
      // SQLite rolled the whole transaction back (I/O error, disk full, ...) or the op broke
      // the contract and ended it: nothing of this group is committed.
      base::Status lost = base::unavailable(
          "the write transaction on " + db.path() + " was rolled back" +
              (st.is_ok() ? std::string(" by an op that ended it") : ": " + st.message()),
          "transaction_aborted");
      for (size_t j = 0; j < ops.size(); ++j) {
        if (j != i || r.statuses[j].is_ok()) r.statuses[j] = lost;
      }
      r.failed_ops = ops.size();
      r.commit = lost;
      return r;
    }
  }
  if (base::Status st = run_sql(db, "COMMIT"); !st.is_ok()) {
    if (!db.autocommit()) (void)run_sql(db, "ROLLBACK");
    fail_all(r, st);
    return r;
  }
  for (const auto& s : r.statuses) r.failed_ops += s.is_ok() ? 0 : 1;
  return r;
}

base::Status transact(Db& db, const WriteOp& op) {
  BatchResult r = commit_batch(db, std::span<const WriteOp>(&op, 1));
  return r.statuses[0];
}

}  // namespace store
