#include "store/chat.h"

#include <gtest/gtest.h>

#include "fixtures.h"
#include "test_util.h"

namespace store {
namespace {

using testing::course_row;
using testing::session_row;

class ChatTest : public testing::TwoCoursesTest {
 protected:
  static ChatMessage msg(const std::string& id, const std::string& session, int64_t at) {
    return ChatMessage{id, session, "usr_a", "Alice", "hello " + id, at, false};
  }
  base::Status add(const ChatMessage& m) {
    return write([&](Txn& t) { return insert_chat(t, m); });
  }
};

TEST_F(ChatTest, InsertGetDelete) {
  ASSERT_OK(add(msg("msg_1", "ses_1", 10)));
  auto got = get_chat(db(), "msg_1");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(got->session_id, "ses_1");
  EXPECT_EQ(got->user_id, "usr_a");
  EXPECT_EQ(got->user_name, "Alice");
  EXPECT_EQ(got->text, "hello msg_1");
  EXPECT_EQ(got->created_at, 10);
  EXPECT_FALSE(got->deleted);
  ASSERT_OK(write([](Txn& t) { return delete_chat(t, "msg_1"); }));
  EXPECT_TRUE(get_chat(db(), "msg_1")->deleted);
  ASSERT_OK(write([](Txn& t) { return delete_chat(t, "msg_1"); }));  // twice is fine
  EXPECT_EQ(write([](Txn& t) { return delete_chat(t, "msg_x"); }).reason(),
            "chat_message_not_found");
  EXPECT_EQ(get_chat(db(), "msg_x").status().code(), base::Code::kNotFound);
}

TEST_F(ChatTest, InsertErrors) {
  ASSERT_OK(add(msg("msg_1", "ses_1", 10)));
  EXPECT_EQ(add(msg("msg_1", "ses_1", 11)).reason(), "already_exists");
  EXPECT_EQ(add(msg("msg_2", "ses_none", 11)).reason(), "session_not_found");
}

TEST_F(ChatTest, TextIsStoredVerbatim) {
  ChatMessage m = msg("msg_1", "ses_1", 1);
  m.text = std::string("quote ' dq \" nul-free ünïcödé 🎓 ") + std::string(5000, 'x');
  ASSERT_OK(add(m));
  EXPECT_EQ(get_chat(db(), "msg_1")->text, m.text);
}

TEST_F(ChatTest, ListPagesInOrderAndPollsAfterLastMessage) {
  for (int i = 0; i < 9; ++i) {
    ASSERT_OK(add(msg("msg_" + std::to_string(9 - i), "ses_1", 100 + i / 2)));
  }
  ASSERT_OK(add(msg("msg_other", "ses_2", 100)));
  ASSERT_OK(write([](Txn& t) { return delete_chat(t, "msg_5"); }));

  std::vector<ChatMessage> all;
  std::string cursor;
  do {
    auto page = list_chat(db(), "ses_1", cursor, 4);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    for (auto& m : page->items) all.push_back(m);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  ASSERT_EQ(all.size(), 9u);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_TRUE(all[i - 1].created_at < all[i].created_at ||
                (all[i - 1].created_at == all[i].created_at && all[i - 1].id < all[i].id));
  }
  int deleted = 0;
  for (auto& m : all) deleted += m.deleted ? 1 : 0;
  EXPECT_EQ(deleted, 1);

  // Poll from the newest message: nothing yet, then exactly the new one.
  std::string after = chat_cursor_after(all.back());
  auto empty = list_chat(db(), "ses_1", after, 10);
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->items.empty());
  ASSERT_OK(add(msg("msg_new", "ses_1", 500)));
  auto fresh = list_chat(db(), "ses_1", after, 10);
  ASSERT_TRUE(fresh.is_ok());
  ASSERT_EQ(fresh->items.size(), 1u);
  EXPECT_EQ(fresh->items[0].id, "msg_new");
}

TEST_F(ChatTest, BadCursorAndLimit) {
  EXPECT_EQ(list_chat(db(), "ses_1", "garbage!", 10).status().reason(), "invalid_cursor");
  EXPECT_EQ(list_chat(db(), "ses_1", "", 0).status().code(), base::Code::kInvalidArgument);
}

}  // namespace
}  // namespace store
