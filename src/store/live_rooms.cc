#include "store/live_rooms.h"

#include <sqlite3.h>

namespace store {

namespace {

base::Status map_error(const Stmt& st, base::Status r, std::string_view session_id) {
  if (st.last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return base::not_found("session " + std::string(session_id) + " does not exist",
                           "session_not_found");
  }
  return r;
}

}  // namespace

base::Result<LiveRoomState> get_live_room(Db& db, std::string_view session_id) {
  LiveRoomState out;
  {
    EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT chat_muted_all, stage_user, stage_name "
                                            "FROM live_rooms WHERE session_id = ?"));
    st.bind_all(session_id);
    EC_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) {
      out.chat_muted_all = st.column_int(0) != 0;
      out.stage_user = st.column_text(1);
      out.stage_name = st.column_text(2);
    }
  }
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT user_id, muted, removed FROM live_room_members "
                                          "WHERE session_id = ? ORDER BY user_id"));
  st.bind_all(session_id);
  EC_RETURN_IF_ERROR(st.each_row([&](const Stmt& row) {
    std::string user = row.column_text(0);
    if (row.column_int(1) != 0) out.muted.push_back(user);
    if (row.column_int(2) != 0) out.removed.push_back(std::move(user));
  }));
  return out;
}

base::Status set_chat_muted_all(Txn& txn, std::string_view session_id, bool muted, int64_t now) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, txn.db().prepare("INSERT INTO live_rooms (session_id, chat_muted_all, updated_at) "
                                "VALUES (?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET "
                                "chat_muted_all = excluded.chat_muted_all, "
                                "updated_at = excluded.updated_at"));
  st.bind_all(session_id, muted, now);
  return map_error(st, st.run(), session_id);
}

base::Status set_stage(Txn& txn, std::string_view session_id, std::string_view user_id,
                       std::string_view name, int64_t now) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, txn.db().prepare("INSERT INTO live_rooms (session_id, stage_user, stage_name, "
                                "updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (session_id) DO "
                                "UPDATE SET stage_user = excluded.stage_user, stage_name = "
                                "excluded.stage_name, updated_at = excluded.updated_at"));
  st.bind_all(session_id, user_id, user_id.empty() ? std::string_view() : name, now);
  return map_error(st, st.run(), session_id);
}

base::Status set_member_muted(Txn& txn, std::string_view session_id, std::string_view user_id,
                              bool muted, int64_t now) {
  EC_ASSIGN_OR_RETURN(Stmt st,
                      txn.db().prepare("INSERT INTO live_room_members (session_id, user_id, muted, "
                                       "updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (session_id, "
                                       "user_id) DO UPDATE SET muted = excluded.muted, "
                                       "updated_at = excluded.updated_at"));
  st.bind_all(session_id, user_id, muted, now);
  return map_error(st, st.run(), session_id);
}

base::Status set_member_removed(Txn& txn, std::string_view session_id, std::string_view user_id,
                                int64_t now) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, txn.db().prepare("INSERT INTO live_room_members (session_id, user_id, removed, "
                                "updated_at) VALUES (?, ?, 1, ?) ON CONFLICT (session_id, "
                                "user_id) DO UPDATE SET removed = 1, "
                                "updated_at = excluded.updated_at"));
  st.bind_all(session_id, user_id, now);
  return map_error(st, st.run(), session_id);
}

}  // namespace store
