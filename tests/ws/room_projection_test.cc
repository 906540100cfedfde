// The live room as a projection of the store, end to end in one process: the real REST
// handlers (http::register_api) and the LiveHub as their classroom::LiveNotifier, a real
// SQLite database behind the group-commit writer, Beast HTTP and WebSocket clients on
// loopback. "Restart" stops the server, hub and writer and starts new ones on the same
// database file, as a process restart would.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <thread>

#include "base/jwt.h"
#include "classroom/authz.h"
#include "classroom/service.h"
#include "http/api.h"
#include "http/router.h"
#include "http/server.h"
#include "store/chat.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/quizzes.h"
#include "store/sessions.h"
#include "store/txn.h"
#include "store/writer.h"
#include "ws/live_hub.h"
#include "ws_test_client.h"
#include "ws_test_policies.h"

namespace ws {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

constexpr const char* kSecret = "test-secret-test-secret-test-secret";

std::string token(const std::string& sub, base::Role role) {
  base::Claims c;
  c.sub = sub;
  c.name = sub;
  c.role = role;
  c.exp = base::SystemClock::instance().now_unix_ms() / 1000 + 3600;
  return base::mint_token(c, kSecret);
}

using testing::Client;

struct HttpReply {
  unsigned status = 0;
  json::value body;
};

class RoomProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("edgeclass_room_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "db.sqlite").string();
    service_ = std::make_unique<classroom::Service>(
        base::SystemClock::instance(), base::SystemRandom::instance(),
        [a = authorizer_] { return a; }, 1000);
    teacher_ = token("usr_t", base::Role::kTeacher);
    start();
    // A course of capacity 3 with two students, a live session and a draft quiz, all over
    // REST.
    auto c = request("POST", "/api/v1/courses",
                     {{"title", "Algebra"}, {"capacity", 3}, {"status", "active"}}, teacher_);
    ASSERT_EQ(c.status, 201u) << json::serialize(c.body);
    course_id_ = c.body.at("id").as_string();
    for (const char* s : {"usr_a", "usr_b"}) {
      auto j = request("POST", "/api/v1/courses/" + course_id_ + "/join", {},
                       token(s, base::Role::kStudent));
      ASSERT_EQ(j.status, 201u) << json::serialize(j.body);
    }
    auto ses = request("POST", "/api/v1/courses/" + course_id_ + "/sessions", {{"title", "Week 1"}},
                       teacher_);
    ASSERT_EQ(ses.status, 201u) << json::serialize(ses.body);
    session_id_ = ses.body.at("id").as_string();
    auto q = request("POST", "/api/v1/sessions/" + session_id_ + "/quizzes",
                     json::parse(R"({"title":"Check","questions":[{"kind":"single",
                       "prompt":"2+2?","options":["3","4"],"correct":[1]}]})")
                         .as_object(),
                     teacher_);
    ASSERT_EQ(q.status, 201u) << json::serialize(q.body);
    quiz_id_ = q.body.at("id").as_string();
  }

  void TearDown() override {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void start() {
    store::DbOptions fast;
    fast.synchronous_full = false;
    auto db = store::Db::open(path_, store::OpenMode::kReadWrite, fast);
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    ASSERT_TRUE(store::migrate(**db).is_ok());
    auto writer = store::Writer::start(std::move(db).value());
    ASSERT_TRUE(writer.is_ok());
    writer_ = std::move(writer).value();
    router_ = std::make_unique<http::Router>();
    http::ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.drain_timeout = 1s;  // clients of a test that never read the 1001 close
    server_ = std::make_unique<http::Server>(opts, *router_);
    for (int i = 0; i < server_->thread_count(); ++i) {
      auto r = store::Db::open(path_, store::OpenMode::kReadOnly);
      ASSERT_TRUE(r.is_ok());
      readers_.push_back(std::move(r).value());
    }
    LiveDeps deps;
    deps.service = service_.get();
    deps.writer = writer_.get();
    for (auto& r : readers_) deps.readers.push_back(r.get());
    deps.context = [this](int i) -> asio::io_context& { return server_->context(i); };
    deps.threads = server_->thread_count();
    deps.jwt_secret = kSecret;
    deps.authorizer = [a = authorizer_] { return a; };
    hub_ = std::make_unique<LiveHub>(std::move(deps));
    api_ = std::make_unique<http::ApiDeps>();
    api_->service = service_.get();
    api_->writer = writer_.get();
    for (auto& r : readers_) api_->readers.push_back(r.get());
    api_->jwt_secret = kSecret;
    api_->clock = &base::SystemClock::instance();
    api_->live = hub_.get();
    http::register_api(*router_, *api_);
    server_->set_upgrade_handler(
        [this](http::Transport& s, http::Request& req, int t, http::ConnectionSlot slot) {
          return hub_->handle_upgrade(s, req, t, std::move(slot));
        });
    ASSERT_TRUE(server_->listen().is_ok());
    server_->start();
  }

  void stop() {
    if (hub_) hub_->shutdown();
    if (server_) server_->stop();
    if (writer_) writer_->stop();
    hub_.reset();
    server_.reset();
    api_.reset();
    router_.reset();
    readers_.clear();
    writer_.reset();
  }

  void restart() {
    stop();
    start();
  }

  HttpReply request(const std::string& method, const std::string& target, const json::object& body,
                    const std::string& tok) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::authorization, "Bearer " + tok);
    if (!body.empty() || method == "POST" || method == "PATCH") {
      req.body() = body.empty() ? std::string() : json::serialize(body);
      req.set(bhttp::field::content_type, "application/json");
    }
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buf;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buf, res);
    HttpReply out;
    out.status = res.result_int();
    if (!res.body().empty()) out.body = json::parse(res.body());
    return out;
  }

  std::unique_ptr<Client> join(const std::string& sub, base::Role role) {
    auto c = std::make_unique<Client>();
    EXPECT_TRUE(c->connect(server_->port(),
                           "/api/v1/sessions/" + session_id_ + "/live?token=" + token(sub, role)));
    return c;
  }
  std::unique_ptr<Client> student(const std::string& sub) {
    return join(sub, base::Role::kStudent);
  }

  // The quiz's deadline as stored (Unix ms).
  int64_t stored_deadline() {
    auto db = store::Db::open(path_, store::OpenMode::kReadOnly);
    EXPECT_TRUE(db.is_ok());
    if (!db.is_ok()) return -1;
    auto q = store::get_quiz(**db, quiz_id_);
    EXPECT_TRUE(q.is_ok() && q->deadline_at);
    return q.is_ok() && q->deadline_at ? *q->deadline_at : -1;
  }

  HttpReply publish(int time_limit_s = 60) {
    return request("POST", "/api/v1/quizzes/" + quiz_id_ + "/publish",
                   {{"time_limit_s", time_limit_s}}, teacher_);
  }

  inline static int counter_ = 0;
  std::filesystem::path dir_;
  std::string path_;
  // The real default policies (policies/education.rego, embedded), through the Rego engine.
  std::shared_ptr<const classroom::Authorizer> authorizer_ = testing::default_policies();
  std::unique_ptr<classroom::Service> service_;
  std::string teacher_;
  std::string course_id_, session_id_, quiz_id_;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::unique_ptr<store::Db>> readers_;
  std::unique_ptr<LiveHub> hub_;
  std::unique_ptr<http::ApiDeps> api_;
};

