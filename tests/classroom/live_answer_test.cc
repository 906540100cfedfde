// One live answer, end to end in the classroom (classroom/live_answer.h): a real store and the
// real policies, a RoomStorage whose commits the test releases by hand, so each step is seen.
#include "classroom/live_answer.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <deque>

#include "classroom/live_join.h"
#include "room_test_util.h"
#include "store/courses.h"
#include "store/quizzes.h"
#include "store/sessions.h"
#include "store/txn.h"

namespace classroom {
namespace {

using testing::policies;

// Ids in the shape base::new_id gives (the service validates them).
const std::string kCourse = "crs_" + std::string(13, 'a');
const std::string kSession = "ses_" + std::string(13, 'b');

// Runs each op in its own transaction when the test says so, then its completion.
class ManualStorage : public RoomStorage {
 public:
  explicit ManualStorage(store::Db& db) : db_(db) {}
  base::Status write(store::WriteOp op, std::function<void(base::Status)> done) override {
    if (refuse_queue) return base::unavailable("the writer is stopping", "unavailable");
    pending_.push_back({std::move(op), std::move(done)});
    return base::Status::ok();
  }
  // Commits the oldest queued op and calls its completion.
  void commit_next() {
    ASSERT_FALSE(pending_.empty());
    auto [op, done] = std::move(pending_.front());
    pending_.pop_front();
    done(store::transact(db_, op));
  }
  size_t queued() const { return pending_.size(); }
  bool refuse_queue = false;

 private:
  store::Db& db_;
  std::deque<std::pair<store::WriteOp, std::function<void(base::Status)>>> pending_;
};

class LiveAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::migrated_memory_db();
    ASSERT_TRUE(db_);
    service_ = std::make_unique<Service>(
        clock_, random_, [] { return policies(); }, 40);
    storage_ = std::make_unique<ManualStorage>(*db_);
    const Actor teacher{"t1", "T", base::Role::kTeacher};
    ASSERT_TRUE(store::transact(*db_, [&](store::Txn& txn) -> base::Status {
                  store::Course c{kCourse, "Algebra", "", "t1", "T", store::CourseStatus::kActive,
                                  40};
                  if (auto st = store::insert_course(txn, c); !st.is_ok()) return st;
                  for (const char* s : {"s1", "s2"}) {
                    auto e = store::insert_enrollment(txn, {kCourse, s, s, 1});
                    if (!e.is_ok()) return e.status();
                  }
                  return store::insert_session(
                      txn, {kSession, kCourse, "t1", "", store::SessionStatus::kLive, 1, {}});
                }).is_ok());
    auto questions = parse_questions(boost::json::parse(
        R"([{"kind":"single","prompt":"2+2?","options":["3","4"],"correct":[1]}])"));
    ASSERT_TRUE(questions.is_ok()) << questions.status().to_string();
    store::Quiz quiz;
    base::Status made = store::transact(*db_, [&](store::Txn& txn) -> base::Status {
      auto q = service_->create_quiz(txn, teacher, kSession, {"Q", *questions});
      if (!q.is_ok()) return q.status();
      auto p = service_->publish_quiz(txn, teacher, q->id, 60);
      if (!p.is_ok()) return p.status();
      quiz = *p;
      return base::Status::ok();
    });
    ASSERT_TRUE(made.is_ok()) << made.to_string();
    quiz_id_ = quiz.id;
    store::Session session{kSession, kCourse, "t1", "", store::SessionStatus::kLive, 1, {}};
    store::Course course{kCourse, "Algebra", "", "t1", "T", store::CourseStatus::kActive, 40};
    room_ = std::make_unique<Room>(room_config(session, course, 4096, [] { return policies(); }),
                                   listener_, clock_, random_);
    LiveQuizInfo info;
    info.id = quiz.id;
    info.title = quiz.title;
    info.questions = *questions;
    info.published_at_ms = *quiz.published_at;
    info.deadline_ms = *quiz.deadline_at;
    ASSERT_TRUE(room_->publish_quiz(std::move(info)).is_ok());
    for (const char* s : {"s1", "s2"}) {
      ASSERT_TRUE(room_->join({s, s, Role::kStudent}, std::nullopt).is_ok());
    }
  }

