#include "ws/room_host.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "base/log.h"
#include "classroom/live_answer.h"
#include "classroom/live_join.h"
#include "classroom/reader.h"
#include "classroom/room_projection.h"
#include "store/attendance.h"
#include "store/chat.h"
#include "store/live_rooms.h"
#include "ws/city_wire.h"
#include "ws/close_codes.h"

namespace ws {

namespace asio = boost::asio;
namespace json = boost::json;
using classroom::NextStep;

RoomHost::RoomHost(asio::io_context& ioc, int thread_index, classroom::RoomConfig config,
                   std::string teacher_id, RoomDeps deps, std::function<void()> on_finished)
    : ioc_(ioc),
      thread_index_(thread_index),
      deps_(deps),
      teacher_id_(std::move(teacher_id)),
      session_id_(config.session_id),
      course_id_(config.course_id),
      on_finished_(std::move(on_finished)),
      room_(std::move(config), *this, *deps.clock, *deps.random),
      connections_(ioc, thread_index, deps.spread_over, deps.traffic),
      chat_timer_(ioc) {}

RoomHost::~RoomHost() {
  if (deps_.city_counters)
    deps_.city_counters->remote_connections.fetch_sub(int64_t(remote_.size()));
}

template <typename Fn>
void RoomHost::post_here(Fn fn) {
  asio::post(ioc_, [self = shared_from_this(), fn = std::move(fn)]() mutable { fn(*self); });
}

// ---- connections ----------------------------------------------------------------------------

base::Result<classroom::JoinReply> RoomHost::join(
    const std::shared_ptr<LiveSession>& s, const std::optional<classroom::ResumePoint>& resume) {
  restore_once();
  if (finished_) return base::failed_precondition("the session has ended", "session_ended");
  // Shutting down: a connection whose handshake finished after close_all() ran would
  // otherwise join and never get its 1001.
  if (going_away_) return base::unavailable("the server is going away", "going_away");
  // The classroom decides (enrollment again, then the room: ended, full, removed).
  classroom::DbReader reader(*deps_.reader);
  auto reply = classroom::enter_room(room_, reader, s->who(), resume);
  if (!reply.is_ok()) return reply;
  connections_.add(s);
  by_user_[s->who().user_id].push_back(s.get());
  publish_presence_counts();
  ensure_ticking();  // presence counts for students in large rooms
  // How to publish and which feeds are live, after the welcome (this runs once the caller
  // has queued it).
  if (deps_.media && (!feeds_.empty() || !deps_.media->config_message.empty())) {
    post_here([weak = std::weak_ptr<LiveSession>(s)](RoomHost& h) {
      auto sess = weak.lock();
      if (!sess) return;
      if (!h.deps_.media->config_message.empty()) h.reply(*sess, h.deps_.media->config_message);
      if (!h.feeds_.empty()) h.reply(*sess, h.media_tracks_message());
    });
  }
  return reply;
}

void RoomHost::leave(LiveSession& s) {
  auto keep = s.shared_from_this();  // `s` stays alive until this function returns
  if (!connections_.remove(s)) return;
  auto it = by_user_.find(s.who().user_id);
  if (it != by_user_.end()) {
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), &s), v.end());
    if (v.empty()) {
      by_user_.erase(it);
      // The user's last connection: its media transports go too (a reload publishes again).
      if (!has_remote(s.who().user_id)) leave_media(s.who().user_id);
    }
  }
  room_.leave(s.who().user_id);
  publish_presence_counts();
  ensure_ticking();
}

bool RoomHost::has_remote(std::string_view user_id) const {
  for (const auto& [conn, r] : remote_) {
    if (r.who.user_id == user_id) return true;
  }
  return false;
}

void RoomHost::leave_media(const std::string& user_id) {
  if (deps_.media && deps_.media->leave) deps_.media->leave(session_id(), user_id);
}

void RoomHost::publish_presence_counts() {
  const size_t students = room_.student_count();
  const size_t all = room_.participant_count();
  present_students_.store(students, std::memory_order_relaxed);
  present_teachers_.store(all >= students ? all - students : 0, std::memory_order_relaxed);
}

// Once per event for every edge replica (each fans it out to its own sockets by the
// audience), only while some edge holds a connection here: a room with none publishes
// nothing. Everything this room publishes comes from this thread, so the channel has the
// room's order: a connection's welcome is followed by exactly the events after it.
void RoomHost::publish_to_edges(const classroom::RoomEvent& event) {
  if (!deps_.city || remote_.empty()) return;
  deps_.city->publish(session_id_, wire::down_event(event));
}

