// The stage: a teacher gives one student the right to publish camera and microphone, moves it
// to another student, takes it back; leaving or being removed loses it.
#include <boost/json/parse.hpp>

#include "classroom/room_protocol.h"
#include "room_test_util.h"

namespace classroom::testing {
namespace {

namespace json = boost::json;

using Change = std::pair<std::string, std::string>;

class RoomStageTest : public RoomFixture {
 protected:
  void SetUp() override {
    join("t1", Role::kTeacher);
    join("s1", Role::kStudent);
    join("s2", Role::kStudent);
  }
};

TEST_F(RoomStageTest, TeacherGivesTheStageAndEveryoneIsTold) {
  ASSERT_TRUE(room->give_stage("t1", "s1").is_ok());
  EXPECT_EQ(room->stage(), "s1");
  auto ev = listener.of("stage");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].json.at("user_id"), "s1");
  EXPECT_EQ(ev[0].json.at("name"), "Name s1");
  EXPECT_TRUE(ev[0].json.at("previous").is_null());
  EXPECT_EQ(ev[0].json.at("by"), "t1");
  EXPECT_EQ(ev[0].json.at("reason"), "given");
  EXPECT_TRUE(ev[0].event.audience.students && ev[0].event.audience.teachers);
  EXPECT_EQ(listener.stage_changes, (std::vector<Change>{{"", "s1"}}));

  // Giving it to the holder again changes nothing.
  ASSERT_TRUE(room->give_stage("t1", "s1").is_ok());
  EXPECT_EQ(listener.of("stage").size(), 1u);
  EXPECT_EQ(listener.stage_changes.size(), 1u);
}

TEST_F(RoomStageTest, GivingToAnotherStudentMovesIt) {
  ASSERT_TRUE(room->give_stage("t1", "s1").is_ok());
  ASSERT_TRUE(room->give_stage("t1", "s2").is_ok());
  EXPECT_EQ(room->stage(), "s2");
  auto ev = listener.of("stage");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].json.at("user_id"), "s2");
  EXPECT_EQ(ev[1].json.at("previous"), "s1");
  // The previous holder is reported so its published media can be stopped.
  EXPECT_EQ(listener.stage_changes, (std::vector<Change>{{"", "s1"}, {"s1", "s2"}}));
}

TEST_F(RoomStageTest, TeacherTakesItBack) {
  ASSERT_TRUE(room->give_stage("t1", "s1").is_ok());
  ASSERT_TRUE(room->take_stage("t1").is_ok());
  EXPECT_EQ(room->stage(), "");
  auto ev = listener.of("stage");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(ev[1].json.at("user_id").is_null());
  EXPECT_TRUE(ev[1].json.at("name").is_null());
  EXPECT_EQ(ev[1].json.at("previous"), "s1");
  EXPECT_EQ(ev[1].json.at("reason"), "taken");
  EXPECT_EQ(listener.stage_changes.back(), (Change{"s1", ""}));
  // Taking an empty stage is a no-op.
  ASSERT_TRUE(room->take_stage("t1").is_ok());
  EXPECT_EQ(listener.of("stage").size(), 2u);
}

TEST_F(RoomStageTest, LeavingOrBeingRemovedLosesIt) {
  join("s1", Role::kStudent);  // a second tab: closing one keeps the stage
  ASSERT_TRUE(room->give_stage("t1", "s1").is_ok());
  room->leave("s1");
  EXPECT_EQ(room->stage(), "s1");
  room->leave("s1");
  EXPECT_EQ(room->stage(), "");
  auto ev = listener.of("stage");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].json.at("reason"), "left");
  EXPECT_EQ(ev[1].json.at("by"), "s1");
  // The stage event comes before the participant_left.
  EXPECT_EQ(listener.events.back().type(), "participant_left");
  EXPECT_EQ(listener.stage_changes.back(), (Change{"s1", ""}));

  ASSERT_TRUE(room->give_stage("t1", "s2").is_ok());
  ASSERT_TRUE(room->remove("t1", "s2").is_ok());
  EXPECT_EQ(room->stage(), "");
  ev = listener.of("stage");
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[3].json.at("reason"), "removed");
  EXPECT_EQ(ev[3].json.at("by"), "t1");
  EXPECT_EQ(listener.stage_changes.back(), (Change{"s2", ""}));
}

