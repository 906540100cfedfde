// A quiz while it runs in a live room: who answered what, aggregated counts for the teacher's
// live results, and at close each student's score and the class distribution.
// Not thread-safe (owned by the room's thread). Portable core.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "classroom/quiz.h"
#include "classroom/quiz_tally.h"

namespace classroom {

// A published quiz as the room needs it.
struct LiveQuizInfo {
  std::string id;  // "qz_..."
  std::string title;
  std::vector<Question> questions;
  int64_t published_at_ms = 0;  // Unix ms
  int64_t deadline_ms = 0;      // Unix ms; answers committed after it are still counted
};

// One student's answers: choices[i] is the normalised choice for question i, empty when the
// question was left unanswered.
using AnswerSet = std::vector<std::vector<int>>;

// Reads `[{"question":0,"choice":[1]}, ...]` (the REST and socket form) against `questions`.
// Each question may appear at most once; questions not listed stay unanswered; at least one
// question must be answered.
base::Result<AnswerSet> parse_answer_set(const std::vector<Question>& questions,
                                         const boost::json::value& answers);

class LiveQuiz {
 public:
  explicit LiveQuiz(LiveQuizInfo info);

  const LiveQuizInfo& info() const { return info_; }
  const std::string& id() const { return info_.id; }
  size_t question_count() const { return info_.questions.size(); }

  bool closed() const { return closed_; }
  void mark_closed() { closed_ = true; }

  enum class AnswerState { kNone, kPending, kCommitted };
  AnswerState state(std::string_view user_id) const;
  // The committed answers of `user_id`, or nullptr.
  const AnswerSet* answers_of(std::string_view user_id) const;

  // Marks `user_id` as having an answer on its way to storage (refuses a second submission
  // while the first is being committed). clear_pending() undoes it when the commit failed.
  void set_pending(std::string_view user_id);
  void clear_pending(std::string_view user_id);

  // Counts a committed answer. Returns false (and counts nothing) when `user_id` already has
  // a committed answer: storage allows one answer set per student and quiz.
  bool record(std::string_view user_id, const AnswerSet& answers);

  // Number of correct questions in `answers`.
  int score(const AnswerSet& answers) const;

  size_t answered() const { return committed_.size(); }
  // Users with committed answers (views into this quiz; valid until the next record()).
  std::vector<std::string_view> answered_users() const;

  // Live results: {"quiz_id","answered","students","questions":[{"index","counts":[..],
  // "answered","correct","correct_rate"}],"final"} (questions as in the REST results). `students`
  // is the number of students the caller counts as in class.
  boost::json::object results_json(size_t students, bool final) const;
  // Class distribution at close: {"max_score","answered","mean","histogram":[count per score]}.
  boost::json::object distribution_json() const;
  // The questions as students see them (no answers) or with answers (teacher, after close).
  boost::json::object quiz_json(bool with_answers) const;
  // One student's result: {"quiz_id","answered","score","max_score","correct":[bool...]}.
  boost::json::object score_json(std::string_view user_id) const;

 private:
  struct Committed {
    AnswerSet answers;
    int score = 0;
  };
  LiveQuizInfo info_;
  bool closed_ = false;
  std::map<std::string, Committed, std::less<>> committed_;
  std::map<std::string, bool, std::less<>> pending_;  // value unused; a set with lookups by view
  QuizTally tally_;                                   // the same aggregator as REST results
};

}  // namespace classroom
