// The answer path prepares on a reader and commits in the writer; what changed in between
// (the quiz closed, the student removed) is decided at commit, where it is ordered.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <filesystem>

#include "app/policies.h"
#include "base/clock.h"
#include "base/random.h"
#include "classroom/service.h"
#include "store/migrations.h"
#include "store/txn.h"

namespace {

TEST(AnswerCommit, AStudentRemovedBetweenPrepareAndCommitIsRefused) {
  auto dir = std::filesystem::temp_directory_path() /
             ("edgeclass_answer_commit_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto db = store::Db::open((dir / "db.sqlite").string(), store::OpenMode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  ASSERT_TRUE(store::migrate(**db).is_ok());
  size_t files = 0;
  auto policies = app::load_policies("", &files);
  ASSERT_TRUE(policies.is_ok());
  std::shared_ptr<const classroom::Authorizer> authz = *policies;
  base::SeededRandom random(7);
  classroom::Service svc(base::SystemClock::instance(), random, [authz] { return authz; }, 100);
  classroom::Actor teacher{"t1", "T", base::Role::kTeacher};
  classroom::Actor student{"s1", "S", base::Role::kStudent};
  std::string quiz_id, course_id;
  ASSERT_TRUE(store::transact(**db, [&](store::Txn& t) -> base::Status {
                classroom::CreateCourse cc{"Algebra", "", 10, store::CourseStatus::kActive};
                EC_ASSIGN_OR_RETURN(store::Course c, svc.create_course(t, teacher, cc));
                course_id = c.id;
                EC_RETURN_IF_ERROR(svc.join(t, student, c.id).status());
                EC_ASSIGN_OR_RETURN(store::Session s, svc.go_live(t, teacher, c.id, "L"));
                classroom::CreateQuiz q;
                q.title = "Q";
                q.questions.push_back({classroom::QuestionKind::kSingle, "2+2?", {"3", "4"}, {1}});
                EC_ASSIGN_OR_RETURN(store::Quiz quiz, svc.create_quiz(t, teacher, s.id, q));
                quiz_id = quiz.id;
                return svc.publish_quiz(t, teacher, quiz.id, 600).status();
              }).is_ok());

  auto body = boost::json::parse(R"({"answers":[{"question":0,"choice":[1]}]})");
  auto prepared = svc.prepare_answers(**db, student, quiz_id, body);
  ASSERT_TRUE(prepared.is_ok()) << prepared.status().to_string();
  ASSERT_TRUE(store::transact(**db, [&](store::Txn& t) {
                return svc.remove_student(t, teacher, course_id, "s1");
              }).is_ok());
  base::Status commit =
      store::transact(**db, [&](store::Txn& t) { return svc.commit_answers(t, *prepared); });
  EXPECT_EQ(commit.code(), base::Code::kPermissionDenied) << commit.to_string();
  auto stored = store::all_answers(**db, quiz_id);
  ASSERT_TRUE(stored.is_ok());
  EXPECT_TRUE(stored->empty()) << "no answer of a removed student is stored";
  db->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
