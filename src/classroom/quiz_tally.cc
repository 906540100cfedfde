#include "classroom/quiz_tally.h"

#include <boost/json/object.hpp>

namespace classroom {

namespace json = boost::json;

QuizTally::QuizTally(const std::vector<Question>& questions) : questions_(questions.size()) {
  for (size_t i = 0; i < questions.size(); ++i) {
    questions_[i].option_counts.assign(questions[i].options.size(), 0);
  }
}

void QuizTally::add(std::string_view student, size_t question, const std::vector<int>& choice,
                    bool correct) {
  if (question >= questions_.size()) return;
  QuestionStats& q = questions_[question];
  for (int k : choice) {
    if (k >= 0 && size_t(k) < q.option_counts.size()) ++q.option_counts[size_t(k)];
  }
  ++q.answered;
  q.correct += correct;
  auto it = students_.find(student);
  if (it == students_.end()) it = students_.emplace(std::string(student), StudentStats{}).first;
  ++it->second.answered;
  it->second.score += correct;
}

std::vector<int64_t> QuizTally::histogram() const {
  std::vector<int64_t> h(questions_.size() + 1, 0);
  for (const auto& [id, s] : students_) {
    if (s.score >= 0 && size_t(s.score) < h.size()) ++h[size_t(s.score)];
  }
  return h;
}

json::array QuizTally::questions_json() const {
  json::array out;
  out.reserve(questions_.size());
  for (size_t i = 0; i < questions_.size(); ++i) {
    const QuestionStats& q = questions_[i];
    json::array counts;
    for (int64_t c : q.option_counts) counts.emplace_back(c);
    double rate = q.answered ? double(q.correct) / double(q.answered) : 0.0;
    out.emplace_back(json::object{{"index", i},
                                  {"counts", std::move(counts)},
                                  {"answered", q.answered},
                                  {"correct", q.correct},
                                  {"correct_rate", rate}});
  }
  return out;
}

}  // namespace classroom
