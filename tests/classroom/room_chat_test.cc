#include "classroom/chat.h"

#include "room_test_util.h"

namespace classroom::testing {
namespace {

TEST(ChatTextTest, ValidatesUtf8BlankAndLength) {
  EXPECT_TRUE(validate_chat_text("hello", 1000).is_ok());
  EXPECT_EQ(validate_chat_text("   \n", 1000).reason(), "invalid_text");
  EXPECT_EQ(validate_chat_text("bad \xff byte", 1000).reason(), "invalid_text");
  // Limits count code points, not bytes: five 2-byte characters fit a limit of 5.
  EXPECT_TRUE(validate_chat_text("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 5).is_ok());
  EXPECT_EQ(validate_chat_text("abcdef", 5).reason(), "message_too_long");
}

TEST(TokenBucketTest, BurstThenSustainedRate) {
  TokenBucket b(3, 2);  // 3 at once, then 2 per second
  int64_t t = 1'000'000'000;
  EXPECT_TRUE(b.try_take(t));
  EXPECT_TRUE(b.try_take(t));
  EXPECT_TRUE(b.try_take(t));
  EXPECT_FALSE(b.try_take(t));
  EXPECT_FALSE(b.try_take(t + 400'000'000));  // 0.8 tokens
  EXPECT_TRUE(b.try_take(t + 500'000'000));   // 1.0 token
  EXPECT_FALSE(b.try_take(t + 500'000'000));
  // A long pause refills only up to the burst.
  t += 100'000'000'000;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.try_take(t));
  EXPECT_FALSE(b.try_take(t));
}

TEST_F(RoomFixture, ChatIsBroadcastPersistedAndKeptForSnapshots) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  ASSERT_TRUE(room->chat("s1", "hello class").is_ok());
  auto msgs = listener.of("chat_message");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].json.at("text"), "hello class");
  EXPECT_EQ(msgs[0].json.at("from").at("id"), "s1");
  EXPECT_EQ(msgs[0].json.at("from").at("name"), "Name s1");
  EXPECT_EQ(msgs[0].json.at("ts"), clock.now_unix_ms());
  ASSERT_EQ(listener.persisted.size(), 1u);
  EXPECT_EQ(listener.persisted[0].id, std::string(msgs[0].json.at("id").as_string()));
  EXPECT_EQ(listener.persisted[0].session_id, "ses_test");
  EXPECT_TRUE(base::is_valid_id(listener.persisted[0].id, "msg"));
  auto recent = room->snapshot("s1").at("chat").at("recent").as_array();
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].at("text"), "hello class");

  EXPECT_EQ(room->chat("nobody", "hi").reason(), "not_in_room");
  EXPECT_EQ(room->chat("s1", std::string(1001, 'x')).reason(), "message_too_long");
}

TEST_F(RoomFixture, StudentChatIsRateLimitedTeacherIsNot) {
  RoomConfig cfg;
  cfg.chat_burst = 2;
  cfg.chat_per_second = 1;
  reset(cfg);
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  EXPECT_TRUE(room->chat("s1", "1").is_ok());
  EXPECT_TRUE(room->chat("s1", "2").is_ok());
  base::Status limited = room->chat("s1", "3");
  EXPECT_EQ(limited.code(), base::Code::kResourceExhausted);
  EXPECT_EQ(limited.reason(), "rate_limited");
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(room->chat("t1", "announcement").is_ok());
  clock.advance_ms(1000);
  EXPECT_TRUE(room->chat("s1", "4").is_ok());
  EXPECT_FALSE(room->chat("s1", "5").is_ok());
  // Leaving and rejoining does not refill the bucket.
  room->leave("s1");
  join("s1", Role::kStudent);
  EXPECT_EQ(room->chat("s1", "6").reason(), "rate_limited");
}

TEST_F(RoomFixture, MuteAllAndOneStudentAndKeepMuteAcrossRejoin) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  join("s2", Role::kStudent);
  EXPECT_EQ(room->mute("s1", "", true).reason(), "not_teacher");
  ASSERT_TRUE(room->mute("t1", "", true).is_ok());
  auto ev = listener.of("chat_muted");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].json.at("all"), true);
  EXPECT_EQ(ev[0].json.at("muted"), true);
  EXPECT_EQ(room->chat("s1", "hi").reason(), "muted");
  EXPECT_TRUE(room->chat("t1", "quiet please").is_ok());
  EXPECT_EQ(room->snapshot("s1").at("chat").at("muted_all"), true);
  ASSERT_TRUE(room->mute("t1", "", false).is_ok());
  EXPECT_TRUE(room->chat("s1", "hi").is_ok());

  ASSERT_TRUE(room->mute("t1", "s2", true).is_ok());
  EXPECT_EQ(listener.of("chat_muted").back().json.at("user_id"), "s2");
  EXPECT_EQ(room->chat("s2", "hi").reason(), "muted");
  EXPECT_TRUE(room->chat("s1", "still fine").is_ok());
  room->leave("s2");
  join("s2", Role::kStudent);
  EXPECT_EQ(room->chat("s2", "hi").reason(), "muted");
  EXPECT_EQ(room->snapshot("s2").at("chat").at("muted"), true);
  ASSERT_TRUE(room->mute("t1", "s2", false).is_ok());
  EXPECT_TRUE(room->chat("s2", "thanks").is_ok());
  EXPECT_EQ(room->mute("t1", "t1", true).reason(), "invalid_target");
  EXPECT_EQ(room->mute("t1", "ghost", true).reason(), "not_in_room");
}

TEST_F(RoomFixture, TeacherDeletesMessage) {
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  ASSERT_TRUE(room->chat("s1", "spam").is_ok());
  std::string id = listener.persisted.at(0).id;
  EXPECT_EQ(room->delete_chat("s1", id).reason(), "not_teacher");
  ASSERT_TRUE(room->delete_chat("t1", id).is_ok());
  auto del = listener.of("chat_deleted");
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(del[0].json.at("message_id").as_string(), id);
  EXPECT_EQ(listener.deleted, std::vector<std::string>{id});
  EXPECT_TRUE(room->snapshot("s1").at("chat").at("recent").as_array().empty());
}

TEST_F(RoomFixture, SnapshotKeepsOnlyRecentChat) {
  RoomConfig cfg;
  cfg.recent_chat = 3;
  reset(cfg);
  join("t1", Role::kTeacher);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(room->chat("t1", std::to_string(i)).is_ok());
  auto recent = room->snapshot("t1").at("chat").at("recent").as_array();
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[0].at("text"), "2");
  EXPECT_EQ(recent[2].at("text"), "4");
}

}  // namespace
}  // namespace classroom::testing
