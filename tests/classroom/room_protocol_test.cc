#include "classroom/room_protocol.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "classroom/live_quiz.h"
#include "room_test_util.h"

namespace classroom::testing {
namespace {

namespace json = boost::json;

TEST(RoomProtocolTest, ParsesEveryClientMessage) {
  std::string ref;
  auto chat = parse_client_message(R"({"type":"chat","text":"hi","ref":"c1"})", &ref);
  ASSERT_TRUE(chat.is_ok()) << chat.status().to_string();
  EXPECT_EQ(chat->type, ClientType::kChat);
  EXPECT_EQ(chat->text, "hi");
  EXPECT_EQ(chat->ref, "c1");
  auto mute = parse_client_message(R"({"type":"mute","muted":false})", nullptr);
  ASSERT_TRUE(mute.is_ok());
  EXPECT_FALSE(mute->muted);
  EXPECT_TRUE(mute->target.empty());
  auto pub = parse_client_message(R"({"type":"quiz_publish","quiz_id":"qz_a","time_limit_s":30})",
                                  nullptr);
  ASSERT_TRUE(pub.is_ok());
  EXPECT_EQ(pub->time_limit_s, 30);
  auto ans = parse_client_message(
      R"({"type":"answer","quiz_id":"qz_a","answers":[{"question":0,"choice":[1]}]})", nullptr);
  ASSERT_TRUE(ans.is_ok());
  EXPECT_EQ(ans->answers.as_array().size(), 1u);
  for (const char* ok : {R"({"type":"ping"})", R"({"type":"hand_raise"})",
                         R"({"type":"hand_lower","user_id":"s1"})",
                         R"({"type":"remove","user_id":"s1"})",
                         R"({"type":"chat_delete","message_id":"msg_x"})",
                         R"({"type":"quiz_close","quiz_id":"qz_a"})"}) {
    EXPECT_TRUE(parse_client_message(ok, nullptr).is_ok()) << ok;
  }
}

TEST(RoomProtocolTest, RejectsMalformedMessagesKeepingTheRef) {
  std::string ref;
  auto bad = parse_client_message(R"({"type":"chat","ref":"r9"})", &ref);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(ref, "r9");
  EXPECT_NE(bad.status().message().find("text"), std::string::npos);
  for (const char* body : {"not json", "[1]", R"({"type":"dance"})",
                           R"({"type":"chat","text":"x","extra":1})",
                           R"({"type":"mute","muted":"yes"})",
                           R"({"type":"quiz_publish","quiz_id":"q","time_limit_s":1})",
                           R"({"type":"answer","quiz_id":"q","answers":[]})"}) {
    EXPECT_FALSE(parse_client_message(body, nullptr).is_ok()) << body;
  }
  json::object e = json::parse(error_reply("r9", bad.status())).as_object();
  EXPECT_EQ(e.at("type"), "error");
  EXPECT_EQ(e.at("ref"), "r9");
  EXPECT_EQ(e.at("code"), "missing_field");
  EXPECT_EQ(json::parse(pong_reply("", 5)).at("type"), "pong");
}

// Every field of every message type, replaced by null or by a value of the wrong type, is an
// error that names the field and echoes the ref: never a message with an empty value.
TEST(RoomProtocolTest, NullOrWrongTypeInAnyFieldIsAnErrorWithTheRef) {
  const char* valid[] = {
      R"({"type":"chat","text":"hi"})",
      R"({"type":"chat_delete","message_id":"msg_x"})",
      R"({"type":"mute","user_id":"s1","muted":true})",
      R"({"type":"remove","user_id":"s1"})",
      R"({"type":"hand_lower","user_id":"s1"})",
      R"({"type":"quiz_publish","quiz_id":"qz_a","time_limit_s":30})",
      R"({"type":"quiz_close","quiz_id":"qz_a"})",
      R"({"type":"answer","quiz_id":"qz_a","answers":[{"question":0,"choice":[1]}]})",
      R"({"type":"stage_give","user_id":"s1"})",
      R"({"type":"media.publish","sdp":"v=0"})",
      R"({"type":"media.subscribe","sdp":"v=0"})",
  };
  const json::value bad_values[] = {nullptr, json::object(), json::array(), true, 1.5, -7};
  for (const char* text : valid) {
    json::object msg = json::parse(text).as_object();
    ASSERT_TRUE(parse_client_message(text, nullptr).is_ok()) << text;
    for (const auto& kv : msg) {
      for (const auto& bad : bad_values) {
        if (bad.kind() == kv.value().kind()) continue;  // same type: may well be valid
        json::object m = msg;
        m[kv.key()] = bad;
        m["ref"] = "r1";
        std::string ref;
        std::string sent = json::serialize(m);
        auto r = parse_client_message(sent, &ref);
        ASSERT_FALSE(r.is_ok()) << sent;
        EXPECT_EQ(ref, "r1") << sent;
        EXPECT_EQ(r.status().code(), base::Code::kInvalidArgument) << sent;
        EXPECT_NE(r.status().message().find(std::string(kv.key())), std::string::npos)
            << sent << " -> " << r.status().message();
      }
    }
  }
}

// The issue's example over the live socket: the room reads each answer through the same
// reader as REST.
TEST(RoomProtocolTest, AnswerItemsAreReadStrictly) {
  std::vector<Question> qs(2);
  for (auto& q : qs) {
    q.options = {"a", "b", "c"};
    q.correct = {1};
  }
  qs[1].kind = QuestionKind::kMultiple;
  struct Case {
    const char* answers;
    const char* code;
  } cases[] = {
      {R"([{"question":null,"choice":[1]}])", "invalid_field"},
      {R"([{"question":0,"choice":null}])", "invalid_field"},
      {R"([{"question":0}])", "missing_field"},
      {R"([null])", "invalid_body"},
      {R"([{"question":5,"choice":[1]}])", "invalid_field"},
      {R"([{"question":0,"choice":[7]}])", "invalid_choice"},
      {R"([{"question":0,"choice":[0,1]}])", "invalid_choice"},
      {R"([{"question":0,"choice":[null]}])", "invalid_choice"},
      {R"([{"question":0,"choice":[1]},{"question":0,"choice":[1]}])", "duplicate_answer"},
      {R"([{"question":0,"choice":[1],"extra":1}])", "unknown_field"},
  };
  for (const auto& c : cases) {
    auto r = parse_answer_set(qs, json::parse(c.answers));
    ASSERT_FALSE(r.is_ok()) << c.answers;
    EXPECT_EQ(r.status().reason(), c.code) << c.answers << ": " << r.status().message();
  }
  auto ok = parse_answer_set(qs, json::parse(R"([{"question":1,"choice":[2,0,2]}])"));
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ((*ok)[1], (std::vector<int>{0, 2}));
  EXPECT_TRUE((*ok)[0].empty());
}

// Parses `text` (which must be a valid message) and applies it as `user`.
base::Result<NextStep> apply(Room& room, std::string_view user, const char* text) {
  auto m = parse_client_message(text, nullptr);
  EXPECT_TRUE(m.is_ok()) << text;
  return apply_client_message(room, user, *m);
}

TEST_F(RoomFixture, ApplyRoutesToTheRoomAndGatesTeacherSteps) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  auto run = [&](std::string_view user, const char* text) { return apply(*room, user, text); };
  EXPECT_EQ(*run("s1", R"({"type":"chat","text":"hello"})"), NextStep::kNone);
  EXPECT_EQ(listener.of("chat_message").size(), 1u);
  EXPECT_EQ(*run("s1", R"({"type":"hand_raise"})"), NextStep::kNone);
  EXPECT_EQ(room->hands().size(), 1u);
  EXPECT_EQ(*run("t1", R"({"type":"hand_lower","user_id":"s1"})"), NextStep::kNone);
  EXPECT_EQ(room->hands().size(), 0u);
  EXPECT_EQ(*run("s1", R"({"type":"ping"})"), NextStep::kPong);
  EXPECT_EQ(run("s1", R"({"type":"quiz_publish","quiz_id":"qz_a"})").status().reason(),
            "not_teacher");
  EXPECT_EQ(*run("t1", R"({"type":"quiz_publish","quiz_id":"qz_a"})"), NextStep::kPublish);
  EXPECT_EQ(*run("t1", R"({"type":"quiz_close","quiz_id":"qz_a"})"), NextStep::kClose);
  EXPECT_EQ(*run("s1", R"({"type":"answer","quiz_id":"qz_a","answers":[{"question":0,"choice":0}]})"),
            NextStep::kAnswer);
  EXPECT_EQ(run("s1", R"({"type":"remove","user_id":"s1"})").status().reason(), "not_teacher");
  EXPECT_EQ(*run("t1", R"({"type":"mute","user_id":"s1","muted":true})"), NextStep::kNone);
  EXPECT_EQ(run("s1", R"({"type":"chat","text":"hello"})").status().reason(), "muted");
  // Media signalling is the transport's (policy included); the room only routes it.
  EXPECT_EQ(*run("s1", R"({"type":"media.subscribe","sdp":"v=0"})"), NextStep::kMedia);
  EXPECT_EQ(*run("t1", R"({"type":"media.publish","sdp":"v=0"})"), NextStep::kMedia);
  EXPECT_EQ(*run("t1", R"({"type":"media.unpublish"})"), NextStep::kMedia);
}

// Every stored change is a database write that nothing waits for: a teacher (not limited in
// chat) gets rate_limited past 50 at once and 20 a second, students and other messages alike
// unaffected.
TEST_F(RoomFixture, StoredChangesAreRateLimitedPerUser) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  auto run = [&](std::string_view user, const char* text) { return apply(*room, user, text); };
  const char* mute = R"({"type":"mute","muted":true})";
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(run("t1", mute).is_ok()) << i;
  for (const char* change :
       {mute, R"({"type":"remove","user_id":"s1"})", R"({"type":"chat_delete","message_id":"m"})",
        R"({"type":"quiz_publish","quiz_id":"qz_a"})", R"({"type":"quiz_close","quiz_id":"qz_a"})",
        R"({"type":"stage_give","user_id":"s1"})", R"({"type":"stage_take"})"}) {
    auto r = run("t1", change);
    EXPECT_EQ(r.status().code(), base::Code::kResourceExhausted) << change;
    EXPECT_EQ(r.status().reason(), "rate_limited") << change;
  }
  EXPECT_EQ(listener.of("chat_muted").size(), 50u);
  // Chat and pings are not changes; another user has its own tokens.
  EXPECT_TRUE(run("t1", R"({"type":"chat","text":"still here"})").is_ok());
  EXPECT_EQ(*run("t1", R"({"type":"ping"})"), NextStep::kPong);
  EXPECT_EQ(run("s1", mute).status().reason(), "not_teacher");
  // 20 a second come back.
  clock.advance_ms(1000);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(run("t1", mute).is_ok()) << i;
  EXPECT_EQ(run("t1", mute).status().reason(), "rate_limited");
}

