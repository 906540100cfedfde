// Quizzes: create, publish, close, answer, results.
#include <algorithm>
#include <map>

#include "base/json_reader.h"
#include "base/random.h"
#include "base/strings.h"
#include "classroom/quiz_tally.h"
#include "classroom/service.h"
#include "store/db.h"

namespace classroom {

namespace json = boost::json;

namespace {

base::Status quiz_not_found(std::string_view id) {
  return base::not_found("no quiz with id '" + std::string(id) + "'", "quiz_not_found");
}

// Open for answers at `now`: published and before its deadline.
base::Status check_open(const store::Quiz& q, int64_t now) {
  if (q.status == store::QuizStatus::kDraft) {
    return base::failed_precondition("the quiz has not been published yet", "quiz_not_published");
  }
  if (q.status == store::QuizStatus::kClosed) {
    return base::failed_precondition("the quiz is closed; answers are no longer accepted",
                                     "quiz_closed");
  }
  if (q.deadline_at && now >= *q.deadline_at) {
    return base::failed_precondition("the quiz's time ran out at " +
                                         base::format_utc_ms(*q.deadline_at) +
                                         "; answers are no longer accepted",
                                     "quiz_deadline_passed");
  }
  return base::Status::ok();
}

}  // namespace

base::Result<CreateQuiz> Service::parse_create_quiz(const json::value& body) const {
  base::JsonReader r(body);
  CreateQuiz q;
  EC_ASSIGN_OR_RETURN(q.title, r.string("title", 1, 200));
  EC_ASSIGN_OR_RETURN(const json::value* questions, r.value("questions"));
  EC_RETURN_IF_ERROR(r.finish());
  EC_ASSIGN_OR_RETURN(q.questions, parse_questions(*questions));
  return q;
}

base::Result<int64_t> Service::parse_publish(const json::value& body) const {
  base::JsonReader r(body);
  EC_ASSIGN_OR_RETURN(int64_t limit, r.integer("time_limit_s", 1, 86400));
  EC_RETURN_IF_ERROR(r.finish());
  return limit;
}

base::Result<store::Quiz> Service::create_quiz(store::Txn& txn, const Actor& actor,
                                               std::string_view session_id,
                                               const CreateQuiz& req) const {
  if (!base::is_valid_id(session_id, "ses")) {
    return base::not_found("no session with id '" + std::string(session_id) + "'",
                           "session_not_found");
  }
  EC_ASSIGN_OR_RETURN(store::Session s, store::get_session(txn.db(), session_id));
  EC_RETURN_IF_ERROR(course_for_write(txn.db(), actor, s.course_id, "create_quiz").status());
  if (s.status != store::SessionStatus::kLive) {
    return base::failed_precondition("the session has ended; start a new one to run a quiz",
                                     "session_ended");
  }
  store::Quiz q;
  q.id = base::new_id("qz", random_);
  q.session_id = s.id;
  q.course_id = s.course_id;
  q.title = req.title;
  q.status = store::QuizStatus::kDraft;
  q.questions = questions_to_storage(req.questions);
  q.created_at = clock_.now_unix_ms();
  EC_RETURN_IF_ERROR(store::insert_quiz(txn, q));
  return q;
}

base::Result<store::Quiz> Service::publish_quiz(store::Txn& txn, const Actor& actor,
                                                std::string_view quiz_id,
                                                int64_t time_limit_s) const {
  if (!base::is_valid_id(quiz_id, "qz")) return quiz_not_found(quiz_id);
  EC_ASSIGN_OR_RETURN(store::Quiz q, store::get_quiz(txn.db(), quiz_id));
  EC_RETURN_IF_ERROR(course_for_write(txn.db(), actor, q.course_id, "publish_quiz").status());
  if (q.status != store::QuizStatus::kDraft) {
    return base::failed_precondition(
        "the quiz is already " + std::string(store::to_string(q.status)), "quiz_not_draft");
  }
  int64_t now = clock_.now_unix_ms();
  // One open quiz per session, as in the live room: another one still running refuses the
  // publish; one whose deadline has passed is closed now (at its deadline), in this txn.
  EC_ASSIGN_OR_RETURN(std::vector<store::Quiz> others, store::list_quizzes(txn.db(), q.session_id));
  for (const store::Quiz& o : others) {
    if (o.id == q.id || o.status != store::QuizStatus::kPublished) continue;
    if (!o.deadline_at || now < *o.deadline_at) {
      return base::failed_precondition(
          "quiz " + o.id + " is still open in this session; close it first", "quiz_open");
    }
    EC_RETURN_IF_ERROR(store::close_quiz(txn, o.id, *o.deadline_at));
  }
  q.status = store::QuizStatus::kPublished;
  q.time_limit_ms = time_limit_s * 1000;
  q.published_at = now;
  q.deadline_at = now + q.time_limit_ms;
  EC_RETURN_IF_ERROR(store::publish_quiz(txn, q.id, now, q.deadline_at));
  return q;
}

base::Result<store::Quiz> Service::close_quiz(store::Txn& txn, const Actor& actor,
                                              std::string_view quiz_id) const {
  if (!base::is_valid_id(quiz_id, "qz")) return quiz_not_found(quiz_id);
  EC_ASSIGN_OR_RETURN(store::Quiz q, store::get_quiz(txn.db(), quiz_id));
  EC_RETURN_IF_ERROR(course_for_write(txn.db(), actor, q.course_id, "close_quiz").status());
  if (q.status != store::QuizStatus::kPublished) {
    return base::failed_precondition(
        q.status == store::QuizStatus::kDraft ? "the quiz has not been published yet"
                                              : "the quiz is already closed",
        q.status == store::QuizStatus::kDraft ? "quiz_not_published" : "quiz_closed");
  }
  int64_t now = clock_.now_unix_ms();
  EC_RETURN_IF_ERROR(store::close_quiz(txn, q.id, now));
  q.status = store::QuizStatus::kClosed;
  q.closed_at = now;
  return q;
}

base::Result<store::Quiz> Service::get_quiz(store::Db& db, const Actor& actor, std::string_view id,
                                            bool* teacher_view) const {
  if (!base::is_valid_id(id, "qz")) return quiz_not_found(id);
  EC_ASSIGN_OR_RETURN(store::Quiz q, store::get_quiz(db, id));
  EC_ASSIGN_OR_RETURN(store::Course c, store::get_course(db, q.course_id));
  *teacher_view = reads_all_results(actor, c);
  if (*teacher_view) return q;
  EC_ASSIGN_OR_RETURN(bool enrolled, store::is_enrolled(db, c.id, actor.id));
  DecisionInput read{"read_quiz", input_user(actor)};
  read.course = &c;
  read.quiz = &q;
  read.enrolled = enrolled;
  base::Status allowed = authorize(read);
  // A draft is private to whoever may read it: to everyone else it does not exist (404).
  // Any other quiz they may not read is a 403 with the policy's reason.
  if (!allowed.is_ok() && q.status == store::QuizStatus::kDraft) return quiz_not_found(id);
  EC_RETURN_IF_ERROR(allowed);
  return q;
}

base::Result<std::vector<store::Quiz>> Service::list_quizzes(store::Db& db, const Actor& actor,
                                                             std::string_view session_id,
                                                             bool* teacher_view) const {
  EC_ASSIGN_OR_RETURN(store::Session s, get_session(db, actor, session_id));
  EC_ASSIGN_OR_RETURN(store::Course c, store::get_course(db, s.course_id));
  EC_ASSIGN_OR_RETURN(std::vector<store::Quiz> all, store::list_quizzes(db, s.id));
  *teacher_view = reads_all_results(actor, c);
  if (*teacher_view) return all;
  EC_ASSIGN_OR_RETURN(bool enrolled, store::is_enrolled(db, c.id, actor.id));
  DecisionInput list{"list_quizzes", input_user(actor)};
  list.course = &c;
  list.session = &s;
  list.enrolled = enrolled;
  EC_RETURN_IF_ERROR(authorize(list));
  // Each quiz is then one read_quiz decision: the policy, not this code, hides the drafts.
  DecisionInput read{"read_quiz", input_user(actor)};
  read.course = &c;
  read.enrolled = enrolled;
  std::erase_if(all, [&](const store::Quiz& q) {
    read.quiz = &q;
    return !decide(read).allow;
  });
  return all;
}

base::Result<PreparedAnswers> Service::prepare_answers(Reader& reader, const Actor& actor,
                                                       std::string_view quiz_id,
                                                       const json::value& body) const {
  base::JsonReader r(body);
  EC_ASSIGN_OR_RETURN(const json::array* items, r.array("answers", 1, kMaxQuestions));
  EC_RETURN_IF_ERROR(r.finish());
  return prepare_answer_items(reader, actor, quiz_id, *items);
}

base::Result<PreparedAnswers> Service::prepare_answer_items(Reader& reader, const Actor& actor,
                                                            std::string_view quiz_id,
                                                            const json::array& items) const {
  if (!base::is_valid_id(quiz_id, "qz")) return quiz_not_found(quiz_id);
  ReadSnapshot snapshot(reader);  // the three reads below: one snapshot, locked once
  EC_ASSIGN_OR_RETURN(store::Quiz q, reader.quiz(quiz_id));
  EC_ASSIGN_OR_RETURN(store::Course c, reader.course(q.course_id));
  EC_ASSIGN_OR_RETURN(bool enrolled, reader.enrolled(c.id, actor.id));
  DecisionInput in{"answer", input_user(actor)};
  in.course = &c;
  in.quiz = &q;
  in.enrolled = enrolled;
  EC_RETURN_IF_ERROR(authorize(in));
  int64_t now = clock_.now_unix_ms();
  EC_RETURN_IF_ERROR(check_open(q, now));
  EC_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<Question>> shared_questions,
                      reader.questions(q));
  const std::vector<Question>& questions = *shared_questions;

