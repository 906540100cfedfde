// The live transport end to end in one process (live_ws_fixture.h): a real http::Server with
// the LiveHub as its upgrade handler, a real SQLite database behind the group-commit writer,
// and Beast WebSocket clients on loopback.
#include <gtest/gtest.h>

#include "live_ws_fixture.h"

namespace ws {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;
using live_test::kSecret;
using live_test::LiveWsTest;
using live_test::token;
using testing::Client;

class LiveWsNoMediaTest : public LiveWsTest {
 protected:
  void SetUp() override {
    with_media_ = false;
    LiveWsTest::SetUp();
  }
};

TEST_F(LiveWsNoMediaTest, MediaRequestsAreAnsweredWithMediaUnavailable) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  t->send({{"type", "media.publish"}, {"sdp", "offer-t"}, {"ref", "m1"}});
  auto err = t->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "media_unavailable");
  EXPECT_EQ(err->at("ref"), "m1");
}

TEST(LiveHubPathTest, RecognisesOnlyTheLiveEndpoint) {
  EXPECT_EQ(live_session_id("/api/v1/sessions/ses_abc/live"), "ses_abc");
  EXPECT_EQ(live_session_id("/api/v1/sessions/ses_abc/live?token=x"), "ses_abc");
  EXPECT_EQ(live_session_id("/api/v1/sessions//live"), "");
  EXPECT_EQ(live_session_id("/api/v1/sessions/a/b/live"), "");
  EXPECT_EQ(live_session_id("/api/v1/sessions/ses_abc"), "");
  EXPECT_EQ(live_session_id("/ws"), "");
}

TEST_F(LiveWsTest, ClassRunsChatAndQuizOverTheSocket) {
  auto t = join("usr_t", base::Role::kTeacher);
  auto welcome = t->expect("welcome");
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->at("you").at("role"), "teacher");
  EXPECT_EQ(welcome->at("snapshot").at("session").at("title"), "Week 1");

  auto a = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(a->expect("welcome"));
  auto joined = t->expect("participant_joined");
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->at("user").at("id"), "usr_a");

  a->send({{"type", "chat"}, {"text", "hello"}});
  auto chat = t->expect("chat_message");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->at("text"), "hello");

  a->send({{"type", "quiz_publish"}, {"quiz_id", quiz_id_}, {"ref", "x1"}});
  auto err = a->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "not_teacher");
  EXPECT_EQ(err->at("ref"), "x1");

  t->send({{"type", "quiz_publish"}, {"quiz_id", quiz_id_}, {"time_limit_s", 60}});
  auto pub = a->expect("quiz_published");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->at("quiz").at("id").as_string(), quiz_id_);

  a->send(json::parse(R"({"type":"answer","quiz_id":")" + quiz_id_ +
                      R"(","answers":[{"question":0,"choice":[1]}]})")
              .as_object());
  auto ack = a->expect("answer_accepted");
  ASSERT_TRUE(ack) << "answer not acknowledged";
  auto results = t->expect("quiz_results");
  ASSERT_TRUE(results);
  EXPECT_EQ(results->at("answered"), 1);
  EXPECT_EQ(results->at("questions").as_array()[0].at("counts"), json::parse("[0,1]"));

  t->send({{"type", "quiz_close"}, {"quiz_id", quiz_id_}});
  auto score = a->expect("quiz_score");
  ASSERT_TRUE(score);
  EXPECT_EQ(score->at("score"), 1);
  // The answer and the chat are in the database.
  auto all = service_->results(*readers_[0], teacher_, quiz_id_);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();

  hub_->session_ended(store::Session{session_id_, course_id_, "usr_t", "Week 1", store::SessionStatus::kLive, 0, std::nullopt});
  ASSERT_TRUE(a->expect("session_ended"));
  EXPECT_FALSE(a->read(3s));
  EXPECT_EQ(a->close_code(), 1000);
}

// Runs `op` in the writer and waits for its commit.
base::Status commit(store::Writer& w, store::WriteOp op) {
  std::promise<base::Status> done;
  auto f = done.get_future();
  base::Status s = w.submit(std::move(op), [&done](base::Status st) { done.set_value(st); });
  if (!s.is_ok()) return s;
  return f.get();
}