  // Submits s's answer; returns the refusals seen so far (filled later for async ones).
  void answer(const char* student, const char* json) {
    DbReader reader(*db_, &questions_cache_, &rows_);  // as the room's host does
    submit_live_answer(*room_, {*service_, reader, *storage_}, {student, student, Role::kStudent},
                       quiz_id_, boost::json::parse(json),
                       [this](const base::Status& st) { refusals_.push_back(st); });
  }

  size_t accepted(const char* student) const {
    size_t n = 0;
    for (const auto& r : listener_.of("answer_accepted")) n += r.event.audience.user == student;
    return n;
  }

  std::unique_ptr<store::Db> db_;
  QuestionsCache questions_cache_;
  RowCache rows_;
  base::FakeClock clock_;
  base::SeededRandom random_{3};
  std::unique_ptr<Service> service_;
  std::unique_ptr<ManualStorage> storage_;
  testing::RecordingListener listener_;
  std::unique_ptr<Room> room_;
  std::string quiz_id_;
  std::vector<base::Status> refusals_;
};

TEST_F(LiveAnswerTest, AcknowledgedAndCountedOnlyOnceCommitted) {
  answer("s1", R"([{"question":0,"choice":1}])");
  EXPECT_EQ(storage_->queued(), 1u);
  EXPECT_EQ(accepted("s1"), 0u);  // not stored yet: no acknowledgement
  storage_->commit_next();
  EXPECT_TRUE(refusals_.empty());
  EXPECT_EQ(accepted("s1"), 1u);
  EXPECT_EQ(room_->quiz()->answered(), 1u);
  auto stored = store::all_answers(*db_, quiz_id_);
  ASSERT_TRUE(stored.is_ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_TRUE(stored->front().correct);
  // The same answers again: acknowledged again by the room, no second write.
  answer("s1", R"([{"question":0,"choice":1}])");
  EXPECT_EQ(storage_->queued(), 0u);
  EXPECT_EQ(accepted("s1"), 2u);
}

TEST_F(LiveAnswerTest, RefusalsReachTheSocketOnceAndClearThePendingMark) {
  // The room's own check: a different answer while one is in flight.
  answer("s1", R"([{"question":0,"choice":1}])");
  answer("s1", R"([{"question":0,"choice":0}])");
  ASSERT_EQ(refusals_.size(), 1u);
  EXPECT_EQ(refusals_[0].reason(), "already_answered");
  // The service's check: a question out of range.
  answer("s2", R"([{"question":5,"choice":0}])");
  ASSERT_EQ(refusals_.size(), 2u);
  EXPECT_EQ(refusals_[1].code(), base::Code::kInvalidArgument);
  // The commit's check: s1 was removed from the course before its commit was ordered.
  ASSERT_TRUE(store::transact(*db_, [](store::Txn& txn) -> base::Status {
                auto r = store::delete_enrollment(txn, kCourse, "s1");
                return r.is_ok() ? base::Status::ok() : r.status();
              }).is_ok());
  storage_->commit_next();
  ASSERT_EQ(refusals_.size(), 3u);
  EXPECT_EQ(refusals_[2].code(), base::Code::kPermissionDenied);
  EXPECT_EQ(accepted("s1"), 0u);
  EXPECT_EQ(room_->quiz()->answered(), 0u);
  // The writer refusing the op: refused at once, and s2 may try again afterwards.
  storage_->refuse_queue = true;
  answer("s2", R"([{"question":0,"choice":1}])");
  ASSERT_EQ(refusals_.size(), 4u);
  EXPECT_EQ(refusals_[3].code(), base::Code::kUnavailable);
  storage_->refuse_queue = false;
  answer("s2", R"([{"question":0,"choice":1}])");
  storage_->commit_next();
  EXPECT_EQ(refusals_.size(), 4u);
  EXPECT_EQ(accepted("s2"), 1u);
}

// The room's row cache serves the quiz, the course and enrollments read at the generation a
// reader was made at; a write that bumps the generation (as every committed catalog write
// does) makes the next reader read storage again. Failed reads are not kept.
TEST_F(LiveAnswerTest, RowCacheKeepsRowsUntilTheGenerationMoves) {
  RowCache rows;
  {
    DbReader r(*db_, nullptr, &rows);
    ASSERT_TRUE(r.quiz(quiz_id_).is_ok());
    ASSERT_EQ(r.course(kCourse)->title, "Algebra");
    ASSERT_TRUE(*r.enrolled(kCourse, "s1"));
    ASSERT_FALSE(*r.enrolled(kCourse, "s3"));
    EXPECT_FALSE(r.quiz("qz_" + std::string(13, 'z')).is_ok());
  }
  // Written behind the generation's back: the cache still answers (proof that it serves).
  ASSERT_TRUE(store::transact(*db_, [&](store::Txn& txn) -> base::Status {
                store::Course c = *store::get_course(txn.db(), kCourse);
                c.title = "Geometry";
                EC_RETURN_IF_ERROR(store::update_course(txn, c));
                EC_RETURN_IF_ERROR(store::delete_enrollment(txn, kCourse, "s1").status());
                return store::insert_enrollment(txn, {kCourse, "s3", "s3", 2}).status();
              }).is_ok());
  {
    DbReader r(*db_, nullptr, &rows);
    EXPECT_EQ(r.quiz(quiz_id_)->id, quiz_id_);  // after the failed read of another quiz
    EXPECT_EQ(r.course(kCourse)->title, "Algebra");
    EXPECT_TRUE(*r.enrolled(kCourse, "s1"));
    EXPECT_FALSE(*r.enrolled(kCourse, "s3"));
  }
  bump_catalog_generation();
  DbReader r(*db_, nullptr, &rows);
  EXPECT_EQ(r.course(kCourse)->title, "Geometry");
  EXPECT_FALSE(*r.enrolled(kCourse, "s1"));
  EXPECT_TRUE(*r.enrolled(kCourse, "s3"));
  EXPECT_EQ(r.quiz(quiz_id_)->status, store::QuizStatus::kPublished);
}

// The cache gives what parsing the stored text gives: the same parse while the quiz's id and
// text are the same, a new parse as soon as either differs, and a parse error as before.
TEST(QuestionsCacheTest, HitOnlyForTheSameQuizAndText) {
  QuestionsCache cache;
  store::Quiz a;
  a.id = "qz_" + std::string(13, 'a');
  a.questions = R"([{"kind":"single","prompt":"2+2?","options":["3","4"],"correct":[1]}])";
  auto first = cache.get(a);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  ASSERT_EQ((*first)->size(), 1u);
  EXPECT_EQ((**first)[0].prompt, "2+2?");
  auto again = cache.get(a);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->get(), first->get());  // parsed once

  store::Quiz edited = a;  // same id, other text: parsed again
  edited.questions = R"([{"kind":"single","prompt":"3+3?","options":["6","7"],"correct":[0]},)"
                     R"({"kind":"single","prompt":"1+1?","options":["2","3"],"correct":[0]}])";
  auto second = cache.get(edited);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  ASSERT_EQ((*second)->size(), 2u);
  EXPECT_EQ((**second)[0].prompt, "3+3?");
  EXPECT_EQ((**first)[0].prompt, "2+2?");  // a holder of the old parse keeps it

  store::Quiz other = a;  // same text, another quiz: its own parse
  other.id = "qz_" + std::string(13, 'b');
  auto third = cache.get(other);
  ASSERT_TRUE(third.is_ok());
  EXPECT_NE(third->get(), first->get());
  EXPECT_EQ((**third)[0].prompt, "2+2?");

  store::Quiz broken = a;
  broken.questions = "[{";
  auto bad = cache.get(broken);
  EXPECT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(), questions_from_storage(broken.questions).status().message());
}

}  // namespace
}  // namespace classroom
