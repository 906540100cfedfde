// Shared fixture for the room tests: a Room on a FakeClock with a listener that records
// every event (parsed back from its JSON text, so the tests check what goes on the wire).
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <utility>
#include <vector>

#include "app/policies.h"
#include "base/clock.h"
#include "base/random.h"
#include "classroom/room.h"
#include "store/db.h"
#include "store/migrations.h"

namespace classroom::testing {

struct Recorded {
  RoomEvent event;
  boost::json::object json;
  std::string type() const { return std::string(json.at("type").as_string()); }
};

class RecordingListener : public RoomListener {
 public:
  void on_room_event(const RoomEvent& e) override {
    events.push_back({e, boost::json::parse(*e.json).as_object()});
  }
  void on_chat_message(const ChatMessage& m) override { persisted.push_back(m); }
  void on_chat_deleted(std::string_view id) override { deleted.emplace_back(id); }
  void on_participant_removed(std::string_view id) override { removed.emplace_back(id); }
  void on_quiz_deadline(std::string_view id) override { deadlines.emplace_back(id); }
  void on_stage_changed(std::string_view previous, std::string_view current) override {
    stage_changes.emplace_back(std::string(previous), std::string(current));
  }

  // Events of `type` delivered to (`role`, `user`), in order.
  std::vector<Recorded> of(std::string_view type) const {
    std::vector<Recorded> out;
    for (const auto& r : events) {
      if (r.type() == type) out.push_back(r);
    }
    return out;
  }
  std::vector<Recorded> for_user(Role role, std::string_view user) const {
    std::vector<Recorded> out;
    for (const auto& r : events) {
      if (r.event.audience.includes(role, user)) out.push_back(r);
    }
    return out;
  }

  std::vector<Recorded> events;
  std::vector<ChatMessage> persisted;
  std::vector<std::string> deleted, removed, deadlines;
  std::vector<std::pair<std::string, std::string>> stage_changes;  // (previous, current)
};

// The real default policies (policies/education.rego, embedded), compiled once.
inline std::shared_ptr<const Authorizer> policies() {
  static const std::shared_ptr<const Authorizer> loaded = [] {
    size_t files = 0;
    auto a = app::load_policies("", &files);
    EXPECT_TRUE(a.is_ok()) << a.status().to_string();
    return a.is_ok() ? std::shared_ptr<const Authorizer>(*a) : nullptr;
  }();
  return loaded;
}

// The quiz "qz_one" ("Check-in"), published now with a minute to answer: "2+2?" (single
// choice, "4" correct) and, when `questions` is 2, "primes?" (multiple, "2" and "5" correct).
inline LiveQuizInfo check_in_quiz(const base::Clock& clock, int questions = 2) {
  LiveQuizInfo info;
  info.id = "qz_one";
  info.title = "Check-in";
  info.questions.push_back({QuestionKind::kSingle, "2+2?", {"3", "4", "5"}, {1}});
  if (questions == 2) {
    info.questions.push_back({QuestionKind::kMultiple, "primes?", {"2", "4", "5"}, {0, 2}});
  }
  info.published_at_ms = clock.now_unix_ms();
  info.deadline_ms = clock.now_unix_ms() + 60'000;
  return info;
}

// A private in-memory store with the schema, for tests that read and write rows; nullptr (with
// the failure recorded) when it cannot be made.
inline std::unique_ptr<store::Db> migrated_memory_db() {
  auto db = store::Db::open(":memory:", store::OpenMode::kReadWrite);
  EXPECT_TRUE(db.is_ok()) << db.status().to_string();
  if (!db.is_ok()) return nullptr;
  base::Status st = store::migrate(**db);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return st.is_ok() ? std::move(db).value() : nullptr;
}

class RoomFixture : public ::testing::Test {
 protected:
  RoomFixture() { reset({}); }

  void reset(RoomConfig cfg) {
    cfg.session_id = "ses_test";
    cfg.course_id = "crs_test";
    cfg.title = "Algebra";
    cfg.teacher_id = "t1";  // the teacher every room test joins
    cfg.authorizer = [a = policies()] { return a; };
    room = std::make_unique<Room>(cfg, listener, clock, random);
  }

  JoinReply join(std::string id, Role role, std::optional<ResumePoint> resume = std::nullopt) {
    auto r = room->join(Participant{id, "Name " + id, role}, resume);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : JoinReply{};
  }

  base::FakeClock clock;
  base::SeededRandom random{42};
  RecordingListener listener;
  std::unique_ptr<Room> room;
};

}  // namespace classroom::testing
