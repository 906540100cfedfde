// classroom::RoomStorage — how a live room's owner stores what the room decided.
//
// The room's thread never writes to the database itself: it hands an op to the owner, which
// runs it inside the group-commit writer's transaction (store::Writer) and later calls `done`
// back on the room's thread. Declared here, without threads, so that the classroom can
// sequence a store-then-tally flow (live_answer.h) while the transport supplies the threads.
#pragma once

#include <functional>

#include "base/status.h"
#include "store/txn.h"

namespace classroom {

class RoomStorage {
 public:
  virtual ~RoomStorage() = default;
  // Runs `op` in the writer's group. Once its group committed (or the op failed), `done`
  // runs on the room's thread with the op's final status; the room is still alive then.
  // Returns an error, and never calls `done`, when the op could not be queued (writer full
  // or stopping).
  virtual base::Status write(store::WriteOp op, std::function<void(base::Status)> done) = 0;
};

}  // namespace classroom
