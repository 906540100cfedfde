// The JSON forms of classroom objects (docs/api.md).
#include "base/strings.h"
#include "classroom/service.h"

namespace classroom {

namespace json = boost::json;

json::value time_or_null(const std::optional<int64_t>& ms) {
  if (!ms) return nullptr;
  return json::value(base::format_utc_ms(*ms));
}

json::object to_json(const store::Course& c) {
  return {{"id", c.id},
          {"title", c.title},
          {"description", c.description},
          {"teacher_id", c.teacher_id},
          {"teacher_name", c.teacher_name},
          {"status", store::to_string(c.status)},
          {"capacity", c.capacity},
          {"enrolled", c.enrolled},
          {"created_at", base::format_utc_ms(c.created_at)},
          {"updated_at", base::format_utc_ms(c.updated_at)}};
}

json::object to_json(const store::Enrollment& e) {
  return {{"course_id", e.course_id},
          {"student_id", e.student_id},
          {"student_name", e.student_name},
          {"joined_at", base::format_utc_ms(e.joined_at)}};
}

json::object to_json(const store::Session& s) {
  return {{"id", s.id},
          {"course_id", s.course_id},
          {"teacher_id", s.teacher_id},
          {"title", s.title},
          {"status", store::to_string(s.status)},
          {"started_at", base::format_utc_ms(s.started_at)},
          {"ended_at", time_or_null(s.ended_at)}};
}

json::object to_json(const store::Quiz& q, bool with_answers) {
  json::object o{{"id", q.id},
                 {"session_id", q.session_id},
                 {"course_id", q.course_id},
                 {"title", q.title},
                 {"status", store::to_string(q.status)},
                 {"time_limit_s", q.time_limit_ms / 1000},
                 {"published_at", time_or_null(q.published_at)},
                 {"deadline_at", time_or_null(q.deadline_at)},
                 {"closed_at", time_or_null(q.closed_at)},
                 {"created_at", base::format_utc_ms(q.created_at)}};
  auto questions = questions_from_storage(q.questions);
  bool reveal = with_answers || q.status == store::QuizStatus::kClosed;
  o["questions"] = questions.is_ok() ? questions_to_json(*questions, reveal) : json::array();
  return o;
}

}  // namespace classroom
