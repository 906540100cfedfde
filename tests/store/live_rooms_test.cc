#include "store/live_rooms.h"

#include <gtest/gtest.h>

#include "fixtures.h"
#include "store/chat.h"
#include "test_util.h"

namespace store {
namespace {

using testing::course_row;
using testing::session_row;

using LiveRoomsTest = testing::TwoCoursesTest;

TEST_F(LiveRoomsTest, NothingStoredReadsAsDefaults) {
  auto st = get_live_room(db(), "ses_1");
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  EXPECT_FALSE(st->chat_muted_all);
  EXPECT_TRUE(st->stage_user.empty());
  EXPECT_TRUE(st->muted.empty());
  EXPECT_TRUE(st->removed.empty());
}

TEST_F(LiveRoomsTest, WritesAreUpsertsPerSessionAndUser) {
  ASSERT_OK(write([](Txn& t) -> base::Status {
    EC_RETURN_IF_ERROR(set_chat_muted_all(t, "ses_1", true, 10));
    EC_RETURN_IF_ERROR(set_stage(t, "ses_1", "usr_a", "Ana", 11));
    EC_RETURN_IF_ERROR(set_member_muted(t, "ses_1", "usr_b", true, 12));
    EC_RETURN_IF_ERROR(set_member_muted(t, "ses_1", "usr_c", true, 12));
    EC_RETURN_IF_ERROR(set_member_muted(t, "ses_1", "usr_c", false, 13));
    EC_RETURN_IF_ERROR(set_member_removed(t, "ses_1", "usr_b", 14));
    EC_RETURN_IF_ERROR(set_member_removed(t, "ses_1", "usr_d", 14));
    return set_member_muted(t, "ses_2", "usr_e", true, 15);  // another session
  }));
  auto st = get_live_room(db(), "ses_1");
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  EXPECT_TRUE(st->chat_muted_all);
  EXPECT_EQ(st->stage_user, "usr_a");
  EXPECT_EQ(st->stage_name, "Ana");
  EXPECT_EQ(st->muted, std::vector<std::string>{"usr_b"});
  EXPECT_EQ(st->removed, (std::vector<std::string>{"usr_b", "usr_d"}));
  // Stage given up, chat unmuted: the stage setting leaves the mute alone and vice versa.
  ASSERT_OK(write([](Txn& t) -> base::Status {
    EC_RETURN_IF_ERROR(set_stage(t, "ses_1", "", "ignored", 20));
    return set_chat_muted_all(t, "ses_1", false, 21);
  }));
  st = get_live_room(db(), "ses_1");
  ASSERT_TRUE(st.is_ok());
  EXPECT_FALSE(st->chat_muted_all);
  EXPECT_TRUE(st->stage_user.empty());
  EXPECT_TRUE(st->stage_name.empty());
  EXPECT_EQ(st->muted, std::vector<std::string>{"usr_b"});
}

TEST_F(LiveRoomsTest, UnknownSessionIsNotFound) {
  base::Status st = write([](Txn& t) { return set_member_muted(t, "ses_nope", "usr_a", true, 1); });
  EXPECT_EQ(st.code(), base::Code::kNotFound);
  EXPECT_EQ(st.reason(), "session_not_found");
}

TEST_F(LiveRoomsTest, RecentChatIsTheNewestUndeletedOldestFirst) {
  ASSERT_OK(write([](Txn& t) -> base::Status {
    for (int i = 1; i <= 5; ++i) {
      EC_RETURN_IF_ERROR(
          insert_chat(t, ChatMessage{"msg_" + std::to_string(i), "ses_1", "usr_a", "A",
                                     "m" + std::to_string(i), int64_t(i), false}));
    }
    EC_RETURN_IF_ERROR(
        insert_chat(t, ChatMessage{"msg_x", "ses_2", "usr_a", "A", "other", 9, false}));
    return delete_chat(t, "msg_5");
  }));
  auto got = recent_chat(db(), "ses_1", 3);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].id, "msg_2");
  EXPECT_EQ((*got)[1].id, "msg_3");
  EXPECT_EQ((*got)[2].id, "msg_4");
}

}  // namespace
}  // namespace store