TEST_F(LiveWsTest, RestChangesReachTheRoomThroughTheHooks) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  auto a = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(a->expect("welcome"));
  // Publish as the REST handler does: commit, then the on_quiz_changed hook.
  store::Quiz published;
  ASSERT_TRUE(commit(*writer_, [&](store::Txn& txn) -> base::Status {
                auto r = service_->publish_quiz(txn, teacher_, quiz_id_, 30);
                if (!r.is_ok()) return r.status();
                published = *r;
                return base::Status::ok();
              }).is_ok());
  hub_->quiz_changed(published);
  auto pub = a->expect("quiz_published");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->at("quiz").at("id").as_string(), quiz_id_);
  // Answer over REST: prepare, commit, then on_answers_committed acknowledges on the socket.
  classroom::Actor ana{"usr_a", "usr_a", base::Role::kStudent};
  auto prepared = service_->prepare_answers(
      *readers_[0], ana, quiz_id_, json::parse(R"({"answers":[{"question":0,"choice":[1]}]})"));
  ASSERT_TRUE(prepared.is_ok()) << prepared.status().to_string();
  ASSERT_TRUE(commit(*writer_, [&](store::Txn& txn) {
                return service_->commit_answers(txn, *prepared);
              }).is_ok());
  hub_->answers_committed(*prepared);
  ASSERT_TRUE(a->expect("answer_accepted"));
  auto results = t->expect("quiz_results");
  ASSERT_TRUE(results);
  EXPECT_EQ(results->at("answered"), 1);
  // Close over REST.
  store::Quiz closed;
  ASSERT_TRUE(commit(*writer_, [&](store::Txn& txn) -> base::Status {
                auto r = service_->close_quiz(txn, teacher_, quiz_id_);
                if (!r.is_ok()) return r.status();
                closed = *r;
                return base::Status::ok();
              }).is_ok());
  hub_->quiz_changed(closed);
  auto score = a->expect("quiz_score");
  ASSERT_TRUE(score);
  EXPECT_EQ(score->at("score"), 1);
}

TEST_F(LiveWsTest, RefusalsCloseWithTheDocumentedCodes) {
  Client bad;
  ASSERT_TRUE(bad.connect(server_->port(), target("not-a-token")));
  EXPECT_FALSE(bad.read());
  EXPECT_EQ(bad.close_code(), 4001);

  auto stranger = join("usr_z", base::Role::kStudent);  // not enrolled
  EXPECT_FALSE(stranger->read());
  EXPECT_EQ(stranger->close_code(), 4003);

  Client missing;
  ASSERT_TRUE(missing.connect(server_->port(), "/api/v1/sessions/ses_0000000000000/live?token=" +
                                                   token("usr_a", "a", base::Role::kStudent)));
  EXPECT_FALSE(missing.read());
  EXPECT_EQ(missing.close_code(), 4004);
}

TEST_F(LiveWsTest, RefusalsToNonBrowserClientsAreHttpErrorsBeforeTheUpgrade) {
  Client bad;
  EXPECT_FALSE(bad.connect(server_->port(), target("not-a-token"), Client::As::kProgram));
  EXPECT_EQ(bad.http_status(), 401u);
  EXPECT_NE(bad.http_body().find("\"code\""), std::string::npos) << bad.http_body();

  Client stranger;
  EXPECT_FALSE(stranger.connect(server_->port(), target(token("usr_z", "z", base::Role::kStudent)),
                                Client::As::kProgram));
  EXPECT_EQ(stranger.http_status(), 403u);

  Client missing;
  EXPECT_FALSE(missing.connect(
      server_->port(),
      "/api/v1/sessions/ses_0000000000000/live?token=" + token("usr_a", "a", base::Role::kStudent),
      Client::As::kProgram));
  EXPECT_EQ(missing.http_status(), 404u);
  EXPECT_NE(missing.http_body().find("session_not_found"), std::string::npos)
      << missing.http_body();
}

