// Authorization: every decision about who may do what goes through an Authorizer with a
// documented input document (docs/policy.md). There is one implementation, the Rego engine
// running the policies in force (app::RegoAuthorizer; policies/education.rego by default);
// tests use it with the real default policies too.
#pragma once

#include <boost/json/object.hpp>
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

// Thread-safe: decide() may be called from any thread at once.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // `input` is the decision's input document: {"action": ..., "user": {...}, ...}.
  virtual Decision decide(const boost::json::object& input) const = 0;
};

// Builders for the input documents (see docs/policy.md for each action's fields).
boost::json::object user_doc(const Actor& a);
boost::json::object course_doc(const store::Course& c);
// The join decision's course: course_doc plus "students", the ids of enrolled students (the
// caller reads at most `capacity` of them: store::enrolled_student_ids).
boost::json::object join_course_doc(const store::Course& c,
                                    const std::vector<std::string>& students);
boost::json::object session_doc(const store::Session& s);
boost::json::object quiz_doc(const store::Quiz& q);
boost::json::object make_input(std::string_view action, const Actor& actor);

}  // namespace classroom
