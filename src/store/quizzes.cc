#include "store/quizzes.h"

#include <sqlite3.h>

namespace store {

namespace {

constexpr const char* kSelectQuiz =
    "SELECT id, session_id, course_id, title, status, questions, time_limit_ms, published_at, "
    "deadline_at, closed_at, created_at FROM quizzes ";
constexpr const char* kSelectAnswer =
    "SELECT quiz_id, student_id, question, choice, correct, answered_at FROM answers ";

Quiz read_quiz(const Stmt& st) {
  Quiz q;
  q.id = st.column_text(0);
  q.session_id = st.column_text(1);
  q.course_id = st.column_text(2);
  q.title = st.column_text(3);
  q.status = parse_quiz_status(st.column_text(4)).value_or(QuizStatus::kClosed);
  q.questions = st.column_text(5);
  q.time_limit_ms = st.column_int(6);
  q.published_at = st.column_opt_int(7);
  q.deadline_at = st.column_opt_int(8);
  q.closed_at = st.column_opt_int(9);
  q.created_at = st.column_int(10);
  return q;
}

Answer read_answer(const Stmt& st) {
  Answer a;
  a.quiz_id = st.column_text(0);
  a.student_id = st.column_text(1);
  a.question = st.column_int(2);
  a.choice = st.column_text(3);
  a.correct = st.column_int(4) != 0;
  a.answered_at = st.column_int(5);
  return a;
}

base::Status quiz_not_found(std::string_view id) {
  return base::not_found("quiz " + std::string(id) + " does not exist", "quiz_not_found");
}

base::Result<std::vector<Answer>> read_answers(Stmt& st) {
  return st.collect(read_answer);
}

// After an UPDATE ... WHERE status = <from> changed nothing: NotFound or the state error.
base::Status explain_no_transition(Db& db, std::string_view id, std::string_view want,
                                   std::string_view reason) {
  EC_ASSIGN_OR_RETURN(Quiz q, get_quiz(db, id));
  return base::failed_precondition(
      "quiz " + q.id + " is " + std::string(to_string(q.status)) + ", not " + std::string(want),
      std::string(reason));
}

}  // namespace

base::Status insert_quiz(Txn& txn, const Quiz& q) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, txn.db().prepare("INSERT INTO quizzes (id, session_id, course_id, title, "
                                "status, questions, time_limit_ms, published_at, deadline_at, "
                                "closed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st.bind_all(q.id, q.session_id, q.course_id, q.title, to_string(q.status), q.questions,
              q.time_limit_ms, q.published_at, q.deadline_at, q.closed_at, q.created_at);
  base::Status r = st.run();
  if (r.is_ok()) return r;
  switch (st.last_error_code()) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return base::conflict("quiz " + q.id + " already exists", "already_exists");
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return base::not_found(
          "session " + q.session_id + " or course " + q.course_id + " does not exist",
          "session_not_found");
    default:
      return r;
  }
}

base::Result<Quiz> get_quiz(Db& db, std::string_view id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(std::string(kSelectQuiz) + "WHERE id = ?"));
  st.bind_all(id);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return quiz_not_found(id);
  return read_quiz(st);
}

base::Result<std::vector<Quiz>> list_quizzes(Db& db, std::string_view session_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(std::string(kSelectQuiz) +
                                          "WHERE session_id = ? ORDER BY created_at, id"));
  st.bind_all(session_id);
  return st.collect(read_quiz);
}

base::Result<std::vector<Quiz>> graded_quizzes(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, db.prepare(std::string(kSelectQuiz) + "WHERE course_id = ? AND status != 'draft' "
                                                     "ORDER BY published_at, created_at, id"));
  st.bind_all(course_id);
  return st.collect(read_quiz);
}

base::Status publish_quiz(Txn& txn, std::string_view id, int64_t published_at,
                          std::optional<int64_t> deadline_at) {
  Db& db = txn.db();
  // The time limit is stored too (deadline minus publish time; 0 without a deadline), so a
  // quiz read back says how long it runs.
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("UPDATE quizzes SET status = 'published', "
                                          "published_at = ?1, deadline_at = ?2, "
                                          "time_limit_ms = coalesce(?2 - ?1, 0) "
                                          "WHERE id = ?3 AND status = 'draft'"));
  st.bind_all(published_at, deadline_at, id);
  EC_RETURN_IF_ERROR(st.run());
  if (db.changes() == 1) return base::Status::ok();
  return explain_no_transition(db, id, "draft", "quiz_not_draft");
}

base::Status close_quiz(Txn& txn, std::string_view id, int64_t closed_at) {
  Db& db = txn.db();
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("UPDATE quizzes SET status = 'closed', closed_at = ? "
                                          "WHERE id = ? AND status = 'published'"));
  st.bind_all(closed_at, id);
  EC_RETURN_IF_ERROR(st.run());
  if (db.changes() == 1) return base::Status::ok();
  return explain_no_transition(db, id, "published", "quiz_not_published");
}

base::Result<bool> insert_answer(Txn& txn, const Answer& a) {
  Db& db = txn.db();
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("INSERT INTO answers (quiz_id, student_id, question, "
                                          "choice, correct, answered_at) VALUES (?, ?, ?, ?, ?, ?) "
                                          "ON CONFLICT DO NOTHING"));
  st.bind_all(a.quiz_id, a.student_id, a.question, a.choice, a.correct, a.answered_at);
  base::Status r = st.run();
  if (!r.is_ok()) {
    if (st.last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY) return quiz_not_found(a.quiz_id);
    return r;
  }
  if (db.changes() == 1) return true;
  // A row was already there: the same choice is a retry, a different one a conflict.
  EC_ASSIGN_OR_RETURN(Stmt prev, db.prepare("SELECT choice FROM answers WHERE quiz_id = ? AND "
                                            "student_id = ? AND question = ?"));
  prev.bind_all(a.quiz_id, a.student_id, a.question);
  EC_ASSIGN_OR_RETURN(bool row, prev.step());
  if (row && prev.column_text(0) == a.choice) return false;
  return base::conflict("student " + a.student_id + " already answered question " +
                            std::to_string(a.question) + " of quiz " + a.quiz_id,
                        "already_answered");
}

base::Result<std::vector<Answer>> get_answers(Db& db, std::string_view quiz_id,
                                              std::string_view student_id) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, db.prepare(std::string(kSelectAnswer) + "WHERE quiz_id = ? AND student_id = ? "
                                                       "ORDER BY question"));
  st.bind_all(quiz_id, student_id);
  return read_answers(st);
}

base::Result<std::vector<Answer>> all_answers(Db& db, std::string_view quiz_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(std::string(kSelectAnswer) +
                                          "WHERE quiz_id = ? ORDER BY student_id, question"));
  st.bind_all(quiz_id);
  return read_answers(st);
}

base::Result<std::vector<std::pair<std::string, std::string>>> answering_students(
    Db& db, std::string_view quiz_id) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, db.prepare("SELECT a.student_id, coalesce(e.student_name, '') "
                          "FROM (SELECT DISTINCT student_id FROM answers WHERE quiz_id = ?1) AS a "
                          "JOIN quizzes q ON q.id = ?1 "
                          "LEFT JOIN enrollments e ON e.course_id = q.course_id "
                          "AND e.student_id = a.student_id ORDER BY a.student_id"));
  st.bind_all(quiz_id);
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    EC_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.emplace_back(st.column_text(0), st.column_text(1));
  }
  return out;
}

}  // namespace store
