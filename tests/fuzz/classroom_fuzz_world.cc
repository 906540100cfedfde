#include "classroom_fuzz_world.h"

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "base/jwt.h"
#include "base/log.h"
#include "base/random.h"
#include "classroom/quiz.h"
#include "classroom/service.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/txn.h"

namespace fuzz {

namespace {

namespace fs = std::filesystem;

struct Person {
  const char* id;
  const char* name;
  base::Role role;
};

constexpr Person kPeople[kWhoCount] = {
    {"", "", base::Role::kStudent},            // anonymous
    {"u_eve", "Eve", base::Role::kStudent},    // outsider
    {"u_ana", "Ana", base::Role::kStudent},    // enrolled student
    {"u_bo", "Bo", base::Role::kStudent},      // second enrolled student
    {"u_rem", "Rem", base::Role::kStudent},    // removed from the course
    {"u_tess", "Tess", base::Role::kTeacher},  // the course's teacher
    {"u_tom", "Tom", base::Role::kTeacher},    // another course's teacher
    {"u_admin", "Admin", base::Role::kAdmin},  // admin
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz world: %s\n", what.c_str());
  std::abort();
}

template <typename T>
T must(base::Result<T> r, const char* what) {
  if (!r.is_ok()) die(std::string(what) + ": " + r.status().to_string());
  return std::move(r).value();
}

// Runs `fn(txn)` (returning Result<T>) in its own transaction.
template <typename T, typename Fn>
T write(store::Db& db, const char* what, Fn fn) {
  std::optional<T> out;
  base::Status st = store::transact(db, [&](store::Txn& t) -> base::Status {
    auto r = fn(t);
    if (!r.is_ok()) return r.status();
    out = std::move(r).value();
    return base::Status::ok();
  });
  if (!st.is_ok()) die(std::string(what) + ": " + st.to_string());
  return std::move(*out);
}

std::vector<classroom::Question> questions() {
  using classroom::Question;
  using classroom::QuestionKind;
  return {
      Question{QuestionKind::kSingle, "2+2?", {"3", "4", "5"}, {1}},
      Question{QuestionKind::kMultiple, "Primes?", {"2", "4", "5", "9"}, {0, 2}},
      Question{QuestionKind::kTrueFalse, "The sky is blue.", {"True", "False"}, {0}},
  };
}

}  // namespace

classroom::Actor actor(Who who) {
  const Person& p = kPeople[int(who)];
  return classroom::Actor{p.id, p.name, p.role};
}

const std::string& token(Who who) {
  static const std::vector<std::string> tokens = [] {
    std::vector<std::string> t;
    for (int i = 0; i < kWhoCount; ++i) {
      if (i == int(Who::kAnonymous)) {
        t.emplace_back();
        continue;
      }
      base::Claims c{kPeople[i].id, kPeople[i].name, kPeople[i].role, kNowMs / 1000 + 3600,
                     kNowMs / 1000 - 60};
      t.push_back(base::mint_token(c, kSecret));
    }
    return t;
  }();
  return tokens[size_t(who)];
}

World& World::get() {
  static World* w = new World();  // never destroyed: targets may run until exit
  return *w;
}

World::World() {
  base::log::set_level(base::log::Level::kOff);
  const char* base_dir = std::getenv("TMPDIR");
  std::string root = fs::exists("/dev/shm") ? "/dev/shm" : (base_dir ? base_dir : "/tmp");
  std::string pattern = root + "/edgeclass-fuzz-XXXXXX";
  if (!mkdtemp(pattern.data())) die("cannot make a temp directory under " + root);
  dir_ = pattern;
  // Best effort: the directory goes when the process exits normally.
  static std::string cleanup;
  cleanup = dir_;
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(cleanup, ec);
  });
  template_path_ = dir_ + "/template.db";
  work_path_ = dir_ + "/work.db";

  size_t files = 0;
  policies_ = must(app::load_policies("", &files), "load the embedded policies");

  base::FakeClock clock(kNowMs - 60'000);
  base::SeededRandom random(7);
  auto authz = policies_;
  classroom::Service service(
      clock, random, [authz] { return authz; }, 30);
  {
    auto db = must(store::Db::open(template_path_, store::OpenMode::kReadWrite), "open template");
    if (auto s = store::migrate(*db, clock); !s.is_ok()) die("migrate: " + s.to_string());

    auto teacher = actor(Who::kTeacher);
    classroom::CreateCourse cc{"Algebra", "Numbers and letters", 30, store::CourseStatus::kActive};
    ids_.course = write<store::Course>(*db, "create course", [&](store::Txn& t) {
                    return service.create_course(t, teacher, cc);
                  }).id;
    classroom::CreateCourse oc{"Biology", "", 30, store::CourseStatus::kActive};
    ids_.other_course = write<store::Course>(*db, "create other course", [&](store::Txn& t) {
                          return service.create_course(t, actor(Who::kOtherTeacher), oc);
                        }).id;
    for (Who s : {Who::kStudent, Who::kStudent2, Who::kRemoved}) {
      write<classroom::JoinResult>(
          *db, "join", [&](store::Txn& t) { return service.join(t, actor(s), ids_.course); });
    }
    base::Status removed = store::transact(*db, [&](store::Txn& t) {
      return service.remove_student(t, teacher, ids_.course, actor(Who::kRemoved).id);
    });
    if (!removed.is_ok()) die("remove student: " + removed.to_string());

    ids_.ended_session = write<store::Session>(*db, "go live", [&](store::Txn& t) {
                           return service.go_live(t, teacher, ids_.course, "Yesterday");
                         }).id;
    write<store::Session>(*db, "end session", [&](store::Txn& t) {
      return service.end_session(t, teacher, ids_.ended_session);
    });
    ids_.session = write<store::Session>(*db, "go live", [&](store::Txn& t) {
                     return service.go_live(t, teacher, ids_.course, "Today");
                   }).id;
    classroom::CreateQuiz q{"Check-in", questions()};
    auto make_quiz = [&] {
      return write<store::Quiz>(
                 *db, "create quiz",
                 [&](store::Txn& t) { return service.create_quiz(t, teacher, ids_.session, q); })
          .id;
    };
    ids_.quiz_closed = make_quiz();
    write<store::Quiz>(*db, "publish quiz", [&](store::Txn& t) {
      return service.publish_quiz(t, teacher, ids_.quiz_closed, 60);
    });
    write<store::Quiz>(*db, "close quiz", [&](store::Txn& t) {
      return service.close_quiz(t, teacher, ids_.quiz_closed);
    });
    ids_.quiz_open = make_quiz();
    write<store::Quiz>(*db, "publish quiz", [&](store::Txn& t) {
      return service.publish_quiz(t, teacher, ids_.quiz_open, 3600);
    });
    ids_.quiz_draft = make_quiz();
    // The second student has answered the open quiz already.
    auto prepared = must(
        service.prepare_answers(*db, actor(Who::kStudent2), ids_.quiz_open,
                                boost::json::parse(R"({"answers":[{"question":0,"choice":[1]}]})")),
        "prepare answers");
    base::Status answered =
        store::transact(*db, [&](store::Txn& t) { return service.commit_answers(t, prepared); });
    if (!answered.is_ok()) die("commit answers: " + answered.to_string());
    if (auto s = db->exec("PRAGMA wal_checkpoint(TRUNCATE)"); !s.is_ok()) {
      die("checkpoint: " + s.to_string());
    }
  }
}

