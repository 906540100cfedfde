// The quiz model: questions, validation of what a teacher writes and what a student answers,
// and grading. Shared by the REST API and the live room.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace classroom {

enum class QuestionKind { kSingle, kMultiple, kTrueFalse };

std::string_view kind_name(QuestionKind kind);

struct Question {
  QuestionKind kind = QuestionKind::kSingle;
  std::string prompt;
  std::vector<std::string> options;  // for true/false always {"True", "False"}
  std::vector<int> correct;          // sorted, unique option indices
};

inline constexpr size_t kMaxQuestions = 100;
inline constexpr size_t kMaxOptions = 10;

// Reads and validates the "questions" array of a quiz-create request. A single-choice or
// true/false question has exactly one correct option; a multiple-choice one has at least one.
// True/false questions may omit "options" (they are True and False).
base::Result<std::vector<Question>> parse_questions(const boost::json::value& questions);

// The questions as JSON; `with_answers` adds each "correct" list (teacher view, or after close).
boost::json::array questions_to_json(const std::vector<Question>& questions, bool with_answers);

// Storage form (a JSON string) and back. Reading what we wrote cannot fail unless the database
// was edited by hand, which is reported as an internal error.
std::string questions_to_storage(const std::vector<Question>& questions);
base::Result<std::vector<Question>> questions_from_storage(std::string_view text);

// Validates a student's choice for `q` (a JSON array of option indices, or a single index)
// and returns it sorted and de-duplicated.
base::Result<std::vector<int>> normalize_choice(const Question& q,
                                                const boost::json::value& choice);

// One entry of an `answers` array, {"question": index, "choice": index | [indices]}, read
// through base::JsonReader and checked against `questions` (`index` is its position, for
// messages). The one reader of answers, shared by the REST API and the live room.
struct AnswerItem {
  size_t question = 0;      // < questions.size()
  std::vector<int> choice;  // sorted, unique, valid for that question
};
base::Result<AnswerItem> read_answer_item(const boost::json::value& item, size_t index,
                                          const std::vector<Question>& questions);

// Exact-match grading: a choice is correct when it equals the correct set.
bool is_correct(const Question& q, const std::vector<int>& choice);

// "[0,2]" form used in storage and on the wire.
std::string choice_to_string(const std::vector<int>& choice);
base::Result<std::vector<int>> choice_from_string(std::string_view text);

}  // namespace classroom
