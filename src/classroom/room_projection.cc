#include "classroom/room_projection.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/log.h"
#include "store/chat.h"
#include "store/courses.h"
#include "store/live_rooms.h"
#include "store/quizzes.h"
#include "store/sessions.h"

namespace classroom {

base::Result<LiveQuizInfo> live_quiz_info(const store::Quiz& quiz, int64_t now_ms) {
  auto questions = questions_from_storage(quiz.questions);
  if (!questions.is_ok()) return questions.status();
  LiveQuizInfo info;
  info.id = quiz.id;
  info.title = quiz.title;
  info.questions = std::move(questions).value();
  info.published_at_ms = quiz.published_at.value_or(now_ms);
  info.deadline_ms = quiz.deadline_at.value_or(info.published_at_ms + quiz.time_limit_ms);
  return info;
}

AnswerSet answer_set(const std::vector<store::Answer>& answers) {
  AnswerSet set;
  for (const auto& a : answers) {
    if (a.question < 0 || a.question >= int64_t(kMaxQuestions)) continue;
    if (size_t(a.question) >= set.size()) set.resize(size_t(a.question) + 1);
    auto choice = choice_from_string(a.choice);
    if (choice.is_ok()) set[size_t(a.question)] = std::move(choice).value();
  }
  return set;
}

namespace {

// The session's current quiz: the open one, else the one closed last; nullptr when none was
// published.
const store::Quiz* current_quiz(const std::vector<store::Quiz>& quizzes) {
  const store::Quiz* current = nullptr;
  auto published = [](const store::Quiz& q) { return q.published_at.value_or(0); };
  for (const store::Quiz& q : quizzes) {
    if (q.status == store::QuizStatus::kDraft) continue;
    bool open = q.status == store::QuizStatus::kPublished;
    bool current_open = current && current->status == store::QuizStatus::kPublished;
    if (!current || (open && !current_open) ||
        (open == current_open && published(q) >= published(*current))) {
      current = &q;
    }
  }
  return current;
}

}  // namespace

StoredRoom read_stored_room(store::Db& db, const RoomConfig& config, int64_t now_ms) {
  const std::string& session_id = config.session_id;
  auto warn = [&](const char* what, const base::Status& st) {
    base::log::warn("live.restore_failed")
        .kv("session", session_id)
        .kv("what", what)
        .kv("error", st.message());
  };
  StoredRoom out;
  auto session = store::get_session(db, session_id);
  if (session.is_ok() && session->status == store::SessionStatus::kEnded) {
    out.state = StoredRoom::State::kEnded;
    return out;
  }
  if (auto course = store::get_course(db, config.course_id); course.is_ok()) {
    if (course->status == store::CourseStatus::kArchived) {
      out.state = StoredRoom::State::kArchived;
      return out;
    }
    out.capacity = size_t(std::max<int64_t>(1, course->capacity));
  }
  RoomRestore& r = out.restore;
  if (auto state = store::get_live_room(db, session_id); state.is_ok()) {
    r.chat_muted_all = state->chat_muted_all;
    r.muted = std::move(state->muted);
    r.removed = std::move(state->removed);
    r.stage_user = std::move(state->stage_user);
    r.stage_name = std::move(state->stage_name);
  } else {
    warn("room_state", state.status());
  }
  if (auto chat = store::recent_chat(db, session_id, int(config.recent_chat)); chat.is_ok()) {
    for (store::ChatMessage& m : *chat) {
      // Roles are not stored: the course's teacher is the teacher (an admin's messages come
      // back as a student's).
      Role role = m.user_id == config.teacher_id ? Role::kTeacher : Role::kStudent;
      r.recent_chat.push_back(ChatMessage{m.id, m.session_id, m.user_id, std::move(m.user_name),
                                          role, std::move(m.text), m.created_at});
    }
  } else {
    warn("chat", chat.status());
  }
  auto quizzes = store::list_quizzes(db, session_id);
  if (!quizzes.is_ok()) {
    warn("quizzes", quizzes.status());
    return out;
  }
  const store::Quiz* current = current_quiz(*quizzes);
  if (!current) return out;
  auto info = live_quiz_info(*current, now_ms);
  auto answers = store::all_answers(db, current->id);
  if (!info.is_ok()) {
    warn("quiz", info.status());
  } else if (!answers.is_ok()) {
    warn("answers", answers.status());
  } else {
    r.quiz = std::move(info).value();
    r.quiz_closed = current->status == store::QuizStatus::kClosed;
    // Rows are ordered by (student_id, question).
    for (size_t i = 0; i < answers->size();) {
      size_t j = i;
      while (j < answers->size() && (*answers)[j].student_id == (*answers)[i].student_id) ++j;
      std::vector<store::Answer> one(answers->begin() + i, answers->begin() + j);
      r.answers.emplace_back((*answers)[i].student_id, answer_set(one));
      i = j;
    }
  }
  return out;
}

void apply_stored_quiz(Room& room, const store::Quiz& quiz, int64_t now_ms) {
  if (quiz.status == store::QuizStatus::kClosed) {
    (void)room.close_quiz(quiz.id);
    return;
  }
  if (quiz.status != store::QuizStatus::kPublished) return;
  // The store publishes a quiz only once the session's previous one is closed (the service
  // closes one whose deadline passed in the same transaction): so does the room.
  if (const LiveQuiz* current = room.quiz();
      current && !current->closed() && current->id() != quiz.id) {
    (void)room.close_quiz(current->id());
  }
  auto info = live_quiz_info(quiz, now_ms);
  if (!info.is_ok()) {
    base::log::error("live.quiz_unreadable")
        .kv("quiz", quiz.id)
        .kv("error", info.status().message());
    return;
  }
  auto st = room.publish_quiz(std::move(info).value());
  if (!st.is_ok()) {
    base::log::warn("live.quiz_publish_refused").kv("quiz", quiz.id).kv("error", st.message());
  }
}

}  // namespace classroom
