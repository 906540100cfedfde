#include "classroom/reports.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <map>
#include <set>

#include "base/strings.h"

namespace classroom {

namespace json = boost::json;

namespace {
json::value time_or_null(const std::optional<int64_t>& ms) {
  if (!ms) return nullptr;
  return json::value(base::format_utc_ms(*ms));
}
}  // namespace

// ---- attendance -------------------------------------------------------------------------

Attendance summarize_attendance(const store::Session& session,
                                const std::vector<store::Visit>& visits, int64_t now_ms) {
  const bool live = session.status == store::SessionStatus::kLive;
  const int64_t open_until = live ? now_ms : session.ended_at.value_or(now_ms);
  Attendance out;
  out.session = session;
  std::map<std::string, AttendanceEntry> by_user;
  for (const store::Visit& v : visits) {
    auto [it, fresh] = by_user.try_emplace(v.user_id);
    AttendanceEntry& e = it->second;
    if (fresh) {
      e.user_id = v.user_id;
      e.first_joined_at = v.joined_at;
      e.role = v.role;
    }
    e.first_joined_at = std::min(e.first_joined_at, v.joined_at);
    if (!v.user_name.empty()) e.name = v.user_name;
    ++e.visits;
    // An open visit of an ended session ended with it at the latest.
    int64_t left = v.left_at.value_or(std::max(open_until, v.joined_at));
    e.duration_ms += std::max<int64_t>(0, left - v.joined_at);
    if (!v.left_at && live) e.present = true;
    if (!e.last_left_at || left > *e.last_left_at) e.last_left_at = left;
  }
  for (auto& [id, e] : by_user) {
    if (e.present) e.last_left_at.reset();
    if (e.role == "student") ++out.students;
    out.entries.push_back(std::move(e));
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const AttendanceEntry& a, const AttendanceEntry& b) {
              if (a.role != b.role) return a.role == "student";
              if (a.first_joined_at != b.first_joined_at)
                return a.first_joined_at < b.first_joined_at;
              return a.user_id < b.user_id;
            });
  return out;
}

json::object to_json(const Attendance& a) {
  json::array items;
  for (const AttendanceEntry& e : a.entries) {
    items.emplace_back(json::object{{"user_id", e.user_id},
                                    {"name", e.name},
                                    {"role", e.role},
                                    {"first_joined_at", base::format_utc_ms(e.first_joined_at)},
                                    {"last_left_at", time_or_null(e.last_left_at)},
                                    {"duration_s", e.duration_ms / 1000},
                                    {"visits", e.visits},
                                    {"present", e.present}});
  }
  return {{"session_id", a.session.id},
          {"course_id", a.session.course_id},
          {"status", store::to_string(a.session.status)},
          {"started_at", base::format_utc_ms(a.session.started_at)},
          {"ended_at", time_or_null(a.session.ended_at)},
          {"students", a.students},
          {"items", std::move(items)}};
}

// ---- gradebook --------------------------------------------------------------------------

namespace {
// Questions in a stored quiz (its questions are a JSON array the classroom wrote).
int64_t question_count(const std::string& questions) {
  boost::system::error_code ec;
  json::value v = json::parse(questions, ec);
  if (ec || !v.is_array()) return 0;
  return int64_t(v.get_array().size());
}
}  // namespace

Gradebook build_gradebook(const store::Course& course, const std::vector<store::Quiz>& quizzes,
                          const std::vector<store::Enrollment>& roster,
                          const std::vector<store::QuizScore>& scores) {
  Gradebook g;
  g.course_id = course.id;
  g.course_title = course.title;
  std::map<std::string, size_t, std::less<>> column;
  for (const store::Quiz& q : quizzes) {
    column[q.id] = g.quizzes.size();
    GradebookQuiz gq{q.id,
                     q.session_id,
                     q.title,
                     std::string(store::to_string(q.status)),
                     question_count(q.questions),
                     q.published_at};
    g.max_total += gq.max_score;
    g.quizzes.push_back(std::move(gq));
  }
  std::map<std::string, size_t, std::less<>> row;
  for (const store::Enrollment& e : roster) {
    row[e.student_id] = g.students.size();
    g.students.push_back(GradebookRow{e.student_id, e.student_name,
                                      std::vector<std::optional<int64_t>>(g.quizzes.size()), 0});
  }
  for (const store::QuizScore& s : scores) {
    auto c = column.find(s.quiz_id);
    auto r = row.find(s.student_id);
    if (c == column.end() || r == row.end()) continue;  // a student who has left the course
    GradebookRow& gr = g.students[r->second];
    gr.scores[c->second] = s.correct;
    gr.total += s.correct;
  }
  return g;
}

json::object to_json(const Gradebook& g) {
  json::array quizzes;
  for (const GradebookQuiz& q : g.quizzes) {
    quizzes.emplace_back(json::object{{"id", q.id},
                                      {"session_id", q.session_id},
                                      {"title", q.title},
                                      {"status", q.status},
                                      {"max_score", q.max_score},
                                      {"published_at", time_or_null(q.published_at)}});
  }
  json::array students;
  for (const GradebookRow& r : g.students) {
    json::array scores;
    for (const auto& s : r.scores) {
      if (s)
        scores.emplace_back(*s);
      else
        scores.emplace_back(nullptr);
    }
    students.emplace_back(json::object{{"student_id", r.student_id},
                                       {"name", r.name},
                                       {"scores", std::move(scores)},
                                       {"total", r.total}});
  }
  return {{"course_id", g.course_id},
          {"course_title", g.course_title},
          {"quizzes", std::move(quizzes)},
          {"students", std::move(students)},
          {"max_total", g.max_total}};
}

std::optional<CsvLanguage> parse_csv_language(std::string_view lang) {
  std::string l;
  for (char c : lang) l.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
  if (l == "en") return CsvLanguage::kEnglish;
  if (l == "zh-cn" || l == "zh") return CsvLanguage::kChinese;
  return std::nullopt;
}

std::string csv_text_cell(std::string_view text) {
  std::string out = "\"";
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                        text[0] == '\t' || text[0] == '\r')) {
    out.push_back('\'');
  }
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string to_csv(const Gradebook& g, CsvLanguage lang) {
  const bool zh = lang == CsvLanguage::kChinese;
  std::string out = "\xEF\xBB\xBF";  // UTF-8 byte-order mark
  auto end_row = [&] { out += "\r\n"; };
  out += csv_text_cell(zh ? "学号" : "Student ID");
  out += ',';
  out += csv_text_cell(zh ? "姓名" : "Name");
  // Two quizzes with one title get " (2)", " (3)"... so every column can be told apart.
  std::map<std::string, int, std::less<>> seen;
  for (const GradebookQuiz& q : g.quizzes) {
    int n = ++seen[q.title];
    std::string title = q.title.empty() ? std::string(zh ? "测验" : "Quiz") : q.title;
    if (n > 1) title += " (" + std::to_string(n) + ")";
    out += ',';
    out += csv_text_cell(title);
  }
  out += ',';
  out += csv_text_cell(zh ? "总分" : "Total");
  out += ',';
  out += csv_text_cell(zh ? "满分" : "Out of");
  end_row();
  for (const GradebookRow& r : g.students) {
    out += csv_text_cell(r.student_id);
    out += ',';
    out += csv_text_cell(r.name);
    for (const auto& s : r.scores) {
      out += ',';
      if (s) out += std::to_string(*s);
    }
    out += ',';
    out += std::to_string(r.total);
    out += ',';
    out += std::to_string(g.max_total);
    end_row();
  }
  return out;
}

}  // namespace classroom
