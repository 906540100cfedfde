#include "store/attendance.h"

#include <sqlite3.h>

namespace store {

base::Status open_visit(Txn& txn, const Visit& v) {
  EC_ASSIGN_OR_RETURN(
      Stmt st, txn.db().prepare("INSERT INTO attendance (session_id, user_id, user_name, role, "
                                "joined_at, left_at) VALUES (?, ?, ?, ?, ?, ?)"));
  st.bind_all(v.session_id, v.user_id, v.user_name, v.role, v.joined_at, v.left_at);
  base::Status s = st.run();
  if (!s.is_ok() && st.last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return base::not_found("session " + v.session_id + " does not exist", "session_not_found");
  }
  return s;
}

base::Status close_visit(Txn& txn, std::string_view session_id, std::string_view user_id,
                         int64_t left_at) {
  EC_ASSIGN_OR_RETURN(Stmt st,
                      txn.db().prepare("UPDATE attendance SET left_at = MAX(?, joined_at) WHERE "
                                       "session_id = ? AND user_id = ? AND left_at IS NULL"));
  st.bind_all(left_at, session_id, user_id);
  return st.run();
}

base::Status close_open_visits(Txn& txn, std::string_view session_id, int64_t left_at) {
  EC_ASSIGN_OR_RETURN(Stmt st, txn.db().prepare("UPDATE attendance SET left_at = MAX(?, joined_at) "
                                                "WHERE session_id = ? AND left_at IS NULL"));
  st.bind_all(left_at, session_id);
  return st.run();
}

base::Result<std::vector<Visit>> list_visits(Db& db, std::string_view session_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT session_id, user_id, user_name, role, joined_at, "
                                          "left_at FROM attendance WHERE session_id = ? "
                                          "ORDER BY user_id, joined_at, id"));
  st.bind_all(session_id);
  return st.collect([](const Stmt& row) {
    return Visit{row.column_text(0), row.column_text(1), row.column_text(2), row.column_text(3),
                 row.column_int(4),  row.column_opt_int(5)};
  });
}

base::Result<std::map<std::string, int64_t>> attendance_counts(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(Stmt st,
                      db.prepare("SELECT a.session_id, COUNT(DISTINCT a.user_id) FROM attendance a "
                                 "JOIN sessions s ON s.id = a.session_id WHERE s.course_id = ? AND "
                                 "a.role = 'student' GROUP BY a.session_id"));
  st.bind_all(course_id);
  std::map<std::string, int64_t> out;
  EC_RETURN_IF_ERROR(st.each_row([&](const Stmt& row) { out[row.column_text(0)] = row.column_int(1); }));
  return out;
}

}  // namespace store
