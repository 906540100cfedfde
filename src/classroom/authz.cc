#include "classroom/authz.h"

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

namespace {

std::string_view str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::object& obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? v->get_object() : kEmpty;
}

int64_t num(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}

bool flag(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

Decision yes() { return {true, ""}; }
Decision no(std::string why) { return {false, std::move(why)}; }

}  // namespace

Decision BuiltinAuthorizer::decide(const json::object& input) const {
  std::string_view action = str(input, "action");
  const json::object& user = obj(input, "user");
  const json::object& course = obj(input, "course");
  std::string_view role = str(user, "role");
  bool admin = role == "admin";
  bool teacher = role == "teacher";
  bool owner = !str(user, "id").empty() && str(course, "teacher_id") == str(user, "id");

  if (action == "join") {
    // The case study's rule.
    if (role != "student") return no("only students can join a course");
    if (str(course, "status") != "active") return no("the course is not active");
    if (num(course, "capacity") <= num(course, "enrolled")) return no("the course is full");
    return yes();
  }
  if (action == "create_course") {
    return teacher || admin ? yes() : no("only teachers and admins can create courses");
  }
  if (action == "update_course" || action == "remove_student" || action == "list_students" ||
      action == "go_live" || action == "end_session" || action == "create_quiz" ||
      action == "publish_quiz" || action == "close_quiz" || action == "read_results" ||
      action == "moderate") {
    if (admin) return yes();
    return teacher && owner ? yes() : no("only the course's teacher or an admin can do this");
  }
  if (action == "leave") return role == "student" ? yes() : no("only students can leave a course");
  if (action == "list_quizzes" || action == "read_quiz") {
    if (admin || (teacher && owner)) return yes();
    bool published = action == "list_quizzes" || str(obj(input, "quiz"), "status") != "draft";
    if (role == "student" && flag(input, "enrolled") && published) return yes();
    return no("only the course's teacher and its enrolled students can read its quizzes");
  }
  if (action == "answer") {
    if (role != "student") return no("only students answer quizzes");
    if (!flag(input, "enrolled")) return no("you are not enrolled in this course");
    return yes();
  }
  if (action == "join_live") {
    if (str(obj(input, "session"), "status") != "live") return no("the session has ended");
    if (admin || (teacher && owner)) return yes();
    if (role == "student" && flag(input, "enrolled")) return yes();
    return no("only enrolled students and the course's teacher can join this session");
  }
  if (action == "stage") {
    return admin || (teacher && owner)
               ? yes()
               : no("only the course's teacher or an admin can give the stage");
  }
  if (action == "publish_media") {
    // As in the Rego rules, an admin who is not the course's teacher does not publish.
    if (teacher && owner) return yes();
    return flag(input, "on_stage") ? yes() : no("only the teacher or a student on stage can publish");
  }
  return no("no rule allows action '" + std::string(action) + "'");
}

}  // namespace classroom
