// What a teacher takes away from a course: who attended a session (from the live room's
// visits) and the gradebook (one row per enrolled student, one column per quiz), as JSON and
// as a CSV file a spreadsheet opens correctly. Pure functions over rows the store read.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/attendance.h"
#include "store/gradebook.h"
#include "store/model.h"

namespace classroom {

// ---- attendance -------------------------------------------------------------------------

// One user's time in a session's live room, over all its visits.
struct AttendanceEntry {
  std::string user_id;
  std::string name;  // as the user's token named it at its last visit
  std::string role;  // "student" | "teacher"
  int64_t first_joined_at = 0;
  std::optional<int64_t> last_left_at;  // nullopt while the user is in the room
  int64_t duration_ms = 0;              // sum of its visits
  int64_t visits = 0;
  bool present = false;  // in the room now (the session is live and a visit is open)
};

struct Attendance {
  store::Session session;
  std::vector<AttendanceEntry> entries;  // students first, each group by first_joined_at
  int64_t students = 0;                  // distinct students who came
};

// Summarises `visits` (store::list_visits order). A visit still open counts until `now_ms`
// while the session is live, and until the session's end once it has ended (the server may
// have stopped before the room saw the user leave).
Attendance summarize_attendance(const store::Session& session,
                                const std::vector<store::Visit>& visits, int64_t now_ms);
boost::json::object to_json(const Attendance& a);

// ---- gradebook --------------------------------------------------------------------------

struct GradebookQuiz {
  std::string id;
  std::string session_id;
  std::string title;
  std::string status;  // "published" | "closed"
  int64_t max_score = 0;
  std::optional<int64_t> published_at;
};

struct GradebookRow {
  std::string student_id;
  std::string name;
  std::vector<std::optional<int64_t>> scores;  // per quiz; nullopt: did not answer
  int64_t total = 0;
};

struct Gradebook {
  std::string course_id;
  std::string course_title;
  std::vector<GradebookQuiz> quizzes;
  std::vector<GradebookRow> students;
  int64_t max_total = 0;  // sum of the quizzes' max scores
};

Gradebook build_gradebook(const store::Course& course, const std::vector<store::Quiz>& quizzes,
                          const std::vector<store::Enrollment>& roster,
                          const std::vector<store::QuizScore>& scores);
boost::json::object to_json(const Gradebook& g);

// Languages of the CSV's header words (student id, name, total, out of).
enum class CsvLanguage { kEnglish, kChinese };
// nullopt for anything but "en" and "zh-CN" (case-insensitive; "zh" is Chinese).
std::optional<CsvLanguage> parse_csv_language(std::string_view lang);

// The gradebook as CSV (RFC 4180): UTF-8 with a byte-order mark (so Excel reads Chinese
// names as UTF-8), CRLF line ends, a header row (student id, name, one column per quiz
// titled by the quiz, total, out of), then one row per student. Scores a student does not
// have are empty cells.
std::string to_csv(const Gradebook& g, CsvLanguage lang);

// One text cell: always quoted, quotes doubled; a cell a spreadsheet would read as a formula
// (it starts with =, +, -, @, a tab or a carriage return) gets a leading apostrophe, which
// spreadsheets show as text and do not evaluate (OWASP "CSV injection").
std::string csv_text_cell(std::string_view text);

}  // namespace classroom
