// Fuzzes the live classroom's message path: client frames through parse_client_message and
// apply_client_message into a classroom::Room with a teacher and two students in it, and the
// transport's follow-up steps done the way ws::RoomHost does them (quiz publish/close and
// answers through classroom::Service on the fuzz world's SQLite database, the stage through
// the real policy, chat persisted with store::insert_chat, deadlines closing the quiz).
//
// Input: lines, each "<who><op><payload>":
//   who  't' the teacher, 'a' student Ana, 'b' student Bo, 'm' an admin (takes the teacher's
//        part); any other byte picks one of them (byte % 4)
//   op   '>' a text frame (payload); '+' (re)join, payload "<last_seq>" resumes at the current
//        epoch; '-' one connection leaves; '~' the clock advances by <payload> ms (at most
//        10 min) and the room ticks; '#' a REST-side change: payload 'p' publishes the draft
//        quiz, 'c' closes the open one, 'a' Bo's answers arrive over REST, 'e' ends the session.
//   Any other op: the whole line after <who> is a text frame.
// Placeholders ($Q, $D, $a, ... see classroom_fuzz_world.h) are replaced in frames.
//
// Properties: nothing crashes; events are numbered 1, 2, 3 ... without gaps and each is a
// JSON object with its "type" and "seq"; every error reply is JSON with a non-empty "code";
// snapshots of everyone present serialize.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/strings.h"
#include "classroom/authz.h"
#include "classroom/live_answer.h"
#include "classroom/reader.h"
#include "classroom/room.h"
#include "classroom/room_projection.h"
#include "classroom/room_protocol.h"
#include "classroom/room_storage.h"
#include "classroom/service.h"
#include "classroom_fuzz_world.h"
#include "store/chat.h"
#include "store/db.h"
#include "store/quizzes.h"
#include "store/sessions.h"
#include "store/txn.h"

namespace {

namespace json = boost::json;
using fuzz::Who;

[[noreturn]] void fail(std::string_view why, std::string_view detail) {
  std::fprintf(stderr, "live fuzz: %.*s: %.*s\n", int(why.size()), why.data(), int(detail.size()),
               detail.data());
  std::abort();
}

const bool kVerbose = std::getenv("EDGECLASS_FUZZ_VERBOSE") != nullptr;

struct User {
  Who who;
  classroom::Participant participant;
};

const std::vector<User>& users() {
  static const std::vector<User> u = [] {
    std::vector<User> out;
    for (Who w : {Who::kTeacher, Who::kStudent, Who::kStudent2, Who::kAdmin}) {
      classroom::Actor a = fuzz::actor(w);
      classroom::Participant p{
          a.id, a.name,
          a.role == base::Role::kStudent ? classroom::Role::kStudent : classroom::Role::kTeacher,
          a.role == base::Role::kAdmin};
      out.push_back({w, p});
    }
    return out;
  }();
  return u;
}

// 't' teacher, 'a' Ana, 'b' Bo, 'm' admin; any other byte modulo 4.
size_t who_index(char c) {
  switch (c) {
    case 't':
      return 0;
    case 'a':
      return 1;
    case 'b':
      return 2;
    case 'm':
      return 3;
    default:
      return uint8_t(c) % 4;
  }
}

class Listener : public classroom::RoomListener {
 public:
  void on_room_event(const classroom::RoomEvent& e) override {
    if (e.seq != last_seq + 1)
      fail("seq gap", std::to_string(last_seq) + " -> " + std::to_string(e.seq));
    last_seq = e.seq;
    if (kVerbose) std::fprintf(stderr, "  event %.300s\n", e.json ? e.json->c_str() : "");
    if (!e.json) fail("event without text", "");
    boost::system::error_code ec;
    json::value v = json::parse(*e.json, ec);
    if (ec || !v.is_object()) fail("event is not a JSON object", *e.json);
    const json::object& o = v.get_object();
    auto t = o.find("type");
    auto s = o.find("seq");
    if (t == o.end() || !t->value().is_string()) fail("event without type", *e.json);
    if (s == o.end() || !s->value().is_int64() || uint64_t(s->value().get_int64()) != e.seq) {
      fail("event seq does not match", *e.json);
    }
  }
  void on_chat_message(const classroom::ChatMessage& m) override { chats.push_back(m); }
  void on_chat_deleted(std::string_view id) override { deleted.emplace_back(id); }
  void on_participant_removed(std::string_view id) override { removed.emplace_back(id); }
  void on_quiz_deadline(std::string_view id) override { deadlines.emplace_back(id); }

