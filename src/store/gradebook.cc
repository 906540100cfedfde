#include "store/gradebook.h"

namespace store {

base::Result<std::vector<Enrollment>> roster(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT course_id, student_id, student_name, joined_at "
                                          "FROM enrollments WHERE course_id = ? "
                                          "ORDER BY student_name, student_id"));
  st.bind_all(course_id);
  return st.collect([](const Stmt& row) {
    return Enrollment{row.column_text(0), row.column_text(1), row.column_text(2), row.column_int(3)};
  });
}

base::Result<std::vector<QuizScore>> quiz_scores(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, db.prepare("SELECT a.quiz_id, a.student_id, SUM(a.correct != 0), COUNT(*) "
                          "FROM answers a JOIN quizzes q ON q.id = a.quiz_id "
                          "WHERE q.course_id = ? AND q.status != 'draft' "
                          "GROUP BY a.quiz_id, a.student_id ORDER BY a.quiz_id, a.student_id"));
  st.bind_all(course_id);
  return st.collect([](const Stmt& row) {
    return QuizScore{row.column_text(0), row.column_text(1), row.column_int(2), row.column_int(3)};
  });
}

}  // namespace store