  PreparedAnswers out;
  for (size_t i = 0; i < items.size(); ++i) {
    EC_ASSIGN_OR_RETURN(AnswerItem item, read_answer_item(items[i], i, questions));
    for (const auto& prev : out.answers) {
      if (size_t(prev.question) == item.question) {
        return base::invalid_argument(
            "question " + std::to_string(item.question) + " is answered twice in one request",
            "duplicate_answer");
      }
    }
    const Question& question = questions[item.question];
    store::Answer ans;
    ans.quiz_id = q.id;
    ans.student_id = actor.id;
    ans.question = int(item.question);
    ans.choice = choice_to_string(item.choice);
    ans.correct = is_correct(question, item.choice);
    ans.answered_at = now;
    out.answers.push_back(std::move(ans));
  }
  out.quiz = std::move(q);
  return out;
}

base::Status Service::commit_answers(store::Txn& txn, const PreparedAnswers& prepared) const {
  // The quiz may have been closed between preparing and this commit: check again here, where
  // it is ordered against the close in the writer.
  EC_ASSIGN_OR_RETURN(store::Quiz q, store::get_quiz(txn.db(), prepared.quiz.id));
  EC_RETURN_IF_ERROR(check_open(q, clock_.now_unix_ms()));
  // Likewise the student may have been removed from the course since (the policy's answer
  // rule needs `enrolled`): a removal ordered before this commit wins.
  if (!prepared.answers.empty()) {
    EC_ASSIGN_OR_RETURN(bool enrolled, store::is_enrolled(txn.db(), q.course_id,
                                                          prepared.answers.front().student_id));
    if (!enrolled) {
      return base::permission_denied("you are no longer enrolled in this course", "forbidden");
    }
  }
  for (const store::Answer& a : prepared.answers) {
    auto r = store::insert_answer(txn, a);
    if (!r.is_ok()) {
      if (r.status().code() == base::Code::kConflict) {
        return base::conflict("question " + std::to_string(a.question) +
                                  " was already answered with a different choice; each question "
                                  "can be answered once",
                              "already_answered");
      }
      return r.status();
    }
  }
  return base::Status::ok();
}

