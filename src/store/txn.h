// Write transactions and the commit-a-batch call (portable core: no threads).
//
// Every write goes through a Txn, which only exists while a write transaction is open on a
// read-write Db. The group-commit Writer (writer.h) wraps commit_batch() with a thread; a
// single-threaded host (tests, CLI verbs, a future WASI build) calls commit_batch() or
// transact() directly.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/status.h"
#include "store/db.h"

namespace store {

// Proof that a write transaction is open on db(). Handed to a WriteOp by commit_batch() /
// transact(); it cannot be made elsewhere and must not be kept after the op returns.
// Reads inside the op go through db() and see every earlier write of the same group.
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  Db& db() const { return db_; }

 private:
  friend struct TxnAccess;
  explicit Txn(Db& db) : db_(db) {}
  Db& db_;
};

// One unit of work. It runs inside its own SAVEPOINT: when it returns an error, its writes
// are rolled back and the rest of the group still commits. It must not run BEGIN, COMMIT,
// ROLLBACK or RELEASE itself. Under the Writer it runs on the writer thread while the group
// holds the write lock: keep it short (database work only, no blocking, no other I/O).
using WriteOp = std::function<base::Status(Txn&)>;

struct BatchResult {
  // One final status per op, in order: the op's own error, or the COMMIT's error when the
  // group failed to commit, or OK when the op's writes are durable.
  std::vector<base::Status> statuses;
  base::Status commit;    // BEGIN/COMMIT outcome for the group as a whole
  size_t failed_ops = 0;  // count of non-OK entries in `statuses`
};

// Runs `ops` in order inside one BEGIN IMMEDIATE ... COMMIT on `db` (which must be
// read-write and outside a transaction). When this returns, every op whose status is OK is
// committed (and, with synchronous=FULL, on disk). An empty span does nothing.
BatchResult commit_batch(Db& db, std::span<const WriteOp> ops);

// One op in its own transaction: its status, or the COMMIT's error.
base::Status transact(Db& db, const WriteOp& op);

}  // namespace store
