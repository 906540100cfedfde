#include "classroom/reader.h"

#include "store/courses.h"
#include "store/quizzes.h"

namespace classroom {

std::atomic<uint64_t>& catalog_generation() {
  static std::atomic<uint64_t> generation{1};
  return generation;
}

namespace {

// `row` when it was kept at `generation` for `id`; otherwise read() kept (at `generation`).
template <typename Row, typename Read>
base::Result<Row> kept_row(Row& row, uint64_t& kept_at, std::string_view id, uint64_t generation,
                           const Read& read) {
  if (kept_at == generation && row.id == id) return row;
  EC_ASSIGN_OR_RETURN(row, read());
  kept_at = generation;
  return row;
}

}  // namespace

base::Result<store::Quiz> RowCache::quiz(store::Db& db, std::string_view id, uint64_t generation) {
  return kept_row(quiz_, quiz_generation_, id, generation, [&] { return store::get_quiz(db, id); });
}

base::Result<store::Course> RowCache::course(store::Db& db, std::string_view id,
                                             uint64_t generation) {
  return kept_row(course_, course_generation_, id, generation,
                  [&] { return store::get_course(db, id); });
}

base::Result<bool> RowCache::enrolled(store::Db& db, std::string_view course_id,
                                      std::string_view student_id, uint64_t generation) {
  if (enrolled_generation_ != generation || enrolled_course_ != course_id ||
      enrolled_.size() >= kMaxEnrolled) {
    enrolled_.clear();
    enrolled_course_ = course_id;
    enrolled_generation_ = generation;
  }
  if (auto it = enrolled_.find(student_id); it != enrolled_.end()) return it->second;
  EC_ASSIGN_OR_RETURN(bool e, store::is_enrolled(db, course_id, student_id));
  enrolled_.emplace(std::string(student_id), e);
  return e;
}

base::Result<store::Course> DbReader::course(std::string_view id) {
  if (rows_) return rows_->course(db_, id, generation_);
  return store::get_course(db_, id);
}

base::Result<const store::Course*> DbReader::course_ref(std::string_view id) {
  EC_ASSIGN_OR_RETURN(last_course_, course(id));
  return &last_course_;
}

base::Result<store::Quiz> DbReader::quiz(std::string_view id) {
  if (rows_) return rows_->quiz(db_, id, generation_);
  return store::get_quiz(db_, id);
}

base::Result<std::shared_ptr<const std::vector<Question>>> QuestionsCache::get(
    const store::Quiz& quiz) {
  if (parsed_ && quiz_id_ == quiz.id && text_ == quiz.questions) return parsed_;
  EC_ASSIGN_OR_RETURN(std::vector<Question> qs, questions_from_storage(quiz.questions));
  parsed_ = std::make_shared<const std::vector<Question>>(std::move(qs));
  quiz_id_ = quiz.id;
  text_ = quiz.questions;
  return parsed_;
}

base::Result<std::shared_ptr<const std::vector<Question>>> DbReader::questions(
    const store::Quiz& quiz) {
  if (questions_cache_) return questions_cache_->get(quiz);
  EC_ASSIGN_OR_RETURN(std::vector<Question> qs, questions_from_storage(quiz.questions));
  return std::make_shared<const std::vector<Question>>(std::move(qs));
}

base::Result<bool> DbReader::enrolled(std::string_view course_id, std::string_view student_id) {
  if (rows_) return rows_->enrolled(db_, course_id, student_id, generation_);
  return store::is_enrolled(db_, course_id, student_id);
}

}  // namespace classroom