void RoomHost::on_room_event(const classroom::RoomEvent& event) {
  if (!event.json) return;
  const auto& a = event.audience;
  // The event's frame is built once and shared by every receiver's queue.
  if (!a.students && !a.teachers) {
    publish_to_edges(event);
    auto it = by_user_.find(a.user);
    if (it == by_user_.end()) return;
    Frame frame = text_frame(*event.json);
    for (LiveSession* s : it->second) connections_.deliver(*s, frame);
    traffic().count_out(*event.json, it->second.size());
    return;
  }
  connections_.broadcast(text_frame(*event.json), a, LiveTraffic::out_type(*event.json));
  publish_to_edges(event);
}

void RoomHost::reply(LiveSession& s, std::string_view text) {
  traffic().count_out(text);
  connections_.deliver(s, text_frame(text));
}

// ---- client messages ----------------------------------------------------------------------

RoomHost::Sender RoomHost::local_sender(LiveSession& s) {
  return Sender{s.who(),
                // On this thread or (a spread room's) through the connection's shard.
                [self = shared_from_this(), weak = s.weak_from_this()](std::string text) {
                  if (auto sess = weak.lock()) self->reply(*sess, text);
                },
                &s};
}

void RoomHost::reply_error(const Sender& s, std::string_view ref, const base::Status& status) {
  traffic().count_error(status.reason());
  s.reply(classroom::error_reply(ref, status));
}

std::function<void(const base::Status&)> RoomHost::error_replier(const Sender& s, std::string ref) {
  return [reply = s.reply, traffic = deps_.traffic, ref = std::move(ref)](const base::Status& st) {
    traffic->count_error(st.reason());
    reply(classroom::error_reply(ref, st));
  };
}

void RoomHost::on_message(LiveSession& s, std::string_view text) {
  handle_message(local_sender(s), text);
}

void RoomHost::handle_message(const Sender& s, std::string_view text) {
  std::string ref;
  auto msg = classroom::parse_client_message(text, &ref);
  traffic().count_in(msg.is_ok() ? classroom::client_type_name(msg->type) : "invalid");
  if (!msg.is_ok()) {
    reply_error(s, ref, msg.status());
    return;
  }
  auto step = classroom::apply_client_message(room_, s.who.user_id, *msg);
  if (!step.is_ok()) {
    reply_error(s, msg->ref, step.status());
    return;
  }
  switch (*step) {
    case NextStep::kNone:
      break;
    case NextStep::kPong:
      s.reply(classroom::pong_reply(msg->ref, deps_.clock->now_unix_ms()));
      break;
    case NextStep::kPublish:
    case NextStep::kClose:
      submit_quiz_change(s, *msg);
      break;
    case NextStep::kAnswer:
      submit_answer(s, *msg);
      break;
    case NextStep::kMedia:
      handle_media(s, *msg);
      break;
    case NextStep::kStage:
      handle_stage(s, *msg);
      break;
  }
}

// ---- the stage ------------------------------------------------------------------------------

void RoomHost::handle_stage(const Sender& s, const classroom::ClientMessage& msg) {
  // The room asks the policy (action "stage", with the target).
  base::Status st = msg.type == classroom::ClientType::kStageGive
                        ? room_.give_stage(s.who.user_id, msg.target)
                        : room_.take_stage(s.who.user_id);
  if (!st.is_ok()) reply_error(s, msg.ref, st);
}

void RoomHost::on_stage_changed(std::string_view previous, std::string_view current) {
  base::log::info("live.stage").kv("session", session_id()).kv("from", previous).kv("to", current);
  if (!going_away_) {
    persist("stage",
            [session = session_id(), user = std::string(current), name = room_.stage_name(),
             now = deps_.clock->now_unix_ms()](store::Txn& txn) {
              return store::set_stage(txn, session, user, name, now);
            });
  }
  // The student who lost the stage may no longer publish: stop its published streams (its
  // subscription stays: Sfu::unpublish drops the publishing transport only).
  if (!previous.empty() && deps_.media && deps_.media->unpublish) {
    deps_.media->unpublish(session_id(), std::string(previous), {});  // camera and screen
  }
}

// ---- media signalling -----------------------------------------------------------------------

classroom::Decision RoomHost::media_decision(std::string_view action,
                                             const classroom::Participant& p, bool on_stage) const {
  const classroom::Actor actor = classroom::actor_of(p);
  const classroom::DecisionInput::RoomCourse course{room_.config().course_id, teacher_id_};
  classroom::DecisionInput input{action, classroom::input_user(actor)};
  input.room_course = &course;
  input.on_stage = on_stage;
  return deps_.authorizer()->decide(input);
}

