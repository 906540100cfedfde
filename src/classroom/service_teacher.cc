// What a teacher needs every day: class codes, attendance and the gradebook.
#include "base/json_reader.h"
#include "classroom/join_code.h"
#include "classroom/service.h"
#include "store/attendance.h"
#include "store/gradebook.h"
#include "store/join_codes.h"

namespace classroom {

namespace json = boost::json;

base::Result<std::string> Service::assign_join_code(store::Txn& txn,
                                                    std::string_view course_id) const {
  // 31^8 codes: a collision is rare, and checked inside the write transaction.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string code = new_join_code(random_);
    EC_ASSIGN_OR_RETURN(std::optional<std::string> taken,
                        store::course_for_join_code(txn.db(), code));
    if (taken) continue;
    EC_RETURN_IF_ERROR(store::set_join_code(txn, course_id, code));
    return code;
  }
  return base::conflict("could not find a free class code; try again", "join_code_taken");
}

base::Result<std::optional<std::string>> Service::join_code(store::Db& db, const Actor& actor,
                                                            std::string_view course_id) const {
  EC_ASSIGN_OR_RETURN(store::Course c, course_for_write(db, actor, course_id, "read_join_code"));
  return store::get_join_code(db, c.id);
}

base::Result<std::string> Service::rotate_join_code(store::Txn& txn, const Actor& actor,
                                                    std::string_view course_id) const {
  EC_ASSIGN_OR_RETURN(store::Course c,
                      course_for_write(txn.db(), actor, course_id, "rotate_join_code"));
  return assign_join_code(txn, c.id);
}

base::Result<std::string> Service::parse_join_by_code(const json::value& body) const {
  base::JsonReader r(body);
  EC_ASSIGN_OR_RETURN(std::string typed, r.string("code", 1, 64));
  EC_RETURN_IF_ERROR(r.finish());
  std::optional<std::string> code = normalize_join_code(typed);
  if (!code) {
    return base::invalid_argument(
        "a class code is " + std::to_string(kJoinCodeLength) +
            " letters and digits, without 0, O, 1, I or L (e.g. 'K7M2-QX9P'); check it with "
            "your teacher",
        "invalid_join_code");
  }
  return *code;
}

namespace {
base::Status join_code_not_found(std::string_view code) {
  return base::not_found("no course has the class code '" + std::string(code) +
                             "'; check it with your teacher (it may have been changed)",
                         "join_code_not_found");
}
}  // namespace

base::Result<std::string> Service::course_for_code(store::Db& db, std::string_view code) const {
  EC_ASSIGN_OR_RETURN(std::optional<std::string> course_id, store::course_for_join_code(db, code));
  if (!course_id) return join_code_not_found(code);
  return *course_id;
}

base::Result<JoinResult> Service::join_by_code(store::Txn& txn, const Actor& actor,
                                               std::string_view code) const {
  EC_ASSIGN_OR_RETURN(std::string course_id, course_for_code(txn.db(), code));
  return join(txn, actor, course_id);
}

base::Result<Attendance> Service::attendance(store::Db& db, const Actor& actor,
                                             std::string_view session_id) const {
  EC_ASSIGN_OR_RETURN(store::Session s, get_session(db, actor, session_id));
  EC_RETURN_IF_ERROR(course_for_write(db, actor, s.course_id, "read_attendance").status());
  EC_ASSIGN_OR_RETURN(std::vector<store::Visit> visits, store::list_visits(db, s.id));
  return summarize_attendance(s, visits, clock_.now_unix_ms());
}

base::Result<std::optional<std::map<std::string, int64_t>>> Service::attendance_counts(
    store::Db& db, const Actor& actor, std::string_view course_id) const {
  EC_ASSIGN_OR_RETURN(store::Course c, get_course(db, actor, course_id));
  DecisionInput in{"read_attendance", input_user(actor)};
  in.course = &c;
  if (!decide(in).allow) return std::optional<std::map<std::string, int64_t>>();
  EC_ASSIGN_OR_RETURN(auto counts, store::attendance_counts(db, c.id));
  return std::optional<std::map<std::string, int64_t>>(std::move(counts));
}

base::Result<Gradebook> Service::gradebook(store::Db& db, const Actor& actor,
                                           std::string_view course_id) const {
  EC_ASSIGN_OR_RETURN(store::Course c, get_course(db, actor, course_id));
  EC_RETURN_IF_ERROR(course_for_write(db, actor, c.id, "read_gradebook").status());
  EC_ASSIGN_OR_RETURN(std::vector<store::Quiz> quizzes, store::graded_quizzes(db, c.id));
  EC_ASSIGN_OR_RETURN(std::vector<store::Enrollment> roster, store::roster(db, c.id));
  EC_ASSIGN_OR_RETURN(std::vector<store::QuizScore> scores, store::quiz_scores(db, c.id));
  return build_gradebook(c, quizzes, roster, scores);
}

}  // namespace classroom
