#include "store/sessions.h"

#include <sqlite3.h>

namespace store {

namespace {

constexpr const char* kSelect =
    "SELECT id, course_id, teacher_id, title, status, started_at, ended_at FROM sessions ";

Session read_session(const Stmt& st) {
  Session s;
  s.id = st.column_text(0);
  s.course_id = st.column_text(1);
  s.teacher_id = st.column_text(2);
  s.title = st.column_text(3);
  s.status = parse_session_status(st.column_text(4)).value_or(SessionStatus::kEnded);
  s.started_at = st.column_int(5);
  s.ended_at = st.column_opt_int(6);
  return s;
}

base::Status session_not_found(std::string_view id) {
  return base::not_found("session " + std::string(id) + " does not exist", "session_not_found");
}

}  // namespace

base::Status insert_session(Txn& txn, const Session& s) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, txn.db().prepare("INSERT INTO sessions (id, course_id, teacher_id, title, "
                                "status, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st.bind_all(s.id, s.course_id, s.teacher_id, s.title, to_string(s.status), s.started_at,
              s.ended_at);
  base::Status r = st.run();
  if (r.is_ok()) return r;
  switch (st.last_error_code()) {
    case SQLITE_CONSTRAINT_UNIQUE:  // sessions_one_live
      return base::failed_precondition(
          "course " + s.course_id + " already has a live session; end it first",
          "session_already_live");
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return base::conflict("session " + s.id + " already exists", "already_exists");
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return base::not_found("course " + s.course_id + " does not exist", "course_not_found");
    default:
      return r;
  }
}

base::Result<Session> get_session(Db& db, std::string_view id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(std::string(kSelect) + "WHERE id = ?"));
  st.bind_all(id);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return session_not_found(id);
  return read_session(st);
}

base::Result<std::optional<Session>> live_session_for_course(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(Stmt st,
                      db.prepare(std::string(kSelect) + "WHERE course_id = ? AND status = 'live'"));
  st.bind_all(course_id);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<Session>();
  return std::optional<Session>(read_session(st));
}

base::Result<std::vector<Session>> list_sessions(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, db.prepare(std::string(kSelect) + "WHERE course_id = ? ORDER BY started_at, id"));
  st.bind_all(course_id);
  return st.collect(read_session);
}

base::Status end_session(Txn& txn, std::string_view id, int64_t ended_at) {
  Db& db = txn.db();
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("UPDATE sessions SET status = 'ended', ended_at = ? "
                                          "WHERE id = ? AND status = 'live'"));
  st.bind_all(ended_at, id);
  EC_RETURN_IF_ERROR(st.run());
  if (db.changes() == 1) return base::Status::ok();
  // Nothing changed: tell "no such session" from "already ended".
  EC_ASSIGN_OR_RETURN(Session s, get_session(db, id));
  return base::failed_precondition("session " + s.id + " has already ended", "session_ended");
}

}  // namespace store