TEST_F(RoomStageTest, OnlyATeacherGivesItAndOnlyToAStudentInTheRoom) {
  base::Status st = room->give_stage("s1", "s1");
  EXPECT_EQ(st.code(), base::Code::kPermissionDenied);
  EXPECT_EQ(st.reason(), "not_allowed");  // the policy's refusal, with its reason
  EXPECT_NE(st.message().find("teacher"), std::string::npos) << st.message();
  EXPECT_EQ(room->take_stage("s2").reason(), "not_allowed");
  st = room->give_stage("t1", "s9");
  EXPECT_EQ(st.code(), base::Code::kNotFound);
  EXPECT_EQ(st.reason(), "not_in_room");
  EXPECT_EQ(room->give_stage("t1", "t1").reason(), "invalid_target");
  room->leave("s2");
  EXPECT_EQ(room->give_stage("t1", "s2").reason(), "not_in_room");
  EXPECT_EQ(room->stage(), "");
  EXPECT_TRUE(listener.of("stage").empty());
  EXPECT_TRUE(listener.stage_changes.empty());
  room->end("teacher_ended");
  EXPECT_EQ(room->give_stage("t1", "s1").reason(), "session_ended");
}

TEST_F(RoomStageTest, SnapshotAndWelcomeCarryTheHolder) {
  EXPECT_TRUE(room->snapshot("s2").at("stage").is_null());
  ASSERT_TRUE(room->give_stage("t1", "s1").is_ok());
  for (const char* who : {"t1", "s1", "s2"}) {
    json::object snap = room->snapshot(who);
    const json::value& stage = snap.at("stage");
    ASSERT_TRUE(stage.is_object()) << who;
    EXPECT_EQ(stage.at("user_id"), "s1");
    EXPECT_EQ(stage.at("name"), "Name s1");
  }
  // A fresh connection (no resume) sees it in its welcome.
  JoinReply r = join("s3", Role::kStudent);
  json::value w = json::parse(r.welcome);
  EXPECT_EQ(w.at("snapshot").at("stage").at("user_id"), "s1");
  // A resuming connection replays the stage event it missed.
  uint64_t seen = room->seq();
  ASSERT_TRUE(room->take_stage("t1").is_ok());
  r = join("s3", Role::kStudent, ResumePoint{room->epoch(), seen});
  ASSERT_TRUE(r.resumed);
  ASSERT_EQ(r.replay.size(), 1u);
  EXPECT_EQ(json::parse(*r.replay[0].json).at("type"), "stage");
  EXPECT_TRUE(room->snapshot("s3").at("stage").is_null());
}

TEST_F(RoomStageTest, ProtocolMessagesAreTeacherStepsForThePolicy) {
  auto run = [&](std::string_view user, const char* text) {
    auto m = parse_client_message(text, nullptr);
    EXPECT_TRUE(m.is_ok()) << text;
    return apply_client_message(*room, user, *m);
  };
  auto give = parse_client_message(R"({"type":"stage_give","user_id":"s1","ref":"g"})", nullptr);
  ASSERT_TRUE(give.is_ok());
  EXPECT_EQ(give->type, ClientType::kStageGive);
  EXPECT_EQ(give->target, "s1");
  EXPECT_FALSE(parse_client_message(R"({"type":"stage_give"})", nullptr).is_ok());
  EXPECT_FALSE(parse_client_message(R"({"type":"stage_take","user_id":"s1"})", nullptr).is_ok());
  EXPECT_EQ(*run("t1", R"({"type":"stage_give","user_id":"s1"})"), NextStep::kStage);
  EXPECT_EQ(*run("t1", R"({"type":"stage_take"})"), NextStep::kStage);
  // The protocol routes a student's stage message to the room, whose policy refuses it.
  EXPECT_EQ(*run("s1", R"({"type":"stage_give","user_id":"s1"})"), NextStep::kStage);
  EXPECT_EQ(room->give_stage("s1", "s1").reason(), "not_allowed");
  EXPECT_EQ(room->stage(), "");
  // Quiz steps are decided before they reach the writer.
  EXPECT_EQ(run("s1", R"({"type":"quiz_publish","quiz_id":"qz_x"})").status().reason(),
            "not_teacher");
  EXPECT_EQ(*run("t1", R"({"type":"quiz_close","quiz_id":"qz_x"})"), NextStep::kClose);
}

}  // namespace
}  // namespace classroom::testing
