// Moderation in the live room is the policy's decision, not a role check in the room: a
// policy that lets a student (a class rep) mute passes, one that lets nobody stage refuses
// even the teacher.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "room_test_util.h"

namespace classroom::testing {
namespace {

std::shared_ptr<const Authorizer> policy_from(const std::string& rego) {
  auto dir = std::filesystem::temp_directory_path() /
             ("edgeclass_room_policy_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "p.rego") << rego;
  size_t files = 0;
  auto a = app::load_policies(dir.string(), &files);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  EXPECT_TRUE(a.is_ok()) << a.status().to_string();
  return a.is_ok() ? std::shared_ptr<const Authorizer>(*a) : nullptr;
}

TEST_F(RoomFixture, ModerationFollowsThePolicyInForce) {
  auto custom = policy_from(R"(package education
import rego.v1
default allow := false
allow if { input.action == "mute"; input.user.id == "rep" }
allow if { input.action == "moderate"; input.course.teacher_id == input.user.id }
deny_reason contains "the class rep mutes" if input.action == "mute"
deny_reason contains "nobody gives the stage today" if input.action == "stage"
)");
  RoomConfig cfg;
  reset(cfg);
  RoomConfig custom_cfg;
  custom_cfg.session_id = "ses_test";
  custom_cfg.course_id = "crs_test";
  custom_cfg.teacher_id = "t1";
  custom_cfg.authorizer = [custom] { return custom; };
  room = std::make_unique<Room>(custom_cfg, listener, clock, random);
  join("t1", Role::kTeacher);
  join("rep", Role::kStudent);
  join("s1", Role::kStudent);
  EXPECT_TRUE(room->mute("rep", "s1", true).is_ok());
  base::Status teacher_mute = room->mute("t1", "s1", false);
  EXPECT_EQ(teacher_mute.reason(), "not_teacher");
  EXPECT_EQ(teacher_mute.message(), "the class rep mutes");
  base::Status stage = room->give_stage("t1", "s1");
  EXPECT_EQ(stage.reason(), "not_allowed");
  EXPECT_EQ(stage.message(), "nobody gives the stage today");
  EXPECT_EQ(room->stage(), "");
}

TEST_F(RoomFixture, WithoutAPolicyModerationIsRefused) {
  RoomConfig cfg;
  cfg.session_id = "ses_test";
  cfg.course_id = "crs_test";
  cfg.teacher_id = "t1";
  room = std::make_unique<Room>(cfg, listener, clock, random);
  join("t1", Role::kTeacher);
  join("s1", Role::kStudent);
  EXPECT_EQ(room->mute("t1", "s1", true).code(), base::Code::kPermissionDenied);
  EXPECT_EQ(room->remove("t1", "s1").code(), base::Code::kPermissionDenied);
}

}  // namespace
}  // namespace classroom::testing
