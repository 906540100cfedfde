// The live join decision (classroom/live_join.h) against a real store and the real policies:
// the door (admit_live) and the room (enter_room), each refusal with its kind.
#include "classroom/live_join.h"

#include <gtest/gtest.h>

#include "room_test_util.h"
#include "store/courses.h"
#include "store/sessions.h"
#include "store/txn.h"

namespace classroom {
namespace {

using testing::policies;

class LiveJoinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::migrated_memory_db();
    ASSERT_TRUE(db_);
    ASSERT_TRUE(write([](store::Txn& txn) -> base::Status {
                  store::Course c;
                  c.id = "crs_1";
                  c.title = "Algebra";
                  c.teacher_id = "t1";
                  c.status = store::CourseStatus::kActive;
                  c.capacity = 1;
                  if (auto st = store::insert_course(txn, c); !st.is_ok()) return st;
                  for (const char* s : {"s1", "s2"}) {
                    auto e = store::insert_enrollment(txn, {"crs_1", s, s, 1});
                    if (!e.is_ok()) return e.status();
                  }
                  return store::insert_session(
                      txn, {"ses_1", "crs_1", "t1", "", store::SessionStatus::kLive, 1, {}});
                }).is_ok());
  }

  base::Status write(const store::WriteOp& op) { return store::transact(*db_, op); }

  base::Result<LiveAdmission> admit(const Actor& a, std::string_view session = "ses_1") {
    DbReader reader(*db_);
    return admit_live(reader, *policies(), a, session);
  }

  std::unique_ptr<store::Db> db_;
};

const Actor kTeacher{"t1", "Teacher", base::Role::kTeacher};
const Actor kStudent{"s1", "Sam", base::Role::kStudent};

TEST_F(LiveJoinTest, DoorAdmitsTheTeacherAndEnrolledStudentsWithTheirRoomPart) {
  auto t = admit(kTeacher);
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->who.role, Role::kTeacher);
  EXPECT_EQ(t->course.id, "crs_1");
  EXPECT_EQ(t->session.id, "ses_1");
  auto s = admit(kStudent);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(s->who.role, Role::kStudent);
  EXPECT_EQ(s->who.name, "Sam");
  auto admin = admit({"a1", "", base::Role::kAdmin});
  ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
  EXPECT_EQ(admin->who.role, Role::kTeacher);
  EXPECT_TRUE(admin->who.admin);
  EXPECT_EQ(admin->who.name, "a1");  // no name: the id is shown
  RoomConfig cfg = room_config(t->session, t->course, 4096, [] { return policies(); });
  EXPECT_EQ(cfg.title, "Algebra");
  EXPECT_EQ(cfg.capacity, 1u);
  EXPECT_EQ(cfg.teacher_id, "t1");
}

TEST_F(LiveJoinTest, DoorRefusalsHaveTheirKinds) {
  auto stranger = admit({"s9", "", base::Role::kStudent});
  ASSERT_FALSE(stranger.is_ok());
  EXPECT_EQ(join_refusal(stranger.status()), JoinRefusal::kForbidden);
  auto other_teacher = admit({"t2", "", base::Role::kTeacher});
  ASSERT_FALSE(other_teacher.is_ok());
  EXPECT_EQ(join_refusal(other_teacher.status()), JoinRefusal::kForbidden);
  auto missing = admit(kStudent, "ses_missing");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(join_refusal(missing.status()), JoinRefusal::kNotFound);
  ASSERT_TRUE(write([](store::Txn& txn) { return store::end_session(txn, "ses_1", 2); }).is_ok());
  auto ended = admit(kTeacher);
  ASSERT_FALSE(ended.is_ok());
  EXPECT_EQ(join_refusal(ended.status()), JoinRefusal::kEnded);
  EXPECT_EQ(ended.status().reason(), "session_ended");
}

TEST_F(LiveJoinTest, RoomRechecksEnrollmentThenCapacityAndRemoval) {
  auto t = admit(kTeacher);
  ASSERT_TRUE(t.is_ok());
  testing::RecordingListener listener;
  base::FakeClock clock;
  base::SeededRandom random{7};
  Room room(room_config(t->session, t->course, 4096, [] { return policies(); }), listener, clock,
            random);
  DbReader reader(*db_);
  ASSERT_TRUE(enter_room(room, reader, t->who, std::nullopt).is_ok());
  auto s1 = admit(kStudent);
  auto s2 = admit({"s2", "Sue", base::Role::kStudent});
  ASSERT_TRUE(s1.is_ok() && s2.is_ok());
  // Removed over REST after the door let s2 in: the room reads storage again.
  ASSERT_TRUE(write([](store::Txn& txn) -> base::Status {
                auto r = store::delete_enrollment(txn, "crs_1", "s2");
                return r.is_ok() ? base::Status::ok() : r.status();
              }).is_ok());
  auto gone = enter_room(room, reader, s2->who, std::nullopt);
  ASSERT_FALSE(gone.is_ok());
  EXPECT_EQ(gone.status().reason(), "not_enrolled");
  EXPECT_EQ(join_refusal(gone.status()), JoinRefusal::kForbidden);
  ASSERT_TRUE(enter_room(room, reader, s1->who, std::nullopt).is_ok());
  // Capacity 1: the next student is refused as full.
  ASSERT_TRUE(write([](store::Txn& txn) -> base::Status {
                auto e = store::insert_enrollment(txn, {"crs_1", "s3", "s3", 3});
                return e.is_ok() ? base::Status::ok() : e.status();
              }).is_ok());
  auto full = enter_room(room, reader, {"s3", "s3", Role::kStudent}, std::nullopt);
  ASSERT_FALSE(full.is_ok());
  EXPECT_EQ(join_refusal(full.status()), JoinRefusal::kFull);
  // Removed by the teacher: refused as removed, even with a place free.
  ASSERT_TRUE(room.remove("t1", "s1").is_ok());
  auto removed = enter_room(room, reader, s1->who, std::nullopt);
  ASSERT_FALSE(removed.is_ok());
  EXPECT_EQ(join_refusal(removed.status()), JoinRefusal::kRemoved);
}

TEST(LiveJoinRefusal, SocketLimitReadsAsItsOwnKind) {
  base::Status st = too_many_live_sockets(5);
  EXPECT_EQ(join_refusal(st), JoinRefusal::kTooManySockets);
  EXPECT_NE(st.message().find("5 live connections"), std::string::npos);
  EXPECT_EQ(join_refusal(base::unauthenticated("no", "token_missing")),
            JoinRefusal::kUnauthenticated);
}

}  // namespace
}  // namespace classroom
