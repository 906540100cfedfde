// Repositories for courses and enrollments.
//
// Reads take a Db& (a reader's connection, or txn.db() inside a write); writes take a Txn&.
// Lists are keyset-paginated in ascending (created_at, id) / (joined_at, student_id) order:
// stable under concurrent inserts, O(limit) per page. `cursor` is "" for the first page or a
// next_cursor from an earlier page of the same list; anything else is InvalidArgument
// ("invalid_cursor"). `limit` must be 1..kMaxPageLimit, else InvalidArgument.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/db.h"
#include "store/model.h"
#include "store/txn.h"

namespace store {

// Inserts a new course with enrolled = 0. Conflict ("already_exists") if the id is taken.
base::Status insert_course(Txn& txn, const Course& course);

// NotFound ("course_not_found") when there is no such course.
base::Result<Course> get_course(Db& db, std::string_view id);

struct CourseFilter {
  std::optional<CourseStatus> status;     // only courses in this status
  std::optional<std::string> teacher_id;  // only this teacher's courses
};
base::Result<Page<Course>> list_courses(Db& db, const CourseFilter& filter, std::string_view cursor,
                                        int limit);

// Overwrites title, description, teacher_name, status, capacity and updated_at of the course
// with course.id (id, teacher_id, enrolled and created_at are left alone).
// NotFound ("course_not_found") when there is no such course.
base::Status update_course(Txn& txn, const Course& course);

// Inserts the enrollment and bumps courses.enrolled. Returns true when it was new, false
// when the student was already enrolled (nothing changes). NotFound ("course_not_found")
// when the course does not exist.
base::Result<bool> insert_enrollment(Txn& txn, const Enrollment& enrollment);

// Removes the enrollment and decrements courses.enrolled. Returns true when it existed.
base::Result<bool> delete_enrollment(Txn& txn, std::string_view course_id,
                                     std::string_view student_id);

base::Result<bool> is_enrolled(Db& db, std::string_view course_id, std::string_view student_id);

// NotFound ("enrollment_not_found") when the student is not enrolled.
base::Result<Enrollment> get_enrollment(Db& db, std::string_view course_id,
                                        std::string_view student_id);

// Counts enrollment rows (the truth that courses.enrolled mirrors).
base::Result<int64_t> count_enrollments(Db& db, std::string_view course_id);

// The ids of a course's students in (joined_at, student_id) order, at most `limit` of them
// (read from the covering index enrollments_by_joined; the policy input's course.students).
base::Result<std::vector<std::string>> enrolled_student_ids(Db& db, std::string_view course_id,
                                                            int64_t limit);

// A course's roster in (joined_at, student_id) order.
base::Result<Page<Enrollment>> list_enrollments(Db& db, std::string_view course_id,
                                                std::string_view cursor, int limit);

// A student's enrollments across courses in (joined_at, course_id) order ("my courses").
base::Result<Page<Enrollment>> list_student_enrollments(Db& db, std::string_view student_id,
                                                        std::string_view cursor, int limit);

}  // namespace store
