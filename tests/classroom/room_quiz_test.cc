#include <boost/json/parse.hpp>

#include "room_test_util.h"

namespace classroom::testing {
namespace {

namespace json = boost::json;

class RoomQuizTest : public RoomFixture {
 protected:
  void SetUp() override {
    join("t1", Role::kTeacher);
    for (const char* s : {"s1", "s2", "s3"}) join(s, Role::kStudent);
    ASSERT_TRUE(room->publish_quiz(check_in_quiz(clock)).is_ok());
  }
  // Submits and commits `answers` for `user` as the transport would.
  void answer(const std::string& user, const char* answers) {
    auto start = room->begin_answer(user, "qz_one", json::parse(answers));
    ASSERT_TRUE(start.is_ok()) << start.status().to_string();
    ASSERT_TRUE(start->needs_commit);
    room->answer_committed(user, "qz_one", start->answers);
  }
};

TEST_F(RoomQuizTest, PublishedToEveryoneWithoutAnswers) {
  auto pub = listener.of("quiz_published");
  ASSERT_EQ(pub.size(), 1u);
  EXPECT_TRUE(pub[0].event.audience.includes(Role::kStudent, "s1"));
  const auto& q = pub[0].json.at("quiz").as_object();
  EXPECT_EQ(q.at("id"), "qz_one");
  EXPECT_EQ(q.at("deadline"), clock.now_unix_ms() + 60'000);
  EXPECT_FALSE(q.at("questions").as_array()[0].as_object().contains("correct"));
  // A second quiz while one is open is refused; the same one again is a no-op.
  LiveQuizInfo other = check_in_quiz(clock);
  other.id = "qz_two";
  EXPECT_EQ(room->publish_quiz(other).reason(), "quiz_open");
  EXPECT_TRUE(room->publish_quiz(check_in_quiz(clock)).is_ok());
  EXPECT_EQ(listener.of("quiz_published").size(), 1u);
  // The teacher's snapshot has the answers, a student's does not.
  EXPECT_TRUE(room->snapshot("t1").at("quiz").at("quiz").at("questions").as_array()[0]
                  .as_object().contains("correct"));
  EXPECT_FALSE(room->snapshot("s1").at("quiz").at("quiz").at("questions").as_array()[0]
                   .as_object().contains("correct"));
}

TEST_F(RoomQuizTest, AnswerIsAcknowledgedOnlyWhenCommitted) {
  auto start = room->begin_answer("s1", "qz_one",
                                  json::parse(R"([{"question":0,"choice":[1]}])"));
  ASSERT_TRUE(start.is_ok());
  EXPECT_TRUE(listener.of("answer_accepted").empty());
  // While the write is in flight a second submission is refused.
  EXPECT_EQ(room->begin_answer("s1", "qz_one", json::parse(R"([{"question":0,"choice":1}])"))
                .status().reason(), "already_answered");
  room->answer_committed("s1", "qz_one", start->answers);
  auto acks = listener.of("answer_accepted");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0].event.audience.includes(Role::kStudent, "s1"));
  EXPECT_FALSE(acks[0].event.audience.includes(Role::kStudent, "s2"));
  EXPECT_FALSE(acks[0].event.audience.includes(Role::kTeacher, "t1"));
  // Resubmitting the same answers re-acknowledges without another write; different ones
  // are a conflict.
  auto again = room->begin_answer("s1", "qz_one", json::parse(R"([{"question":0,"choice":[1]}])"));
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(again->needs_commit);
  EXPECT_EQ(listener.of("answer_accepted").size(), 2u);
  EXPECT_EQ(room->begin_answer("s1", "qz_one", json::parse(R"([{"question":0,"choice":[2]}])"))
                .status().code(), base::Code::kConflict);
}

TEST_F(RoomQuizTest, FailedCommitAllowsRetry) {
  auto start = room->begin_answer("s2", "qz_one", json::parse(R"([{"question":0,"choice":[0]}])"));
  ASSERT_TRUE(start.is_ok());
  room->answer_failed("s2", "qz_one");
  EXPECT_TRUE(room->begin_answer("s2", "qz_one", json::parse(R"([{"question":0,"choice":[0]}])"))
                  .is_ok());
}

TEST_F(RoomQuizTest, RejectsBadAnswers) {
  struct Case {
    const char* user;
    const char* quiz;
    const char* body;
    const char* reason;
  } cases[] = {
      {"t1", "qz_one", R"([{"question":0,"choice":[1]}])", "not_student"},
      {"s1", "qz_other", R"([{"question":0,"choice":[1]}])", "quiz_not_open"},
      {"s1", "qz_one", R"([{"question":5,"choice":[1]}])", "invalid_field"},
      {"s1", "qz_one", R"([{"question":0,"choice":[7]}])", "invalid_choice"},
      {"s1", "qz_one", R"([{"question":0,"choice":[0,1]}])", "invalid_choice"},
      {"s1", "qz_one", R"([{"question":0,"choice":[1]},{"question":0,"choice":[1]}])",
       "duplicate_answer"},
      {"s1", "qz_one", R"([])", "invalid_answers"},
      {"s1", "qz_one", R"([{"question":0}])", "missing_field"},
      {"ghost", "qz_one", R"([{"question":0,"choice":[1]}])", "not_in_room"},
  };
  for (const auto& c : cases) {
    auto r = room->begin_answer(c.user, c.quiz, json::parse(c.body));
    ASSERT_FALSE(r.is_ok()) << c.body;
    EXPECT_EQ(r.status().reason(), c.reason) << c.body << ": " << r.status().to_string();
  }
  clock.advance_ms(61'000);
  EXPECT_EQ(room->begin_answer("s1", "qz_one", json::parse(R"([{"question":0,"choice":[1]}])"))
                .status().reason(), "deadline_passed");
}

TEST_F(RoomQuizTest, LiveResultsAreAggregatedAndThrottled) {
  answer("s1", R"([{"question":0,"choice":[1]},{"question":1,"choice":[0,2]}])");
  // The first answer is reported at once.
  auto res = listener.of("quiz_results");
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].event.audience.includes(Role::kTeacher, "t1"));
  EXPECT_FALSE(res[0].event.audience.includes(Role::kStudent, "s1"));
  EXPECT_EQ(res[0].json.at("answered"), 1);
  EXPECT_EQ(res[0].json.at("students"), 3);
  // Two more within the interval: no event until tick() after the interval.
  clock.advance_ms(10);
  answer("s2", R"([{"question":0,"choice":[2]},{"question":1,"choice":[0]}])");
  answer("s3", R"([{"question":0,"choice":[1]}])");
  EXPECT_EQ(listener.of("quiz_results").size(), 1u);
  room->tick();
  EXPECT_EQ(listener.of("quiz_results").size(), 1u);
  clock.advance_ms(240);
  room->tick();
  res = listener.of("quiz_results");
  ASSERT_EQ(res.size(), 2u);
  const auto& r = res[1].json;
  EXPECT_EQ(r.at("answered"), 3);
  EXPECT_EQ(r.at("final"), false);
  const auto& q0 = r.at("questions").as_array()[0].as_object();
  EXPECT_EQ(q0.at("counts"), json::parse("[0,2,1]"));
  EXPECT_EQ(q0.at("answered"), 3);
  EXPECT_EQ(q0.at("correct"), 2);
  const auto& q1 = r.at("questions").as_array()[1].as_object();
  EXPECT_EQ(q1.at("counts"), json::parse("[2,0,1]"));
  EXPECT_EQ(q1.at("answered"), 2);
  EXPECT_EQ(q1.at("correct"), 1);
  // Nothing new: ticks stay quiet.
  clock.advance_ms(1000);
  room->tick();
  EXPECT_EQ(listener.of("quiz_results").size(), 2u);
}

