// The room as a projection of the store: rebuilt from stored state (Room::restore), and the
// REST changes that reach it (capacity, a student no longer enrolled).
#include <boost/json/parse.hpp>

#include "room_test_util.h"

namespace classroom::testing {
namespace {

namespace json = boost::json;

TEST_F(RoomFixture, RestoreBringsBackTheOpenQuizItsAnswersAndModeration) {
  RoomRestore r;
  r.chat_muted_all = false;
  r.muted = {"s2"};
  r.removed = {"s3"};
  r.stage_user = "s1";
  r.stage_name = "Name s1";
  r.quiz = check_in_quiz(clock, 1);
  r.answers = {{"s1", AnswerSet{std::vector<int>{1}}}};
  room->restore(r);
  EXPECT_TRUE(listener.events.empty()) << "a restore emits nothing";
  EXPECT_EQ(room->seq(), 0u);

  join("t1", Role::kTeacher);
  auto w = join("s1", Role::kStudent);
  json::object snap = json::parse(w.welcome).at("snapshot").as_object();
  EXPECT_EQ(snap.at("quiz").at("quiz").at("id"), "qz_one");
  EXPECT_EQ(snap.at("quiz").at("quiz").at("deadline"), r.quiz->deadline_ms);
  EXPECT_EQ(snap.at("quiz").at("answered"), true);
  EXPECT_EQ(snap.at("stage").at("user_id"), "s1");
  // The stored answer is the committed one: the same set is re-acknowledged, another refused.
  auto same = room->begin_answer("s1", "qz_one", json::parse(R"([{"question":0,"choice":[1]}])"));
  ASSERT_TRUE(same.is_ok()) << same.status().to_string();
  EXPECT_FALSE(same->needs_commit);
  auto other = room->begin_answer("s1", "qz_one", json::parse(R"([{"question":0,"choice":[0]}])"));
  EXPECT_EQ(other.status().reason(), "already_answered");
  // Mutes and removals hold.
  join("s2", Role::kStudent);
  EXPECT_EQ(room->chat("s2", "hi").reason(), "muted");
  auto again = room->join(Participant{"s3", "S", Role::kStudent}, std::nullopt);
  EXPECT_EQ(again.status().reason(), "removed");
  // Publishing the same quiz again (a hook arriving after the rebuild) changes nothing.
  size_t before = listener.events.size();
  EXPECT_TRUE(room->publish_quiz(check_in_quiz(clock, 1)).is_ok());
  EXPECT_EQ(listener.events.size(), before);
  // The deadline still closes it.
  clock.advance_ms(61'000);
  room->tick();
  EXPECT_EQ(listener.deadlines, std::vector<std::string>{"qz_one"});
}

TEST_F(RoomFixture, RestoredClosedQuizIsShownClosedAndNeverReopens) {
  RoomRestore r;
  r.quiz = check_in_quiz(clock, 1);
  r.quiz_closed = true;
  r.answers = {{"s1", AnswerSet{std::vector<int>{1}}}, {"s2", AnswerSet{std::vector<int>{0}}}};
  room->restore(r);
  EXPECT_FALSE(room->wants_tick());
  auto w = join("s1", Role::kStudent);
  json::object q = json::parse(w.welcome).at("snapshot").at("quiz").as_object();
  EXPECT_EQ(q.at("quiz").at("status"), "closed");
  EXPECT_EQ(q.at("distribution").at("answered"), 2);
  EXPECT_EQ(q.at("score").at("score"), 1);
  EXPECT_TRUE(room->publish_quiz(check_in_quiz(clock, 1)).is_ok());
  EXPECT_TRUE(listener.of("quiz_published").empty());
  EXPECT_TRUE(room->quiz()->closed());
}

TEST_F(RoomFixture, AnAbsentStageHolderNoLongerEnrolledLosesTheStage) {
  RoomRestore r;
  r.stage_user = "s1";
  r.stage_name = "Name s1";
  room->restore(r);
  EXPECT_FALSE(room->unenroll("s1", "t1"));  // not in the room ...
  EXPECT_TRUE(room->stage().empty());        // ... but the stage is gone
  auto stage = listener.of("stage");
  ASSERT_EQ(stage.size(), 1u);
  EXPECT_EQ(stage[0].json.at("reason"), "removed");
  EXPECT_EQ(listener.stage_changes,
            (std::vector<std::pair<std::string, std::string>>{{"s1", ""}}));
}

TEST_F(RoomFixture, CapacityChangeBoundsLaterJoins) {
  join("s1", Role::kStudent);
  join("s2", Role::kStudent);
  room->set_capacity(2);
  auto third = room->join(Participant{"s3", "S", Role::kStudent}, std::nullopt);
  EXPECT_EQ(third.status().reason(), "session_full");
  join("t1", Role::kTeacher);  // teachers are not counted
  room->set_capacity(3);
  join("s3", Role::kStudent);
  room->set_capacity(1);  // students already in stay
  EXPECT_EQ(room->student_count(), 3u);
  auto w = join("t1", Role::kTeacher);
  EXPECT_EQ(json::parse(w.welcome).at("snapshot").at("session").at("capacity"), 1);
}

TEST_F(RoomFixture, UnenrolledStudentLeavesWithAReasonAndMayComeBack) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  join("s2", Role::kStudent);
  ASSERT_TRUE(room->raise_hand("s1").is_ok());
  ASSERT_TRUE(room->give_stage("t1", "s1").is_ok());
  EXPECT_TRUE(room->unenroll("s1", "t1"));
  auto personal = listener.of("removed");
  ASSERT_EQ(personal.size(), 1u);
  EXPECT_EQ(personal[0].json.at("reason"), "removed_from_course");
  EXPECT_TRUE(personal[0].event.audience.includes(Role::kStudent, "s1"));
  EXPECT_FALSE(personal[0].event.audience.includes(Role::kStudent, "s2"));
  auto left = listener.of("participant_left");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].json.at("reason"), "removed");
  EXPECT_TRUE(room->stage().empty());
  EXPECT_EQ(room->hands().size(), 0u);
  EXPECT_EQ(room->student_count(), 1u);
  EXPECT_TRUE(listener.removed.empty()) << "not a session removal: the caller closes with 4003";
  EXPECT_FALSE(room->unenroll("s1", "t1")) << "already out";
  EXPECT_FALSE(room->unenroll("t1", "t1")) << "teachers are not enrolled";
  // Enrolled again (the transport checks storage), it may rejoin.
  join("s1", Role::kStudent);
  // Leaving the course oneself.
  EXPECT_TRUE(room->unenroll("s2", "s2"));
  EXPECT_EQ(listener.of("removed").back().json.at("reason"), "left_course");
  EXPECT_EQ(listener.of("participant_left").back().json.at("reason"), "left");
}