classroom::Decision RoomHost::may_publish_media(const classroom::Participant& p) const {
  const bool on_stage = !room_.stage().empty() && room_.stage() == p.user_id;
  if (!deps_.authorizer) {
    const bool teacher = p.role == classroom::Role::kTeacher && p.user_id == teacher_id_;
    if (teacher || on_stage) return {true, ""};
    return {false, "only the teacher or a student on stage can publish"};
  }
  return media_decision("publish_media", p, on_stage);
}

classroom::Decision RoomHost::may_share_screen(const classroom::Participant& p) const {
  const bool on_stage = !room_.stage().empty() && room_.stage() == p.user_id;
  if (!deps_.authorizer) {
    if (p.role == classroom::Role::kTeacher && p.user_id == teacher_id_) return {true, ""};
    return {false, "only the teacher can share a screen"};
  }
  return media_decision("share_screen", p, on_stage);
}

void RoomHost::handle_media(const Sender& sender, const classroom::ClientMessage& msg) {
  const MediaSignalling* media = deps_.media;
  if (!media || !media->publish || !media->subscribe) {
    reply_error(sender, msg.ref,
                base::unavailable("video is not available on this server", "media_unavailable"));
    return;
  }
  // The sender's socket may be here or on an edge replica: either way this home's SFU runs
  // the transport, so the answer carries this replica's media addresses and the browser
  // connects its media here; the answer and later media events go back by `sender.reply`.
  const classroom::Participant& who = sender.who;
  const std::string user = who.user_id;
  // Teachers (the course's, or an admin) fill the main feed with their camera, a student on
  // stage the second; a shared screen goes to "screen" (its own PeerConnection).
  const bool screen = msg.source == "screen";
  const char* feed = screen ? "screen" : who.role == classroom::Role::kStudent ? "stage" : "main";
  if (msg.type == classroom::ClientType::kMediaUnpublish) {
    if (media->unpublish) media->unpublish(session_id(), user, feed);
    return;
  }
  const bool publish = msg.type == classroom::ClientType::kMediaPublish;
  if (publish && screen) {
    classroom::Decision d = may_share_screen(who);
    if (!d.allow) {
      reply_error(
          sender, msg.ref,
          base::permission_denied(
              d.reason.empty() ? "only the teacher can share a screen" : d.reason, "not_allowed"));
      return;
    }
  } else if (publish) {
    classroom::Decision d = may_publish_media(who);
    if (!d.allow) {
      reply_error(
          sender, msg.ref,
          base::permission_denied(
              d.reason.empty() ? "only the teacher or a student on stage can publish" : d.reason,
              "not_allowed"));
      return;
    }
  }
  // The SFU answers on the media thread; the reply comes back here (`reply` does nothing
  // once the connection is gone).
  MediaSignalling::Done done = [self = shared_from_this(), reply = sender.reply, ref = msg.ref,
                                kind = std::string(publish ? "publish" : "subscribe")](
                                   base::Result<std::string> r) {
    self->post_here([reply, ref, kind, r = std::move(r)](RoomHost& h) {
      if (!r.is_ok()) {
        base::Status st = r.status();
        h.traffic().count_error("media_rejected");
        reply(classroom::error_reply(ref, base::invalid_argument(st.message(), "media_rejected")));
        return;
      }
      json::object o;
      o["type"] = "media.answer";
      if (!ref.empty()) o["ref"] = ref;
      o["kind"] = kind;
      o["sdp"] = *r;
      reply(json::serialize(o));
    });
  };
  if (publish) {
    media->publish(session_id(), user, feed, msg.sdp, std::move(done));
  } else {
    media->subscribe(session_id(), user, msg.sdp, std::move(done));
  }
}

std::string RoomHost::media_tracks_message() const {
  json::array feeds;
  for (const auto& [name, f] : feeds_) {
    json::object o;
    o["feed"] = name;
    o["participant"] = f.participant;
    o["audio"] = f.kinds.count("audio") > 0;
    o["video"] = f.kinds.count("video") > 0;
    feeds.push_back(std::move(o));
  }
  json::object m;
  m["type"] = "media.tracks";
  m["feeds"] = std::move(feeds);
  return json::serialize(m);
}