TEST_F(RoomProjectionTest, QuizPublishedOverRestBeforeTheRoomOpenedIsOpenOnJoin) {
  auto pub = publish(60);
  ASSERT_EQ(pub.status, 200u) << json::serialize(pub.body);
  auto a = student("usr_a");
  auto w = a->expect("welcome");
  ASSERT_TRUE(w);
  const auto& q = w->at("snapshot").at("quiz");
  ASSERT_TRUE(q.is_object()) << json::serialize(*w);
  EXPECT_EQ(q.at("quiz").at("id").as_string(), quiz_id_);
  EXPECT_EQ(q.at("quiz").at("status"), "open");
  EXPECT_EQ(q.at("quiz").at("deadline").to_number<int64_t>(), stored_deadline());
  EXPECT_EQ(q.at("answered"), false);
  // And the student can answer it over the socket.
  a->send(json::parse(R"({"type":"answer","quiz_id":")" + quiz_id_ +
                      R"(","answers":[{"question":0,"choice":[1]}]})")
              .as_object());
  EXPECT_TRUE(a->expect("answer_accepted"));
}

TEST_F(RoomProjectionTest, RestartBringsBackTheOpenQuizItsAnswersMutesRemovalsAndStage) {
  ASSERT_EQ(publish(600).status, 200u);
  auto t = join("usr_t", base::Role::kTeacher);
  auto w0 = t->expect("welcome");
  ASSERT_TRUE(w0);
  auto a = student("usr_a");
  ASSERT_TRUE(a->expect("welcome"));
  auto b = student("usr_b");
  ASSERT_TRUE(b->expect("welcome"));
  a->send(json::parse(R"({"type":"answer","quiz_id":")" + quiz_id_ +
                      R"(","answers":[{"question":0,"choice":[1]}]})")
              .as_object());
  ASSERT_TRUE(a->expect("answer_accepted"));
  t->send({{"type", "mute"}, {"user_id", "usr_b"}, {"muted", true}});
  ASSERT_TRUE(t->expect("chat_muted"));
  t->send({{"type", "stage_give"}, {"user_id", "usr_a"}});
  ASSERT_TRUE(t->expect("stage"));
  t->send({{"type", "remove"}, {"user_id", "usr_b"}});
  EXPECT_EQ(b->closed(), 4011);
  int64_t deadline = stored_deadline();
  std::this_thread::sleep_for(200ms);  // the moderation writes are fire-and-forget

  // The server goes away: connections close with 1001 (a student on stage leaving now does
  // not give the stage up in storage), then a new server starts on the same database.
  hub_->shutdown();
  EXPECT_EQ(a->closed(), 1001);
  EXPECT_EQ(t->closed(), 1001);
  restart();

  auto t2 = join("usr_t", base::Role::kTeacher);
  auto w = t2->expect("welcome");
  ASSERT_TRUE(w);
  EXPECT_NE(w->at("epoch"), w0->at("epoch"));
  const auto& snap = w->at("snapshot");
  ASSERT_TRUE(snap.at("quiz").is_object()) << json::serialize(snap);
  EXPECT_EQ(snap.at("quiz").at("quiz").at("id").as_string(), quiz_id_);
  EXPECT_EQ(snap.at("quiz").at("quiz").at("status"), "open");
  EXPECT_EQ(snap.at("quiz").at("quiz").at("deadline").to_number<int64_t>(), deadline);
  EXPECT_EQ(snap.at("quiz").at("results").at("answered"), 1);
  EXPECT_EQ(snap.at("stage").at("user_id"), "usr_a");

  // The student who answered is known to have answered and keeps the stage.
  auto a2 = student("usr_a");
  auto wa = a2->expect("welcome");
  ASSERT_TRUE(wa);
  EXPECT_EQ(wa->at("snapshot").at("quiz").at("answered"), true);
  EXPECT_EQ(wa->at("snapshot").at("stage").at("user_id"), "usr_a");
  a2->send(json::parse(R"({"type":"answer","quiz_id":")" + quiz_id_ +
                       R"(","answers":[{"question":0,"choice":[0]}],"ref":"r1"})")
               .as_object());
  auto err = a2->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "already_answered");
  // The student removed from the session stays out.
  auto b2 = student("usr_b");
  EXPECT_EQ(b2->closed(), 4011);
  // The teacher unmutes b (still stored as muted) and closes the quiz: scores go out.
  t2->send({{"type", "quiz_close"}, {"quiz_id", quiz_id_}});
  auto score = a2->expect("quiz_score");
  ASSERT_TRUE(score);
  EXPECT_EQ(score->at("score"), 1);
}