// The live endpoint's row of the route x role matrix (tests/http/authz_matrix_test.cc covers
// the router's routes; this one is an upgrade): each caller, as a program without Origin.
TEST_F(LiveWsTest, LiveEndpointAnswersEachCallerAsDocumented) {
  ASSERT_TRUE(commit(*writer_, [&](store::Txn& txn) -> base::Status {
                classroom::Actor r{"usr_r", "r", base::Role::kStudent};
                EC_RETURN_IF_ERROR(service_->join(txn, r, course_id_).status());
                return service_->remove_student(txn, teacher_, course_id_, "usr_r");
              }).is_ok());
  struct Row {
    const char* who;
    std::string tok;
    unsigned status;
  } rows[] = {
      {"anonymous", "", 401},
      {"forged token", "not-a-token", 401},
      {"outsider", token("usr_z", "z", base::Role::kStudent), 403},
      {"removed student", token("usr_r", "r", base::Role::kStudent), 403},
      {"another course's teacher", token("usr_t2", "t2", base::Role::kTeacher), 403},
      {"enrolled student", token("usr_a", "a", base::Role::kStudent), 101},
      {"the course's teacher", token("usr_t", "t", base::Role::kTeacher), 101},
      {"admin", token("usr_adm", "adm", base::Role::kAdmin), 101},
  };
  for (const auto& row : rows) {
    Client c;
    std::string t = "/api/v1/sessions/" + session_id_ + "/live";
    if (!row.tok.empty()) t += "?token=" + row.tok;
    bool upgraded = c.connect(server_->port(), t, Client::As::kProgram);
    EXPECT_EQ(c.http_status(), row.status) << row.who << ": " << c.http_body();
    EXPECT_EQ(upgraded, row.status == 101) << row.who;
  }
}

// The replay of a resume is bounded by the room's event buffer, not by the send queue (32
// messages in these tests): far more missed events than the queue holds still arrive.
TEST_F(LiveWsTest, ResumeReplaysMoreEventsThanTheSendQueueHolds) {
  auto [t, epoch, seq] = teacher_sees_student_leave();
  ASSERT_TRUE(t);
  constexpr int kMissed = 300;
  for (int i = 0; i < kMissed; ++i) {
    t->send({{"type", "chat"}, {"text", "missed " + std::to_string(i)}});
    ASSERT_TRUE(t->expect("chat_message")) << i;
  }
  auto back =
      join("usr_a", base::Role::kStudent, "&epoch=" + epoch + "&last_seq=" + std::to_string(seq));
  auto w2 = back->expect("welcome");
  ASSERT_TRUE(w2) << "close " << back->close_code();
  EXPECT_EQ(w2->at("resumed"), true);
  int chats = 0;
  for (;;) {
    auto m = back->read(2s);
    ASSERT_TRUE(m) << "after " << chats << " chats: close " << back->close_code();
    if (m->at("type") == "chat_message") ++chats;
    if (m->at("type") == "participant_joined") break;
  }
  EXPECT_EQ(chats, kMissed);
  // Still open and live afterwards.
  back->send({{"type", "ping"}, {"ref", "p"}});
  EXPECT_TRUE(back->expect("pong"));
}

TEST_F(LiveWsTest, ReconnectWithLastSeqReceivesExactlyTheMissedEvents) {
  auto [t, epoch, seq] = teacher_sees_student_leave();
  ASSERT_TRUE(t);
  t->send({{"type", "chat"}, {"text", "you missed this"}});
  ASSERT_TRUE(t->expect("chat_message"));

  auto back =
      join("usr_a", base::Role::kStudent, "&epoch=" + epoch + "&last_seq=" + std::to_string(seq));
  auto w2 = back->expect("welcome");
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->at("resumed"), true);
  std::vector<std::string> types;
  for (int i = 0; i < 3; ++i) {
    auto m = back->read(2s);
    ASSERT_TRUE(m);
    EXPECT_GT(m->at("seq").as_int64(), seq);
    seq = m->at("seq").as_int64();
    types.emplace_back(m->at("type").as_string());
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"participant_left", "chat_message", "participant_joined"}));
}

