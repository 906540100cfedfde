#include "classroom/authz.h"

#include <boost/json/array.hpp>

namespace classroom {

namespace json = boost::json;

namespace {

json::object course_doc(const store::Course& c) {
  return {{"id", c.id},
          {"status", store::to_string(c.status)},
          {"capacity", c.capacity},
          {"enrolled", c.enrolled},
          {"teacher_id", c.teacher_id}};
}

json::object session_doc(const store::Session& s) {
  return {{"id", s.id},
          {"course_id", s.course_id},
          {"teacher_id", s.teacher_id},
          {"status", store::to_string(s.status)}};
}

json::object quiz_doc(const store::Quiz& q) {
  json::object o{{"id", q.id}, {"session_id", q.session_id}, {"status", store::to_string(q.status)}};
  if (q.deadline_at) o["deadline_at"] = *q.deadline_at;
  return o;
}

}  // namespace

DecisionInput::User input_user(const Actor& actor) {
  return {actor.id, actor.name, base::role_name(actor.role)};
}

json::object DecisionInput::to_json() const {
  json::object o{{"action", action},
                 {"user", json::object{{"id", user.id}, {"name", user.name}, {"role", user.role}}}};
  if (course) {
    json::object c = course_doc(*course);
    if (students) {
      json::array ids;
      ids.reserve(students->size());
      for (const std::string& s : *students) ids.emplace_back(s);
      c["students"] = std::move(ids);
    }
    o["course"] = std::move(c);
  } else if (room_course) {
    o["course"] = json::object{{"id", room_course->id}, {"teacher_id", room_course->teacher_id}};
  }
  if (session) o["session"] = session_doc(*session);
  if (quiz) o["quiz"] = quiz_doc(*quiz);
  if (target) {
    json::object t{{"id", target->id}};
    if (target->role) t["role"] = *target->role;
    o["target"] = std::move(t);
  }
  if (enrolled) o["enrolled"] = *enrolled;
  if (on_stage) o["on_stage"] = *on_stage;
  return o;
}

}  // namespace classroom
