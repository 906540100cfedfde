#include "classroom/room.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <utility>

namespace classroom {

namespace json = boost::json;

namespace {

// Takes a token from `user`'s bucket in `limits` (a full one of `burst` for a user seen first):
// ResourceExhausted "rate_limited" with `message` when it is empty.
base::Status take_token(std::map<std::string, TokenBucket, std::less<>>& limits,
                        std::string_view user, double burst, double per_second, int64_t now_ns,
                        std::string_view message) {
  auto it = limits.find(user);
  if (it == limits.end())
    it = limits.emplace(std::string(user), TokenBucket(burst, per_second)).first;
  if (it->second.try_take(now_ns)) return base::Status::ok();
  return base::Status(base::Code::kResourceExhausted, std::string(message), "rate_limited");
}

}  // namespace

std::string_view role_name(Role role) { return role == Role::kTeacher ? "teacher" : "student"; }

Room::Room(RoomConfig config, RoomListener& listener, base::Clock& clock, base::Random& random)
    : config_(std::move(config)),
      listener_(listener),
      clock_(clock),
      random_(random),
      epoch_(base::new_id("ep", random)),
      buffer_(config_.resume_max_events, config_.resume_max_bytes),
      full_presence_(config_.capacity <= config_.full_presence_max) {}

Audience Room::presence_audience(const Participant& who) {
  if (full_presence_ || who.role == Role::kTeacher) return Audience::everyone();
  presence_dirty_ = true;  // students learn the new count from the next `presence` event
  return Audience::teachers_and(who.user_id);
}

void Room::emit(Audience audience, std::string_view type, json::object body) {
  // "type" and "seq" first so a person reading a capture sees them at a glance.
  json::object o;
  o.reserve(body.size() + 2);
  o["type"] = type;
  o["seq"] = ++seq_;
  for (auto& kv : body) o[kv.key()] = std::move(kv.value());
  RoomEvent ev{seq_, std::move(audience), std::make_shared<const std::string>(json::serialize(o))};
  buffer_.push(ev);
  listener_.on_room_event(ev);
}

const Room::Member* Room::find(std::string_view user_id) const {
  auto it = participants_.find(user_id);
  return it == participants_.end() ? nullptr : &it->second;
}

std::optional<Role> Room::role_of(std::string_view user_id) const {
  const Member* m = find(user_id);
  if (!m) return std::nullopt;
  return m->who.role;
}

base::Status Room::authorize(std::string_view by, std::string_view action, std::string_view code,
                             const DecisionInput::Target* target) const {
  if (ended_) return base::failed_precondition("the session has ended", "session_ended");
  const Member* m = find(by);
  if (!m) return base::permission_denied("you are not in this room", std::string(code));
  std::shared_ptr<const Authorizer> authz = config_.authorizer ? config_.authorizer() : nullptr;
  if (!authz) return base::permission_denied("no policy is loaded", std::string(code));
  const DecisionInput::RoomCourse course{config_.course_id, config_.teacher_id};
  DecisionInput in{action,
                   {m->who.user_id, m->who.name, m->who.admin ? "admin" : role_name(m->who.role)}};
  in.room_course = &course;
  in.target = target;
  Decision d = authz->decide(in);
  if (d.allow) return base::Status::ok();
  return base::permission_denied(d.reason.empty() ? "the policy does not allow this" : d.reason,
                                 std::string(code));
}

bool Room::is_muted(std::string_view user_id) const {
  return chat_muted_all_ || muted_.find(user_id) != muted_.end();
}

json::object Room::member_json(const Member& m) const {
  json::object o;
  o["id"] = m.who.user_id;
  o["name"] = m.who.name;
  o["role"] = role_name(m.who.role);
  return o;
}

json::object Room::chat_json(const ChatMessage& m) const {
  json::object o;
  o["id"] = m.id;
  json::object from;
  from["id"] = m.user_id;
  from["name"] = m.name;
  from["role"] = role_name(m.role);
  o["from"] = std::move(from);
  o["text"] = m.text;
  o["ts"] = m.sent_at_ms;
  return o;
}

// ---- presence ----------------------------------------------------------------------------

base::Result<JoinReply> Room::join(const Participant& p, const std::optional<ResumePoint>& resume) {
  if (ended_) return base::failed_precondition("the session has ended", "session_ended");
  if (p.user_id.empty()) return base::invalid_argument("participant has no id");
  if (removed_.find(p.user_id) != removed_.end()) {
    return base::permission_denied("the teacher removed you from this session", "removed");
  }
  JoinReply reply;
  auto it = participants_.find(p.user_id);
  if (it != participants_.end()) {
    if (it->second.who.role != p.role) {
      return base::invalid_argument("already in the room with another role", "role_mismatch");
    }
    ++it->second.connections;
    reply.first_connection = false;
  } else {
    if (p.role == Role::kStudent && students_ >= config_.capacity) {
      return base::Status(base::Code::kResourceExhausted,
                          "the session is full (" + std::to_string(config_.capacity) + " students)",
                          "session_full");
    }
    Member m{p, 1, clock_.now_unix_ms()};
    json::object body;
    body["user"] = member_json(m);
    participants_.emplace(p.user_id, std::move(m));
    if (p.role == Role::kStudent) ++students_;
    body["count"] = participants_.size();
    body["students"] = students_;
    emit(presence_audience(p), "participant_joined", std::move(body));
    listener_.on_presence_changed(p, true);
  }

  if (resume && resume->epoch == epoch_) {
    if (auto missed = buffer_.since(resume->last_seq, seq_, p.role, p.user_id)) {
      reply.resumed = true;
      reply.replay = std::move(*missed);
    }
  }
  json::object w;
  w["type"] = "welcome";
  w["seq"] = seq_;
  w["epoch"] = epoch_;
  w["session_id"] = config_.session_id;
  w["resumed"] = reply.resumed;
  w["you"] = member_json(participants_.find(p.user_id)->second);
  if (!reply.resumed) w["snapshot"] = snapshot(p.user_id);
  reply.welcome = json::serialize(w);
  return reply;
}

void Room::leave(std::string_view user_id) {
  auto it = participants_.find(user_id);
  if (it == participants_.end()) return;
  if (--it->second.connections > 0) return;
  Participant who = it->second.who;
  Role role = who.role;
  std::string id = who.user_id;
  participants_.erase(it);
  if (role == Role::kStudent) --students_;
  listener_.on_presence_changed(who, false);
  if (ended_) {  // the final event has been sent; nobody needs presence any more
    if (id == stage_) stage_.clear();
    return;
  }
  if (hands_.lower(id)) {
    json::object h;
    h["user_id"] = id;
    h["by"] = id;
    h["queue"] = hands_.size();
    emit(Audience::teachers_and(id), "hand_lowered", std::move(h));
  }
  if (id == stage_) set_stage("", "", id, "left");
  json::object body;
  body["user_id"] = id;
  body["reason"] = "left";
  body["count"] = participants_.size();
  body["students"] = students_;
  emit(presence_audience(who), "participant_left", std::move(body));
}

// ---- chat ---------------------------------------------------------------------------------

base::Status Room::chat(std::string_view user_id, std::string_view text) {
  if (ended_) return base::failed_precondition("the session has ended", "session_ended");
  const Member* m = find(user_id);
  if (!m) return base::not_found("you are not in this room", "not_in_room");
  EC_RETURN_IF_ERROR(validate_chat_text(text, config_.chat_max_chars));
  if (m->who.role == Role::kStudent) {
    if (is_muted(user_id)) return base::permission_denied("chat is muted", "muted");
    EC_RETURN_IF_ERROR(take_token(chat_limits_, user_id, config_.chat_burst,
                                  config_.chat_per_second, clock_.now_mono_ns(),
                                  "you are sending messages too fast; wait a moment"));
  }
  ChatMessage msg{base::new_id("msg", random_),
                  config_.session_id,
                  m->who.user_id,
                  m->who.name,
                  m->who.role,
                  std::string(text),
                  clock_.now_unix_ms()};
  emit(Audience::everyone(), "chat_message", chat_json(msg));
  listener_.on_chat_message(msg);
  recent_chat_.push_back(std::move(msg));
  while (recent_chat_.size() > config_.recent_chat) recent_chat_.pop_front();
  return base::Status::ok();
}

base::Status Room::take_change_token(std::string_view user_id) {
  return take_token(change_limits_, user_id, config_.change_burst, config_.change_per_second,
                    clock_.now_mono_ns(), "you are changing the room too fast; wait a moment");
}

base::Status Room::delete_chat(std::string_view by, std::string_view message_id) {
  EC_RETURN_IF_ERROR(authorize(by, "moderate", "not_teacher"));
  for (auto it = recent_chat_.begin(); it != recent_chat_.end(); ++it) {
    if (it->id == message_id) {
      recent_chat_.erase(it);
      break;
    }
  }
  // Older messages are no longer held here but may still be on screens and in storage.
  json::object body;
  body["message_id"] = message_id;
  emit(Audience::everyone(), "chat_deleted", std::move(body));
  listener_.on_chat_deleted(message_id);
  return base::Status::ok();
}

base::Status Room::mute(std::string_view by, std::string_view target, bool muted) {
  EC_RETURN_IF_ERROR(authorize(by, "mute", "not_teacher"));
  json::object body;
  if (target.empty()) {
    chat_muted_all_ = muted;
    body["all"] = true;
    body["muted"] = muted;
    emit(Audience::everyone(), "chat_muted", std::move(body));
    listener_.on_chat_muted("", muted);
    return base::Status::ok();
  }
  const Member* m = find(target);
  if (m && m->who.role == Role::kTeacher) {
    return base::invalid_argument("a teacher cannot be muted", "invalid_target");
  }
  if (!m && muted_.find(target) == muted_.end() && muted) {
    return base::not_found("no such student in the room", "not_in_room");
  }
  if (muted)
    muted_.emplace(target);
  else if (auto it = muted_.find(target); it != muted_.end())
    muted_.erase(it);
  body["all"] = false;
  body["user_id"] = target;
  body["muted"] = muted;
  emit(Audience::everyone(), "chat_muted", std::move(body));
  listener_.on_chat_muted(target, muted);
  return base::Status::ok();
}

base::Status Room::remove(std::string_view by, std::string_view target) {
  EC_RETURN_IF_ERROR(authorize(by, "remove_from_room", "not_teacher"));
  auto it = participants_.find(target);
  if (it == participants_.end())
    return base::not_found("no such student in the room", "not_in_room");
  if (it->second.who.role != Role::kStudent) {
    return base::invalid_argument("only students can be removed", "invalid_target");
  }
  std::string id = it->second.who.user_id;
  removed_.emplace(id);
  drop_student(id, by, "removed", "removed");
  listener_.on_participant_removed(id);
  return base::Status::ok();
}

bool Room::unenroll(std::string_view user_id, std::string_view by) {
  if (ended_) return false;
  const bool self = by == user_id;
  auto it = participants_.find(user_id);
  if (it == participants_.end() || it->second.who.role != Role::kStudent) {
    // Not here, but it may hold the stage it kept across a restart.
    if (!user_id.empty() && user_id == stage_) set_stage("", "", by, self ? "left" : "removed");
    return false;
  }
  std::string id = it->second.who.user_id;
  drop_student(id, by, self ? "left" : "removed", self ? "left_course" : "removed_from_course");
  return true;
}

void Room::drop_student(const std::string& id, std::string_view by, std::string_view reason,
                        std::string_view removed_reason) {
  if (auto it = participants_.find(id); it != participants_.end()) {
    listener_.on_presence_changed(it->second.who, false);
  }
  participants_.erase(id);
  --students_;
  json::object personal;
  personal["user_id"] = id;
  personal["reason"] = removed_reason;
  emit(Audience::only(id), "removed", std::move(personal));
  if (hands_.lower(id)) {
    json::object h;
    h["user_id"] = id;
    h["by"] = by;
    h["queue"] = hands_.size();
    emit(Audience::teachers_only(), "hand_lowered", std::move(h));
  }
  if (id == stage_) set_stage("", "", by, reason);
  json::object body;
  body["user_id"] = id;
  body["reason"] = reason;
  body["count"] = participants_.size();
  body["students"] = students_;
  emit(presence_audience(Participant{id, "", Role::kStudent}), "participant_left", std::move(body));
}

// ---- restore and REST changes -------------------------------------------------------------

void Room::restore(const RoomRestore& state) {
  chat_muted_all_ = state.chat_muted_all;
  muted_.insert(state.muted.begin(), state.muted.end());
  removed_.insert(state.removed.begin(), state.removed.end());
  if (!state.stage_user.empty() && removed_.find(state.stage_user) == removed_.end()) {
    stage_ = state.stage_user;
    stage_name_ = state.stage_name;
  }
  for (const ChatMessage& m : state.recent_chat) recent_chat_.push_back(m);
  while (recent_chat_.size() > config_.recent_chat) recent_chat_.pop_front();
  if (state.quiz) {
    quiz_ = std::make_unique<LiveQuiz>(*state.quiz);
    for (const auto& [user, answers] : state.answers) quiz_->record(user, answers);
    if (state.quiz_closed) quiz_->mark_closed();
    results_dirty_ = false;
    results_sent_ = false;
    deadline_reported_ = false;
  }
}

void Room::set_capacity(size_t capacity) { config_.capacity = capacity; }

// ---- hands --------------------------------------------------------------------------------

base::Status Room::raise_hand(std::string_view user_id) {
  if (ended_) return base::failed_precondition("the session has ended", "session_ended");
  const Member* m = find(user_id);
  if (!m) return base::not_found("you are not in this room", "not_in_room");
  if (m->who.role != Role::kStudent) {
    return base::permission_denied("only students raise hands", "not_student");
  }
  if (!hands_.raise(user_id, m->who.name, clock_.now_unix_ms())) {
    return base::failed_precondition("your hand is already raised; the teacher has seen it",
                                     "hand_already_raised");
  }
  json::object body;
  body["user"] = member_json(*m);
  body["position"] = hands_.size();
  body["ts"] = hands_.queue().back().raised_at_ms;
  emit(Audience::teachers_and(user_id), "hand_raised", std::move(body));
  return base::Status::ok();
}

base::Status Room::lower_hand(std::string_view by, std::string_view target) {
  if (ended_) return base::failed_precondition("the session has ended", "session_ended");
  const Member* m = find(by);
  if (!m) return base::not_found("you are not in this room", "not_in_room");
  if (target.empty()) target = by;
  if (target != by) EC_RETURN_IF_ERROR(authorize(by, "moderate", "not_teacher"));
  if (!hands_.lower(target)) return base::Status::ok();
  json::object body;
  body["user_id"] = target;
  body["by"] = by;
  body["queue"] = hands_.size();
  emit(Audience::teachers_and(target), "hand_lowered", std::move(body));
  return base::Status::ok();
}

// ---- stage --------------------------------------------------------------------------------

base::Status Room::give_stage(std::string_view by, std::string_view target) {
  const std::string target_id(target);
  DecisionInput::Target who{target_id, std::nullopt};
  if (const Member* t = find(target)) who.role = role_name(t->who.role);
  EC_RETURN_IF_ERROR(authorize(by, "stage", "not_allowed", &who));
  const Member* m = find(target);
  if (!m) return base::not_found("no such student in the room", "not_in_room");
  if (m->who.role != Role::kStudent) {
    return base::invalid_argument("only a student can be given the stage", "invalid_target");
  }
  set_stage(m->who.user_id, m->who.name, by, "given");
  return base::Status::ok();
}

base::Status Room::take_stage(std::string_view by) {
  EC_RETURN_IF_ERROR(authorize(by, "stage", "not_allowed"));
  set_stage("", "", by, "taken");
  return base::Status::ok();
}

void Room::set_stage(std::string user, std::string_view name, std::string_view by,
                     std::string_view reason) {
  if (user == stage_) return;
  std::string previous = std::exchange(stage_, std::move(user));
  stage_name_ = name;
  json::object body;
  body["user_id"] = stage_.empty() ? json::value(nullptr) : json::value(stage_);
  body["name"] = stage_.empty() ? json::value(nullptr) : json::value(stage_name_);
  body["previous"] = previous.empty() ? json::value(nullptr) : json::value(previous);
  body["by"] = by;
  body["reason"] = reason;
  emit(Audience::everyone(), "stage", std::move(body));
  listener_.on_stage_changed(previous, stage_);
}

json::value Room::stage_json() const {
  if (stage_.empty()) return nullptr;
  return json::object{{"user_id", stage_}, {"name", stage_name_}};
}

// ---- quiz ---------------------------------------------------------------------------------

base::Status Room::publish_quiz(LiveQuizInfo info) {
  if (ended_) return base::failed_precondition("the session has ended", "session_ended");
  // Published twice (REST and socket, or a hook after the room was rebuilt from storage).
  // A quiz is published once in storage, so the same id never opens again.
  if (quiz_ && quiz_->id() == info.id) return base::Status::ok();
  if (quiz_ && !quiz_->closed()) {
    return base::failed_precondition("quiz " + quiz_->id() + " is still open; close it first",
                                     "quiz_open");
  }
  quiz_ = std::make_unique<LiveQuiz>(std::move(info));
  results_dirty_ = false;
  results_sent_ = false;
  deadline_reported_ = false;
  json::object body;
  body["quiz"] = quiz_->quiz_json(false);
  emit(Audience::everyone(), "quiz_published", std::move(body));
  return base::Status::ok();
}

base::Result<AnswerStart> Room::begin_answer(std::string_view user_id, std::string_view quiz_id,
                                             const json::value& answers) {
  if (ended_) return base::failed_precondition("the session has ended", "session_ended");
  const Member* m = find(user_id);
  if (!m) return base::not_found("you are not in this room", "not_in_room");
  if (m->who.role != Role::kStudent) {
    return base::permission_denied("only students answer quizzes", "not_student");
  }
  if (!quiz_ || quiz_->closed() || quiz_->id() != quiz_id) {
    return base::not_found("quiz " + std::string(quiz_id) + " is not open in this session",
                           "quiz_not_open");
  }
  EC_ASSIGN_OR_RETURN(AnswerSet set, parse_answer_set(quiz_->info().questions, answers));
  switch (quiz_->state(user_id)) {
    case LiveQuiz::AnswerState::kPending:
      return base::conflict("your answers are already being saved", "already_answered");
    case LiveQuiz::AnswerState::kCommitted: {
      if (*quiz_->answers_of(user_id) != set) {
        return base::conflict("you already answered this quiz", "already_answered");
      }
      json::object body;
      body["quiz_id"] = quiz_->id();
      emit(Audience::only(user_id), "answer_accepted", std::move(body));
      return AnswerStart{std::move(set), false};
    }
    case LiveQuiz::AnswerState::kNone:
      break;
  }
  if (clock_.now_unix_ms() > quiz_->info().deadline_ms) {
    return base::failed_precondition("the quiz deadline has passed", "deadline_passed");
  }
  quiz_->set_pending(user_id);
  return AnswerStart{std::move(set), true};
}

void Room::answer_committed(std::string_view user_id, std::string_view quiz_id,
                            const AnswerSet& answers) {
  if (!quiz_ || quiz_->id() != quiz_id) return;
  // Counted even after close: the write was accepted before the close was stored, and the
  // student is owed its acknowledgement. (Scores already sent at close do not change.)
  if (!quiz_->record(user_id, answers)) return;
  json::object body;
  body["quiz_id"] = quiz_->id();
  emit(Audience::only(user_id), "answer_accepted", std::move(body));
  if (quiz_->closed()) return;
  results_dirty_ = true;
  int64_t now = clock_.now_mono_ns();
  if (!results_sent_ || now - last_results_ns_ >= config_.results_interval_ms * 1'000'000) {
    send_results(false);
  }
}

void Room::answer_failed(std::string_view user_id, std::string_view quiz_id) {
  if (quiz_ && quiz_->id() == quiz_id) quiz_->clear_pending(user_id);
}

void Room::send_results(bool final) {
  emit(Audience::teachers_only(), "quiz_results", quiz_->results_json(students_, final));
  results_dirty_ = false;
  results_sent_ = true;
  last_results_ns_ = clock_.now_mono_ns();
}

base::Status Room::close_quiz(std::string_view quiz_id) {
  if (!quiz_ || quiz_->id() != quiz_id) {
    return base::not_found("quiz " + std::string(quiz_id) + " is not open in this session",
                           "quiz_not_open");
  }
  if (quiz_->closed()) return base::Status::ok();
  quiz_->mark_closed();
  send_results(true);
  json::object body;
  body["quiz"] = quiz_->quiz_json(true);
  body["distribution"] = quiz_->distribution_json();
  emit(Audience::everyone(), "quiz_closed", std::move(body));
  // Every present student, and every student who answered even if it has left since (it
  // gets its score when it resumes).
  std::set<std::string, std::less<>> owed;
  for (const auto& [id, m] : participants_) {
    if (m.who.role == Role::kStudent) owed.emplace(id);
  }
  for (std::string_view id : quiz_->answered_users()) owed.emplace(id);
  for (const std::string& id : owed) {
    emit(Audience::only(id), "quiz_score", quiz_->score_json(id));
  }
  return base::Status::ok();
}

bool Room::wants_tick() const {
  return !ended_ && ((quiz_ && !quiz_->closed()) || presence_dirty_);
}

void Room::tick() {
  if (!wants_tick()) return;
  int64_t now = clock_.now_mono_ns();
  if (presence_dirty_ && now - last_presence_ns_ >= config_.presence_interval_ms * 1'000'000) {
    presence_dirty_ = false;
    last_presence_ns_ = now;
    json::object body;
    body["count"] = participants_.size();
    body["students"] = students_;
    emit(Audience{true, false, {}}, "presence", std::move(body));
  }
  if (!quiz_ || quiz_->closed()) return;
  if (results_dirty_ && now - last_results_ns_ >= config_.results_interval_ms * 1'000'000) {
    send_results(false);
  }
  if (!deadline_reported_ && clock_.now_unix_ms() > quiz_->info().deadline_ms) {
    deadline_reported_ = true;
    listener_.on_quiz_deadline(quiz_->id());
  }
}

// ---- session ------------------------------------------------------------------------------

void Room::end(std::string_view reason) {
  if (ended_) return;
  if (quiz_ && !quiz_->closed()) (void)close_quiz(quiz_->id());
  json::object body;
  body["reason"] = reason;
  emit(Audience::everyone(), "session_ended", std::move(body));
  ended_ = true;
}

json::object Room::snapshot(std::string_view user_id) const {
  const Member* me = find(user_id);
  bool teacher = me && me->who.role == Role::kTeacher;
  json::object s;
  s["session"] = json::object{{"id", config_.session_id},
                              {"course_id", config_.course_id},
                              {"title", config_.title},
                              {"status", ended_ ? "ended" : "live"},
                              {"capacity", config_.capacity}};
  json::array roster;
  bool full_roster = teacher || full_presence_;  // else: the teachers and oneself
  roster.reserve(full_roster ? participants_.size() : 4);
  for (const auto& [id, m] : participants_) {
    if (!full_roster && m.who.role != Role::kTeacher && id != user_id) continue;
    json::object o = member_json(m);
    if (m.who.role == Role::kStudent) o["muted"] = muted_.find(id) != muted_.end();
    roster.emplace_back(std::move(o));
  }
  s["participants"] = std::move(roster);
  s["count"] = participants_.size();
  s["students"] = students_;
  json::object chat;
  chat["muted_all"] = chat_muted_all_;
  chat["muted"] = !teacher && is_muted(user_id);
  json::array recent;
  for (const auto& m : recent_chat_) recent.emplace_back(chat_json(m));
  chat["recent"] = std::move(recent);
  s["chat"] = std::move(chat);
  if (teacher) {
    json::array hands;
    for (const auto& h : hands_.queue()) {
      hands.emplace_back(
          json::object{{"user_id", h.user_id}, {"name", h.name}, {"ts", h.raised_at_ms}});
    }
    s["hands"] = std::move(hands);
  } else {
    auto pos = hands_.position(user_id);
    s["hand_raised"] = pos.has_value();
  }
  s["stage"] = stage_json();
  if (quiz_) {
    json::object q;
    q["quiz"] = quiz_->quiz_json(teacher || quiz_->closed());
    if (teacher) {
      q["results"] = quiz_->results_json(students_, quiz_->closed());
    } else {
      q["answered"] = quiz_->state(user_id) == LiveQuiz::AnswerState::kCommitted;
    }
    if (quiz_->closed()) {
      q["distribution"] = quiz_->distribution_json();
      if (!teacher) q["score"] = quiz_->score_json(user_id);
    }
    s["quiz"] = std::move(q);
  } else {
    s["quiz"] = nullptr;
  }
  return s;
}

}  // namespace classroom