TEST_F(LiveWsTest, MediaSignallingGoesThroughPolicyAndTheSfu) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  // How to publish (the simulcast layers) follows every welcome.
  auto config = t->expect("media.config");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->at("video").at("quality"), "720p");
  auto a = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(a->expect("welcome"));
  ASSERT_TRUE(a->expect("media.config"));

  t->send({{"type", "media.publish"}, {"sdp", "offer-t"}, {"ref", "m1"}});
  auto answer = t->expect("media.answer");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->at("sdp"), "answer for offer-t");
  EXPECT_EQ(answer->at("kind"), "publish");
  EXPECT_EQ(answer->at("ref"), "m1");

  a->send({{"type", "media.publish"}, {"sdp", "offer-a"}, {"ref", "m2"}});
  auto err = a->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "not_allowed");
  // A shared screen is a second publish into feed "screen" (policy share_screen: the
  // teacher's); stopping it leaves the camera alone.
  t->send({{"type", "media.publish"}, {"sdp", "offer-ts"}, {"source", "screen"}, {"ref", "m4"}});
  answer = t->expect("media.answer");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->at("sdp"), "answer for offer-ts");
  a->send({{"type", "media.publish"}, {"sdp", "offer-as"}, {"source", "screen"}, {"ref", "m5"}});
  err = a->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "not_allowed");
  EXPECT_EQ(err->at("message"), "only the teacher can share a screen");
  t->send({{"type", "media.unpublish"}, {"source", "screen"}});
  t->send({{"type", "ping"}});
  ASSERT_TRUE(t->expect("pong"));
  {
    std::lock_guard lock(media_mu_);
    EXPECT_EQ(media_published_, (std::vector<std::string>{"usr_t:main", "usr_t:screen"}));
    EXPECT_EQ(media_unpublished_, (std::vector<std::string>{"usr_t/screen"}));
  }
  a->send({{"type", "media.subscribe"}, {"sdp", "bad"}, {"ref", "m3"}});
  err = a->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "media_rejected");
  a->send({{"type", "media.subscribe"}, {"sdp", "offer-a"}});
  answer = a->expect("media.answer");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->at("kind"), "subscribe");

  MediaEvent e;
  e.room = session_id_;
  e.feed = "main";
  e.participant = "usr_t";
  e.kind = "video";
  hub_->media_event(e);
  for (auto* c : {t.get(), a.get()}) {
    auto tracks = c->expect("media.tracks");
    ASSERT_TRUE(tracks);
    EXPECT_EQ(tracks->at("feeds").at(0).at("feed"), "main");
    EXPECT_EQ(tracks->at("feeds").at(0).at("video"), true);
    EXPECT_EQ(tracks->at("feeds").at(0).at("audio"), false);
  }
  // A late joiner learns the live feeds right after its welcome.
  auto b = join("usr_b", base::Role::kStudent);
  ASSERT_TRUE(b->expect("welcome"));
  auto tracks = b->expect("media.tracks");
  ASSERT_TRUE(tracks);
  EXPECT_EQ(tracks->at("feeds").at(0).at("participant"), "usr_t");
  e.type = MediaEvent::Type::kTrackRemoved;
  hub_->media_event(e);
  tracks = b->expect("media.tracks");
  ASSERT_TRUE(tracks);
  EXPECT_TRUE(tracks->at("feeds").as_array().empty());

  // A dead transport is reported to its user only, saying which PeerConnection it was.
  MediaEvent dead;
  dead.type = MediaEvent::Type::kDisconnected;
  dead.room = session_id_;
  dead.participant = "usr_t";
  dead.connection = "publish";
  dead.reason = "ICE consent expired";
  hub_->media_event(dead);
  dead.feed = "screen";
  hub_->media_event(dead);
  auto gone = t->expect("media.disconnected");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->at("connection"), "publish");
  EXPECT_EQ(gone->at("reason"), "ICE consent expired");
  EXPECT_FALSE(gone->contains("feed")) << json::serialize(*gone);  // none known: none named
  // Which publishing PeerConnection: the screen's, then the camera's (feed "main").
  gone = t->expect("media.disconnected");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->at("feed"), "screen");
  EXPECT_EQ(gone->at("source"), "screen");
  dead.feed = "main";
  hub_->media_event(dead);
  gone = t->expect("media.disconnected");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->at("feed"), "main");
  EXPECT_EQ(gone->at("source"), "camera");
  // A subscription names no feed.
  dead.connection = "subscribe";
  dead.feed.clear();
  hub_->media_event(dead);
  gone = t->expect("media.disconnected");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->at("connection"), "subscribe");
  EXPECT_FALSE(gone->contains("source")) << json::serialize(*gone);

  // Leaving the room drops the user's media.
  a->close();
  a.reset();
  for (int i = 0; i < 500; ++i) {  // up to 10 s on a loaded machine
    {
      std::lock_guard lock(media_mu_);
      if (!media_left_.empty()) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  std::lock_guard lock(media_mu_);
  ASSERT_EQ(media_left_.size(), 1u);
  EXPECT_EQ(media_left_[0], "usr_a");
}

TEST_F(LiveWsTest, TeacherGivesAStudentTheStageToPublishAndTakesItBack) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  auto a = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(a->expect("welcome"));
  auto b = join("usr_b", base::Role::kStudent);
  ASSERT_TRUE(b->expect("welcome"));

  // Only the teacher gives the stage, and only to a student in the room.
  b->send({{"type", "stage_give"}, {"user_id", "usr_b"}, {"ref", "s1"}});
  auto err = b->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "not_allowed");  // the policy's refusal
  EXPECT_EQ(err->at("ref"), "s1");
  t->send({{"type", "stage_give"}, {"user_id", "usr_nobody"}, {"ref", "s2"}});
  err = t->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "not_in_room");
  EXPECT_EQ(err->at("ref"), "s2");

  t->send({{"type", "stage_give"}, {"user_id", "usr_a"}});
  for (auto* c : {t.get(), a.get(), b.get()}) {
    auto ev = c->expect("stage");
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->at("user_id"), "usr_a");
  }
  // On stage, the student publishes into the second feed.
  a->send({{"type", "media.publish"}, {"sdp", "offer-a"}, {"ref", "m1"}});
  auto answer = a->expect("media.answer");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->at("sdp"), "answer for offer-a");
  b->send({{"type", "media.publish"}, {"sdp", "offer-b"}, {"ref", "m2"}});
  err = b->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "not_allowed");
  // A late joiner sees the holder in its snapshot.
  auto t2 = join("usr_t", base::Role::kTeacher);
  auto w = t2->expect("welcome");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->at("snapshot").at("stage").at("user_id"), "usr_a");

  // Taking it back stops the student's published streams; it can no longer publish.
  t->send({{"type", "stage_take"}});
  for (auto* c : {t.get(), a.get(), b.get()}) {
    auto ev = c->expect("stage");
    ASSERT_TRUE(ev);
    EXPECT_TRUE(ev->at("user_id").is_null());
    EXPECT_EQ(ev->at("reason"), "taken");
  }
  a->send({{"type", "media.publish"}, {"sdp", "offer-a2"}, {"ref", "m3"}});
  err = a->expect("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->at("code"), "not_allowed");
  EXPECT_EQ(err->at("message"), "only the teacher or a student on stage can publish");
  std::lock_guard lock(media_mu_);
  EXPECT_EQ(media_published_, (std::vector<std::string>{"usr_a:stage"}));
  EXPECT_EQ(media_unpublished_, (std::vector<std::string>{"usr_a"}));
  EXPECT_TRUE(media_left_.empty());  // its subscription is untouched
}

