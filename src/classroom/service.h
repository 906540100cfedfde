// The classroom's rules for courses, enrollment, live sessions and quizzes.
//
// Reads take a store::Db& (the calling thread's reader connection); writes take a
// store::Txn& and run inside the group-commit writer's transaction, so a check and the write
// it guards (e.g. capacity and the enrollment) are atomic. Every decision about who may do
// what goes through the Authorizer. No threads, no I/O of its own, no exceptions.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "classroom/authz.h"
#include "classroom/quiz.h"
#include "classroom/reader.h"
#include "classroom/reports.h"
#include "store/courses.h"
#include "store/quizzes.h"
#include "store/sessions.h"

namespace classroom {

struct CreateCourse {
  std::string title;
  std::string description;
  int64_t capacity = 0;
  store::CourseStatus status = store::CourseStatus::kDraft;
};

struct CoursePatch {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<store::CourseStatus> status;
  std::optional<int64_t> capacity;
};

struct JoinResult {
  store::Enrollment enrollment;
  bool created = false;  // false: the student was already enrolled
};

struct CreateQuiz {
  std::string title;
  std::vector<Question> questions;
};

struct AnswerInput {
  int question = 0;
  std::vector<int> choice;  // normalized
};

// A student's answers, checked against the quiz on the reading side before the write.
struct PreparedAnswers {
  store::Quiz quiz;
  std::vector<store::Answer> answers;
};

inline constexpr int64_t kMaxCapacity = 100000;

class Service {
 public:
  // `authorizer` returns the policy in force (it may change on reload); it must be
  // callable from any thread.
  Service(const base::Clock& clock, base::Random& random,
          std::function<std::shared_ptr<const Authorizer>()> authorizer, int64_t default_capacity)
      : clock_(clock),
        random_(random),
        authorizer_(std::move(authorizer)),
        default_capacity_(default_capacity) {}

  // Request bodies, validated strictly (unknown fields are errors).
  base::Result<CreateCourse> parse_create_course(const boost::json::value& body) const;
  base::Result<CoursePatch> parse_course_patch(const boost::json::value& body) const;
  base::Result<CreateQuiz> parse_create_quiz(const boost::json::value& body) const;
  // {"time_limit_s": 1..86400}
  base::Result<int64_t> parse_publish(const boost::json::value& body) const;

  // Courses.
  base::Result<store::Course> create_course(store::Txn& txn, const Actor& actor,
                                            const CreateCourse& req) const;
  base::Result<store::Course> get_course(store::Db& db, const Actor& actor,
                                         std::string_view id) const;
  base::Result<store::Course> get_course(Reader& reader, const Actor& actor,
                                         std::string_view id) const;
  // The same without a copy of the row (Reader::course_ref: valid until the next read
  // through `reader`), for the hot GET.
  base::Result<const store::Course*> see_course(Reader& reader, const Actor& actor,
                                                std::string_view id) const;
  base::Result<store::Page<store::Course>> list_courses(store::Db& db, const Actor& actor,
                                                        const store::CourseFilter& filter,
                                                        std::string_view cursor, int limit) const;
  base::Result<store::Course> update_course(store::Txn& txn, const Actor& actor,
                                            std::string_view id, const CoursePatch& patch) const;

  // Enrollment. join() is the case study's decision: atomic with the insert.
  base::Result<JoinResult> join(store::Txn& txn, const Actor& actor,
                                std::string_view course_id) const;
  // The student leaves (student_id == actor.id) or the teacher/admin removes them.
  base::Status remove_student(store::Txn& txn, const Actor& actor, std::string_view course_id,
                              std::string_view student_id) const;
  base::Result<store::Page<store::Enrollment>> list_students(store::Db& db, const Actor& actor,
                                                             std::string_view course_id,
                                                             std::string_view cursor,
                                                             int limit) const;

  // Class codes (service_teacher.cc). A course gets one when it is created. The code is
  // the teacher's and admins' to read and rotate (policy actions read_join_code,
  // rotate_join_code); nullopt for a course made before codes existed, until rotated.
  base::Result<std::optional<std::string>> join_code(store::Db& db, const Actor& actor,
                                                     std::string_view course_id) const;
  // A new code for the course; the old one stops working.
  base::Result<std::string> rotate_join_code(store::Txn& txn, const Actor& actor,
                                             std::string_view course_id) const;
  // {"code": "..."}: the code as typed (case, spaces and dashes do not matter).
  base::Result<std::string> parse_join_by_code(const boost::json::value& body) const;
  // The id of the course whose code is `code`, from a reader: an unknown code is refused
  // here, before it costs a write. NotFound ("join_code_not_found").
  base::Result<std::string> course_for_code(store::Db& db, std::string_view code) const;
  // Joins the course whose code `code` is, exactly as join() does (same policy decision,
  // same capacity check, atomic with the insert). NotFound ("join_code_not_found"), also
  // when the code was rotated since course_for_code.
  base::Result<JoinResult> join_by_code(store::Txn& txn, const Actor& actor,
                                        std::string_view code) const;