TEST_F(RoomFixture, MutesAreReportedForStorage) {
  struct MuteListener : RecordingListener {
    void on_chat_muted(std::string_view user, bool muted) override {
      mutes.emplace_back(std::string(user), muted);
    }
    std::vector<std::pair<std::string, bool>> mutes;
  } l;
  RoomConfig cfg;
  cfg.session_id = "ses_x";
  cfg.course_id = "crs_x";
  cfg.title = "T";
  cfg.teacher_id = "t1";
  cfg.authorizer = [a = policies()] { return a; };
  Room r(cfg, l, clock, random);
  ASSERT_TRUE(r.join(Participant{"t1", "T", Role::kTeacher}, std::nullopt).is_ok());
  ASSERT_TRUE(r.join(Participant{"s1", "S", Role::kStudent}, std::nullopt).is_ok());
  ASSERT_TRUE(r.mute("t1", "", true).is_ok());
  ASSERT_TRUE(r.mute("t1", "s1", true).is_ok());
  ASSERT_TRUE(r.mute("t1", "s1", false).is_ok());
  EXPECT_EQ(l.mutes,
            (std::vector<std::pair<std::string, bool>>{{"", true}, {"s1", true}, {"s1", false}}));
}

}  // namespace
}  // namespace classroom::testing