TEST_F(RoomProjectionTest, MuteAndRecentChatSurviveARestart) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  auto b = student("usr_b");
  ASSERT_TRUE(b->expect("welcome"));
  t->send({{"type", "chat"}, {"text", "before the restart"}});
  ASSERT_TRUE(b->expect("chat_message"));
  t->send({{"type", "mute"}, {"user_id", "usr_b"}, {"muted", true}});
  ASSERT_TRUE(b->expect("chat_muted"));
  std::this_thread::sleep_for(200ms);
  restart();
  auto b2 = student("usr_b");
  auto w = b2->expect("welcome");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->at("snapshot").at("chat").at("muted"), true);
  const auto& recent = w->at("snapshot").at("chat").at("recent").as_array();
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].at("text"), "before the restart");
  EXPECT_EQ(recent[0].at("from").at("role"), "teacher");
  b2->send({{"type", "chat"}, {"text", "hi"}, {"ref", "c1"}});
  auto err = b2->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "muted");
}

// Chat is stored in batches (RoomHost::save_chat): a deletion right after its message, and a
// shutdown right after both, must still reach storage in the room's order.
TEST_F(RoomProjectionTest, ChatAndItsDeletionRightBeforeAShutdownAreStoredInOrder) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  std::vector<std::string> ids;
  for (const char* text : {"one", "two", "three"}) {
    t->send({{"type", "chat"}, {"text", text}});
    auto m = t->expect("chat_message");
    ASSERT_TRUE(m);
    ids.push_back(std::string(m->at("id").as_string()));
  }
  t->send({{"type", "chat_delete"}, {"message_id", ids[1]}});
  ASSERT_TRUE(t->expect("chat_deleted"));
  restart();  // at once: well within the batch's delay
  auto b = student("usr_b");
  auto w = b->expect("welcome");
  ASSERT_TRUE(w);
  const auto& recent = w->at("snapshot").at("chat").at("recent").as_array();
  std::vector<std::string> texts;
  for (const auto& m : recent) texts.push_back(std::string(m.at("text").as_string()));
  // Messages of the same millisecond are listed by id (random), so compare them sorted.
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(texts, (std::vector<std::string>{"one", "three"})) << json::serialize(recent);
}

