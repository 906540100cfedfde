// The live tests' server: a real http::Server with the LiveHub as its upgrade handler, a real
// SQLite database behind the group-commit writer, and Beast WebSocket clients on loopback
// (ws_test_client.h). Shared by live_ws_test.cc and edge_room_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "base/jwt.h"
#include "classroom/authz.h"
#include "classroom/service.h"
#include "http/router.h"
#include "http/server.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/txn.h"
#include "store/writer.h"
#include "ws/live_hub.h"
#include "ws/media_signalling.h"
#include "ws_test_client.h"
#include "ws_test_policies.h"

namespace ws::live_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

inline constexpr const char* kSecret = "test-secret-test-secret-test-secret";

inline std::string token(const std::string& sub, const std::string& name, base::Role role) {
  base::Claims c;
  c.sub = sub;
  c.name = name;
  c.role = role;
  c.exp = base::SystemClock::instance().now_unix_ms() / 1000 + 3600;
  return base::mint_token(c, kSecret);
}

using testing::Client;

class LiveWsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("edgeclass_ws_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    std::string path = (dir_ / "db.sqlite").string();
    store::DbOptions fast;
    fast.synchronous_full = false;
    auto db = store::Db::open(path, store::OpenMode::kReadWrite, fast);
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    ASSERT_TRUE(store::migrate(**db).is_ok());
    service_ = std::make_unique<classroom::Service>(
        base::SystemClock::instance(), base::SystemRandom::instance(),
        [a = authorizer_] { return a; }, 1000);
    teacher_ = {"usr_t", "Tess", base::Role::kTeacher};
    // Course, two enrolled students, a live session, a draft quiz.
    auto run = [&](auto fn) {
      base::Status st = store::transact(**db, [&](store::Txn& txn) { return fn(txn); });
      ASSERT_TRUE(st.is_ok()) << st.to_string();
    };
    run([&](store::Txn& txn) -> base::Status {
      classroom::CreateCourse cc{"Algebra", "", capacity_, store::CourseStatus::kActive};
      EC_ASSIGN_OR_RETURN(store::Course c, service_->create_course(txn, teacher_, cc));
      course_id_ = c.id;
      std::vector<std::string> students = {"usr_a", "usr_b"};
      for (int i = 0; i < extra_students_; ++i) students.push_back("usr_s" + std::to_string(i));
      for (const auto& s : students) {
        EC_RETURN_IF_ERROR(service_->join(txn, {s, s, base::Role::kStudent}, c.id).status());
      }
      EC_ASSIGN_OR_RETURN(store::Session ses, service_->go_live(txn, teacher_, c.id, "Week 1"));
      session_id_ = ses.id;
      classroom::CreateQuiz q;
      q.title = "Check";
      q.questions.push_back({classroom::QuestionKind::kSingle, "2+2?", {"3", "4"}, {1}});
      EC_ASSIGN_OR_RETURN(store::Quiz quiz, service_->create_quiz(txn, teacher_, ses.id, q));
      quiz_id_ = quiz.id;
      return base::Status::ok();
    });
    auto writer = store::Writer::start(std::move(db).value());
    ASSERT_TRUE(writer.is_ok());
    writer_ = std::move(writer).value();

    http::ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    server_ = std::make_unique<http::Server>(opts, router_);
    LiveDeps deps = live_deps(*server_, readers_);
    ASSERT_EQ(readers_.size(), size_t(server_->thread_count()));
    deps.limits.max_queue_messages = 32;
    deps.limits.overflow_grace = overflow_grace_;
    // ctest's ws_test_all_rooms_spread runs this suite again with every room spread over the
    // two I/O threads (ws/room_shard.h), whatever its capacity.
    if (const char* e = std::getenv("EDGECLASS_TEST_SPREAD_ALL"); e && std::string(e) == "1")
      deps.spread_above_capacity = 0;
    // A stand-in SFU: answers "answer for <offer>" (from another thread, as the real one
    // does) and records leaves.
    if (with_media_)
      deps.media.publish = [this](std::string room, std::string who, std::string feed,
                                  std::string sdp, MediaSignalling::Done done) {
        {
          std::lock_guard lock(media_mu_);
          media_published_.push_back(who + ":" + feed);
        }
        std::thread([=, done = std::move(done)] {
          done(room.empty() || (feed != "main" && feed != "stage" && feed != "screen")
                   ? base::Result<std::string>(base::invalid_argument("bad call"))
                   : base::Result<std::string>("answer for " + sdp));
        }).detach();
      };
    deps.media.subscribe = [](std::string, std::string, std::string sdp,
                              MediaSignalling::Done done) {
      std::thread([sdp, done = std::move(done)] {
        done(sdp == "bad" ? base::Result<std::string>(base::invalid_argument("no bundle"))
                          : base::Result<std::string>("answer for " + sdp));
      }).detach();
    };
    deps.media.unpublish = [this](std::string, std::string who, std::string feed) {
      std::lock_guard lock(media_mu_);
      media_unpublished_.push_back(feed.empty() ? who : who + "/" + feed);
    };
    deps.media.leave = [this](std::string, std::string who) {
      std::lock_guard lock(media_mu_);
      media_left_.push_back(who);
    };
    deps.media.config_message =
        R"({"type":"media.config","video":{"quality":"720p","layers":[{"rid":"q"}]}})";
    hub_ = std::make_unique<LiveHub>(std::move(deps));
    if (city_) hub_->set_city(city_);
    server_->set_upgrade_handler(
        [this](http::Transport& s, http::Request& req, int t, http::ConnectionSlot slot) {
          return hub_->handle_upgrade(s, req, t, std::move(slot));
        });
    ASSERT_TRUE(server_->listen().is_ok());
    server_->start();
  }

  // What a LiveHub on `server` needs: the test's service and writer, and a read-only
  // connection to its database per I/O thread (kept in `readers`).
  LiveDeps live_deps(http::Server& server, std::vector<std::unique_ptr<store::Db>>& readers) {
    LiveDeps deps;
    for (int i = 0; i < server.thread_count(); ++i) {
      auto r = store::Db::open((dir_ / "db.sqlite").string(), store::OpenMode::kReadOnly);
      EXPECT_TRUE(r.is_ok());
      if (!r.is_ok()) return deps;
      readers.push_back(std::move(r).value());
      deps.readers.push_back(readers.back().get());
    }
    deps.service = service_.get();
    deps.writer = writer_.get();
    deps.context = [&server](int i) -> asio::io_context& { return server.context(i); };
    deps.threads = server.thread_count();
    deps.jwt_secret = kSecret;
    deps.authorizer = [a = authorizer_] { return a; };
    return deps;
  }

  void TearDown() override {
    if (hub_) hub_->shutdown();
    if (server_) server_->stop();
    if (writer_) writer_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string target(const std::string& tok, const std::string& extra = "") {
    return "/api/v1/sessions/" + session_id_ + "/live?token=" + tok + extra;
  }
  // The teacher joins, student usr_a joins and leaves; where usr_a stopped (epoch, seq).
  // `teacher` is null when any step failed (the failure is recorded).
  struct LeftAt {
    std::unique_ptr<Client> teacher;
    std::string epoch;
    int64_t seq = 0;
  };
  LeftAt teacher_sees_student_leave() {
    LeftAt out;
    // The teacher is in before the student joins: in a spread room two joins from different
    // threads reach the room in either order, and the student's resume point must come after
    // the teacher's participant_joined.
    auto t = join("usr_t", base::Role::kTeacher);
    auto tw = t->expect("welcome");
    auto a = join("usr_a", base::Role::kStudent);
    auto w = a->expect("welcome");
    EXPECT_TRUE(tw && w);
    if (!tw || !w) return out;
    out.epoch = std::string(w->at("epoch").as_string());
    out.seq = w->at("seq").as_int64();
    a->close();
    EXPECT_TRUE(t->expect("participant_left"));
    out.teacher = std::move(t);
    return out;
  }
  std::unique_ptr<Client> join(const std::string& sub, base::Role role,
                               const std::string& extra = "") {
    auto c = std::make_unique<Client>();
    EXPECT_TRUE(c->connect(server_->port(), target(token(sub, sub, role), extra)));
    return c;
  }

  inline static int counter_ = 0;
  int64_t capacity_ = 3;    // the course's; above 50 the room is spread over the I/O threads
  int extra_students_ = 0;  // enrolled besides usr_a and usr_b: usr_s0, usr_s1, ...
  std::filesystem::path dir_;
  // The real default policies (policies/education.rego, embedded), through the Rego engine.
  std::shared_ptr<const classroom::Authorizer> authorizer_ = testing::default_policies();
  std::unique_ptr<classroom::Service> service_;
  classroom::Actor teacher_;
  std::string course_id_, session_id_, quiz_id_;
  std::unique_ptr<store::Writer> writer_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::unique_ptr<store::Db>> readers_;
  std::unique_ptr<LiveHub> hub_;
  bool with_media_ = true;                  // false: a server whose media port could not be bound
  CityLink* city_ = nullptr;                // set before SetUp(): the hub is a replica of a city
  std::chrono::seconds overflow_grace_{1};  // how long a 4008 close may wait for the client
  std::mutex media_mu_;
  std::vector<std::string> media_left_;         // guarded by media_mu_
  std::vector<std::string> media_published_;    // "user:feed", guarded by media_mu_
  std::vector<std::string> media_unpublished_;  // guarded by media_mu_
};

