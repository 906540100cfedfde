// Who may join which live session's room: the classroom's decision, taken in two places.
//
//  - At the door (admit_live): on the reading side of any thread, before the transport hands
//    the socket to a room. The session exists and is live, its course is readable, and the
//    policy's "join_live" allows the user (with whether a student is enrolled).
//  - At the room (enter_room): on the room's own thread, just before the participant is
//    added. Enrollment is read again, so a removal committed between the door and the room
//    wins; then the room itself refuses an ended session, a full course (capacity) and a
//    student the teacher removed.
//
// A refusal is a base::Status whose kind join_refusal() names; the transport maps the kind to
// its answer (the live WebSocket: a close code for browsers, an HTTP status for programs)
// and sends the Status's message. The transport only counts (e.g. the sockets a user holds);
// what the count allows and how a refusal reads are decided here.
//
// Portable core: no Asio, no threads, no exceptions.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "classroom/authz.h"
#include "classroom/reader.h"
#include "classroom/room.h"
#include "classroom/room_types.h"
#include "store/model.h"

namespace classroom {

// Why a live join was refused, one kind per distinct answer of a transport.
enum class JoinRefusal {
  kUnauthenticated,  // no token, or an invalid or expired one
  kForbidden,        // the policy refuses, or the student is not enrolled
  kNotFound,         // no such session (or its course)
  kEnded,            // the session has ended
  kFull,             // the course's capacity of students is in the room
  kRemoved,          // the teacher removed this student for the rest of the session
  kTooManySockets,   // the user already holds the most live sockets allowed
  kUnavailable,      // storage or the server cannot take it now
  kInvalid,          // anything else
};

// The kind of a refusal produced by admit_live, enter_room, too_many_live_sockets or token
// verification.
JoinRefusal join_refusal(const base::Status& why);

// The refusal for a user who already holds `max_per_user` live sockets (reason
// "too_many_live_sockets", ResourceExhausted).
base::Status too_many_live_sockets(size_t max_per_user);

// The person a verified token describes, as a room sees it (an admin takes the teacher's
// part), and back (for policy inputs).
Participant participant_of(const Actor& actor);
Actor actor_of(const Participant& participant);

// Admitted at the door: the session and course (to find or create the room) and who enters.
struct LiveAdmission {
  store::Session session;
  store::Course course;
  Participant who;
};

// The door's decision for `actor` and `session_id`. Errors: NotFound (session, course),
// FailedPrecondition "session_ended", PermissionDenied with the policy's reason, storage
// errors as they come.
base::Result<LiveAdmission> admit_live(Reader& reader, const Authorizer& authorizer,
                                       const Actor& actor, std::string_view session_id);

// The room of `session` in `course`: its title, capacity, teacher and policy.
RoomConfig room_config(const store::Session& session, const store::Course& course,
                       size_t resume_max_events,
                       std::function<std::shared_ptr<const Authorizer>()> authorizer);

// The room's decision, on the room's thread: enrollment again (PermissionDenied
// "not_enrolled"), then Room::join (session_ended, session_full, removed).
base::Result<JoinReply> enter_room(Room& room, Reader& reader, const Participant& who,
                                   const std::optional<ResumePoint>& resume);

}  // namespace classroom
