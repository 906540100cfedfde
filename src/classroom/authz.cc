#include "classroom/authz.h"

#include <boost/json/array.hpp>

namespace classroom {

namespace json = boost::json;

json::object user_doc(const Actor& a) {
  return {{"id", a.id}, {"name", a.name}, {"role", base::role_name(a.role)}};
}

json::object course_doc(const store::Course& c) {
  return {{"id", c.id},
          {"status", store::to_string(c.status)},
          {"capacity", c.capacity},
          {"enrolled", c.enrolled},
          {"teacher_id", c.teacher_id}};
}

json::object join_course_doc(const store::Course& c, const std::vector<std::string>& students) {
  json::object o = course_doc(c);
  json::array ids;
  ids.reserve(students.size());
  for (const std::string& s : students) ids.emplace_back(s);
  o["students"] = std::move(ids);
  return o;
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

json::object make_input(std::string_view action, const Actor& actor) {
  return {{"action", action}, {"user", user_doc(actor)}};
}

}  // namespace classroom
