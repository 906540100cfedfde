#include "classroom/quiz.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "base/json_reader.h"
#include "base/utf8.h"

namespace classroom {

namespace json = boost::json;

std::string_view kind_name(QuestionKind kind) {
  switch (kind) {
    case QuestionKind::kSingle:
      return "single";
    case QuestionKind::kMultiple:
      return "multiple";
    case QuestionKind::kTrueFalse:
      return "true_false";
  }
  return "single";
}

namespace {

base::Result<std::vector<int>> read_indices(const json::value& v, size_t option_count,
                                            const std::string& what) {
  std::vector<int> out;
  auto add = [&](const json::value& e) -> base::Status {
    int64_t idx;
    if (e.is_int64())
      idx = e.get_int64();
    else if (e.is_uint64())
      idx = e.get_uint64() > 1000 ? 1000 : int64_t(e.get_uint64());
    else
      return base::invalid_argument(what + " must hold option indices (integers)",
                                    "invalid_choice");
    if (idx < 0 || size_t(idx) >= option_count) {
      return base::invalid_argument(what + " names option " + std::to_string(idx) +
                                        ", but the question has options 0.." +
                                        std::to_string(option_count - 1),
                                    "invalid_choice");
    }
    out.push_back(int(idx));
    return base::Status::ok();
  };
  if (const auto* a = v.if_array()) {
    if (a->size() > option_count) {
      return base::invalid_argument(what + " has more entries than the question has options",
                                    "invalid_choice");
    }
    for (const auto& e : *a) EC_RETURN_IF_ERROR(add(e));
  } else {
    EC_RETURN_IF_ERROR(add(v));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

base::Status check_arity(QuestionKind kind, const std::vector<int>& picks,
                         const std::string& what) {
  if (picks.empty()) {
    return base::invalid_argument(what + " must name at least one option", "invalid_choice");
  }
  if (kind != QuestionKind::kMultiple && picks.size() != 1) {
    return base::invalid_argument(
        what + " must name exactly one option for a " + std::string(kind_name(kind)) + " question",
        "invalid_choice");
  }
  return base::Status::ok();
}

base::Result<Question> parse_question(const json::value& v, size_t index) {
  std::string where = "questions[" + std::to_string(index) + "].";
  base::JsonReader r(v, where);
  EC_ASSIGN_OR_RETURN(std::string kind, r.one_of("kind", {"single", "multiple", "true_false"}));
  Question q;
  EC_ASSIGN_OR_RETURN(q.prompt, r.string("prompt", 1, 1000));
  EC_ASSIGN_OR_RETURN(const json::value* options, r.optional_value("options"));
  EC_ASSIGN_OR_RETURN(const json::value* correct, r.value("correct"));
  EC_RETURN_IF_ERROR(r.finish());
  q.kind = kind == "single"     ? QuestionKind::kSingle
           : kind == "multiple" ? QuestionKind::kMultiple
                                : QuestionKind::kTrueFalse;
  if (q.kind == QuestionKind::kTrueFalse) {
    q.options = {"True", "False"};
    if (options) {
      return base::invalid_argument(where + "options must be omitted for a true_false question",
                                    "invalid_field");
    }
  } else {
    const json::array* a = options ? options->if_array() : nullptr;
    if (!a || a->size() < 2 || a->size() > kMaxOptions) {
      return base::invalid_argument(
          where + "options must be an array of 2 to " + std::to_string(kMaxOptions) + " strings",
          "invalid_field");
    }
    for (const auto& o : *a) {
      const auto* s = o.if_string();
      if (!s || s->empty() || base::utf8_length(*s) > 500) {
        return base::invalid_argument(
            where + "options must be non-empty strings of at most 500 characters", "invalid_field");
      }
      q.options.emplace_back(*s);
    }
  }
  EC_ASSIGN_OR_RETURN(q.correct, read_indices(*correct, q.options.size(), where + "correct"));
  EC_RETURN_IF_ERROR(check_arity(q.kind, q.correct, where + "correct"));
  return q;
}

}  // namespace

base::Result<std::vector<Question>> parse_questions(const json::value& questions) {
  const json::array* a = questions.if_array();
  if (!a || a->empty() || a->size() > kMaxQuestions) {
    return base::invalid_argument(
        "questions must be an array of 1 to " + std::to_string(kMaxQuestions) + " questions",
        "invalid_field");
  }
  std::vector<Question> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    EC_ASSIGN_OR_RETURN(Question q, parse_question((*a)[i], i));
    out.push_back(std::move(q));
  }
  return out;
}

json::array questions_to_json(const std::vector<Question>& questions, bool with_answers) {
  json::array arr;
  arr.reserve(questions.size());
  for (size_t i = 0; i < questions.size(); ++i) {
    const Question& q = questions[i];
    json::object o;
    o["index"] = i;
    o["kind"] = kind_name(q.kind);
    o["prompt"] = q.prompt;
    json::array opts;
    for (const auto& s : q.options) opts.emplace_back(s);
    o["options"] = std::move(opts);
    if (with_answers) {
      json::array c;
      for (int k : q.correct) c.emplace_back(k);
      o["correct"] = std::move(c);
    }
    arr.emplace_back(std::move(o));
  }
  return arr;
}

std::string questions_to_storage(const std::vector<Question>& questions) {
  return json::serialize(questions_to_json(questions, true));
}

base::Result<std::vector<Question>> questions_from_storage(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return base::internal_error("stored quiz questions are not valid JSON");
  std::vector<Question> out;
  for (const auto& e : v.get_array()) {
    const auto* o = e.if_object();
    if (!o) return base::internal_error("stored quiz question is not an object");
    Question q;
    const auto* kind = o->if_contains("kind");
    std::string_view k = kind && kind->is_string() ? std::string_view(kind->get_string()) : "";
    q.kind = k == "multiple"     ? QuestionKind::kMultiple
             : k == "true_false" ? QuestionKind::kTrueFalse
                                 : QuestionKind::kSingle;
    if (const auto* p = o->if_contains("prompt"); p && p->is_string()) q.prompt = p->get_string();
    if (const auto* opts = o->if_contains("options"); opts && opts->is_array()) {
      for (const auto& s : opts->get_array()) {
        if (s.is_string()) q.options.emplace_back(s.get_string());
      }
    }
    if (const auto* c = o->if_contains("correct"); c && c->is_array()) {
      for (const auto& i : c->get_array()) {
        if (i.is_int64()) q.correct.push_back(int(i.get_int64()));
      }
    }
    out.push_back(std::move(q));
  }
  return out;
}

base::Result<std::vector<int>> normalize_choice(const Question& q, const json::value& choice) {
  EC_ASSIGN_OR_RETURN(std::vector<int> picks, read_indices(choice, q.options.size(), "choice"));
  EC_RETURN_IF_ERROR(check_arity(q.kind, picks, "choice"));
  return picks;
}

base::Result<AnswerItem> read_answer_item(const json::value& item, size_t index,
                                          const std::vector<Question>& questions) {
  std::string where = "answers[" + std::to_string(index) + "].";
  if (questions.empty()) return base::internal_error("the quiz has no questions");
  base::JsonReader r(item, where);
  AnswerItem out;
  EC_ASSIGN_OR_RETURN(int64_t question, r.integer("question", 0, int64_t(questions.size()) - 1));
  EC_ASSIGN_OR_RETURN(const json::value* choice, r.value("choice"));
  EC_RETURN_IF_ERROR(r.finish());
  out.question = size_t(question);
  auto picks = normalize_choice(questions[out.question], *choice);
  if (!picks.is_ok()) {
    return base::invalid_argument(where + "choice: " + picks.status().message(), "invalid_choice");
  }
  out.choice = std::move(picks).value();
  return out;
}

bool is_correct(const Question& q, const std::vector<int>& choice) { return q.correct == choice; }

std::string choice_to_string(const std::vector<int>& choice) {
  std::string s = "[";
  for (size_t i = 0; i < choice.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(choice[i]);
  }
  s += ']';
  return s;
}

base::Result<std::vector<int>> choice_from_string(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return base::internal_error("stored choice is not a JSON array");
  std::vector<int> out;
  for (const auto& e : v.get_array()) {
    if (!e.is_int64()) return base::internal_error("stored choice holds a non-integer");
    out.push_back(int(e.get_int64()));
  }
  return out;
}

}  // namespace classroom
