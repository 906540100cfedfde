#include "classroom/live_quiz.h"

#include <boost/json/array.hpp>

#include "base/json_reader.h"

namespace classroom {

namespace json = boost::json;

base::Result<AnswerSet> parse_answer_set(const std::vector<Question>& questions,
                                         const json::value& answers) {
  const json::array* arr = answers.if_array();
  if (!arr || arr->empty() || arr->size() > questions.size()) {
    return base::invalid_argument(
        "answers must be an array of 1 to " + std::to_string(questions.size()) + " entries",
        "invalid_answers");
  }
  AnswerSet out(questions.size());
  for (size_t i = 0; i < arr->size(); ++i) {
    EC_ASSIGN_OR_RETURN(AnswerItem item, read_answer_item((*arr)[i], i, questions));
    if (!out[item.question].empty()) {
      return base::invalid_argument(
          "question " + std::to_string(item.question) + " is answered twice in one message",
          "duplicate_answer");
    }
    out[item.question] = std::move(item.choice);
  }
  return out;
}

LiveQuiz::LiveQuiz(LiveQuizInfo info) : info_(std::move(info)), tally_(info_.questions) {}

LiveQuiz::AnswerState LiveQuiz::state(std::string_view user_id) const {
  if (committed_.find(user_id) != committed_.end()) return AnswerState::kCommitted;
  if (pending_.find(user_id) != pending_.end()) return AnswerState::kPending;
  return AnswerState::kNone;
}

const AnswerSet* LiveQuiz::answers_of(std::string_view user_id) const {
  auto it = committed_.find(user_id);
  return it == committed_.end() ? nullptr : &it->second.answers;
}

void LiveQuiz::set_pending(std::string_view user_id) {
  pending_.emplace(std::string(user_id), true);
}

void LiveQuiz::clear_pending(std::string_view user_id) {
  auto it = pending_.find(user_id);
  if (it != pending_.end()) pending_.erase(it);
}

std::vector<std::string_view> LiveQuiz::answered_users() const {
  std::vector<std::string_view> out;
  out.reserve(committed_.size());
  for (const auto& [id, c] : committed_) out.push_back(id);
  return out;
}

int LiveQuiz::score(const AnswerSet& answers) const {
  int s = 0;
  for (size_t i = 0; i < info_.questions.size() && i < answers.size(); ++i) {
    if (!answers[i].empty() && is_correct(info_.questions[i], answers[i])) ++s;
  }
  return s;
}

bool LiveQuiz::record(std::string_view user_id, const AnswerSet& answers) {
  clear_pending(user_id);
  if (committed_.find(user_id) != committed_.end()) return false;
  Committed c{answers, 0};
  c.answers.resize(info_.questions.size());
  for (size_t i = 0; i < info_.questions.size(); ++i) {
    const auto& choice = c.answers[i];
    if (choice.empty()) continue;
    bool correct = is_correct(info_.questions[i], choice);
    tally_.add(user_id, i, choice, correct);
    c.score += correct;
  }
  committed_.emplace(std::string(user_id), std::move(c));
  return true;
}

json::object LiveQuiz::results_json(size_t students, bool final) const {
  json::object o;
  o["quiz_id"] = info_.id;
  o["answered"] = committed_.size();
  o["students"] = students;
  o["questions"] = tally_.questions_json();
  o["final"] = final;
  return o;
}

json::object LiveQuiz::distribution_json() const {
  json::object o;
  o["max_score"] = info_.questions.size();
  o["answered"] = committed_.size();
  // Every student with a committed answer set, including one whose answers scored nothing.
  std::vector<int64_t> histogram(info_.questions.size() + 1, 0);
  for (const auto& [id, c] : committed_) {
    if (c.score >= 0 && size_t(c.score) < histogram.size()) ++histogram[size_t(c.score)];
  }
  int64_t total = 0;
  json::array hist;
  for (size_t s = 0; s < histogram.size(); ++s) {
    hist.emplace_back(histogram[s]);
    total += histogram[s] * int64_t(s);
  }
  o["mean"] = committed_.empty() ? 0.0 : double(total) / double(committed_.size());
  o["histogram"] = std::move(hist);
  return o;
}

json::object LiveQuiz::quiz_json(bool with_answers) const {
  json::object o;
  o["id"] = info_.id;
  o["title"] = info_.title;
  o["questions"] = questions_to_json(info_.questions, with_answers);
  o["published_at"] = info_.published_at_ms;
  o["deadline"] = info_.deadline_ms;
  o["status"] = closed_ ? "closed" : "open";
  return o;
}

json::object LiveQuiz::score_json(std::string_view user_id) const {
  json::object o;
  o["quiz_id"] = info_.id;
  o["max_score"] = info_.questions.size();
  auto it = committed_.find(user_id);
  o["answered"] = it != committed_.end();
  o["score"] = it != committed_.end() ? it->second.score : 0;
  json::array correct;
  for (size_t i = 0; i < info_.questions.size(); ++i) {
    bool ok = it != committed_.end() && !it->second.answers[i].empty() &&
              is_correct(info_.questions[i], it->second.answers[i]);
    correct.emplace_back(ok);
  }
  o["correct"] = std::move(correct);
  return o;
}

}  // namespace classroom