// With no other write to push it out, a batch is stored once its delay ends.
TEST_F(RoomProjectionTest, ChatIsStoredSoonWithoutAnyOtherWrite) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  t->send({{"type", "chat"}, {"text", "stored by the timer"}});
  auto m = t->expect("chat_message");
  ASSERT_TRUE(m);
  const std::string id(m->at("id").as_string());
  auto db = store::Db::open(path_, store::OpenMode::kReadOnly);
  ASSERT_TRUE(db.is_ok());
  bool stored = false;
  for (int i = 0; i < 500 && !stored; ++i) {  // up to 10 s on a loaded box; 0.1 s normally
    stored = store::get_chat(**db, id).is_ok();
    if (!stored) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(stored) << "chat message " << id << " not in storage after 10 s";
}

TEST_F(RoomProjectionTest, AQuizWhoseDeadlinePassedWhileTheServerWasDownClosesOnRebuild) {
  // No room is open on the server (so nothing closes the quiz at its deadline) when it stops.
  ASSERT_EQ(publish(1).status, 200u);
  stop();
  std::this_thread::sleep_for(1200ms);
  start();
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  auto closed = t->expect("quiz_closed");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->at("quiz").at("id").as_string(), quiz_id_);
  // ... in storage too.
  for (int i = 0; i < 500; ++i) {  // up to 10 s on a loaded machine
    auto q = request("GET", "/api/v1/quizzes/" + quiz_id_, {}, teacher_);
    if (q.body.at("status") == "closed") return;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "the quiz is not closed in storage after 10 s";
}