void RoomHost::media_event(const MediaEvent& e) {
  using T = MediaEvent::Type;
  if (e.type == T::kFailed) {
    // What an operator greps for when a student sees a black box: which course, session and
    // user, which connection, and why.
    base::log::warn(e.failure == "dtls" ? "media.dtls_failed" : "media.ice_failed")
        .kv("course", course_id())
        .kv("session", session_id())
        .kv("user", e.participant)
        .kv("connection", e.connection)
        .kv("feed", e.feed)
        .kv("failure", e.failure)
        .kv("reason", e.reason);
    return;
  }
  if (e.type == T::kDisconnected) {
    base::log::info("live.media_disconnected")
        .kv("session", session_id())
        .kv("user", e.participant)
        .kv("connection", e.connection)
        .kv("feed", e.feed)
        .kv("reason", e.reason);
    json::object o;
    o["type"] = "media.disconnected";
    o["connection"] = e.connection;
    // Which publishing PeerConnection died, so the page publishes only that one again: the
    // feed it filled and its source as media.publish names it ("screen" or "camera").
    if (e.connection == "publish" && !e.feed.empty()) {
      o["feed"] = e.feed;
      o["source"] = e.feed == "screen" ? "screen" : "camera";
    }
    o["reason"] = e.reason;
    const std::string text = json::serialize(o);
    // The user's sockets on edges (their media runs on this replica's SFU too).
    if (deps_.city) {
      for (const auto& [conn, r] : remote_) {
        if (r.who.user_id == e.participant) {
          deps_.city->publish(session_id_, wire::down_reply(conn, text));
        }
      }
    }
    auto it = by_user_.find(e.participant);
    if (it == by_user_.end()) return;
    Frame frame = text_frame(text);
    for (LiveSession* s : it->second) connections_.deliver(*s, frame);
    traffic().count_out(text, it->second.size());
    return;
  }
  if (e.type == T::kTrackAdded) {
    FeedState& f = feeds_[e.feed];
    f.participant = e.participant;
    f.kinds.insert(e.kind);
  } else {
    auto it = feeds_.find(e.feed);
    if (it == feeds_.end() || it->second.participant != e.participant) return;
    it->second.kinds.erase(e.kind);
    if (it->second.kinds.empty()) feeds_.erase(it);
  }
  // Framed once for the room.
  const std::string text = media_tracks_message();
  connections_.broadcast(text_frame(text), classroom::Audience::everyone(),
                         LiveTraffic::out_type(text));
  // Everyone on the edges too (once per edge, fanned out there); not a room event: no seq.
  classroom::RoomEvent ev;
  ev.audience = classroom::Audience::everyone();
  ev.json = std::make_shared<const std::string>(text);
  publish_to_edges(ev);
}

void RoomHost::submit_answer(const Sender& s, const classroom::ClientMessage& msg) {
  // The classroom sequences it (room, service, commit, tally); the socket only sends a
  // refusal back.
  classroom::DbReader reader(*deps_.reader, &questions_cache_, &row_cache_);
  classroom::submit_live_answer(
      room_, {*deps_.service, reader, *this}, s.who, msg.quiz_id, msg.answers,
      [fail = error_replier(s, msg.ref)](const base::Status& st) { fail(st); });
}

base::Status RoomHost::write(store::WriteOp op, std::function<void(base::Status)> done) {
  save_chat();  // the room's writes reach the writer in the order they happened
  return deps_.writer->submit(
      std::move(op), [self = shared_from_this(), done = std::move(done)](base::Status st) mutable {
        self->post_here([done = std::move(done), st = std::move(st)](RoomHost&) mutable {
          done(std::move(st));
        });
      });
}

void RoomHost::submit_quiz_change(const Sender& s, const classroom::ClientMessage& msg) {
  auto out = std::make_shared<store::Quiz>();
  classroom::Service* service = deps_.service;
  classroom::Actor actor = classroom::actor_of(s.who);
  bool publish = msg.type == classroom::ClientType::kQuizPublish;
  base::Status submitted = write(
      [service, actor, publish, id = msg.quiz_id, limit = msg.time_limit_s,
       out](store::Txn& txn) -> base::Status {
        auto r = publish ? service->publish_quiz(txn, actor, id, limit)
                         : service->close_quiz(txn, actor, id);
        if (!r.is_ok()) return r.status();
        *out = std::move(r).value();
        return base::Status::ok();
      },
      [this, out, fail = error_replier(s, msg.ref)](base::Status st) {
        if (st.is_ok()) {
          // Committed: read caches must not serve the quiz's old state from here on.
          classroom::bump_catalog_generation();
          quiz_changed(*out);
        } else {
          fail(st);
        }
      });
  if (!submitted.is_ok()) reply_error(s, msg.ref, submitted);
}

// ---- storage-driven changes ---------------------------------------------------------------