  uint64_t last_seq = 0;
  std::vector<classroom::ChatMessage> chats;
  std::vector<std::string> deleted, removed, deadlines;
};

void check_reply(std::string_view text) {
  if (kVerbose) std::fprintf(stderr, "  reply %.*s\n", int(text.size()), text.data());
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) fail("reply is not a JSON object", text);
  const json::object& o = v.get_object();
  if (o.at("type") == "error") {
    auto c = o.find("code");
    if (c == o.end() || !c->value().is_string() || c->value().get_string().empty()) {
      fail("error reply without a code", text);
    }
  }
}

class Live {
 public:
  Live()
      : clock_(fuzz::kNowMs),
        random_(3),
        world_(fuzz::World::get()),
        policies_(world_.policies()),
        service_(
            clock_, random_,
            [p = policies_]() -> std::shared_ptr<const classroom::Authorizer> { return p; }, 30) {
    auto db = store::Db::open(world_.fresh_db(), store::OpenMode::kReadWrite);
    if (!db.is_ok()) fail("open db", db.status().to_string());
    db_ = std::move(db).value();
    classroom::RoomConfig cfg;
    cfg.session_id = world_.ids().session;
    cfg.course_id = world_.ids().course;
    cfg.title = "Today";
    cfg.capacity = 30;
    cfg.resume_max_events = 64;  // small, so resumes past the buffer happen
    room_ = std::make_unique<classroom::Room>(cfg, listener_, clock_, random_);
    // The room as it is rebuilt from storage: the open quiz is running.
    quiz_changed(world_.ids().quiz_open);
    for (size_t i = 0; i < 3; ++i) join(users()[i], std::nullopt);
  }