TEST_F(LiveWsTest, AnAdminWhoIsNotTheTeacherMayGiveTheStage) {
  // The room treats an admin as a teacher, and the policy sees "admin": the admin half of
  // the stage rule applies although this admin is not the course's teacher.
  auto admin = join("usr_admin", base::Role::kAdmin);
  ASSERT_TRUE(admin->expect("welcome"));
  auto a = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(a->expect("welcome"));
  admin->send({{"type", "stage_give"}, {"user_id", "usr_a"}, {"ref", "s1"}});
  auto ev = a->expect("stage");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->at("user_id"), "usr_a");
  EXPECT_EQ(ev->at("by"), "usr_admin");
}

TEST_F(LiveWsTest, StudentFloodIsClosedWith4029) {
  auto a = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(a->expect("welcome"));
  for (int i = 0; i < 80; ++i) a->send({{"type", "ping"}});
  while (a->read(3s)) {
  }
  EXPECT_EQ(a->close_code(), 4029);
}

TEST_F(LiveWsTest, OversizedFrameIsClosedWith1009) {
  auto a = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(a->expect("welcome"));
  a->send({{"type", "chat"}, {"text", std::string(70 * 1024, 'x')}});
  while (a->read(3s)) {
  }
  EXPECT_EQ(a->close_code(), 1009);
}

