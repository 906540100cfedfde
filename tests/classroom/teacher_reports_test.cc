// Class codes, attendance summaries and the gradebook's CSV, as pure functions.
#include <gtest/gtest.h>

#include <set>

#include "base/random.h"
#include "classroom/join_code.h"
#include "classroom/reports.h"

namespace classroom {
namespace {

TEST(JoinCode, UsesOnlyUnambiguousCharactersEvenly) {
  base::SeededRandom random(42);
  std::map<char, int> seen;
  std::set<std::string> codes;
  for (int i = 0; i < 4000; ++i) {
    std::string code = new_join_code(random);
    ASSERT_EQ(code.size(), kJoinCodeLength);
    for (char c : code) {
      EXPECT_EQ(std::string_view("0O1IL").find(c), std::string_view::npos) << code;
      ++seen[c];
    }
    codes.insert(code);
  }
  EXPECT_EQ(codes.size(), 4000u);
  EXPECT_EQ(seen.size(), kJoinCodeAlphabet.size());
  // 32000 characters over 31: about 1032 each; a modulo bias would skew the first ones.
  for (auto [c, n] : seen) {
    EXPECT_GT(n, 850) << c;
    EXPECT_LT(n, 1220) << c;
  }
}

TEST(JoinCode, NormalizesWhatPeopleType) {
  EXPECT_EQ(normalize_join_code("k7m2-qx9p"), "K7M2QX9P");
  EXPECT_EQ(normalize_join_code(" K7M2 QX9P "), "K7M2QX9P");
  EXPECT_FALSE(normalize_join_code("K7M2QX9"));    // too short
  EXPECT_FALSE(normalize_join_code("K7M2QX9PA"));  // too long
  EXPECT_FALSE(normalize_join_code("K7M2QX0P"));   // 0 is not in the alphabet
  EXPECT_FALSE(normalize_join_code("K7M2QXlP"));   // l (folded to L) is not either
  EXPECT_FALSE(normalize_join_code("K7M2QX9\xC3\xA9"));
  EXPECT_FALSE(normalize_join_code(""));
}

TEST(GradebookCsv, QuotesEveryTextCellAndDefusesFormulas) {
  EXPECT_EQ(csv_text_cell("Ana"), "\"Ana\"");
  EXPECT_EQ(csv_text_cell("O\"Brien, Bob"), "\"O\"\"Brien, Bob\"");
  EXPECT_EQ(csv_text_cell("a\r\nb"), "\"a\r\nb\"");
  EXPECT_EQ(csv_text_cell("张三"), "\"张三\"");
  for (std::string_view f : {"=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    std::string cell = csv_text_cell(f);
    EXPECT_EQ(cell.substr(0, 2), "\"'") << f;
  }
  EXPECT_EQ(csv_text_cell(""), "\"\"");
}

TEST(GradebookCsv, OneRowPerStudentOneColumnPerQuiz) {
  store::Course course;
  course.id = "crs_1";
  course.title = "Maths";
  store::Quiz q1, q2, q3;
  q1.id = "qz_a";
  q1.title = "Check";
  q1.status = store::QuizStatus::kClosed;
  q1.questions = R"([{}, {}])";
  q2 = q1;
  q2.id = "qz_b";  // the same title: the column gets " (2)"
  q2.questions = R"([{}])";
  q3 = q1;
  q3.id = "qz_c";
  q3.title = "=cmd";
  q3.questions = "not json";  // a stored quiz the gradebook cannot read counts 0 questions
  std::vector<store::Enrollment> roster = {{"crs_1", "s1", "张三", 0}, {"crs_1", "s2", "Bob", 0}};
  std::vector<store::QuizScore> scores = {
      {"qz_a", "s1", 2, 2}, {"qz_b", "s1", 0, 1}, {"qz_a", "s2", 1, 2}, {"qz_a", "gone", 2, 2}};
  Gradebook g = build_gradebook(course, {q1, q2, q3}, roster, scores);
  EXPECT_EQ(g.max_total, 3);
  ASSERT_EQ(g.students.size(), 2u);
  EXPECT_EQ(g.students[0].total, 2);
  EXPECT_EQ(g.students[1].scores[1], std::nullopt);
  std::string csv = to_csv(g, CsvLanguage::kEnglish);
  EXPECT_EQ(csv,
            "\xEF\xBB\xBF"
            "\"Student ID\",\"Name\",\"Check\",\"Check (2)\",\"'=cmd\",\"Total\",\"Out of\"\r\n"
            "\"s1\",\"张三\",2,0,,2,3\r\n"
            "\"s2\",\"Bob\",1,,,1,3\r\n");
  EXPECT_EQ(to_csv(g, CsvLanguage::kChinese).substr(3, 8), "\"学号\"");
}

TEST(Attendance, SumsVisitsAndClosesOpenOnesAtTheEnd) {
  store::Session s;
  s.id = "ses_1";
  s.status = store::SessionStatus::kEnded;
  s.started_at = 1000;
  s.ended_at = 100000;
  std::vector<store::Visit> visits = {
      {"ses_1", "s1", "Ana", "student", 2000, 12000},
      {"ses_1", "s1", "Ana", "student", 20000, std::nullopt},  // open when the server stopped
      {"ses_1", "t1", "T", "teacher", 1000, 99000},
      {"ses_1", "s2", "Ben", "student", 5000, 6000},
  };
  Attendance a = summarize_attendance(s, visits, 500000);
  EXPECT_EQ(a.students, 2);
  ASSERT_EQ(a.entries.size(), 3u);
  EXPECT_EQ(a.entries[0].user_id, "s1");  // students by first arrival, then teachers
  EXPECT_EQ(a.entries[1].user_id, "s2");
  EXPECT_EQ(a.entries[2].user_id, "t1");
  EXPECT_EQ(a.entries[0].duration_ms, 10000 + 80000);
  EXPECT_EQ(a.entries[0].visits, 2);
  EXPECT_EQ(a.entries[0].last_left_at, 100000);
  EXPECT_FALSE(a.entries[0].present);

  s.status = store::SessionStatus::kLive;
  s.ended_at.reset();
  a = summarize_attendance(s, visits, 30000);
  EXPECT_TRUE(a.entries[0].present);
  EXPECT_EQ(a.entries[0].last_left_at, std::nullopt);
  EXPECT_EQ(a.entries[0].duration_ms, 10000 + 10000);
}

}  // namespace
}  // namespace classroom
