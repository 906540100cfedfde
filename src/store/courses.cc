#include "store/courses.h"

#include <sqlite3.h>

#include "store/cursor.h"

namespace store {

namespace {

constexpr std::string_view kCourseColumns =
    "id, title, description, teacher_id, teacher_name, status, capacity, enrolled, created_at, "
    "updated_at";

Course read_course(const Stmt& st) {
  Course c;
  c.id = st.column_text(0);
  c.title = st.column_text(1);
  c.description = st.column_text(2);
  c.teacher_id = st.column_text(3);
  c.teacher_name = st.column_text(4);
  c.status = parse_course_status(st.column_text(5)).value_or(CourseStatus::kDraft);
  c.capacity = st.column_int(6);
  c.enrolled = st.column_int(7);
  c.created_at = st.column_int(8);
  c.updated_at = st.column_int(9);
  return c;
}

Enrollment read_enrollment(const Stmt& st) {
  Enrollment e;
  e.course_id = st.column_text(0);
  e.student_id = st.column_text(1);
  e.student_name = st.column_text(2);
  e.joined_at = st.column_int(3);
  return e;
}

base::Status course_not_found(std::string_view id) {
  return base::not_found("course " + std::string(id) + " does not exist", "course_not_found");
}

// Runs `st` and maps a FOREIGN KEY failure to "course not found".
base::Status run_with_course_fk(Stmt& st, std::string_view course_id) {
  base::Status s = st.run();
  if (!s.is_ok() && st.last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return course_not_found(course_id);
  }
  return s;
}

}  // namespace

base::Status insert_course(Txn& txn, const Course& c) {
  EC_ASSIGN_OR_RETURN(Stmt st,
                      txn.db().prepare("INSERT INTO courses (id, title, description, teacher_id, "
                                       "teacher_name, status, capacity, enrolled, created_at, "
                                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"));
  st.bind_all(c.id, c.title, c.description, c.teacher_id, c.teacher_name, to_string(c.status),
              c.capacity, c.created_at, c.updated_at);
  base::Status s = st.run();
  if (!s.is_ok() && st.last_error_code() == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return base::conflict("course " + c.id + " already exists", "already_exists");
  }
  return s;
}

base::Result<Course> get_course(Db& db, std::string_view id) {
  static const std::string sql =
      "SELECT " + std::string(kCourseColumns) + " FROM courses WHERE id = ?";
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(sql));
  st.bind_all(id);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return course_not_found(id);
  return read_course(st);
}

base::Result<Page<Course>> list_courses(Db& db, const CourseFilter& filter, std::string_view cursor,
                                        int limit) {
  EC_RETURN_IF_ERROR(check_limit(limit));
  std::optional<CursorKey> after;
  if (!cursor.empty()) {
    EC_ASSIGN_OR_RETURN(CursorKey key, decode_cursor(cursor));
    after = std::move(key);
  }
  // Four shapes of one query; each is cached by its text. The row-value comparison walks
  // the matching (…, created_at, id) index from the cursor on.
  std::string sql = "SELECT " + std::string(kCourseColumns) + " FROM courses WHERE 1";
  if (filter.status) sql += " AND status = ?";
  if (filter.teacher_id) sql += " AND teacher_id = ?";
  if (after) sql += " AND (created_at, id) > (?, ?)";
  sql += " ORDER BY created_at, id LIMIT ?";
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(sql));
  int i = 0;
  if (filter.status) st.bind(++i, to_string(*filter.status));
  if (filter.teacher_id) st.bind(++i, *filter.teacher_id);
  if (after) {
    st.bind(++i, after->time);
    st.bind(++i, after->id);
  }
  st.bind(++i, int64_t(limit) + 1);  // one extra row tells whether another page exists

  return read_page<Course>(st, limit, read_course, [](const Course& last) {
    return CursorKey{last.created_at, last.id};
  });
}

base::Status update_course(Txn& txn, const Course& c) {
  EC_ASSIGN_OR_RETURN(Stmt st,
                      txn.db().prepare("UPDATE courses SET title = ?, description = ?, "
                                       "teacher_name = ?, status = ?, capacity = ?, updated_at = ? "
                                       "WHERE id = ?"));
  st.bind_all(c.title, c.description, c.teacher_name, to_string(c.status), c.capacity, c.updated_at,
              c.id);
  EC_RETURN_IF_ERROR(st.run());
  if (txn.db().changes() == 0) return course_not_found(c.id);
  return base::Status::ok();
}

base::Result<bool> insert_enrollment(Txn& txn, const Enrollment& e) {
  Db& db = txn.db();
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("INSERT INTO enrollments (course_id, student_id, "
                                          "student_name, joined_at) VALUES (?, ?, ?, ?) "
                                          "ON CONFLICT DO NOTHING"));
  st.bind_all(e.course_id, e.student_id, e.student_name, e.joined_at);
  EC_RETURN_IF_ERROR(run_with_course_fk(st, e.course_id));
  if (db.changes() == 0) return false;
  EC_ASSIGN_OR_RETURN(Stmt bump,
                      db.prepare("UPDATE courses SET enrolled = enrolled + 1 WHERE id = ?"));
  bump.bind_all(e.course_id);
  EC_RETURN_IF_ERROR(bump.run());
  return true;
}

