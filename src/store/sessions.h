// Repository for live sessions. At most one session per course is live at a time; the
// database enforces it with a partial unique index.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/db.h"
#include "store/model.h"
#include "store/txn.h"

namespace store {

// Inserts a session (normally status kLive). FailedPrecondition ("session_already_live")
// when the course already has a live session; NotFound ("course_not_found") when the course
// does not exist; Conflict ("already_exists") when the id is taken.
base::Status insert_session(Txn& txn, const Session& session);

// NotFound ("session_not_found") when there is no such session.
base::Result<Session> get_session(Db& db, std::string_view id);

// The course's live session, or nullopt when none is live (not an error).
base::Result<std::optional<Session>> live_session_for_course(Db& db, std::string_view course_id);

// Every session of the course, oldest first (started_at, id).
base::Result<std::vector<Session>> list_sessions(Db& db, std::string_view course_id);

// Marks a live session ended at `ended_at`. NotFound ("session_not_found");
// FailedPrecondition ("session_ended") when it has already ended.
base::Status end_session(Txn& txn, std::string_view id, int64_t ended_at);

}  // namespace store