// The server reads frames itself (ws/frame.h): fragments are joined into one message, a ping
// is answered with a pong carrying its payload, and text that is not UTF-8 is closed with 1007.
TEST_F(LiveWsTest, FragmentedMessagesAndPingsAreUnderstood) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  auto a = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(a->expect("welcome"));
  std::string pong;
  a->stream().control_callback(
      [&](boost::beast::websocket::frame_type kind, boost::beast::string_view payload) {
        if (kind == boost::beast::websocket::frame_type::pong) pong = std::string(payload);
      });
  boost::beast::error_code ec;
  a->stream().ping("are you there", ec);
  ASSERT_FALSE(ec);
  const std::string msg = R"({"type":"chat","text":"in three parts"})";
  a->stream().write_some(false, boost::asio::buffer(msg.substr(0, 10)), ec);
  a->stream().write_some(false, boost::asio::buffer(msg.substr(10, 10)), ec);
  a->stream().write_some(true, boost::asio::buffer(msg.substr(20)), ec);
  ASSERT_FALSE(ec);
  auto got = t->expect("chat_message");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->at("text"), "in three parts");
  auto echo = a->expect("chat_message");  // reading processes the pong too
  ASSERT_TRUE(echo);
  EXPECT_EQ(pong, "are you there");
  // Not UTF-8: 1007.
  a->stream().write(boost::asio::buffer(std::string("{\"type\":\"chat\",\"text\":\"\xff\"}")), ec);
  while (a->read(3s)) {
  }
  EXPECT_EQ(a->close_code(), 1007);
}

// The teacher floods on purpose here (teachers are not flood-limited).
// Time for the slow reader to wake up and read its 4008 close frame before the TCP cut.
class LiveWsSlowConsumerTest : public LiveWsTest {
 protected:
  void SetUp() override {
    overflow_grace_ = 60s;
    LiveWsTest::SetUp();
  }
};

TEST_F(LiveWsSlowConsumerTest, SlowConsumerIsDroppedWithoutStallingTheRoom) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  Client slow;  // never reads, tiny receive window
  ASSERT_TRUE(slow.connect(server_->port(), target(token("usr_b", "b", base::Role::kStudent)),
                           Client::As::kBrowser, 4096));
  ASSERT_TRUE(t->expect("participant_joined"));
  auto fast = join("usr_a", base::Role::kStudent);
  ASSERT_TRUE(fast->expect("welcome"));
  // 6 MB: more than loopback's largest send buffer (4 MB), so the slow reader's queue fills.
  // The teacher and the fast student read as it goes (they get every message too).
  constexpr int kBatches = 30, kBatch = 200;
  std::string big(1000, 'x');
  auto drain = [](Client& c, int n) {
    int got = 0;
    while (got < n) {
      auto m = c.read();
      if (!m) return got;
      if (m->at("type") == "chat_message") ++got;
    }
    return got;
  };
  bool left_seen = false;
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kBatch; ++i) t->send({{"type", "chat"}, {"text", big}});
    ASSERT_EQ(drain(*fast, kBatch), kBatch) << "fast student stalled in batch " << b;
    // The teacher drains its own echoes; a participant_left on the way is the slow student.
    int got = 0;
    while (got < kBatch) {
      auto m = t->read();
      ASSERT_TRUE(m) << "teacher stalled in batch " << b;
      if (m->at("type") == "chat_message") ++got;
      if (m->at("type") == "participant_left") {
        EXPECT_EQ(m->at("user_id"), "usr_b");
        left_seen = true;
      }
    }
  }
  // The slow reader wakes up: it finds what was already on its way, then the close frame
  // that says why (4008), not a reset.
  int buffered = 0;
  while (slow.read(5s)) ++buffered;
  EXPECT_EQ(slow.close_code(), 4008) << "after " << buffered << " buffered messages";
  EXPECT_LT(buffered, kBatches * kBatch) << "the slow reader was never cut off";
  if (!left_seen) {
    auto left = t->expect("participant_left", 10s);
    ASSERT_TRUE(left);
    EXPECT_EQ(left->at("user_id"), "usr_b");
  }
}

}  // namespace
}  // namespace ws