void RoomHost::restore_once() {
  if (restored_) return;
  restored_ = true;
  using State = classroom::StoredRoom::State;
  classroom::StoredRoom stored =
      classroom::read_stored_room(*deps_.reader, room_.config(), deps_.clock->now_unix_ms());
  if (stored.state == State::kEnded) {
    end("teacher_ended", kCloseNormal);
    return;
  }
  // Attendance: nobody is in a room being built, so visits an earlier room left open (the
  // server stopped before they were closed) end now at the latest.
  persist("attendance",
          [session = session_id(), now = deps_.clock->now_unix_ms()](store::Txn& txn) {
            return store::close_open_visits(txn, session, now);
          });
  if (stored.state == State::kArchived) {
    end("course_archived", kCloseNormal, "the course was archived");
    return;
  }
  if (stored.capacity) room_.set_capacity(*stored.capacity);
  const classroom::RoomRestore& r = stored.restore;
  room_.restore(r);
  base::log::info("live.room_restored")
      .kv("session", session_id())
      .kv("quiz", r.quiz ? r.quiz->id : std::string())
      .kv("quiz_state", !r.quiz         ? "none"
                        : r.quiz_closed ? "closed"
                                        : "open")
      .kv("answers", uint64_t(r.answers.size()))
      .kv("stage", r.stage_user);
  ensure_ticking();  // an open quiz's deadline (even one that passed while the server was down)
}

void RoomHost::quiz_changed(const store::Quiz& quiz) {
  if (quiz.session_id != session_id()) return;
  restore_once();
  classroom::apply_stored_quiz(room_, quiz, deps_.clock->now_unix_ms());
  ensure_ticking();
}

void RoomHost::answers_committed(const std::string& student_id, const store::Quiz& quiz,
                                 const std::vector<store::Answer>& answers) {
  restore_once();
  room_.answer_committed(student_id, quiz.id, classroom::answer_set(answers));
}

void RoomHost::course_changed(const store::Course& course) {
  if (course.id != course_id_) return;
  restore_once();
  if (finished_) return;
  if (course.status == store::CourseStatus::kArchived) {
    end("course_archived", kCloseNormal, "the course was archived");
    return;
  }
  room_.set_capacity(size_t(std::max<int64_t>(1, course.capacity)));
}

void RoomHost::student_removed(const std::string& student_id, const std::string& by) {
  restore_once();
  const bool self = by == student_id;
  room_.unenroll(student_id, by);
  publish_presence_counts();
  close_remote(student_id, kCloseForbidden,
               base::permission_denied(self ? "you left the course" : "removed from the course",
                                       "not_enrolled"),
               /*students_only=*/true);
  auto it = by_user_.find(student_id);
  if (it == by_user_.end()) return;
  // Copy: closing does not leave the room synchronously, but keep the loop independent of it.
  std::vector<LiveSession*> conns = it->second;
  for (LiveSession* s : conns) {
    if (s->who().role != classroom::Role::kStudent) continue;
    connections_.close(*s, kCloseForbidden,
                       self ? "you left the course" : "removed from the course");
  }
}

void RoomHost::ensure_ticking() {
  if (ticking_ || !room_.wants_tick()) return;
  ticking_ = true;
  asio::co_spawn(ioc_, tick_loop(), asio::detached);
}

asio::awaitable<void> RoomHost::tick_loop() {
  auto self = shared_from_this();
  asio::steady_timer timer(ioc_);
  // Shutdown ends the loop too: a room with an open quiz would otherwise keep its thread's
  // io_context busy until the drain timeout.
  while (room_.wants_tick() && !going_away_) {
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    room_.tick();
  }
  ticking_ = false;
}

void RoomHost::on_quiz_deadline(std::string_view quiz_id) {
  // Close it in storage on the teacher's behalf, then in the room.
  auto out = std::make_shared<store::Quiz>();
  classroom::Service* service = deps_.service;
  classroom::Actor teacher{teacher_id_, "", base::Role::kTeacher};
  base::Status submitted = write(
      [service, teacher, id = std::string(quiz_id), out](store::Txn& txn) -> base::Status {
        auto r = service->close_quiz(txn, teacher, id);
        if (!r.is_ok()) return r.status();
        *out = std::move(r).value();
        return base::Status::ok();
      },
      [this, out, id = std::string(quiz_id)](base::Status st) {
        if (st.is_ok()) {
          // The quiz's status changed in storage: read caches must not serve the open quiz.
          classroom::bump_catalog_generation();
        } else {
          base::log::warn("live.quiz_auto_close").kv("quiz", id).kv("error", st.message());
        }
        // Closed now, or already closed by someone else: either way the room closes it.
        (void)room_.close_quiz(id);
      });
  if (!submitted.is_ok()) (void)room_.close_quiz(quiz_id);
}

