// Repositories for quizzes and their answers.
//
// Quiz status moves draft -> published -> closed only. Answers are keyed by
// (quiz_id, student_id, question): one answer per student per question.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "store/db.h"
#include "store/model.h"
#include "store/txn.h"

namespace store {

// NotFound ("session_not_found") when the session does not exist; Conflict
// ("already_exists") when the id is taken.
base::Status insert_quiz(Txn& txn, const Quiz& quiz);

// NotFound ("quiz_not_found").
base::Result<Quiz> get_quiz(Db& db, std::string_view id);

// The session's quizzes, oldest first (created_at, id).
base::Result<std::vector<Quiz>> list_quizzes(Db& db, std::string_view session_id);

// The course's published and closed quizzes (drafts are left out), in the order they were
// published (the gradebook's columns).
base::Result<std::vector<Quiz>> graded_quizzes(Db& db, std::string_view course_id);

// draft -> published, setting published_at and deadline_at (nullopt: no deadline).
// NotFound ("quiz_not_found"); FailedPrecondition ("quiz_not_draft") from any other status.
base::Status publish_quiz(Txn& txn, std::string_view id, int64_t published_at,
                          std::optional<int64_t> deadline_at);

// published -> closed, setting closed_at. NotFound ("quiz_not_found");
// FailedPrecondition ("quiz_not_published") from any other status.
base::Status close_quiz(Txn& txn, std::string_view id, int64_t closed_at);

// Stores an answer. Returns true when it was new; false when the same student already gave
// the same choice for that question (an idempotent retry: nothing changes). Conflict
// ("already_answered") when a different choice is stored. NotFound ("quiz_not_found") when
// the quiz does not exist.
base::Result<bool> insert_answer(Txn& txn, const Answer& answer);

// One student's answers to a quiz, by question.
base::Result<std::vector<Answer>> get_answers(Db& db, std::string_view quiz_id,
                                              std::string_view student_id);

// Every answer to a quiz, ordered by (student_id, question).
base::Result<std::vector<Answer>> all_answers(Db& db, std::string_view quiz_id);

// The name of every student who answered the quiz, from the course's enrollments, in one
// query, as (student_id, student_name) ordered by student_id. A student who has since left
// the course has an empty name.
base::Result<std::vector<std::pair<std::string, std::string>>> answering_students(
    Db& db, std::string_view quiz_id);

}  // namespace store