  // Attendance (policy action read_attendance): who was in the session's live room, when
  // and for how long. 404 when the session is hidden from the actor.
  base::Result<Attendance> attendance(store::Db& db, const Actor& actor,
                                      std::string_view session_id) const;
  // Distinct students per session of the course, when the actor may read attendance;
  // nullopt when not (the session list then goes without counts).
  base::Result<std::optional<std::map<std::string, int64_t>>> attendance_counts(
      store::Db& db, const Actor& actor, std::string_view course_id) const;

  // The course's gradebook (policy action read_gradebook).
  base::Result<Gradebook> gradebook(store::Db& db, const Actor& actor,
                                    std::string_view course_id) const;

  // Live sessions.
  base::Result<store::Session> go_live(store::Txn& txn, const Actor& actor,
                                       std::string_view course_id, std::string title) const;
  base::Result<store::Session> end_session(store::Txn& txn, const Actor& actor,
                                           std::string_view session_id) const;
  base::Result<store::Session> get_session(store::Db& db, const Actor& actor,
                                           std::string_view id) const;
  base::Result<std::vector<store::Session>> list_sessions(store::Db& db, const Actor& actor,
                                                          std::string_view course_id) const;

  // Quizzes.
  base::Result<store::Quiz> create_quiz(store::Txn& txn, const Actor& actor,
                                        std::string_view session_id, const CreateQuiz& req) const;
  base::Result<store::Quiz> publish_quiz(store::Txn& txn, const Actor& actor,
                                         std::string_view quiz_id, int64_t time_limit_s) const;
  base::Result<store::Quiz> close_quiz(store::Txn& txn, const Actor& actor,
                                       std::string_view quiz_id) const;
  // A quiz the actor may read. `*teacher_view` is set to whether they get the teacher's view
  // (policy action read_results: every quiz, with the correct options); otherwise the
  // read_quiz decision applies: a draft they may not read is 404 quiz_not_found, any other
  // quiz they may not read 403 forbidden.
  base::Result<store::Quiz> get_quiz(store::Db& db, const Actor& actor, std::string_view id,
                                     bool* teacher_view) const;
  // The session's quizzes the actor may read (404 when the session is hidden from them).
  // Without the teacher's view (`*teacher_view` false) the list_quizzes decision must allow
  // (403 otherwise) and the list keeps only the quizzes read_quiz allows.
  base::Result<std::vector<store::Quiz>> list_quizzes(store::Db& db, const Actor& actor,
                                                      std::string_view session_id,
                                                      bool* teacher_view) const;

  // Answers: prepare on the reading side (authorization, validation, grading), then commit
  // inside the writer, which re-checks that the quiz is still open at commit time.
  base::Result<PreparedAnswers> prepare_answers(store::Db& db, const Actor& actor,
                                                std::string_view quiz_id,
                                                const boost::json::value& body) const {
    DbReader reader(db);
    return prepare_answers(reader, actor, quiz_id, body);
  }
  base::Result<PreparedAnswers> prepare_answers(Reader& reader, const Actor& actor,
                                                std::string_view quiz_id,
                                                const boost::json::value& body) const;
  // The same from the body's "answers" array at hand, already checked to hold 1 to
  // kMaxQuestions items (the live room's message): no body is built around it.
  base::Result<PreparedAnswers> prepare_answer_items(Reader& reader, const Actor& actor,
                                                     std::string_view quiz_id,
                                                     const boost::json::array& items) const;
  base::Status commit_answers(store::Txn& txn, const PreparedAnswers& prepared) const;

  // Results: the teacher's view (all students) or a student's own.
  base::Result<boost::json::object> results(store::Db& db, const Actor& actor,
                                            std::string_view quiz_id) const;

  const base::Clock& clock() const { return clock_; }

 private:
  Decision decide(const DecisionInput& input) const;
  base::Status authorize(const DecisionInput& input) const;
  // The policy's read_results decision: the caller sees every quiz and everyone's results.
  bool reads_all_results(const Actor& actor, const store::Course& course) const;
  base::Result<store::Course> course_for_write(store::Db& db, const Actor& actor,
                                               std::string_view id, std::string_view action) const;
  // Gives the course a fresh code no other course has.
  base::Result<std::string> assign_join_code(store::Txn& txn, std::string_view course_id) const;

  const base::Clock& clock_;
  base::Random& random_;
  std::function<std::shared_ptr<const Authorizer>()> authorizer_;
  int64_t default_capacity_;
};

// Wire forms (docs/api.md).
// A time as the API writes it (RFC 3339, UTC, milliseconds), or null.
boost::json::value time_or_null(const std::optional<int64_t>& ms);
boost::json::object to_json(const store::Course& c);
boost::json::object to_json(const store::Enrollment& e);
boost::json::object to_json(const store::Session& s);
// `with_answers`: include the correct options (the teacher, or anyone after close).
boost::json::object to_json(const store::Quiz& q, bool with_answers);

}  // namespace classroom