void RoomHost::on_chat_message(const classroom::ChatMessage& m) {
  chat_unsaved_.push_back({m.id, m.session_id, m.user_id, m.name, m.text, m.sent_at_ms, false});
  // Shutting down: stored now, while the writer still takes ops.
  if (going_away_) {
    save_chat();
    return;
  }
  if (chat_unsaved_.size() > 1) return;  // the batch's save is already due
  chat_timer_.expires_after(kChatSaveDelay);
  chat_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self) self->save_chat();
  });
}

void RoomHost::save_chat() {
  if (chat_unsaved_.empty()) return;
  chat_timer_.cancel();
  auto rows = std::make_shared<std::vector<store::ChatMessage>>(std::move(chat_unsaved_));
  chat_unsaved_ = {};
  // One op for the batch, in one group commit: a message refused on its own (its session is
  // gone, its id taken: SQLite undid only that statement) is logged and the others are still
  // stored; any other failure (the disk) fails the batch, which the Done logs.
  base::Status st = deps_.writer->submit(
      [rows](store::Txn& txn) {
        for (const auto& row : *rows) {
          base::Status s = store::insert_chat(txn, row);
          if (s.is_ok()) continue;
          if (s.code() != base::Code::kNotFound && s.code() != base::Code::kConflict) return s;
          base::log::warn("live.chat_not_stored").kv("id", row.id).kv("error", s.message());
        }
        return base::Status::ok();
      },
      [rows](base::Status s) {
        if (s.is_ok()) return;
        for (const auto& row : *rows)
          base::log::warn("live.chat_not_stored").kv("id", row.id).kv("error", s.message());
      });
  if (!st.is_ok()) {
    for (const auto& row : *rows)
      base::log::warn("live.chat_not_stored").kv("id", row.id).kv("error", st.message());
  }
}

void RoomHost::on_chat_deleted(std::string_view message_id) {
  save_chat();  // the message's insert goes first
  base::Status st = deps_.writer->submit(
      [id = std::string(message_id)](store::Txn& txn) { return store::delete_chat(txn, id); },
      [](base::Status) {});
  if (!st.is_ok()) base::log::warn("live.chat_delete_not_stored").kv("error", st.message());
}

void RoomHost::persist(const char* what, store::WriteOp op) {
  save_chat();  // the room's writes reach the writer in the order they happened
  base::Status st =
      deps_.writer->submit(std::move(op), [what, session = session_id()](base::Status s) {
        if (!s.is_ok()) {
          base::log::warn("live.state_not_stored")
              .kv("session", session)
              .kv("what", what)
              .kv("error", s.message());
        }
      });
  if (!st.is_ok()) {
    base::log::warn("live.state_not_stored")
        .kv("session", session_id())
        .kv("what", what)
        .kv("error", st.message());
  }
}

void RoomHost::on_chat_muted(std::string_view user_id, bool muted) {
  int64_t now = deps_.clock->now_unix_ms();
  if (user_id.empty()) {
    persist("chat_muted_all", [session = session_id(), muted, now](store::Txn& txn) {
      return store::set_chat_muted_all(txn, session, muted, now);
    });
    return;
  }
  persist("muted",
          [session = session_id(), user = std::string(user_id), muted, now](store::Txn& txn) {
            return store::set_member_muted(txn, session, user, muted, now);
          });
}

// Attendance: a visit per stay in the room, opened at the first connection and closed at the
// last (or the removal). The writer runs ops in order, so a close follows its open.
void RoomHost::on_presence_changed(const classroom::Participant& who, bool present) {
  int64_t now = deps_.clock->now_unix_ms();
  if (deps_.city) {
    // Who is in the class, city-wide, for anyone to read in Redis (the room decides).
    std::string entry;
    if (present) {
      json::object o;
      o["name"] = who.name;
      o["role"] = classroom::role_name(who.role);
      o["since"] = now;
      entry = json::serialize(o);
      presence_[who.user_id] = entry;
    } else {
      presence_.erase(who.user_id);
    }
    deps_.city->presence(session_id_, who.user_id, std::move(entry));
  }
  if (present) {
    store::Visit v;
    v.session_id = session_id();
    v.user_id = who.user_id;
    v.user_name = who.name;
    v.role = who.role == classroom::Role::kTeacher ? "teacher" : "student";
    v.joined_at = now;
    persist("attendance", [v](store::Txn& txn) { return store::open_visit(txn, v); });
  } else {
    persist("attendance", [session = session_id(), user = who.user_id, now](store::Txn& txn) {
      return store::close_visit(txn, session, user, now);
    });
  }
}