// What one client received: every event's seq strictly increasing, and the chat texts in
// the order they came.
struct Received {
  std::vector<std::string> chat;
  bool ordered = true;
  int64_t last_seq = 0;
};

// Reads until `want` chat messages arrived in all (or a read times out).
inline void read_chat(Client& c, Received& r, size_t want) {
  while (r.chat.size() < want) {
    auto m = c.read(5s);
    if (!m) return;
    if (m->contains("seq") && m->at("type") != "welcome") {
      const int64_t seq = m->at("seq").as_int64();
      if (seq <= r.last_seq) r.ordered = false;
      r.last_seq = seq;
    }
    if (m->at("type") == "chat_message") r.chat.emplace_back(m->at("text").as_string());
  }
}

inline std::vector<std::string> texts(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back("m" + std::to_string(i));
  return v;
}

// Every student of `s` reads until it holds `count` chat messages: exactly m0..m<count-1>, in
// order.
inline void expect_every_chat(std::vector<std::unique_ptr<Client>>& s, std::vector<Received>& got,
                              int count) {
  for (size_t i = 0; i < s.size(); ++i) {
    read_chat(*s[i], got[i], size_t(count));
    EXPECT_EQ(got[i].chat, texts(0, count)) << "student " << i;
    EXPECT_TRUE(got[i].ordered) << "student " << i;
  }
}

