// Repository for the live-room state that survives a restart: whether chat is muted for every
// student, who holds the stage, and per user whether it is muted or removed from the session.
// The room (ws::RoomHost) writes it as the teacher moderates and reads it back when the room
// is rebuilt (first connection, or after a restart).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/db.h"
#include "store/txn.h"

namespace store {

struct LiveRoomState {
  bool chat_muted_all = false;
  std::string stage_user;  // empty: nobody on stage
  std::string stage_name;
  std::vector<std::string> muted;    // students muted one by one, by user id
  std::vector<std::string> removed;  // students removed for the rest of the session
};

// The session's stored room state; all defaults when nothing was stored.
base::Result<LiveRoomState> get_live_room(Db& db, std::string_view session_id);

// Each write upserts the session's row. NotFound ("session_not_found") when the session does
// not exist.
base::Status set_chat_muted_all(Txn& txn, std::string_view session_id, bool muted, int64_t now);
// `user_id` empty: nobody on stage.
base::Status set_stage(Txn& txn, std::string_view session_id, std::string_view user_id,
                       std::string_view name, int64_t now);
base::Status set_member_muted(Txn& txn, std::string_view session_id, std::string_view user_id,
                              bool muted, int64_t now);
base::Status set_member_removed(Txn& txn, std::string_view session_id, std::string_view user_id,
                                int64_t now);

}  // namespace store
