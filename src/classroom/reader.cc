#include "classroom/reader.h"

#include "store/courses.h"
#include "store/quizzes.h"

namespace classroom {

std::atomic<uint64_t>& catalog_generation() {
  static std::atomic<uint64_t> generation{1};
  return generation;
}

base::Result<store::Course> DbReader::course(std::string_view id) {
  return store::get_course(db_, id);
}

base::Result<const store::Course*> DbReader::course_ref(std::string_view id) {
  EC_ASSIGN_OR_RETURN(last_course_, store::get_course(db_, id));
  return &last_course_;
}

base::Result<store::Quiz> DbReader::quiz(std::string_view id) { return store::get_quiz(db_, id); }

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
  return store::is_enrolled(db_, course_id, student_id);
}

}  // namespace classroom