TEST_F(RoomQuizTest, ThousandAnswersInOneSecondGiveAtMostFiveUpdates) {
  RoomConfig cfg;
  reset(cfg);
  join("t1", Role::kTeacher);
  for (int i = 0; i < 1000; ++i) join("u" + std::to_string(i), Role::kStudent);
  ASSERT_TRUE(room->publish_quiz(check_in_quiz(clock)).is_ok());
  for (int i = 0; i < 1000; ++i) {
    answer("u" + std::to_string(i), R"([{"question":0,"choice":[1]}])");
    clock.advance_ms(1);
    if (i % 20 == 0) room->tick();
  }
  room->tick();
  size_t updates = listener.of("quiz_results").size();
  EXPECT_GE(updates, 4u);
  EXPECT_LE(updates, 5u);  // a 1 s burst at <= 4/s, plus the leading edge
  EXPECT_EQ(listener.of("answer_accepted").size(), 1000u);
}

TEST_F(RoomQuizTest, CloseSendsScoresAndDistribution) {
  answer("s1", R"([{"question":0,"choice":[1]},{"question":1,"choice":[0,2]}])");  // 2
  answer("s2", R"([{"question":0,"choice":[1]},{"question":1,"choice":[0]}])");    // 1
  room->leave("s2");  // still owed a score
  ASSERT_TRUE(room->close_quiz("qz_one").is_ok());
  auto closed = listener.of("quiz_closed");
  ASSERT_EQ(closed.size(), 1u);
  const auto& d = closed[0].json.at("distribution").as_object();
  EXPECT_EQ(d.at("max_score"), 2);
  EXPECT_EQ(d.at("answered"), 2);
  EXPECT_EQ(d.at("histogram"), json::parse("[0,1,1]"));
  EXPECT_DOUBLE_EQ(d.at("mean").as_double(), 1.5);
  EXPECT_TRUE(closed[0].json.at("quiz").at("questions").as_array()[0].as_object().contains("correct"));
  EXPECT_EQ(listener.of("quiz_results").back().json.at("final"), true);

  auto scores = listener.of("quiz_score");
  ASSERT_EQ(scores.size(), 3u);  // s1, s2 (left), s3 (present, no answer)
  auto score_of = [&](const char* u) {
    for (const auto& s : scores) {
      if (s.event.audience.includes(Role::kStudent, u) &&
          !s.event.audience.includes(Role::kStudent, "zz")) {
        return s.json;
      }
    }
    return json::object{};
  };
  EXPECT_EQ(score_of("s1").at("score"), 2);
  EXPECT_EQ(score_of("s1").at("correct"), json::parse("[true,true]"));
  EXPECT_EQ(score_of("s2").at("score"), 1);
  EXPECT_EQ(score_of("s3").at("answered"), false);
  EXPECT_EQ(score_of("s3").at("score"), 0);

  // Closed: answers are refused, a late commit still acks but changes nothing sent.
  EXPECT_EQ(room->begin_answer("s3", "qz_one", json::parse(R"([{"question":0,"choice":[1]}])"))
                .status().reason(), "quiz_not_open");
  EXPECT_TRUE(room->close_quiz("qz_one").is_ok());  // idempotent
  EXPECT_EQ(listener.of("quiz_closed").size(), 1u);
  // A student joining after the close sees the result in its snapshot.
  join("s4", Role::kStudent);
  auto snap = room->snapshot("s1");
  EXPECT_EQ(snap.at("quiz").at("score").at("score"), 2);
  EXPECT_EQ(snap.at("quiz").at("quiz").at("status"), "closed");
  // A new quiz may now be published.
  LiveQuizInfo next = check_in_quiz(clock);
  next.id = "qz_two";
  EXPECT_TRUE(room->publish_quiz(next).is_ok());
}

TEST_F(RoomQuizTest, DeadlineIsReportedOnceAndEndClosesTheQuiz) {
  EXPECT_TRUE(room->wants_tick());
  room->tick();
  EXPECT_TRUE(listener.deadlines.empty());
  clock.advance_ms(60'001);
  room->tick();
  room->tick();
  EXPECT_EQ(listener.deadlines, std::vector<std::string>{"qz_one"});
  room->end("teacher_ended");
  EXPECT_EQ(listener.of("quiz_closed").size(), 1u);
  EXPECT_EQ(listener.events.back().type(), "session_ended");
  EXPECT_FALSE(room->wants_tick());
}

TEST_F(RoomQuizTest, RestCommitsFeedTheRoomToo) {
  // An answer stored through REST reaches the room without begin_answer.
  room->answer_committed("s3", "qz_one", AnswerSet{{1}, {}});
  EXPECT_EQ(listener.of("answer_accepted").size(), 1u);
  EXPECT_EQ(listener.of("quiz_results").back().json.at("answered"), 1);
  room->answer_committed("s3", "qz_unknown", AnswerSet{{1}, {}});  // ignored
  EXPECT_EQ(listener.of("answer_accepted").size(), 1u);
}

}  // namespace
}  // namespace classroom::testing
