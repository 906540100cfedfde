// classroom::LiveNotifier — how REST changes reach the live rooms.
//
// The REST handlers (src/http) call it after their write committed; ws::LiveHub implements it
// and posts each change onto the affected room's thread, so the room (a projection of the
// store) takes it at once. Declared here, with no Asio, so that http and ws both depend on
// classroom and never on each other. Implementations must be callable from any thread and
// must not block.
#pragma once

#include <string_view>

#include "classroom/service.h"
#include "store/model.h"

namespace classroom {

class LiveNotifier {
 public:
  virtual ~LiveNotifier() = default;

  // The course was updated (PATCH): its capacity now bounds later joins; archived, its live
  // session (already ended in storage) ends in the room.
  virtual void course_changed(const store::Course& course) = 0;
  // `student_id` is no longer enrolled in `course_id`: removed by `by` (the teacher or an
  // admin), or it left (by == student_id). Its live connections close.
  virtual void student_removed(std::string_view course_id, std::string_view student_id,
                               std::string_view by) = 0;
  // The session ended (POST /sessions/{id}/end).
  virtual void session_ended(const store::Session& session) = 0;
  // A quiz was published or closed.
  virtual void quiz_changed(const store::Quiz& quiz) = 0;
  // A student's answers were committed.
  virtual void answers_committed(const PreparedAnswers& prepared) = 0;
};

}  // namespace classroom
