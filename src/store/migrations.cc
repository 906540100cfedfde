#include "store/migrations.h"

#include <string>
#include <string_view>

namespace store {

namespace {

// The schema, one step per version. Append only: never edit a step that has shipped.
//
// Foreign keys (foreign_keys=ON on every connection) stop orphans such as an answer to a
// quiz that does not exist; the repositories turn those violations into NotFound.
constexpr std::string_view kSteps[] = {
    // 1: the classroom's tables.
    R"sql(
CREATE TABLE courses (
  id           TEXT PRIMARY KEY NOT NULL,
  title        TEXT NOT NULL,
  description  TEXT NOT NULL DEFAULT '',
  teacher_id   TEXT NOT NULL,
  teacher_name TEXT NOT NULL DEFAULT '',
  status       TEXT NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
  capacity     INTEGER NOT NULL CHECK (capacity >= 0),
  -- Kept in step with enrollments by insert_enrollment/delete_enrollment, so a join can
  -- check capacity by reading one row.
  enrolled     INTEGER NOT NULL DEFAULT 0 CHECK (enrolled >= 0),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX courses_by_created ON courses (created_at, id);
CREATE INDEX courses_by_status ON courses (status, created_at, id);
CREATE INDEX courses_by_teacher ON courses (teacher_id, created_at, id);

CREATE TABLE enrollments (
  course_id    TEXT NOT NULL REFERENCES courses (id),
  student_id   TEXT NOT NULL,
  student_name TEXT NOT NULL DEFAULT '',
  joined_at    INTEGER NOT NULL,
  PRIMARY KEY (course_id, student_id)
) WITHOUT ROWID;
CREATE INDEX enrollments_by_joined ON enrollments (course_id, joined_at, student_id);
CREATE INDEX enrollments_by_student ON enrollments (student_id, joined_at);

CREATE TABLE sessions (
  id         TEXT PRIMARY KEY NOT NULL,
  course_id  TEXT NOT NULL REFERENCES courses (id),
  teacher_id TEXT NOT NULL,
  title      TEXT NOT NULL DEFAULT '',
  status     TEXT NOT NULL CHECK (status IN ('live', 'ended')),
  started_at INTEGER NOT NULL,
  ended_at   INTEGER
);
CREATE INDEX sessions_by_course ON sessions (course_id, started_at, id);
-- At most one live session per course.
CREATE UNIQUE INDEX sessions_one_live ON sessions (course_id) WHERE status = 'live';

CREATE TABLE quizzes (
  id            TEXT PRIMARY KEY NOT NULL,
  session_id    TEXT NOT NULL REFERENCES sessions (id),
  course_id     TEXT NOT NULL REFERENCES courses (id),
  title         TEXT NOT NULL DEFAULT '',
  status        TEXT NOT NULL CHECK (status IN ('draft', 'published', 'closed')),
  questions     TEXT NOT NULL DEFAULT '[]',  -- JSON
  time_limit_ms INTEGER NOT NULL DEFAULT 0,
  published_at  INTEGER,
  deadline_at   INTEGER,
  closed_at     INTEGER,
  created_at    INTEGER NOT NULL
);
CREATE INDEX quizzes_by_session ON quizzes (session_id, created_at, id);

CREATE TABLE answers (
  quiz_id     TEXT NOT NULL REFERENCES quizzes (id),
  student_id  TEXT NOT NULL,
  question    INTEGER NOT NULL CHECK (question >= 0),
  choice      TEXT NOT NULL,  -- JSON array of option indices, sorted
  correct     INTEGER NOT NULL DEFAULT 0,
  answered_at INTEGER NOT NULL,
  PRIMARY KEY (quiz_id, student_id, question)
) WITHOUT ROWID;

CREATE TABLE chat_messages (
  id         TEXT PRIMARY KEY NOT NULL,
  session_id TEXT NOT NULL REFERENCES sessions (id),
  user_id    TEXT NOT NULL,
  user_name  TEXT NOT NULL DEFAULT '',
  text       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chat_by_session ON chat_messages (session_id, created_at, id);
)sql",
    // 2: live-room state that must survive a restart (store/live_rooms.h): chat muted for
    // everyone and the student on stage, per session; per-user mutes and removals.
    R"sql(
CREATE TABLE live_rooms (
  session_id     TEXT PRIMARY KEY NOT NULL REFERENCES sessions (id),
  chat_muted_all INTEGER NOT NULL DEFAULT 0,
  stage_user     TEXT NOT NULL DEFAULT '',  -- '' : nobody on stage
  stage_name     TEXT NOT NULL DEFAULT '',
  updated_at     INTEGER NOT NULL
);

CREATE TABLE live_room_members (
  session_id TEXT NOT NULL REFERENCES sessions (id),
  user_id    TEXT NOT NULL,
  muted      INTEGER NOT NULL DEFAULT 0,
  removed    INTEGER NOT NULL DEFAULT 0,  -- removed by the teacher for the rest of the session
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, user_id)
) WITHOUT ROWID;
)sql",
    // 3: what a teacher needs every day. A course's class code (store/join_codes.h): NULL for
    // courses made before this step until the teacher rotates it; unique when set. Attendance
    // (store/attendance.h): one row per visit to a live room, from a user's first connection
    // to its last; left_at stays NULL while the user is in the room.
    R"sql(
ALTER TABLE courses ADD COLUMN join_code TEXT;
CREATE UNIQUE INDEX courses_by_join_code ON courses (join_code) WHERE join_code IS NOT NULL;

CREATE TABLE attendance (
  id         INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id),
  user_id    TEXT NOT NULL,
  user_name  TEXT NOT NULL DEFAULT '',
  role       TEXT NOT NULL CHECK (role IN ('student', 'teacher')),
  joined_at  INTEGER NOT NULL,
  left_at    INTEGER
);
CREATE INDEX attendance_by_session ON attendance (session_id, user_id, joined_at);

-- The gradebook reads a course's quizzes across its sessions.
CREATE INDEX quizzes_by_course ON quizzes (course_id, published_at);
)sql",
};

