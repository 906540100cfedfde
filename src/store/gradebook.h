// The reads behind a course's gradebook: its quizzes, its roster and every student's score
// per quiz, each in one query. Turning them into a table is classroom/gradebook.h's job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/db.h"
#include "store/model.h"

namespace store {

// The course's published and closed quizzes (drafts are left out), in the order they were
// published. Every field of Quiz is filled.
base::Result<std::vector<Quiz>> graded_quizzes(Db& db, std::string_view course_id);

// Everyone enrolled in the course now, ordered by (student_name, student_id).
base::Result<std::vector<Enrollment>> roster(Db& db, std::string_view course_id);

struct QuizScore {
  std::string quiz_id;
  std::string student_id;
  int64_t correct = 0;   // questions answered correctly
  int64_t answered = 0;  // questions answered
};
// One entry per (quiz, student) with at least one answer, over the course's published and
// closed quizzes, ordered by (quiz_id, student_id).
base::Result<std::vector<QuizScore>> quiz_scores(Db& db, std::string_view course_id);

}  // namespace store
