// Repository for attendance: who was in a session's live room and when. The live room
// (ws::RoomHost, told by classroom::Room) opens a visit at a user's first connection and
// closes it at its last, so one user may have several visits in one session.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/db.h"
#include "store/txn.h"

namespace store {

struct Visit {
  std::string session_id;
  std::string user_id;
  std::string user_name;
  std::string role;  // "student" | "teacher" (admins are recorded as teachers, as in the room)
  int64_t joined_at = 0;
  std::optional<int64_t> left_at;  // nullopt: still in the room (or the server stopped)
};

// Opens a visit. NotFound ("session_not_found") when the session does not exist.
base::Status open_visit(Txn& txn, const Visit& visit);

// Closes the user's open visit(s) in the session at `left_at` (no-op when none is open).
base::Status close_visit(Txn& txn, std::string_view session_id, std::string_view user_id,
                         int64_t left_at);

// Closes every open visit of the session at `left_at`: a room being rebuilt after a restart
// has nobody in it, so visits the old room left open end no later than now.
base::Status close_open_visits(Txn& txn, std::string_view session_id, int64_t left_at);

// The session's visits in (user_id, joined_at) order.
base::Result<std::vector<Visit>> list_visits(Db& db, std::string_view session_id);

// For every session of the course: how many distinct students visited it.
base::Result<std::map<std::string, int64_t>> attendance_counts(Db& db, std::string_view course_id);

}  // namespace store