std::string World::fresh_db() const {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(work_path_ + suffix, ec);
  fs::copy_file(template_path_, work_path_, fs::copy_options::overwrite_existing, ec);
  if (ec) die("copy the template database: " + ec.message());
  return work_path_;
}

std::string World::substitute(std::string_view text) const {
  std::string out;
  out.reserve(text.size() + 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const std::string* id = nullptr;
    const char* person = nullptr;
    switch (text[i + 1]) {
      case 'C':
        id = &ids_.course;
        break;
      case 'O':
        id = &ids_.other_course;
        break;
      case 'S':
        id = &ids_.session;
        break;
      case 'E':
        id = &ids_.ended_session;
        break;
      case 'Q':
        id = &ids_.quiz_open;
        break;
      case 'D':
        id = &ids_.quiz_draft;
        break;
      case 'K':
        id = &ids_.quiz_closed;
        break;
      case 't':
        person = kPeople[int(Who::kTeacher)].id;
        break;
      case 'u':
        person = kPeople[int(Who::kOtherTeacher)].id;
        break;
      case 'a':
        person = kPeople[int(Who::kStudent)].id;
        break;
      case 'b':
        person = kPeople[int(Who::kStudent2)].id;
        break;
      case 'r':
        person = kPeople[int(Who::kRemoved)].id;
        break;
      case 'x':
        person = kPeople[int(Who::kOutsider)].id;
        break;
      case 'm':
        person = kPeople[int(Who::kAdmin)].id;
        break;
      default:
        break;
    }
    if (id)
      out += *id;
    else if (person)
      out += person;
    else {
      out += text[i];
      continue;
    }
    ++i;
  }
  return out;
}

}  // namespace fuzz