base::Result<json::object> Service::results(store::Db& db, const Actor& actor,
                                            std::string_view quiz_id) const {
  bool teacher_view = false;
  EC_ASSIGN_OR_RETURN(store::Quiz q, get_quiz(db, actor, quiz_id, &teacher_view));
  EC_ASSIGN_OR_RETURN(std::vector<Question> questions, questions_from_storage(q.questions));
  bool finished = q.status == store::QuizStatus::kClosed ||
                  (q.deadline_at && clock_.now_unix_ms() >= *q.deadline_at);
  json::object out{{"quiz_id", q.id},
                   {"status", store::to_string(q.status)},
                   {"question_count", questions.size()}};

  if (!teacher_view) {
    EC_ASSIGN_OR_RETURN(std::vector<store::Answer> mine, store::get_answers(db, q.id, actor.id));
    json::array answers;
    int64_t score = 0;
    for (const auto& a : mine) {
      json::object o{{"question", a.question}};
      EC_ASSIGN_OR_RETURN(std::vector<int> choice, choice_from_string(a.choice));
      json::array c;
      for (int k : choice) c.emplace_back(k);
      o["choice"] = std::move(c);
      if (finished) o["correct"] = a.correct;
      score += a.correct;
      answers.emplace_back(std::move(o));
    }
    out["student_id"] = actor.id;
    out["answers"] = std::move(answers);
    out["answered"] = mine.size();
    // Scores are revealed once the quiz is over, so answers cannot be compared mid-quiz.
    if (finished)
      out["score"] = score;
    else
      out["score"] = nullptr;
    out["max_score"] = questions.size();
    return out;
  }

  EC_ASSIGN_OR_RETURN(std::vector<store::Answer> all, store::all_answers(db, q.id));
  EC_ASSIGN_OR_RETURN(auto names, store::answering_students(db, q.id));
  QuizTally tally(questions);
  for (const auto& a : all) {
    if (a.question < 0) continue;
    EC_ASSIGN_OR_RETURN(std::vector<int> choice, choice_from_string(a.choice));
    tally.add(a.student_id, size_t(a.question), choice, a.correct);
  }
  json::array ss;
  for (const auto& [id, name] : names) {
    auto it = tally.students().find(id);
    if (it == tally.students().end()) continue;
    ss.emplace_back(json::object{{"student_id", id},
                                 {"answered", it->second.answered},
                                 {"score", it->second.score},
                                 {"name", name}});
  }
  const auto& students = tally.students();
  json::array qs = tally.questions_json();
  out["answered_students"] = students.size();
  out["max_score"] = questions.size();
  out["questions"] = std::move(qs);
  out["students"] = std::move(ss);
  return out;
}

}  // namespace classroom
