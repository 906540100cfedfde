#include "classroom/live_join.h"

#include <algorithm>
#include <string>

#include "store/db.h"
#include "store/sessions.h"

namespace classroom {

namespace json = boost::json;

JoinRefusal join_refusal(const base::Status& why) {
  std::string_view reason = why.reason();
  if (reason == "session_full") return JoinRefusal::kFull;
  if (reason == "session_ended") return JoinRefusal::kEnded;
  if (reason == "removed") return JoinRefusal::kRemoved;
  if (reason == "too_many_live_sockets") return JoinRefusal::kTooManySockets;
  switch (why.code()) {
    case base::Code::kUnauthenticated:
      return JoinRefusal::kUnauthenticated;
    case base::Code::kPermissionDenied:
      return JoinRefusal::kForbidden;
    case base::Code::kNotFound:
      return JoinRefusal::kNotFound;
    case base::Code::kResourceExhausted:
      return JoinRefusal::kFull;
    case base::Code::kUnavailable:
      return JoinRefusal::kUnavailable;
    default:
      return JoinRefusal::kInvalid;
  }
}

base::Status too_many_live_sockets(size_t max_per_user) {
  return base::Status(base::Code::kResourceExhausted,
                      "you already have " + std::to_string(max_per_user) +
                          " live connections open; close one (another tab or device) and retry",
                      "too_many_live_sockets");
}

Participant participant_of(const Actor& actor) {
  return Participant{actor.id, actor.name.empty() ? actor.id : actor.name,
                     actor.role == base::Role::kStudent ? Role::kStudent : Role::kTeacher,
                     actor.role == base::Role::kAdmin};
}

Actor actor_of(const Participant& p) {
  base::Role role = p.admin                    ? base::Role::kAdmin
                    : p.role == Role::kTeacher ? base::Role::kTeacher
                                               : base::Role::kStudent;
  return Actor{p.user_id, p.name, role};
}

base::Result<LiveAdmission> admit_live(Reader& reader, const Authorizer& authorizer,
                                       const Actor& actor, std::string_view session_id) {
  ReadSnapshot snapshot(reader);  // the reads below: one snapshot, locked once
  auto session = store::get_session(reader.db(), session_id);
  if (!session.is_ok()) return session.status();
  if (session->status == store::SessionStatus::kEnded) {
    return base::failed_precondition("the session has ended", "session_ended");
  }
  auto course = reader.course(session->course_id);
  if (!course.is_ok()) return course.status();
  bool enrolled = false;
  if (actor.role == base::Role::kStudent) {
    auto e = reader.enrolled(course->id, actor.id);
    if (!e.is_ok()) return e.status();
    enrolled = *e;
  }
  DecisionInput input{"join_live", input_user(actor)};
  input.course = &*course;
  input.session = &*session;
  input.enrolled = enrolled;
  Decision d = authorizer.decide(input);
  if (!d.allow) return base::permission_denied(d.reason.empty() ? "not allowed" : d.reason);
  return LiveAdmission{std::move(session).value(), std::move(course).value(),
                       participant_of(actor)};
}

RoomConfig room_config(const store::Session& session, const store::Course& course,
                       size_t resume_max_events,
                       std::function<std::shared_ptr<const Authorizer>()> authorizer) {
  RoomConfig cfg;
  cfg.session_id = session.id;
  cfg.course_id = session.course_id;
  cfg.title = session.title.empty() ? course.title : session.title;
  cfg.capacity = size_t(std::max<int64_t>(1, course.capacity));
  cfg.resume_max_events = resume_max_events;
  cfg.teacher_id = course.teacher_id;
  cfg.authorizer = std::move(authorizer);
  return cfg;
}

base::Result<JoinReply> enter_room(Room& room, Reader& reader, const Participant& who,
                                   const std::optional<ResumePoint>& resume) {
  if (who.role == Role::kStudent) {
    auto enrolled = reader.enrolled(room.config().course_id, who.user_id);
    if (!enrolled.is_ok()) return enrolled.status();
    if (!*enrolled) {
      return base::permission_denied("you are not enrolled in this course", "not_enrolled");
    }
  }
  return room.join(who, resume);
}

}  // namespace classroom
