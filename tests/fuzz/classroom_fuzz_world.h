// The classroom the HTTP and live fuzz targets play in: a template SQLite database built once
// per process (a teacher's active course with enrolled students, a removed student, a live
// session with an open, a draft and a closed quiz, an ended session, another teacher's
// course), the real policies (the embedded policies/*.rego), tokens for every kind of caller
// and a fixed fake clock. Every input starts from a fresh copy of the template, so an input
// replays the same way on its own and after any other input.
//
// Inputs name the fixture's ids with placeholders that substitute() replaces:
//   $C course   $O other teacher's course   $S live session   $E ended session
//   $Q open quiz   $D draft quiz   $K closed quiz
//   $t teacher  $u other teacher  $a student  $b second student  $r removed student
//   $x outsider (signed in, not enrolled)  $m admin
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "app/policies.h"
#include "base/clock.h"
#include "classroom/authz.h"

namespace fuzz {

inline constexpr int64_t kNowMs = 1'795'000'000'000;
inline constexpr std::string_view kSecret = "fuzz-secret-0123456789abcdef";

// Who sends a request or a live message.
enum class Who {
  kAnonymous,
  kOutsider,
  kStudent,
  kStudent2,
  kRemoved,
  kTeacher,
  kOtherTeacher,
  kAdmin
};
inline constexpr int kWhoCount = 8;

classroom::Actor actor(Who who);  // kAnonymous: an empty actor
// A valid bearer token for `who` (empty for kAnonymous), valid at kNowMs.
const std::string& token(Who who);

struct Ids {
  std::string course, other_course, session, ended_session, quiz_open, quiz_draft, quiz_closed;
};

class World {
 public:
  // Built on first use; aborts when the fixture cannot be built (a harness bug).
  static World& get();

  const Ids& ids() const { return ids_; }
  // Copies the template database to a work path and returns that path (the previous copy,
  // with its WAL, is replaced). The caller opens its own connections.
  std::string fresh_db() const;
  std::shared_ptr<const classroom::RegoAuthorizer> policies() const { return policies_; }
  // Replaces the placeholders listed above.
  std::string substitute(std::string_view text) const;

 private:
  World();
  std::string dir_;
  std::string template_path_;
  std::string work_path_;
  Ids ids_;
  std::shared_ptr<const classroom::RegoAuthorizer> policies_;
};

}  // namespace fuzz