base::Result<bool> delete_enrollment(Txn& txn, std::string_view course_id,
                                     std::string_view student_id) {
  Db& db = txn.db();
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("DELETE FROM enrollments WHERE course_id = ? AND "
                                          "student_id = ?"));
  st.bind_all(course_id, student_id);
  EC_RETURN_IF_ERROR(st.run());
  if (db.changes() == 0) return false;
  EC_ASSIGN_OR_RETURN(Stmt drop, db.prepare("UPDATE courses SET enrolled = enrolled - 1 "
                                            "WHERE id = ? AND enrolled > 0"));
  drop.bind_all(course_id);
  EC_RETURN_IF_ERROR(drop.run());
  return true;
}

base::Result<bool> is_enrolled(Db& db, std::string_view course_id, std::string_view student_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT 1 FROM enrollments WHERE course_id = ? AND "
                                          "student_id = ?"));
  st.bind_all(course_id, student_id);
  return st.step();
}

base::Result<Enrollment> get_enrollment(Db& db, std::string_view course_id,
                                        std::string_view student_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT course_id, student_id, student_name, "
                                          "joined_at FROM enrollments WHERE course_id = ? AND "
                                          "student_id = ?"));
  st.bind_all(course_id, student_id);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) {
    return base::not_found("student " + std::string(student_id) + " is not enrolled in course " +
                               std::string(course_id),
                           "enrollment_not_found");
  }
  return read_enrollment(st);
}

base::Result<int64_t> count_enrollments(Db& db, std::string_view course_id) {
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT COUNT(*) FROM enrollments WHERE course_id = ?"));
  st.bind_all(course_id);
  EC_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.column_int(0) : int64_t(0);
}

base::Result<std::vector<std::string>> enrolled_student_ids(Db& db, std::string_view course_id,
                                                            int64_t limit) {
  if (limit <= 0) return std::vector<std::string>{};
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT student_id FROM enrollments WHERE course_id = ? "
                                          "ORDER BY joined_at, student_id LIMIT ?"));
  st.bind_all(course_id, limit);
  return st.collect([](const Stmt& row) { return row.column_text(0); });
}

namespace {

// Keyset page of enrollments where `key_column` = `key`, ordered by (joined_at, tie_column).
base::Result<Page<Enrollment>> page_enrollments(Db& db, std::string_view key_column,
                                                std::string_view tie_column, std::string_view key,
                                                std::string_view cursor, int limit) {
  EC_RETURN_IF_ERROR(check_limit(limit));
  std::optional<CursorKey> after;
  if (!cursor.empty()) {
    EC_ASSIGN_OR_RETURN(CursorKey k, decode_cursor(cursor));
    after = std::move(k);
  }
  std::string tie(tie_column);
  std::string sql = "SELECT course_id, student_id, student_name, joined_at FROM enrollments WHERE ";
  sql += key_column;
  sql += " = ?";
  if (after) sql += " AND (joined_at, " + tie + ") > (?, ?)";
  sql += " ORDER BY joined_at, " + tie + " LIMIT ?";
  EC_ASSIGN_OR_RETURN(Stmt st, db.prepare(sql));
  int i = 0;
  st.bind(++i, key);
  if (after) {
    st.bind(++i, after->time);
    st.bind(++i, after->id);
  }
  st.bind(++i, int64_t(limit) + 1);

  const bool tie_is_student = tie_column == "student_id";
  return read_page<Enrollment>(st, limit, read_enrollment, [&](const Enrollment& last) {
    return CursorKey{last.joined_at, tie_is_student ? last.student_id : last.course_id};
  });
}

}  // namespace

base::Result<Page<Enrollment>> list_enrollments(Db& db, std::string_view course_id,
                                                std::string_view cursor, int limit) {
  return page_enrollments(db, "course_id", "student_id", course_id, cursor, limit);
}

base::Result<Page<Enrollment>> list_student_enrollments(Db& db, std::string_view student_id,
                                                        std::string_view cursor, int limit) {
  return page_enrollments(db, "student_id", "course_id", student_id, cursor, limit);
}

}  // namespace store
