#include "classroom/policy_input.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace classroom {
namespace {

using policy::ObjectItem;
using policy::Value;

// The documents' keys and the words their values are made of (docs/policy.md, "Input
// documents"): actions, roles, statuses. Static storage, so values refer to them for free.
const std::string kWords[] = {
    // keys
    "action", "capacity", "course", "course_id", "deadline_at", "enrolled", "id", "name",
    "on_stage", "quiz", "role", "session", "session_id", "status", "students", "target",
    "teacher_id", "user",
    // actions
    "create_course", "update_course", "join", "leave", "remove_student", "list_students", "go_live",
    "end_session", "create_quiz", "publish_quiz", "close_quiz", "read_results", "list_quizzes",
    "read_quiz", "answer", "join_live", "mute", "remove_from_room", "moderate", "publish_media",
    "share_screen", "read_join_code", "rotate_join_code", "read_attendance", "read_gradebook",
    "stage",
    // roles and statuses
    "student", "teacher", "admin", "draft", "active", "archived", "live", "ended", "published",
    "closed"};

const std::unordered_map<std::string_view, const std::string*>& word_table() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, const std::string*>();
    for (const std::string& w : kWords) t->emplace(w, &w);
    return t;
  }();
  return *table;
}

// `s` from the table when it is one of its words, otherwise a copy.
Value word(std::string_view s) {
  const auto& table = word_table();
  auto it = table.find(s);
  if (it != table.end()) return Value::string_ref(*it->second);
  return Value::string(std::string(s));
}

// A key of the table (always there).
Value key(std::string_view k) { return Value::string_ref(*word_table().at(k)); }

struct Keys {
  Value action = key("action"), capacity = key("capacity"), course = key("course"),
        course_id = key("course_id"), deadline_at = key("deadline_at"), enrolled = key("enrolled"),
        id = key("id"), name = key("name"), on_stage = key("on_stage"), quiz = key("quiz"),
        role = key("role"), session = key("session"), session_id = key("session_id"),
        status = key("status"), students = key("students"), target = key("target"),
        teacher_id = key("teacher_id"), user = key("user");
};

const Keys& keys() {
  static const Keys* k = new Keys();
  return *k;
}

// Members are appended in key order (bytewise), so object_sorted needs no sort.
Value course_value(const Keys& k, const store::Course& c,
                   const std::vector<std::string>* students) {
  std::vector<ObjectItem> m;
  m.reserve(6);
  m.emplace_back(k.capacity, Value::integer(c.capacity));
  m.emplace_back(k.enrolled, Value::integer(c.enrolled));
  m.emplace_back(k.id, Value::string_ref(c.id));
  m.emplace_back(k.status, word(store::to_string(c.status)));
  if (students) {
    std::vector<Value> ids;
    ids.reserve(students->size());
    for (const std::string& s : *students) ids.push_back(Value::string_ref(s));
    m.emplace_back(k.students, Value::array(std::move(ids)));
  }
  m.emplace_back(k.teacher_id, Value::string_ref(c.teacher_id));
  return Value::object_sorted(std::move(m));
}

Value session_value(const Keys& k, const store::Session& s) {
  std::vector<ObjectItem> m;
  m.reserve(4);
  m.emplace_back(k.course_id, Value::string_ref(s.course_id));
  m.emplace_back(k.id, Value::string_ref(s.id));
  m.emplace_back(k.status, word(store::to_string(s.status)));
  m.emplace_back(k.teacher_id, Value::string_ref(s.teacher_id));
  return Value::object_sorted(std::move(m));
}

Value quiz_value(const Keys& k, const store::Quiz& q) {
  std::vector<ObjectItem> m;
  m.reserve(4);
  if (q.deadline_at) m.emplace_back(k.deadline_at, Value::integer(*q.deadline_at));
  m.emplace_back(k.id, Value::string_ref(q.id));
  m.emplace_back(k.session_id, Value::string_ref(q.session_id));
  m.emplace_back(k.status, word(store::to_string(q.status)));
  return Value::object_sorted(std::move(m));
}

}  // namespace

std::span<const std::string> input_words() { return kWords; }

policy::Value policy_input(const DecisionInput& in) {
  const Keys& k = keys();
  std::vector<ObjectItem> top;
  top.reserve(8);
  // action < course < enrolled < on_stage < quiz < session < target < user
  top.emplace_back(k.action, word(in.action));
  if (in.course) {
    top.emplace_back(k.course, course_value(k, *in.course, in.students));
  } else if (in.room_course) {
    std::vector<ObjectItem> c;
    c.reserve(2);
    c.emplace_back(k.id, Value::string_ref(in.room_course->id));
    c.emplace_back(k.teacher_id, Value::string_ref(in.room_course->teacher_id));
    top.emplace_back(k.course, Value::object_sorted(std::move(c)));
  }
  if (in.enrolled) top.emplace_back(k.enrolled, Value::boolean(*in.enrolled));
  if (in.on_stage) top.emplace_back(k.on_stage, Value::boolean(*in.on_stage));
  if (in.quiz) top.emplace_back(k.quiz, quiz_value(k, *in.quiz));
  if (in.session) top.emplace_back(k.session, session_value(k, *in.session));
  if (in.target) {
    std::vector<ObjectItem> t;
    t.reserve(2);
    t.emplace_back(k.id, Value::string_ref(in.target->id));
    if (in.target->role) t.emplace_back(k.role, word(*in.target->role));
    top.emplace_back(k.target, Value::object_sorted(std::move(t)));
  }
  std::vector<ObjectItem> user;
  user.reserve(3);
  user.emplace_back(k.id, Value::string_ref(in.user.id));
  user.emplace_back(k.name, Value::string_ref(in.user.name));
  user.emplace_back(k.role, word(in.user.role));
  top.emplace_back(k.user, Value::object_sorted(std::move(user)));
  return Value::object_sorted(std::move(top));
}

}  // namespace classroom