void RoomHost::on_participant_removed(std::string_view user_id) {
  persist("removed",
          [session = session_id(), user = std::string(user_id), now = deps_.clock->now_unix_ms()](
              store::Txn& txn) { return store::set_member_removed(txn, session, user, now); });
  close_remote(user_id, kCloseRemoved,
               base::permission_denied("removed by the teacher", "removed"));
  auto it = by_user_.find(std::string(user_id));
  if (it == by_user_.end()) return;
  for (LiveSession* s : it->second) connections_.close(*s, kCloseRemoved, "removed by the teacher");
}

// ---- end ------------------------------------------------------------------------------------

void RoomHost::end(std::string_view reason, uint16_t code, std::string_view close_reason) {
  room_.end(reason);  // session_ended is queued on every connection before the close
  close_all(code, close_reason);
  drop_remote();
  if (!finished_) {
    finished_ = true;
    if (on_finished_) on_finished_();
  }
}

// The edges close their sockets; their leaves would find no room (the hub forgets an ended
// one; a stopping replica does not read them any more), so they leave now: attendance visits
// close and presence goes, as for a socket here.
void RoomHost::drop_remote() {
  if (deps_.city_counters) {
    deps_.city_counters->remote_connections.fetch_sub(int64_t(remote_.size()));
  }
  auto remote = std::move(remote_);
  remote_.clear();
  edge_seen_.clear();
  for (const auto& [conn, r] : remote) {
    if (!by_user_.count(r.who.user_id)) leave_media(r.who.user_id);
    room_.leave(r.who.user_id);
  }
}

void RoomHost::close_all(uint16_t code, std::string_view reason) {
  const bool shutdown = code == kCloseGoingAway || code == kCloseServiceRestart;
  if (shutdown) going_away_ = true;
  save_chat();  // before the server stops its writer (or the session's end is stored)
  connections_.close_all(code, reason);
  close_remote({}, code,
               shutdown ? base::unavailable(std::string(reason), "going_away")
                        : base::failed_precondition(std::string(reason), "session_ended"));
  if (shutdown && deps_.city) {
    // The replica stops: the edges' connections are told (above) and leave now, and the
    // class's presence goes from the city at once (the home's own sockets leave as their
    // closes complete; nobody can be in a room whose home is gone).
    drop_remote();
    presence_.clear();
    deps_.city->presence_reset(session_id_, {});
  }
}

void RoomHost::republish_presence() {
  if (!deps_.city || going_away_ || finished_) return;
  std::vector<std::pair<std::string, std::string>> entries(presence_.begin(), presence_.end());
  deps_.city->presence_reset(session_id_, std::move(entries));
}

// ---- connections held by edge replicas ------------------------------------------------------

void RoomHost::close_remote(std::string_view user_id, uint16_t code, const base::Status& why,
                            bool students_only) {
  if (!deps_.city) return;
  for (const auto& [conn, r] : remote_) {
    if (!user_id.empty() && r.who.user_id != user_id) continue;
    if (students_only && r.who.role != classroom::Role::kStudent) continue;
    deps_.city->publish(session_id_, wire::down_close(conn, code, why));
  }
}

void RoomHost::remote_join(const std::string& edge, const std::string& conn,
                           const classroom::Participant& who,
                           const std::optional<classroom::ResumePoint>& resume) {
  if (!deps_.city) return;
  restore_once();
  auto refuse = [&](const base::Status& st) {
    deps_.city->publish(session_id_, wire::down_close(conn, close_code_for(st), st));
  };
  if (remote_.count(conn)) return;  // a join delivered twice
  if (finished_) return refuse(base::failed_precondition("the session has ended", "session_ended"));
  if (going_away_) return refuse(base::unavailable("the server is going away", "going_away"));
  classroom::DbReader reader(*deps_.reader);
  auto reply = classroom::enter_room(room_, reader, who, resume);
  if (!reply.is_ok()) return refuse(reply.status());
  remote_.emplace(conn, RemoteConn{who, edge, deps_.city->link_epoch()});
  if (deps_.city_counters) deps_.city_counters->remote_connections.fetch_add(1);
  edge_seen_[edge] = std::chrono::steady_clock::now();
  deps_.city->publish(session_id_, wire::down_welcome(conn, reply->welcome));
  for (const auto& ev : reply->replay) {
    if (ev.json) deps_.city->publish(session_id_, wire::down_reply(conn, *ev.json));
  }
  // How to publish and which feeds are live, as for a socket here (video for an edge's
  // socket runs on this replica's SFU).
  if (deps_.media) {
    if (!deps_.media->config_message.empty()) {
      deps_.city->publish(session_id_, wire::down_reply(conn, deps_.media->config_message));
    }
    if (!feeds_.empty()) {
      deps_.city->publish(session_id_, wire::down_reply(conn, media_tracks_message()));
    }
  }
  ensure_ticking();
  ensure_sweeping();
}