TEST_F(RoomProjectionTest, OneOpenQuizPerSessionInStorageAsInTheRoom) {
  auto create = [&] {
    auto q = request("POST", "/api/v1/sessions/" + session_id_ + "/quizzes",
                     json::parse(R"({"title":"Next","questions":[{"kind":"single",
                       "prompt":"1+1?","options":["2","3"],"correct":[0]}]})")
                         .as_object(),
                     teacher_);
    EXPECT_EQ(q.status, 201u);
    return std::string(q.body.at("id").as_string());
  };
  auto publish_id = [&](const std::string& id, int limit) {
    return request("POST", "/api/v1/quizzes/" + id + "/publish", {{"time_limit_s", limit}},
                   teacher_);
  };
  ASSERT_EQ(publish(1).status, 200u);
  std::string second = create();
  std::string third = create();
  // The first one's deadline passes with no room open (nothing closes it): publishing the
  // next one closes it in storage.
  std::this_thread::sleep_for(1100ms);
  auto pub = publish_id(second, 600);
  ASSERT_EQ(pub.status, 200u) << json::serialize(pub.body);
  auto first = request("GET", "/api/v1/quizzes/" + quiz_id_, {}, teacher_);
  EXPECT_EQ(first.body.at("status"), "closed");
  auto a = student("usr_a");
  auto w = a->expect("welcome");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->at("snapshot").at("quiz").at("quiz").at("id").as_string(), second);
  EXPECT_EQ(w->at("snapshot").at("quiz").at("quiz").at("status"), "open");
  // While it runs, another one is refused, over REST and over the socket.
  auto refused = publish_id(third, 60);
  EXPECT_EQ(refused.status, 409u);
  EXPECT_EQ(refused.body.at("error").at("code"), "quiz_open");
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  t->send({{"type", "quiz_publish"}, {"quiz_id", third}, {"ref", "p1"}});
  auto err = t->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "quiz_open");
  EXPECT_EQ(err->at("ref"), "p1");
}

TEST_F(RoomProjectionTest, StudentRemovedOverRestIsClosedWith4003AndCannotRejoin) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  auto a = student("usr_a");
  ASSERT_TRUE(a->expect("welcome"));
  auto del = request("DELETE", "/api/v1/courses/" + course_id_ + "/students/usr_a", {}, teacher_);
  ASSERT_EQ(del.status, 200u) << json::serialize(del.body);
  auto removed = a->expect("removed");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->at("reason"), "removed_from_course");
  EXPECT_EQ(a->closed(), 4003);
  EXPECT_EQ(a->close_reason(), "removed from the course");
  auto left = t->expect("participant_left");
  ASSERT_TRUE(left);
  EXPECT_EQ(left->at("user_id"), "usr_a");
  EXPECT_EQ(left->at("reason"), "removed");
  // It cannot come back: a browser is closed with 4003, a program gets HTTP 403.
  auto again = student("usr_a");
  EXPECT_EQ(again->closed(), 4003);
  Client program;
  EXPECT_FALSE(program.connect(
      server_->port(),
      "/api/v1/sessions/" + session_id_ + "/live?token=" + token("usr_a", base::Role::kStudent),
      Client::As::kProgram));
  EXPECT_EQ(program.http_status(), 403u);
  // Enrolled again, it may.
  auto j = request("POST", "/api/v1/courses/" + course_id_ + "/join", {},
                   token("usr_a", base::Role::kStudent));
  ASSERT_EQ(j.status, 201u);
  auto back = student("usr_a");
  EXPECT_TRUE(back->expect("welcome"));
}

TEST_F(RoomProjectionTest, StudentWhoLeavesTheCourseIsClosedWith4003) {
  auto b = student("usr_b");
  ASSERT_TRUE(b->expect("welcome"));
  auto leave = request("POST", "/api/v1/courses/" + course_id_ + "/leave", {},
                       token("usr_b", base::Role::kStudent));
  ASSERT_EQ(leave.status, 200u) << json::serialize(leave.body);
  auto removed = b->expect("removed");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->at("reason"), "left_course");
  EXPECT_EQ(b->closed(), 4003);
  EXPECT_EQ(b->close_reason(), "you left the course");
}

