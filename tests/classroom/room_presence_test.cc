#include <boost/json/parse.hpp>

#include "room_test_util.h"

namespace classroom::testing {
namespace {

namespace json = boost::json;

TEST_F(RoomFixture, JoinEmitsNumberedPresenceAndWelcomeWithSnapshot) {
  JoinReply t = join("t1", Role::kTeacher);
  JoinReply s = join("s1", Role::kStudent);
  ASSERT_EQ(listener.events.size(), 2u);
  EXPECT_EQ(listener.events[0].event.seq, 1u);
  EXPECT_EQ(listener.events[1].event.seq, 2u);
  const auto& joined = listener.events[1].json;
  EXPECT_EQ(joined.at("type"), "participant_joined");
  EXPECT_EQ(joined.at("seq"), 2);
  EXPECT_EQ(joined.at("user").at("id"), "s1");
  EXPECT_EQ(joined.at("user").at("role"), "student");
  EXPECT_EQ(joined.at("count"), 2);
  EXPECT_EQ(joined.at("students"), 1);

  json::object w = json::parse(s.welcome).as_object();
  EXPECT_EQ(w.at("type"), "welcome");
  EXPECT_EQ(w.at("seq"), 2);
  EXPECT_EQ(w.at("resumed"), false);
  EXPECT_EQ(w.at("epoch").as_string(), room->epoch());
  const auto& snap = w.at("snapshot").as_object();
  EXPECT_EQ(snap.at("participants").as_array().size(), 2u);
  EXPECT_EQ(snap.at("count"), 2);
  EXPECT_EQ(snap.at("session").at("id"), "ses_test");
  EXPECT_TRUE(snap.at("quiz").is_null());
  EXPECT_EQ(snap.at("hand_raised"), false);  // student view
  EXPECT_TRUE(json::parse(t.welcome).at("snapshot").as_object().contains("hands"));
}

TEST_F(RoomFixture, SecondConnectionOfSameUserIsSilentAndLastLeaveEmitsLeft) {
  join("s1", Role::kStudent);
  JoinReply again = join("s1", Role::kStudent);
  EXPECT_FALSE(again.first_connection);
  EXPECT_EQ(listener.events.size(), 1u);
  EXPECT_EQ(room->participant_count(), 1u);
  room->leave("s1");
  EXPECT_EQ(listener.events.size(), 1u);  // one connection still open
  room->leave("s1");
  ASSERT_EQ(listener.events.size(), 2u);
  EXPECT_EQ(listener.events[1].json.at("type"), "participant_left");
  EXPECT_EQ(listener.events[1].json.at("reason"), "left");
  EXPECT_EQ(listener.events[1].json.at("count"), 0);
  EXPECT_EQ(room->participant_count(), 0u);
  room->leave("nobody");  // ignored
  EXPECT_EQ(listener.events.size(), 2u);
}

TEST_F(RoomFixture, LargeRoomGivesStudentsCountsNotEveryJoin) {
  // Default capacity 1000 > full_presence_max: per-student presence is for teachers.
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  join("s2", Role::kStudent);
  auto joins = listener.of("participant_joined");
  ASSERT_EQ(joins.size(), 3u);
  EXPECT_TRUE(joins[0].event.audience.includes(Role::kStudent, "anyone"));  // the teacher
  EXPECT_TRUE(joins[2].event.audience.includes(Role::kTeacher, "t1"));
  EXPECT_TRUE(joins[2].event.audience.includes(Role::kStudent, "s2"));   // itself
  EXPECT_FALSE(joins[2].event.audience.includes(Role::kStudent, "s1"));  // not classmates
  // Students' roster: the teachers and themselves; the teacher's: everyone.
  EXPECT_EQ(room->snapshot("s1").at("participants").as_array().size(), 2u);
  EXPECT_EQ(room->snapshot("s1").at("students"), 2);
  EXPECT_EQ(room->snapshot("t1").at("participants").as_array().size(), 3u);
  // Counts reach students at most once per presence interval, through tick().
  EXPECT_TRUE(room->wants_tick());
  clock.advance_ms(1000);
  room->tick();
  auto counts = listener.of("presence");
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].json.at("students"), 2);
  EXPECT_TRUE(counts[0].event.audience.includes(Role::kStudent, "s1"));
  EXPECT_FALSE(counts[0].event.audience.includes(Role::kTeacher, "t1"));
  room->leave("s2");
  room->tick();  // within the interval: nothing yet
  EXPECT_EQ(listener.of("presence").size(), 1u);
  clock.advance_ms(1000);
  room->tick();
  ASSERT_EQ(listener.of("presence").size(), 2u);
  EXPECT_EQ(listener.of("presence").back().json.at("students"), 1);
  EXPECT_FALSE(room->wants_tick());
}

TEST_F(RoomFixture, SmallRoomGivesEveryoneTheRoster) {
  RoomConfig cfg;
  cfg.capacity = 30;
  reset(cfg);
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  join("s2", Role::kStudent);
  EXPECT_TRUE(listener.of("participant_joined")[2].event.audience.includes(Role::kStudent, "s1"));
  EXPECT_EQ(room->snapshot("s1").at("participants").as_array().size(), 3u);
  EXPECT_FALSE(room->wants_tick());
  EXPECT_TRUE(listener.of("presence").empty());
}

