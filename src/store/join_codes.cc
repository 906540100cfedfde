#include "store/join_codes.h"

#include <sqlite3.h>

namespace store {

base::Result<std::optional<std::string>> get_join_code(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT join_code FROM courses WHERE id = ?"));
  st.bind_all(course_id);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) {
    return base::not_found("course " + std::string(course_id) + " does not exist",
                           "course_not_found");
  }
  if (st.column_is_null(0)) return std::optional<std::string>();
  return std::optional<std::string>(st.column_text(0));
}

base::Result<std::optional<std::string>> course_for_join_code(Db& db, std::string_view code) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT id FROM courses WHERE join_code = ?"));
  st.bind_all(code);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.column_text(0));
}

base::Status set_join_code(Txn& txn, std::string_view course_id, std::string_view code) {
  EC_ASSIGN_OR_RETURN(Stmt st, txn.db().prepare("UPDATE courses SET join_code = ? WHERE id = ?"));
  st.bind_all(code, course_id);
  base::Status s = st.run();
  if (!s.is_ok() && st.last_error_code() == SQLITE_CONSTRAINT_UNIQUE) {
    return base::conflict("another course already has this code", "join_code_taken");
  }
  if (!s.is_ok()) return s;
  if (txn.db().changes() == 0) {
    return base::not_found("course " + std::string(course_id) + " does not exist",
                           "course_not_found");
  }
  return base::Status::ok();
}

}  // namespace store
