// Repository for a course's class code: the short code a student types (or follows in an
// invite link) to join the course. The code's alphabet and length are the classroom's
// business (classroom/join_code.h); here it is an opaque string, unique across courses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/db.h"
#include "store/txn.h"

namespace store {

// The course's code; nullopt when it has none (a course made before codes existed).
// NotFound ("course_not_found") when there is no such course.
base::Result<std::optional<std::string>> get_join_code(Db& db, std::string_view course_id);

// The id of the course whose code is `code`; nullopt when no course has it.
base::Result<std::optional<std::string>> course_for_join_code(Db& db, std::string_view code);

// Gives the course the code `code`, replacing any earlier one (which stops working).
// Conflict ("join_code_taken") when another course has it; NotFound ("course_not_found").
base::Status set_join_code(Txn& txn, std::string_view course_id, std::string_view code);

}  // namespace store
