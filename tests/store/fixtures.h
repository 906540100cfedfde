// Row builders shared by the repository tests.
#pragma once

#include <string>

#include "store/courses.h"
#include "store/model.h"
#include "store/quizzes.h"
#include "store/sessions.h"
#include "store/txn.h"
#include "test_util.h"

namespace store::testing {

inline Course course_row(const std::string& id, int64_t at = 1) {
  Course c;
  c.id = id;
  c.title = "Course " + id;
  c.teacher_id = "usr_teacher";
  c.teacher_name = "Teacher";
  c.status = CourseStatus::kActive;
  c.capacity = 100;
  c.created_at = at;
  c.updated_at = at;
  return c;
}

inline Session session_row(const std::string& id, const std::string& course, int64_t at = 1) {
  Session s;
  s.id = id;
  s.course_id = course;
  s.teacher_id = "usr_teacher";
  s.title = "Session " + id;
  s.status = SessionStatus::kLive;
  s.started_at = at;
  return s;
}

inline Quiz quiz_row(const std::string& id, const std::string& session, const std::string& course,
                     int64_t at = 1) {
  Quiz q;
  q.id = id;
  q.session_id = session;
  q.course_id = course;
  q.title = "Quiz " + id;
  q.status = QuizStatus::kDraft;
  q.questions = R"([{"text":"2+2?","options":["3","4"],"answer":[1]}])";
  q.time_limit_ms = 30000;
  q.created_at = at;
  return q;
}

inline Answer answer_row(const std::string& quiz, const std::string& student, int64_t question,
                         const std::string& choice = "[1]", int64_t at = 5) {
  return Answer{quiz, student, question, choice, choice == "[1]", at};
}

// A store with two courses (crs_1, crs_2), each with one live session (ses_1, ses_2).
class TwoCoursesTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_OK(write([](Txn& t) -> base::Status {
      EC_RETURN_IF_ERROR(insert_course(t, course_row("crs_1")));
      EC_RETURN_IF_ERROR(insert_course(t, course_row("crs_2")));
      EC_RETURN_IF_ERROR(insert_session(t, session_row("ses_1", "crs_1")));
      return insert_session(t, session_row("ses_2", "crs_2"));
    }));
  }
};

}  // namespace store::testing
