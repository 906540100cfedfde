// The one aggregator of a quiz's answers, shared by the REST results and the live room's
// quiz_results: per question how many chose each option, answered and were right; per student
// how many questions they answered and their score. Portable, not thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "classroom/quiz.h"

namespace classroom {

class QuizTally {
 public:
  struct QuestionStats {
    std::vector<int64_t> option_counts;  // one per option
    int64_t answered = 0;
    int64_t correct = 0;
  };
  struct StudentStats {
    int64_t answered = 0;  // questions answered
    int64_t score = 0;     // questions answered correctly
  };

  explicit QuizTally(const std::vector<Question>& questions);

  // Counts `student`'s answer to question `question` (`choice` as stored: sorted option
  // indices; `correct` its grading). Out-of-range questions and options are ignored, so a
  // hand-edited database cannot make it index out of bounds.
  void add(std::string_view student, size_t question, const std::vector<int>& choice, bool correct);

  const std::vector<QuestionStats>& questions() const { return questions_; }
  const std::map<std::string, StudentStats, std::less<>>& students() const { return students_; }
  // Students per score, 0..question_count.
  std::vector<int64_t> histogram() const;

  // [{"index","counts":[per option],"answered","correct","correct_rate"}]
  boost::json::array questions_json() const;

 private:
  std::vector<QuestionStats> questions_;
  std::map<std::string, StudentStats, std::less<>> students_;
};

}  // namespace classroom