TEST(RoomProtocol, MediaMessagesNeedAnOffer) {
  auto m = parse_client_message(R"({"type":"media.publish","sdp":"v=0\r\n"})", nullptr);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->type, ClientType::kMediaPublish);
  EXPECT_EQ(m->sdp, "v=0\r\n");
  EXPECT_FALSE(parse_client_message(R"({"type":"media.subscribe"})", nullptr).is_ok());
  EXPECT_FALSE(parse_client_message(R"({"type":"media.publish","sdp":""})", nullptr).is_ok());
  EXPECT_TRUE(parse_client_message(R"({"type":"media.unpublish"})", nullptr).is_ok());
}

// A publish names its source: the camera (the default) or a shared screen; so does an
// unpublish. A subscribe has none.
TEST(RoomProtocol, MediaSourceIsCameraOrScreen) {
  auto cam = parse_client_message(R"({"type":"media.publish","sdp":"v=0"})", nullptr);
  ASSERT_TRUE(cam.is_ok());
  EXPECT_EQ(cam->source, "camera");
  auto screen =
      parse_client_message(R"({"type":"media.publish","sdp":"v=0","source":"screen"})", nullptr);
  ASSERT_TRUE(screen.is_ok());
  EXPECT_EQ(screen->source, "screen");
  auto stop = parse_client_message(R"({"type":"media.unpublish","source":"screen"})", nullptr);
  ASSERT_TRUE(stop.is_ok());
  EXPECT_EQ(stop->source, "screen");
  auto bad = parse_client_message(R"({"type":"media.publish","sdp":"v=0","source":"tv"})", nullptr);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().reason(), "invalid_field");
  EXPECT_FALSE(
      parse_client_message(R"({"type":"media.subscribe","sdp":"v=0","source":"screen"})", nullptr)
          .is_ok());
}

}  // namespace
}  // namespace classroom::testing
