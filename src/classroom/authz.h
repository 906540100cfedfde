// Authorization: every decision about who may do what goes through an Authorizer with a
// documented input document (docs/policy.md). There is one implementation, the Rego engine
// running the policies in force (classroom::RegoAuthorizer, classroom/rego_authorizer.h, in the
// native and the wasm32-wasi server; policies/education.rego by default); tests use it with the
// real default policies too.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/jwt.h"
#include "store/model.h"

namespace classroom {

// Who is asking, from a verified token.
struct Actor {
  std::string id;
  std::string name;
  base::Role role = base::Role::kStudent;
};

struct Decision {
  bool allow = false;
  std::string reason;  // why not, for the 403 message; may be empty when allowed
};

// The input document of a decision, typed (docs/policy.md, "Input documents"): what the server
// builds for every action. It refers to the caller's rows and strings, which must stay alive
// and unchanged while it is decided; nothing is copied until an authorizer needs to. Members
// left null/empty are absent from the document.
struct DecisionInput {
  struct User {
    const std::string& id;
    const std::string& name;
    std::string_view role;  // "student", "teacher" or "admin"
  };
  // The course as a live room knows it: {"id", "teacher_id"} only.
  struct RoomCourse {
    const std::string& id;
    const std::string& teacher_id;
  };
  // The student a stage decision is about: {"id", "role"}, "role" absent when not in the room.
  struct Target {
    const std::string& id;
    std::optional<std::string_view> role;
  };

  DecisionInput(std::string_view action, User user) : action(action), user(user) {}

  std::string_view action;
  User user;
  const store::Course* course = nullptr;  // {"id", "status", "capacity", "enrolled", "teacher_id"}
  const std::vector<std::string>* students = nullptr;  // with `course`: its "students" (join)
  const RoomCourse* room_course = nullptr;             // instead of `course`
  const store::Session* session = nullptr;  // {"id", "course_id", "teacher_id", "status"}
  const store::Quiz* quiz = nullptr;        // {"id", "session_id", "status", "deadline_at" if set}
  const Target* target = nullptr;
  std::optional<bool> enrolled;
  std::optional<bool> on_stage;

  // The document as JSON, its keys in the order above (action, user, course, session, quiz,
  // target, enrolled, on_stage): for decision logs and for authorizers without a typed path.
  boost::json::object to_json() const;
};

// `actor` as the input's user (role: base::role_name). `actor` must outlive the result.
DecisionInput::User input_user(const Actor& actor);

// Thread-safe: decide() may be called from any thread at once.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // `input` is the decision's input document: {"action": ..., "user": {...}, ...}.
  virtual Decision decide(const boost::json::object& input) const = 0;
  // The same decision on the typed document; must decide exactly as decide(input.to_json()),
  // which is what the default does. RegoAuthorizer builds the policy's value directly.
  virtual Decision decide(const DecisionInput& input) const { return decide(input.to_json()); }
};

}  // namespace classroom