void RoomHost::remote_leave(const std::string& conn) {
  auto it = remote_.find(conn);
  if (it == remote_.end()) return;
  std::string user = it->second.who.user_id;
  remote_.erase(it);
  if (deps_.city_counters) deps_.city_counters->remote_connections.fetch_sub(1);
  // The user's last connection anywhere: its media transports on this SFU go too.
  if (!by_user_.count(user) && !has_remote(user)) leave_media(user);
  room_.leave(user);
  ensure_ticking();
}

void RoomHost::remote_message(const std::string& conn, std::string_view text) {
  auto it = remote_.find(conn);
  if (it == remote_.end()) {
    // Not in this room (it was rebuilt, or the connection was already dropped): the edge
    // closes the socket, the client reconnects and resumes.
    if (deps_.city) {
      deps_.city->publish(
          session_id_,
          wire::down_close(conn, kCloseGoingAway,
                           base::unavailable("the room was rebuilt; reconnect", "going_away")));
    }
    return;
  }
  // Copy: the member may leave while the message is handled (a removal).
  classroom::Participant who = it->second.who;
  Sender sender{who,
                [self = shared_from_this(), conn](std::string text) {
                  if (!self->remote_.count(conn) || !self->deps_.city) return;
                  self->deps_.city->publish(self->session_id_, wire::down_reply(conn, text));
                },
                nullptr};
  handle_message(sender, text);
}

void RoomHost::remote_alive(const std::string& edge, const std::vector<std::string>& conns) {
  if (!deps_.city) return;
  edge_seen_[edge] = std::chrono::steady_clock::now();
  std::set<std::string, std::less<>> listed(conns.begin(), conns.end());
  for (const auto& c : conns) {
    if (!remote_.count(c)) {
      deps_.city->publish(
          session_id_,
          wire::down_close(c, kCloseGoingAway,
                           base::unavailable("the room was rebuilt; reconnect", "going_away")));
    }
  }
  std::vector<std::string> gone;
  for (const auto& [conn, r] : remote_) {
    if (r.edge == edge && !listed.count(conn)) gone.push_back(conn);
  }
  for (const auto& c : gone) remote_leave(c);
}

void RoomHost::ensure_sweeping() {
  if (sweeping_ || remote_.empty()) return;
  sweeping_ = true;
  asio::co_spawn(ioc_, sweep_loop(), asio::detached);
}

asio::awaitable<void> RoomHost::sweep_loop() {
  auto self = shared_from_this();
  asio::steady_timer timer(ioc_);
  // Shutdown ends it too (the edges' connections were dropped; the thread must drain).
  while (!remote_.empty() && !finished_ && !going_away_) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    sweep();
  }
  sweeping_ = false;
}

// An edge that stopped beating (killed, or cut off from Redis) has lost its sockets: its
// connections leave the room, so presence and capacity count only who is there. Without
// Redis no edge can reach this room at all: they all leave; and so do the connections that
// joined over a Redis connection lost since, however briefly (their edge cut them, and its
// leaves were lost with the connection).
void RoomHost::sweep() {
  const auto now = std::chrono::steady_clock::now();
  const bool city_up = deps_.city && deps_.city->connected();
  const uint64_t epoch = deps_.city ? deps_.city->link_epoch() : 0;
  std::map<std::string, std::pair<std::vector<std::string>, const char*>> lost;  // by edge
  for (const auto& [conn, r] : remote_) {
    auto seen = edge_seen_.find(r.edge);
    const char* why = !city_up           ? "redis_lost"
                      : r.epoch != epoch ? "redis_reconnected"
                      : seen == edge_seen_.end() || now - seen->second > kEdgeSilent ? "silent"
                                                                                     : nullptr;
    if (!why) continue;
    auto& l = lost[r.edge];
    l.first.push_back(conn);
    l.second = why;
  }
  for (const auto& [edge, l] : lost) {
    base::log::warn("live.edge_lost")
        .kv("session", session_id_)
        .kv("edge", edge)
        .kv("connections", uint64_t(l.first.size()))
        .kv("why", l.second);
    if (deps_.city_counters) deps_.city_counters->edge_lost.fetch_add(1);
    for (const auto& c : l.first) remote_leave(c);
    if (std::string_view(l.second) != "redis_reconnected") edge_seen_.erase(edge);
  }
}

}  // namespace ws
