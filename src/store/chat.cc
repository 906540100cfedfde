#include "store/chat.h"

#include <sqlite3.h>

#include <algorithm>

#include "store/cursor.h"

namespace store {

namespace {

constexpr const char* kSelect =
    "SELECT id, session_id, user_id, user_name, text, created_at, deleted FROM chat_messages ";

ChatMessage read_message(const Stmt& st) {
  ChatMessage m;
  m.id = st.column_text(0);
  m.session_id = st.column_text(1);
  m.user_id = st.column_text(2);
  m.user_name = st.column_text(3);
  m.text = st.column_text(4);
  m.created_at = st.column_int(5);
  m.deleted = st.column_int(6) != 0;
  return m;
}

base::Status message_not_found(std::string_view id) {
  return base::not_found("chat message " + std::string(id) + " does not exist",
                         "chat_message_not_found");
}

}  // namespace

base::Status insert_chat(Txn& txn, const ChatMessage& m) {
  EC_ASSIGN_OR_RETURN(Stmt st,
                      txn.db().prepare("INSERT INTO chat_messages (id, session_id, user_id, "
                                       "user_name, text, created_at, deleted) "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st.bind_all(m.id, m.session_id, m.user_id, m.user_name, m.text, m.created_at, m.deleted);
  base::Status r = st.run();
  if (r.is_ok()) return r;
  switch (st.last_error_code()) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return base::conflict("chat message " + m.id + " already exists", "already_exists");
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return base::not_found("session " + m.session_id + " does not exist", "session_not_found");
    default:
      return r;
  }
}

base::Result<ChatMessage> get_chat(Db& db, std::string_view id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(std::string(kSelect) + "WHERE id = ?"));
  st.bind_all(id);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return message_not_found(id);
  return read_message(st);
}

base::Result<Page<ChatMessage>> list_chat(Db& db, std::string_view session_id,
                                          std::string_view after, int limit) {
  EC_RETURN_IF_ERROR(check_limit(limit));
  std::optional<CursorKey> key;
  if (!after.empty()) {
    EC_ASSIGN_OR_RETURN(CursorKey k, decode_cursor(after));
    key = std::move(k);
  }
  std::string sql = std::string(kSelect) + "WHERE session_id = ?";
  if (key) sql += " AND (created_at, id) > (?, ?)";
  sql += " ORDER BY created_at, id LIMIT ?";
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(sql));
  int i = 0;
  st.bind(++i, session_id);
  if (key) {
    st.bind(++i, key->time);
    st.bind(++i, key->id);
  }
  st.bind(++i, int64_t(limit) + 1);

  return read_page<ChatMessage>(st, limit, read_message, [](const ChatMessage& last) {
    return CursorKey{last.created_at, last.id};
  });
}

std::string chat_cursor_after(const ChatMessage& message) {
  return encode_cursor({message.created_at, message.id});
}

base::Status delete_chat(Txn& txn, std::string_view id) {
  Db& db = txn.db();
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("UPDATE chat_messages SET deleted = 1 WHERE id = ?"));
  st.bind_all(id);
  EC_RETURN_IF_ERROR(st.run());
  if (db.changes() == 0) return message_not_found(id);
  return base::Status::ok();
}

base::Result<std::vector<ChatMessage>> recent_chat(Db& db, std::string_view session_id, int limit) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, db.prepare(std::string(kSelect) + "WHERE session_id = ? AND deleted = 0 "
                                                 "ORDER BY created_at DESC, id DESC LIMIT ?"));
  st.bind_all(session_id, int64_t(limit));
  EC_ASSIGN_OR_RETURN(std::vector<ChatMessage> out, st.collect(read_message));
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace store
