// A student's quiz answer from the live socket, in one call.
//
// submit_live_answer takes the socket's message and sequences the whole domain flow:
//  1. the room checks it against the open quiz (Room::begin_answer): not the room's quiz,
//     deadline passed, a different answer stored or in flight; identical answers already
//     stored are acknowledged again and go no further;
//  2. the service checks enrollment, the policy ("answer") and the quiz in storage, and
//     grades (Service::prepare_answers, on the reading side of the room's thread);
//  3. the commit runs in the writer's group through RoomStorage, which re-checks the quiz and
//     the enrollment where they are ordered against a close or a removal;
//  4. only then the room counts the answers (QuizTally), acknowledges them to the student
//     (`answer_accepted`) and updates the teachers' live results.
// A refusal at any step clears the pending mark and reaches the caller once, through
// `refused`; the transport sends it as the error reply. Nothing else is left to the socket.
//
// Portable core: no Asio, no threads, no exceptions.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <string_view>

#include "base/status.h"
#include "classroom/reader.h"
#include "classroom/room.h"
#include "classroom/room_storage.h"
#include "classroom/room_types.h"
#include "classroom/service.h"

namespace classroom {

// What the flow needs besides the room. All must outlive the call; `storage` and `room` until
// `done`/`refused` have run (RoomStorage promises the room is alive when `done` runs).
struct LiveAnswerDeps {
  const Service& service;
  // The room thread's reads: a direct DbReader (rows are read fresh for every answer; only
  // the quiz's parsed questions may come from a QuestionsCache, keyed by their stored text).
  Reader& reader;
  RoomStorage& storage;
};

// `answers` is the message's "answers" array. `refused` runs at most once (now, or on the
// room's thread after the commit) with why the answer was not taken.
void submit_live_answer(Room& room, const LiveAnswerDeps& deps, const Participant& who,
                        std::string_view quiz_id, const boost::json::value& answers,
                        std::function<void(const base::Status&)> refused);

}  // namespace classroom