  void line(std::string_view l) {
    if (l.empty()) return;
    if (kVerbose) std::fprintf(stderr, "line %.*s\n", int(l.size()), l.data());
    const User& u = users()[who_index(l[0])];
    if (l.size() < 2) return;
    std::string_view payload = l.substr(2);
    switch (l[1]) {
      case '>':
        frame(u, world_.substitute(payload));
        break;
      case '+': {
        auto n = base::parse_int(payload);
        std::optional<classroom::ResumePoint> resume;
        if (n && *n >= 0) resume = classroom::ResumePoint{room_->epoch(), uint64_t(*n)};
        join(u, resume);
        break;
      }
      case '-':
        leave(u.participant.user_id);
        break;
      case '~': {
        auto n = base::parse_int(payload);
        int64_t ms = n ? std::clamp<int64_t>(*n, 0, 600'000) : 1000;
        clock_.advance_ms(ms);
        room_->tick();
        break;
      }
      case '#':
        rest_change(payload.empty() ? ' ' : payload[0]);
        break;
      default:
        frame(u, world_.substitute(l.substr(1)));
        break;
    }
    settle();
  }

  void finish() {
    for (const User& u : users()) {
      if (conns_[u.participant.user_id] > 0) {
        std::string s = json::serialize(room_->snapshot(u.participant.user_id));
        if (s.empty()) fail("empty snapshot", u.participant.user_id);
      }
    }
    if (room_->student_count() > room_->participant_count())
      fail("counts", "students > participants");
  }

 private:
  classroom::Actor actor_of(const classroom::Participant& p) const {
    for (const User& u : users()) {
      if (u.participant.user_id == p.user_id) return fuzz::actor(u.who);
    }
    return {};
  }

  void reply(std::string text) { check_reply(text); }

  void join(const User& u, const std::optional<classroom::ResumePoint>& resume) {
    auto r = room_->join(u.participant, resume);
    if (!r.is_ok()) {
      reply(classroom::error_reply("", r.status()));
      return;
    }
    ++conns_[u.participant.user_id];
    check_reply(r->welcome);
  }

  void leave(const std::string& user) {
    int& n = conns_[user];
    if (n == 0) return;
    --n;
    room_->leave(user);
  }

  // ws::RoomHost::on_message.
  void frame(const User& u, std::string_view text) {
    if (conns_[u.participant.user_id] == 0) return;  // no socket, no frames
    std::string ref;
    auto msg = classroom::parse_client_message(text, &ref);
    if (!msg.is_ok()) {
      reply(classroom::error_reply(ref, msg.status()));
      return;
    }
    auto step = classroom::apply_client_message(*room_, u.participant.user_id, *msg);
    if (!step.is_ok()) {
      reply(classroom::error_reply(msg->ref, step.status()));
      return;
    }
    using classroom::NextStep;
    switch (*step) {
      case NextStep::kNone:
        break;
      case NextStep::kPong:
        reply(classroom::pong_reply(msg->ref, clock_.now_unix_ms()));
        break;
      case NextStep::kPublish:
      case NextStep::kClose: {
        bool publish = msg->type == classroom::ClientType::kQuizPublish;
        std::optional<store::Quiz> out;
        classroom::Actor a = actor_of(u.participant);
        base::Status st = store::transact(*db_, [&](store::Txn& t) -> base::Status {
          auto r = publish ? service_.publish_quiz(t, a, msg->quiz_id, msg->time_limit_s)
                           : service_.close_quiz(t, a, msg->quiz_id);
          if (!r.is_ok()) return r.status();
          out = std::move(r).value();
          return base::Status::ok();
        });
        if (!st.is_ok())
          reply(classroom::error_reply(msg->ref, st));
        else
          quiz_changed(out->id);
        break;
      }
      case NextStep::kAnswer:
        answer(u, *msg);
        break;
      case NextStep::kMedia:
        reply(classroom::error_reply(
            msg->ref,
            base::unavailable("video is not available on this server", "media_unavailable")));
        break;
      case NextStep::kStage: {
        bool give = msg->type == classroom::ClientType::kStageGive;
        const classroom::Actor actor = actor_of(u.participant);
        json::object input{{"action", "stage"},
                           {"user", json::object{{"id", actor.id},
                                                 {"name", actor.name},
                                                 {"role", base::role_name(actor.role)}}}};
        input["course"] = json::object{{"id", world_.ids().course},
                                       {"teacher_id", fuzz::actor(Who::kTeacher).id}};
        if (give) {
          json::object target{{"id", msg->target}};
          if (auto role = room_->role_of(msg->target)) target["role"] = classroom::role_name(*role);
          input["target"] = std::move(target);
        }
        classroom::Decision d = policies_->decide(input);
        if (!d.allow) {
          reply(classroom::error_reply(msg->ref, base::permission_denied("no", "not_allowed")));
          break;
        }
        base::Status st = give ? room_->give_stage(u.participant.user_id, msg->target)
                               : room_->take_stage(u.participant.user_id);
        if (!st.is_ok()) reply(classroom::error_reply(msg->ref, st));
        break;
      }
    }
  }

  // Commits at once: the RoomStorage of a world with no writer thread.
  class ImmediateStorage : public classroom::RoomStorage {
   public:
    explicit ImmediateStorage(store::Db& db) : db_(db) {}
    base::Status write(store::WriteOp op, std::function<void(base::Status)> done) override {
      done(store::transact(db_, op));
      return base::Status::ok();
    }

   private:
    store::Db& db_;
  };

  // What ws::RoomHost::submit_answer does: the classroom's one call.
  void answer(const User& u, const classroom::ClientMessage& msg) {
    classroom::DbReader reader(*db_);
    ImmediateStorage storage(*db_);
    classroom::submit_live_answer(
        *room_, {service_, reader, storage}, u.participant, msg.quiz_id, msg.answers,
        [&](const base::Status& st) { reply(classroom::error_reply(msg.ref, st)); });
  }

  // What ws::RoomHost::quiz_changed does, from the stored quiz.
  void quiz_changed(const std::string& id) {
    auto q = store::get_quiz(*db_, id);
    if (!q.is_ok()) fail("stored quiz", q.status().to_string());
    if (auto info = classroom::live_quiz_info(*q, clock_.now_unix_ms()); !info.is_ok()) {
      fail("stored questions", info.status().to_string());
    }
    classroom::apply_stored_quiz(*room_, *q, clock_.now_unix_ms());
  }

  void rest_change(char what) {
    classroom::Actor teacher = fuzz::actor(Who::kTeacher);
    std::optional<store::Quiz> out;
    auto quiz_op = [&](bool publish, const std::string& id) {
      base::Status st = store::transact(*db_, [&](store::Txn& t) -> base::Status {
        auto r = publish ? service_.publish_quiz(t, teacher, id, 30)
                         : service_.close_quiz(t, teacher, id);
        if (!r.is_ok()) return r.status();
        out = std::move(r).value();
        return base::Status::ok();
      });
      if (st.is_ok()) quiz_changed(out->id);
    };
    switch (what) {
      case 'p':
        quiz_op(true, world_.ids().quiz_draft);
        break;
      case 'c':
        if (const classroom::LiveQuiz* q = room_->quiz()) quiz_op(false, q->id());
        break;
      case 'a': {
        // Bo's answers committed over REST reach the room (ws::RoomHost::answers_committed).
        if (const classroom::LiveQuiz* q = room_->quiz()) {
          classroom::AnswerSet set(q->question_count());
          if (!set.empty()) set[0] = {0};
          room_->answer_committed(fuzz::actor(Who::kStudent2).id, q->id(), set);
        }
        break;
      }
      case 'e': {
        base::Status st = store::transact(*db_, [&](store::Txn& t) {
          return service_.end_session(t, teacher, world_.ids().session).status();
        });
        if (st.is_ok()) room_->end("ended");
        break;
      }
      default:
        break;
    }
  }

  // What the transport does after a room call: persist chat, close removed students'
  // sockets, record a passed deadline's close.
  void settle() {
    for (int round = 0; round < 4; ++round) {
      auto chats = std::move(listener_.chats);
      auto deleted = std::move(listener_.deleted);
      auto removed = std::move(listener_.removed);
      auto deadlines = std::move(listener_.deadlines);
      listener_.chats.clear();
      listener_.deleted.clear();
      listener_.removed.clear();
      listener_.deadlines.clear();
      if (chats.empty() && deleted.empty() && removed.empty() && deadlines.empty()) return;
      for (const auto& m : chats) {
        store::ChatMessage c{m.id, m.session_id, m.user_id, m.name, m.text, m.sent_at_ms, false};
        (void)store::transact(*db_, [&](store::Txn& t) { return store::insert_chat(t, c); });
      }
      for (const auto& id : deleted) {
        (void)store::transact(*db_, [&](store::Txn& t) { return store::delete_chat(t, id); });
      }
      for (const auto& id : removed) {
        while (conns_[id] > 0) leave(id);
      }
      for (const auto& id : deadlines) {
        classroom::Actor teacher = fuzz::actor(Who::kTeacher);
        (void)store::transact(
            *db_, [&](store::Txn& t) { return service_.close_quiz(t, teacher, id).status(); });
        (void)room_->close_quiz(id);
      }
    }
  }

  base::FakeClock clock_;
  base::SeededRandom random_;
  fuzz::World& world_;
  std::shared_ptr<const classroom::RegoAuthorizer> policies_;
  classroom::Service service_;
  std::unique_ptr<store::Db> db_;
  Listener listener_;
  std::unique_ptr<classroom::Room> room_;
  std::map<std::string, int> conns_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  Live live;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t lines = 0;
  while (!in.empty() && lines++ < 256) {
    size_t nl = in.find('\n');
    live.line(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  live.finish();
  return 0;
}
