// classroom::BuiltinAuthorizer claims to mirror policies/education.rego (it decides in tests
// that wire no Rego engine). This checks the claim on every combination of the facts the
// default rules look at: each action of docs/policy.md (and an unknown one) for each kind of
// caller, course state, enrollment, session and quiz state and stage flag.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <map>
#include <string>

#include "app/policies.h"
#include "classroom/authz.h"

namespace {

namespace json = boost::json;

TEST(AuthzParityTest, BuiltinRulesDecideAsTheDefaultRegoPolicy) {
  size_t files = 0;
  auto rego = app::load_policies("", &files);
  ASSERT_TRUE(rego.is_ok()) << rego.status().to_string();
  classroom::BuiltinAuthorizer builtin;

  const char* actions[] = {"create_course",  "update_course", "join",       "leave",
                           "remove_student", "list_students", "go_live",    "end_session",
                           "create_quiz",    "publish_quiz",  "close_quiz", "read_results",
                           "list_quizzes",   "read_quiz",     "answer",     "join_live",
                           "moderate",       "publish_media", "stage",      "no_such_action"};
  // The course's teacher is t1. "t1" as a student is a token whose sub happens to be the
  // teacher's: it must be treated as a student.
  const json::object users[] = {
      {{"id", "s1"}, {"name", "S"}, {"role", "student"}},
      {{"id", "t1"}, {"name", "T"}, {"role", "teacher"}},
      {{"id", "t2"}, {"name", "U"}, {"role", "teacher"}},
      {{"id", "a1"}, {"name", "A"}, {"role", "admin"}},
      {{"id", "t1"}, {"name", "T"}, {"role", "student"}},
  };
  int cases = 0, allowed = 0;
  // "action as user: rego allows/denies" -> an example input and how many inputs differ.
  std::map<std::string, std::pair<std::string, int>> differ;
  for (const char* action : actions) {
    for (const json::object& user : users) {
      for (const char* course_status : {"draft", "active", "archived"}) {
        for (int enrolled_count : {29, 30}) {
          for (bool enrolled : {false, true}) {
            for (const char* session_status : {"live", "ended"}) {
              for (const char* quiz_status : {"draft", "published", "closed"}) {
                for (bool on_stage : {false, true}) {
                  json::object in{{"action", action}, {"user", user}};
                  in["course"] = json::object{{"id", "crs_x"},
                                              {"status", course_status},
                                              {"capacity", 30},
                                              {"enrolled", enrolled_count},
                                              {"teacher_id", "t1"}};
                  in["enrolled"] = enrolled;
                  in["session"] = json::object{{"id", "ses_x"},
                                               {"course_id", "crs_x"},
                                               {"teacher_id", "t1"},
                                               {"status", session_status}};
                  in["quiz"] = json::object{
                      {"id", "qz_x"}, {"session_id", "ses_x"}, {"status", quiz_status}};
                  in["on_stage"] = on_stage;
                  bool want = (*rego)->decide(in).allow;
                  bool got = builtin.decide(in).allow;
                  ++cases;
                  allowed += want;
                  if (want != got) {
                    std::string key = std::string(action) + " as " + json::serialize(user) +
                                      (want ? ": rego allows" : ": rego denies");
                    auto& [example, count] = differ[key];
                    if (count++ == 0) example = json::serialize(in);
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  for (const auto& [key, d] : differ) {
    ADD_FAILURE() << key << ", the builtin rules do not (" << d.second << " inputs), e.g. "
                  << d.first;
  }
  // Both outcomes occur, so the comparison is not vacuous.
  EXPECT_GT(allowed, cases / 10);
  EXPECT_LT(allowed, cases);
}

}  // namespace
