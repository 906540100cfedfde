// Rows of the classroom's tables as plain structs, and the page type list calls return.
//
// Ids are TEXT from base::new_id ("crs_...", "ses_...", ...). Times are INTEGER Unix
// milliseconds. These structs carry no rules: who may do what, capacity and grading belong
// to the classroom layer, which runs them inside store's write transactions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace store {

enum class CourseStatus { kDraft, kActive, kArchived };
enum class SessionStatus { kLive, kEnded };
enum class QuizStatus { kDraft, kPublished, kClosed };

// The database spelling ("draft", "active", ...), also used on the wire.
std::string_view to_string(CourseStatus s);
std::string_view to_string(SessionStatus s);
std::string_view to_string(QuizStatus s);
// Inverse of to_string; nullopt for anything else.
std::optional<CourseStatus> parse_course_status(std::string_view s);
std::optional<SessionStatus> parse_session_status(std::string_view s);
std::optional<QuizStatus> parse_quiz_status(std::string_view s);

struct Course {
  std::string id;
  std::string title;
  std::string description;
  std::string teacher_id;
  std::string teacher_name;
  CourseStatus status = CourseStatus::kDraft;
  int64_t capacity = 0;
  // Number of enrollments; kept in step by insert_enrollment/delete_enrollment. Ignored by
  // insert_course (always starts at 0) and update_course.
  int64_t enrolled = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct Enrollment {
  std::string course_id;
  std::string student_id;
  std::string student_name;
  int64_t joined_at = 0;
};

struct Session {
  std::string id;
  std::string course_id;
  std::string teacher_id;
  std::string title;
  SessionStatus status = SessionStatus::kLive;
  int64_t started_at = 0;
  std::optional<int64_t> ended_at;
};

struct Quiz {
  std::string id;
  std::string session_id;
  std::string course_id;
  std::string title;
  QuizStatus status = QuizStatus::kDraft;
  std::string questions;  // JSON text, stored as given (the classroom layer owns its shape)
  int64_t time_limit_ms = 0;
  std::optional<int64_t> published_at;
  std::optional<int64_t> deadline_at;
  std::optional<int64_t> closed_at;
  int64_t created_at = 0;
};

struct Answer {
  std::string quiz_id;
  std::string student_id;
  int64_t question = 0;  // index into the quiz's questions
  std::string choice;    // JSON array of option indices, sorted, e.g. "[0,2]"
  bool correct = false;
  int64_t answered_at = 0;
};

struct ChatMessage {
  std::string id;
  std::string session_id;
  std::string user_id;
  std::string user_name;
  std::string text;
  int64_t created_at = 0;
  bool deleted = false;
};

// One page of a keyset-paginated list. `next_cursor` is opaque; pass it back to get the
// following page. It is empty when this is the last page.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;
};

// Largest `limit` a list call accepts.
inline constexpr int kMaxPageLimit = 1000;

}  // namespace store