namespace ws {
namespace {

using live_test::LiveWsTest;
using live_test::read_chat;
using live_test::Received;
using live_test::texts;
using testing::Client;

// A large room (capacity above 50) is spread: each connection stays on the I/O thread that
// accepted it, and the room reaches the other thread's connections through its shard.
class LiveWsSpreadTest : public LiveWsTest {
 protected:
  void SetUp() override {
    capacity_ = 200;
    extra_students_ = 24;
    LiveWsTest::SetUp();
  }
};

TEST_F(LiveWsSpreadTest, EveryStudentGetsEveryEventInRoomOrderAcrossThreads) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  const int n = extra_students_;
  std::vector<std::unique_ptr<Client>> s;
  std::vector<Received> got(size_t(n), Received{});
  for (int i = 0; i < n; ++i) {
    s.push_back(join("usr_s" + std::to_string(i), base::Role::kStudent));
    // The welcome is the first frame, wherever the connection runs.
    auto w = s.back()->read(5s);
    ASSERT_TRUE(w);
    ASSERT_EQ(w->at("type"), "welcome");
    got[size_t(i)].last_seq = w->at("seq").as_int64();
  }
  // Both threads serve the room: some connections were accepted on the other thread (the
  // kernel spreads accepts over the two SO_REUSEPORT listeners).
  const LiveCounters c = hub_->counters();
  EXPECT_GT(c.spread_connections, 0);
  EXPECT_LT(c.spread_connections, n + 1);

  // What the sockets carry is counted once per receiver, on both threads (LiveTraffic).
  const LiveTraffic& traffic = hub_->traffic();
  const size_t chat_type = LiveTraffic::out_type(R"({"type":"chat_message")");
  const size_t error_type = LiveTraffic::out_type(R"({"type":"error")");
  const uint64_t chats_before = traffic.out(chat_type);
  const uint64_t errors_out_before = traffic.out(error_type);
  auto error_replies = [&traffic] {
    uint64_t sum = 0;
    for (const auto& [code, count] : traffic.errors()) sum += count;
    return sum;
  };
  const uint64_t error_replies_before = error_replies();

  // A burst from the teacher, then one from a student: every student gets all, in order.
  // (The student sends once the teacher's last message is back: the room orders messages from
  // two sockets as they reach it.)
  for (int i = 0; i < 40; ++i) t->send({{"type", "chat"}, {"text", "m" + std::to_string(i)}});
  Received teacher;
  read_chat(*t, teacher, 40);
  ASSERT_EQ(teacher.chat, texts(0, 40));
  s[3]->send({{"type", "chat"}, {"text", "m40"}});
  expect_every_chat(s, got, 41);

  // 41 chat messages to the teacher and every student, wherever their sockets run (a shard
  // counts right after queuing, so the count may trail the last read by a moment).
  const uint64_t want_chats = chats_before + 41 * uint64_t(n + 1);
  for (int i = 0; i < 1000 && traffic.out(chat_type) < want_chats; ++i)  // up to 10 s
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(traffic.out(chat_type), want_chats);
  // An error reply to each student, on whichever thread: counted as sent and by its code.
  for (int i = 0; i < n; ++i) {
    s[size_t(i)]->send({{"type", "no_such_type"}});
    ASSERT_TRUE(s[size_t(i)]->expect("error")) << "student " << i;
  }
  // (counted the same way as the chats: the last count may trail the last read)
  const uint64_t want_errors = errors_out_before + uint64_t(n);
  for (int i = 0; i < 1000 && (traffic.out(error_type) < want_errors ||
                               error_replies() < error_replies_before + uint64_t(n));
       ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(traffic.out(error_type), want_errors);
  EXPECT_EQ(error_replies(), error_replies_before + uint64_t(n));

  // Eight students drop; the teacher sends while they come back with resume, one by one:
  // each gets its welcome, then exactly what it missed and what followed, in order.
  int next = 41;
  ASSERT_NO_FATAL_FAILURE(drop_and_resume(
      *t, s, got, 8, next, [&](const std::string& user, const std::string& query) {
        return join(user, base::Role::kStudent, query);
      }));

  // The end reaches every connection on both threads: session_ended, then close 1000.
  hub_->session_ended(store::Session{session_id_, course_id_, "usr_t", "Week 1", store::SessionStatus::kLive, 0, std::nullopt});
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(s[size_t(i)]->expect("session_ended")) << "student " << i;
    EXPECT_EQ(s[size_t(i)]->closed(3s), 1000) << "student " << i;
  }
}

}  // namespace
}  // namespace ws