constexpr int kLatest = int(sizeof kSteps / sizeof kSteps[0]);

base::Status ensure_table(Db& db) {
  return db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY NOT NULL,"
      " applied_at INTEGER NOT NULL)");
}

// The header's copy of the version (see migrate()); in the caller's transaction if any.
base::Status set_user_version(Db& db, int version) {
  return db.exec("PRAGMA user_version=" + std::to_string(version));
}

base::Result<int> user_version(Db& db) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("PRAGMA user_version"));
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? int(st.column_int(0)) : 0;
}

base::Status apply(Db& db, int version, int64_t now_ms) {
  EC_ASSIGN_OR_RETURN(int current, schema_version(db));  // re-read under the write lock
  if (current >= version) return base::Status::ok();     // another process got here first
  EC_RETURN_IF_ERROR(db.exec(kSteps[version - 1]));
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("INSERT INTO schema_migrations (version, applied_at) "
                                          "VALUES (?, ?)"));
  st.bind_all(int64_t(version), now_ms);
  EC_RETURN_IF_ERROR(st.run());
  return set_user_version(db, version);
}

}  // namespace

int latest_schema_version() { return kLatest; }

base::Result<int> schema_version(Db& db) {
  EC_ASSIGN_OR_RETURN(Stmt exists, db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                              "AND name = 'schema_migrations'"));
  EC_ASSIGN_OR_RETURN(bool has_table, exists.step());
  if (!has_table) return 0;
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT COALESCE(MAX(version), 0) "
                                          "FROM schema_migrations"));
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? int(st.column_int(0)) : 0;
}

base::Status migrate(Db& db, const base::Clock& clock) {
  if (db.read_only()) {
    return base::internal_error("cannot migrate " + db.path() + " through a read-only connection");
  }
  // Up to date: the header's user_version, which every step sets with its schema_migrations
  // row, says so without reading the schema (what a cold start would otherwise spend most of
  // its database time on). A database migrated before the header held the version gets it
  // below; any other value takes the full path.
  EC_ASSIGN_OR_RETURN(int header_version, user_version(db));
  if (header_version == kLatest) return base::Status::ok();
  EC_RETURN_IF_ERROR(ensure_table(db));
  EC_ASSIGN_OR_RETURN(int current, schema_version(db));
  if (current > kLatest) {
    return base::failed_precondition("database " + db.path() + " is at schema version " +
                                         std::to_string(current) +
                                         " but this binary only knows up to " +
                                         std::to_string(kLatest) + "; run a newer edgeclass",
                                     "schema_too_new");
  }
  for (int v = current + 1; v <= kLatest; ++v) {
    EC_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
    base::Status st = apply(db, v, clock.now_unix_ms());
    if (st.is_ok()) st = db.exec("COMMIT");
    if (!st.is_ok()) {
      if (!db.autocommit()) (void)db.exec("ROLLBACK");
      return base::Status(st.code(),
                          "applying schema migration " + std::to_string(v) + ": " + st.message(),
                          std::string(st.reason()));
    }
  }
  if (current == kLatest && header_version != kLatest) return set_user_version(db, kLatest);
  return base::Status::ok();
}

}  // namespace store