// Students 0..back-1 of `s` drop; the teacher sends ten more chat messages (m<sent>..) while
// they come back with resume one by one, each socket opened by `join(user, query)` (on
// whichever thread it lands), the teacher sending one more after each: each gets its welcome
// with resumed = true, and then every student of `s` holds exactly m0.. up to the last message,
// in order. `next` is the number of messages sent so far, in and out.
template <typename Join>
void drop_and_resume(Client& teacher, std::vector<std::unique_ptr<Client>>& s,
                     std::vector<Received>& got, int back, int& next, Join join) {
  for (int i = 0; i < back; ++i) s[size_t(i)]->close();
  for (int i = 0; i < 10; ++i) {
    teacher.send({{"type", "chat"}, {"text", "m" + std::to_string(next++)}});
  }
  std::string room_epoch;
  {
    auto w = join("usr_b", "");
    auto wb = w->expect("welcome");
    ASSERT_TRUE(wb);
    room_epoch = std::string(wb->at("epoch").as_string());
  }
  for (int i = 0; i < back; ++i) {
    Received& r = got[size_t(i)];
    s[size_t(i)] = join("usr_s" + std::to_string(i),
                        "&epoch=" + room_epoch + "&last_seq=" + std::to_string(r.last_seq));
    auto w = s[size_t(i)]->read(5s);
    ASSERT_TRUE(w);
    ASSERT_EQ(w->at("type"), "welcome");
    EXPECT_EQ(w->at("resumed"), true) << "student " << i;
    teacher.send({{"type", "chat"}, {"text", "m" + std::to_string(next++)}});
  }
  expect_every_chat(s, got, next);
}

}  // namespace ws::live_test
