#include "store/gradebook.h"

namespace store {

base::Result<std::vector<Quiz>> graded_quizzes(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(Stmt st,
                      db.prepare("SELECT id, session_id, course_id, title, status, questions, "
                                 "time_limit_ms, published_at, deadline_at, closed_at, created_at "
                                 "FROM quizzes WHERE course_id = ? AND status != 'draft' "
                                 "ORDER BY published_at, created_at, id"));
  st.bind_all(course_id);
  std::vector<Quiz> out;
  while (true) {
    EC_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    Quiz q;
    q.id = st.column_text(0);
    q.session_id = st.column_text(1);
    q.course_id = st.column_text(2);
    q.title = st.column_text(3);
    q.status = parse_quiz_status(st.column_text(4)).value_or(QuizStatus::kPublished);
    q.questions = st.column_text(5);
    q.time_limit_ms = st.column_int(6);
    q.published_at = st.column_opt_int(7);
    q.deadline_at = st.column_opt_int(8);
    q.closed_at = st.column_opt_int(9);
    q.created_at = st.column_int(10);
    out.push_back(std::move(q));
  }
  return out;
}

base::Result<std::vector<Enrollment>> roster(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT course_id, student_id, student_name, joined_at "
                                          "FROM enrollments WHERE course_id = ? "
                                          "ORDER BY student_name, student_id"));
  st.bind_all(course_id);
  std::vector<Enrollment> out;
  while (true) {
    EC_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(
        Enrollment{st.column_text(0), st.column_text(1), st.column_text(2), st.column_int(3)});
  }
  return out;
}

base::Result<std::vector<QuizScore>> quiz_scores(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, db.prepare("SELECT a.quiz_id, a.student_id, SUM(a.correct != 0), COUNT(*) "
                          "FROM answers a JOIN quizzes q ON q.id = a.quiz_id "
                          "WHERE q.course_id = ? AND q.status != 'draft' "
                          "GROUP BY a.quiz_id, a.student_id ORDER BY a.quiz_id, a.student_id"));
  st.bind_all(course_id);
  std::vector<QuizScore> out;
  while (true) {
    EC_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(
        QuizScore{st.column_text(0), st.column_text(1), st.column_int(2), st.column_int(3)});
  }
  return out;
}

}  // namespace store
