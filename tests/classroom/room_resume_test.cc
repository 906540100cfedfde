#include <boost/json/parse.hpp>

#include "classroom/room_buffer.h"
#include "room_test_util.h"

namespace classroom::testing {
namespace {

namespace json = boost::json;

RoomEvent ev(uint64_t seq, Audience a, size_t bytes = 10) {
  return RoomEvent{seq, std::move(a), std::make_shared<const std::string>(bytes, 'x')};
}

TEST(ResumeBufferTest, ReturnsMissedEventsForTheRecipientOnly) {
  ResumeBuffer b(100, 1 << 20);
  b.push(ev(1, Audience::everyone()));
  b.push(ev(2, Audience::teachers_only()));
  b.push(ev(3, Audience::only("s1")));
  b.push(ev(4, Audience::everyone()));
  auto s1 = b.since(1, 4, Role::kStudent, "s1");
  ASSERT_TRUE(s1.has_value());
  ASSERT_EQ(s1->size(), 2u);
  EXPECT_EQ((*s1)[0].seq, 3u);
  EXPECT_EQ((*s1)[1].seq, 4u);
  auto t = b.since(0, 4, Role::kTeacher, "t1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->size(), 3u);
  EXPECT_TRUE(b.since(4, 4, Role::kStudent, "s1")->empty());
  EXPECT_FALSE(b.since(5, 4, Role::kStudent, "s1").has_value());  // ahead of the room
}

TEST(ResumeBufferTest, EvictsByCountAndBytesAndThenAsksForSnapshot) {
  ResumeBuffer b(3, 1 << 20);
  for (uint64_t i = 1; i <= 5; ++i) b.push(ev(i, Audience::everyone()));
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.oldest_seq(), 3u);
  EXPECT_TRUE(b.since(2, 5, Role::kStudent, "s").has_value());   // needs 3..5: all held
  EXPECT_FALSE(b.since(1, 5, Role::kStudent, "s").has_value());  // 2 was evicted

  ResumeBuffer small(100, 25);
  for (uint64_t i = 1; i <= 4; ++i) small.push(ev(i, Audience::everyone(), 10));
  EXPECT_EQ(small.size(), 2u);
  EXPECT_LE(small.bytes(), 25u);
  small.push(ev(5, Audience::everyone(), 100));  // larger than the bound: kept alone
  EXPECT_EQ(small.size(), 1u);
  EXPECT_EQ(small.oldest_seq(), 5u);
}

TEST_F(RoomFixture, ReconnectingClientGetsExactlyWhatItMissed) {
  join("t1", Role::kTeacher);
  JoinReply first = join("s1", Role::kStudent);
  uint64_t seen = json::parse(first.welcome).at("seq").to_number<uint64_t>();
  room->leave("s1");
  ASSERT_TRUE(room->chat("t1", "while you were away").is_ok());
  ASSERT_TRUE(room->mute("t1", "", true).is_ok());
  join("s2", Role::kStudent);
  ASSERT_TRUE(room->raise_hand("s2").is_ok());  // not addressed to s1

  JoinReply back = join("s1", Role::kStudent, ResumePoint{room->epoch(), seen});
  ASSERT_TRUE(back.resumed);
  json::object w = json::parse(back.welcome).as_object();
  EXPECT_EQ(w.at("resumed"), true);
  EXPECT_FALSE(w.contains("snapshot"));
  EXPECT_EQ(w.at("seq"), room->seq());
  std::vector<std::string> types;
  uint64_t prev = seen;
  for (const auto& e : back.replay) {
    EXPECT_GT(e.seq, prev);
    prev = e.seq;
    types.push_back(std::string(json::parse(*e.json).at("type").as_string()));
  }
  // In a large room (the default capacity) s2's join goes to teachers only.
  EXPECT_EQ(types, (std::vector<std::string>{"participant_left", "chat_message", "chat_muted",
                                             "participant_joined"}));
  EXPECT_EQ(prev, room->seq());  // its own re-join is the last event
}

TEST_F(RoomFixture, ResumeFromOtherEpochOrTooFarBackGivesSnapshot) {
  RoomConfig cfg;
  cfg.resume_max_events = 4;
  reset(cfg);
  join("t1", Role::kTeacher);
  JoinReply s = join("s1", Role::kStudent);
  room->leave("s1");
  JoinReply other = join("s1", Role::kStudent, ResumePoint{"ep_other", 2});
  EXPECT_FALSE(other.resumed);
  EXPECT_TRUE(json::parse(other.welcome).as_object().contains("snapshot"));
  room->leave("s1");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(room->chat("t1", "m" + std::to_string(i)).is_ok());
  JoinReply late = join("s1", Role::kStudent, ResumePoint{room->epoch(), 2});
  EXPECT_FALSE(late.resumed);
  EXPECT_TRUE(late.replay.empty());
  json::object w = json::parse(late.welcome).as_object();
  EXPECT_EQ(w.at("seq"), room->seq());
  // The snapshot carries the recent chat the client would otherwise have lost.
  EXPECT_EQ(w.at("snapshot").at("chat").at("recent").as_array().size(), 10u);
}

TEST_F(RoomFixture, EventJsonIsSharedNotCopiedPerRecipient) {
  join("t1", Role::kTeacher);
  ASSERT_TRUE(room->chat("t1", "one string, many sockets").is_ok());
  const RoomEvent& delivered = listener.events.back().event;
  auto replay = room->buffer().since(delivered.seq - 1, room->seq(), Role::kStudent, "x");
  ASSERT_TRUE(replay.has_value());
  ASSERT_EQ(replay->size(), 1u);
  EXPECT_EQ((*replay)[0].json.get(), delivered.json.get());
}

}  // namespace
}  // namespace classroom::testing