TEST_F(RoomProjectionTest, CapacityChangeOverRestReachesTheRoom) {
  auto a = student("usr_a");
  ASSERT_TRUE(a->expect("welcome"));
  auto patch = request("PATCH", "/api/v1/courses/" + course_id_, {{"capacity", 1}}, teacher_);
  ASSERT_EQ(patch.status, 200u) << json::serialize(patch.body);
  auto b = student("usr_b");
  EXPECT_EQ(b->closed(), 4009);
  auto t = join("usr_t", base::Role::kTeacher);
  auto w = t->expect("welcome");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->at("snapshot").at("session").at("capacity"), 1);
  patch = request("PATCH", "/api/v1/courses/" + course_id_, {{"capacity", 2}}, teacher_);
  ASSERT_EQ(patch.status, 200u);
  auto b2 = student("usr_b");
  EXPECT_TRUE(b2->expect("welcome"));
}

TEST_F(RoomProjectionTest, PublishAndCloseOverRestReachConnectedSockets) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  auto a = student("usr_a");
  ASSERT_TRUE(a->expect("welcome"));
  ASSERT_EQ(publish(60).status, 200u);
  auto pub = a->expect("quiz_published");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->at("quiz").at("id").as_string(), quiz_id_);
  auto ans = request("POST", "/api/v1/quizzes/" + quiz_id_ + "/answers",
                     json::parse(R"({"answers":[{"question":0,"choice":[1]}]})").as_object(),
                     token("usr_a", base::Role::kStudent));
  ASSERT_EQ(ans.status, 201u) << json::serialize(ans.body);
  EXPECT_TRUE(a->expect("answer_accepted"));
  auto close = request("POST", "/api/v1/quizzes/" + quiz_id_ + "/close", {}, teacher_);
  ASSERT_EQ(close.status, 200u) << json::serialize(close.body);
  auto closed = a->expect("quiz_closed");
  ASSERT_TRUE(closed);
  auto score = a->expect("quiz_score");
  ASSERT_TRUE(score);
  EXPECT_EQ(score->at("score"), 1);
  auto final_results = t->expect("quiz_closed");
  ASSERT_TRUE(final_results);
}

TEST_F(RoomProjectionTest, SessionEndOverRestClosesSocketsWith1000) {
  auto a = student("usr_a");
  ASSERT_TRUE(a->expect("welcome"));
  auto end = request("POST", "/api/v1/sessions/" + session_id_ + "/end", {}, teacher_);
  ASSERT_EQ(end.status, 200u) << json::serialize(end.body);
  auto ended = a->expect("session_ended");
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->at("reason"), "teacher_ended");
  EXPECT_EQ(a->closed(), 1000);
  auto again = student("usr_a");
  EXPECT_EQ(again->closed(), 4010);
}

TEST_F(RoomProjectionTest, ArchivingTheCourseEndsItsLiveRoom) {
  auto a = student("usr_a");
  ASSERT_TRUE(a->expect("welcome"));
  auto patch =
      request("PATCH", "/api/v1/courses/" + course_id_, {{"status", "archived"}}, teacher_);
  ASSERT_EQ(patch.status, 200u) << json::serialize(patch.body);
  auto ended = a->expect("session_ended");
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->at("reason"), "course_archived");
  EXPECT_EQ(a->closed(), 1000);
  EXPECT_EQ(a->close_reason(), "the course was archived");
  auto ses = request("GET", "/api/v1/sessions/" + session_id_, {}, teacher_);
  ASSERT_EQ(ses.status, 200u);
  EXPECT_EQ(ses.body.at("status"), "ended");
  auto again = student("usr_a");
  EXPECT_EQ(again->closed(), 4010);
}

}  // namespace
}  // namespace ws
