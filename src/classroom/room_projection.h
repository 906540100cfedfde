// The live room as a projection of the store: what a room is rebuilt from, and how a stored
// quiz or stored answers become the room's state. The transport that owns the room reads
// nothing itself; it asks here, with its thread's read connection, and applies the result.
//
// Portable core: no Asio, no threads, no exceptions.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "classroom/live_quiz.h"
#include "classroom/room.h"
#include "store/db.h"
#include "store/model.h"

namespace classroom {

// The room's view of a published or closed quiz (an unpublished one counts from `now_ms`).
base::Result<LiveQuizInfo> live_quiz_info(const store::Quiz& quiz, int64_t now_ms);

// Stored answer rows of one student (one per question) as the room counts them; rows the room
// could not have produced (a question out of range, an unreadable choice) are left out.
AnswerSet answer_set(const std::vector<store::Answer>& answers);

// What storage says about a room that is being (re)built.
struct StoredRoom {
  enum class State { kLive, kEnded, kArchived };
  State state = State::kLive;
  std::optional<size_t> capacity;  // the course's, when it could be read
  RoomRestore restore;             // only meaningful when kLive
};

// Reads the session, its course, the stored room state (mutes, removals, the stage), the
// recent chat and the current quiz (the open one, else the one closed last) with its answers.
// A part that cannot be read is logged (live.restore_failed) and left out: the room still
// opens with the rest.
StoredRoom read_stored_room(store::Db& db, const RoomConfig& config, int64_t now_ms);

// A quiz of the room's session changed in storage (published or closed, over REST or the
// socket): the room follows. A publish closes the room's previous open quiz first, as the
// store did in the same transaction. Errors are logged.
void apply_stored_quiz(Room& room, const store::Quiz& quiz, int64_t now_ms);

}  // namespace classroom