TEST_F(RoomFixture, FullSessionRefusesStudentsButNotTeacher) {
  RoomConfig cfg;
  cfg.capacity = 2;
  reset(cfg);
  join("s1", Role::kStudent);
  join("s2", Role::kStudent);
  auto r = room->join(Participant{"s3", "S3", Role::kStudent}, std::nullopt);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), base::Code::kResourceExhausted);
  EXPECT_EQ(r.status().reason(), "session_full");
  EXPECT_TRUE(room->join(Participant{"t1", "T", Role::kTeacher}, std::nullopt).is_ok());
  room->leave("s1");
  EXPECT_TRUE(room->join(Participant{"s3", "S3", Role::kStudent}, std::nullopt).is_ok());
}

TEST_F(RoomFixture, RoleMismatchIsRefused) {
  join("u1", Role::kStudent);
  auto r = room->join(Participant{"u1", "U", Role::kTeacher}, std::nullopt);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().reason(), "role_mismatch");
}

TEST_F(RoomFixture, EndEmitsFinalEventAndRefusesEverythingAfter) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  room->end("teacher_ended");
  ASSERT_EQ(listener.events.back().type(), "session_ended");
  EXPECT_EQ(listener.events.back().json.at("reason"), "teacher_ended");
  EXPECT_TRUE(listener.events.back().event.audience.includes(Role::kStudent, "s1"));
  EXPECT_TRUE(room->ended());
  auto r = room->join(Participant{"s2", "S2", Role::kStudent}, std::nullopt);
  EXPECT_EQ(r.status().reason(), "session_ended");
  EXPECT_EQ(room->chat("s1", "hi").reason(), "session_ended");
  size_t n = listener.events.size();
  room->end("again");  // idempotent
  room->leave("s1");   // no presence after the end
  EXPECT_EQ(listener.events.size(), n);
}

TEST_F(RoomFixture, HandsQueueInOrderTeacherSeesAllStudentSeesOwn) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  join("s2", Role::kStudent);
  ASSERT_TRUE(room->raise_hand("s2").is_ok());
  clock.advance_ms(10);
  ASSERT_TRUE(room->raise_hand("s1").is_ok());
  // Raising again gets a reply (an error the socket sends back), and no second event.
  EXPECT_EQ(room->raise_hand("s1").reason(), "hand_already_raised");
  auto raised = listener.of("hand_raised");
  ASSERT_EQ(raised.size(), 2u);
  EXPECT_EQ(raised[0].json.at("user").at("id"), "s2");
  EXPECT_EQ(raised[0].json.at("position"), 1);
  EXPECT_EQ(raised[1].json.at("position"), 2);
  EXPECT_TRUE(raised[0].event.audience.includes(Role::kTeacher, "t1"));
  EXPECT_TRUE(raised[0].event.audience.includes(Role::kStudent, "s2"));
  EXPECT_FALSE(raised[0].event.audience.includes(Role::kStudent, "s1"));

  EXPECT_EQ(room->raise_hand("t1").reason(), "not_student");
  EXPECT_EQ(room->lower_hand("s1", "s2").reason(), "not_teacher");

  auto snap = room->snapshot("t1");
  ASSERT_EQ(snap.at("hands").as_array().size(), 2u);
  EXPECT_EQ(snap.at("hands").as_array()[0].at("user_id"), "s2");
  EXPECT_EQ(room->snapshot("s1").at("hand_raised"), true);

  ASSERT_TRUE(room->lower_hand("t1", "s2").is_ok());
  auto lowered = listener.of("hand_lowered");
  ASSERT_EQ(lowered.size(), 1u);
  EXPECT_EQ(lowered[0].json.at("user_id"), "s2");
  EXPECT_EQ(lowered[0].json.at("by"), "t1");
  EXPECT_EQ(lowered[0].json.at("queue"), 1);
  ASSERT_TRUE(room->lower_hand("s1", "").is_ok());  // own hand
  EXPECT_EQ(room->hands().size(), 0u);
  ASSERT_TRUE(room->raise_hand("s1").is_ok());
  room->leave("s1");  // leaving lowers the hand
  EXPECT_EQ(room->hands().size(), 0u);
  EXPECT_EQ(listener.of("hand_lowered").size(), 3u);
}

TEST_F(RoomFixture, RemoveKicksStudentAndForbidsRejoin) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  ASSERT_TRUE(room->raise_hand("s1").is_ok());
  EXPECT_EQ(room->remove("s1", "t1").reason(), "not_teacher");
  EXPECT_EQ(room->remove("t1", "t1").reason(), "invalid_target");
  ASSERT_TRUE(room->remove("t1", "s1").is_ok());
  ASSERT_EQ(listener.removed, std::vector<std::string>{"s1"});
  auto personal = listener.of("removed");
  ASSERT_EQ(personal.size(), 1u);
  EXPECT_TRUE(personal[0].event.audience.includes(Role::kStudent, "s1"));
  EXPECT_FALSE(personal[0].event.audience.includes(Role::kStudent, "s2"));
  auto left = listener.of("participant_left");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].json.at("reason"), "removed");
  EXPECT_EQ(room->student_count(), 0u);
  EXPECT_EQ(room->hands().size(), 0u);
  room->leave("s1");  // the transport closing the socket later is harmless
  EXPECT_EQ(listener.of("participant_left").size(), 1u);
  auto again = room->join(Participant{"s1", "S", Role::kStudent}, std::nullopt);
  EXPECT_EQ(again.status().reason(), "removed");
}

}  // namespace
}  // namespace classroom::testing
