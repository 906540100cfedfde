// The route × role authorization matrix (docs/api.md, "Who may call what").
//
// Every route the real router serves — built by the real http::register_api over a real
// SQLite database, with the default policies compiled into the binary — is called in-process
// by seven callers: anonymous, a signed-in outsider (a student not enrolled), an enrolled
// student, a removed student (enrolled, then removed by the teacher), another course's
// teacher, the course's teacher and an admin. The status each gets must be the one in kRows,
// which mirrors the tables of docs/api.md. The route list comes from Router::routes(): a
// route added without a row here (or a row whose route is gone) fails the test.
//
// Each call runs against a fresh copy of the same fixture database, so a call that changes
// state (a join, an end, a publish) cannot change what the next caller sees.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/policies.h"
#include "app/web_assets.h"
#include "base/clock.h"
#include "base/jwt.h"
#include "base/random.h"
#include "classroom/service.h"
#include "http/api.h"
#include "http/incoming.h"
#include "http/router.h"
#include "store/db.h"
#include "store/join_codes.h"
#include "store/migrations.h"
#include "store/txn.h"
#include "store/writer.h"

namespace http {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::string_view kSecret = "authz-matrix-secret-0123456789abcdef";

// The seven callers, in the column order of Row::expect.
enum Who { kAnonymous, kOutsider, kEnrolled, kRemoved, kOtherTeacher, kTeacher, kAdmin, kWhoCount };
constexpr std::array<std::string_view, kWhoCount> kWhoName = {"anonymous",
                                                              "outsider (student, not enrolled)",
                                                              "enrolled student",
                                                              "removed student",
                                                              "another course's teacher",
                                                              "the course's teacher",
                                                              "admin"};
struct Caller {
  std::string_view sub;
  base::Role role;
};
constexpr std::array<Caller, kWhoCount> kCallers = {{
    {"", base::Role::kStudent},  // anonymous: no token at all
    {"stu_outsider", base::Role::kStudent},
    {"stu_enrolled", base::Role::kStudent},
    {"stu_removed", base::Role::kStudent},
    {"tch_other", base::Role::kTeacher},
    {"tch_owner", base::Role::kTeacher},
    {"adm_root", base::Role::kAdmin},
}};

// One request and the status each caller gets. `target` may name fixture objects:
//   $COURSE        active course of tch_owner, stu_enrolled enrolled, stu_removed removed
//   $IDLE_COURSE   the same membership, no live session (for going live)
//   $DRAFT_COURSE  draft course of tch_owner, nobody enrolled
//   $SESSION       live session of $COURSE
//   $QUIZ          published quiz of $SESSION (one single-choice question, 1 h to answer)
//   $DRAFT_QUIZ    draft quiz of $SESSION
//   $ENROLLED      stu_enrolled's user id
//   $CLASS_CODE    $COURSE's class code;  $DRAFT_CLASS_CODE  $DRAFT_COURSE's
// Bodies are valid, so that the status is the authorization outcome, not a 400.
struct Row {
  Verb method;
  std::string_view route;  // the router's pattern
  std::string_view target;
  std::string_view body;              // empty: no body; $NAMES are replaced as in target
  std::array<int, kWhoCount> expect;  // anonymous, outsider, enrolled, removed, other teacher,
                                      // the course's teacher, admin
  bool admin = false;  // served by the admin listener (http::register_admin), not the public one
};

constexpr std::string_view kQuizBody =
    R"({"title":"Check","questions":[{"kind":"single","prompt":"2+2?","options":["3","4"],"correct":[1]}]})";

// The "who" columns of docs/api.md, status by status.
const Row kRows[] = {
    // Courses.
    {Verb::post,
     "/api/v1/courses",
     "/api/v1/courses",
     R"({"title":"New course"})",
     {401, 403, 403, 403, 201, 201, 201}},
    {Verb::get, "/api/v1/courses", "/api/v1/courses", "", {401, 200, 200, 200, 200, 200, 200}},
    {Verb::get,
     "/api/v1/courses/{id}",
     "/api/v1/courses/$COURSE",
     "",
     {401, 200, 200, 200, 200, 200, 200}},
    // A draft is hidden (404) from everyone but its teacher and admins...
    {Verb::get,
     "/api/v1/courses/{id}",
     "/api/v1/courses/$DRAFT_COURSE",
     "",
     {401, 404, 404, 404, 404, 200, 200}},
    {Verb::patch,
     "/api/v1/courses/{id}",
     "/api/v1/courses/$COURSE",
     R"({"title":"Renamed"})",
     {401, 403, 403, 403, 403, 200, 200}},
    // ... but an action on it is refused like any other (403): ids are not secrets.
    {Verb::patch,
     "/api/v1/courses/{id}",
     "/api/v1/courses/$DRAFT_COURSE",
     R"({"title":"Renamed"})",
     {401, 403, 403, 403, 403, 200, 200}},
    // Enrollment. A removed student may join again (there is no ban list).
    {Verb::post,
     "/api/v1/courses/{id}/join",
     "/api/v1/courses/$COURSE/join",
     "",
     {401, 201, 200, 201, 403, 403, 403}},
    {Verb::post,
     "/api/v1/courses/{id}/join",
     "/api/v1/courses/$DRAFT_COURSE/join",
     "",
     {401, 403, 403, 403, 403, 403, 403}},
    {Verb::post,
     "/api/v1/courses/{id}/leave",
     "/api/v1/courses/$COURSE/leave",
     "",
     {401, 404, 200, 404, 403, 403, 403}},
    // Removing the enrolled student; for that student it is the same as leaving.
    {Verb::delete_,
     "/api/v1/courses/{id}/students/{student_id}",
     "/api/v1/courses/$COURSE/students/$ENROLLED",
     "",
     {401, 403, 200, 403, 403, 200, 200}},
    {Verb::get,
     "/api/v1/courses/{id}/students",
     "/api/v1/courses/$COURSE/students",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    // The class code: the course's teacher and admins read and rotate it; joining with it
    // answers as joining by id does.
    {Verb::get,
     "/api/v1/courses/{id}/join_code",
     "/api/v1/courses/$COURSE/join_code",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    {Verb::get,
     "/api/v1/courses/{id}/join_code",
     "/api/v1/courses/$DRAFT_COURSE/join_code",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    {Verb::post,
     "/api/v1/courses/{id}/join_code/rotate",
     "/api/v1/courses/$COURSE/join_code/rotate",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    {Verb::post,
     "/api/v1/join",
     "/api/v1/join",
     R"({"code":"$CLASS_CODE"})",
     {401, 201, 200, 201, 403, 403, 403}},
    {Verb::post,
     "/api/v1/join",
     "/api/v1/join",
     R"({"code":"$DRAFT_CLASS_CODE"})",
     {401, 403, 403, 403, 403, 403, 403}},
    // The gradebook: the course's teacher and admins (a draft stays hidden from others).
    {Verb::get,
     "/api/v1/courses/{id}/gradebook.json",
     "/api/v1/courses/$COURSE/gradebook.json",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    {Verb::get,
     "/api/v1/courses/{id}/gradebook.csv",
     "/api/v1/courses/$COURSE/gradebook.csv",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    {Verb::get,
     "/api/v1/courses/{id}/gradebook.csv",
     "/api/v1/courses/$DRAFT_COURSE/gradebook.csv",
     "",
     {401, 404, 404, 404, 404, 200, 200}},
    // Live sessions.
    {Verb::post,
     "/api/v1/courses/{id}/sessions",
     "/api/v1/courses/$IDLE_COURSE/sessions",
     R"({"title":"Lesson 2"})",
     {401, 403, 403, 403, 403, 201, 201}},
    {Verb::get,
     "/api/v1/courses/{id}/sessions",
     "/api/v1/courses/$COURSE/sessions",
     "",
     {401, 200, 200, 200, 200, 200, 200}},
    {Verb::get,
     "/api/v1/courses/{id}/sessions",
     "/api/v1/courses/$DRAFT_COURSE/sessions",
     "",
     {401, 404, 404, 404, 404, 200, 200}},
    {Verb::get,
     "/api/v1/sessions/{id}",
     "/api/v1/sessions/$SESSION",
     "",
     {401, 200, 200, 200, 200, 200, 200}},
    {Verb::get,
     "/api/v1/sessions/{id}/attendance",
     "/api/v1/sessions/$SESSION/attendance",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    {Verb::post,
     "/api/v1/sessions/{id}/end",
     "/api/v1/sessions/$SESSION/end",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    // Quizzes: only the course's teacher, admins and enrolled students see questions.
    {Verb::post,
     "/api/v1/sessions/{id}/quizzes",
     "/api/v1/sessions/$SESSION/quizzes",
     kQuizBody,
     {401, 403, 403, 403, 403, 201, 201}},
    {Verb::get,
     "/api/v1/sessions/{id}/quizzes",
     "/api/v1/sessions/$SESSION/quizzes",
     "",
     {401, 403, 200, 403, 403, 200, 200}},
    {Verb::get,
     "/api/v1/quizzes/{id}",
     "/api/v1/quizzes/$QUIZ",
     "",
     {401, 403, 200, 403, 403, 200, 200}},
    {Verb::get,
     "/api/v1/quizzes/{id}",
     "/api/v1/quizzes/$DRAFT_QUIZ",
     "",
     {401, 404, 404, 404, 404, 200, 200}},
    // $QUIZ is still open in $SESSION and a session runs one quiz at a time (as its live
    // room does): callers the policy lets through get 409 quiz_open, the others 403.
    {Verb::post,
     "/api/v1/quizzes/{id}/publish",
     "/api/v1/quizzes/$DRAFT_QUIZ/publish",
     R"({"time_limit_s":60})",
     {401, 403, 403, 403, 403, 409, 409}},
    {Verb::post,
     "/api/v1/quizzes/{id}/close",
     "/api/v1/quizzes/$QUIZ/close",
     "",
     {401, 403, 403, 403, 403, 200, 200}},
    {Verb::post,
     "/api/v1/quizzes/{id}/answers",
     "/api/v1/quizzes/$QUIZ/answers",
     R"({"answers":[{"question":0,"choice":[1]}]})",
     {401, 403, 201, 403, 403, 403, 403}},
    {Verb::get,
     "/api/v1/quizzes/{id}/results",
     "/api/v1/quizzes/$QUIZ/results",
     "",
     {401, 403, 200, 403, 403, 200, 200}},
    {Verb::get,
     "/api/v1/quizzes/{id}/results",
     "/api/v1/quizzes/$DRAFT_QUIZ/results",
     "",
     {401, 404, 404, 404, 404, 200, 200}},
    // Who am I.
    {Verb::get, "/api/v1/me", "/api/v1/me", "", {401, 200, 200, 200, 200, 200, 200}},
    // The OPA data API: admins only.
    // Operations: anyone, no token.
    {Verb::get, "/healthz", "/healthz", "", {200, 200, 200, 200, 200, 200, 200}},
    {Verb::get, "/readyz", "/readyz", "", {200, 200, 200, 200, 200, 200, 200}},
    // The admin listener (EDGECLASS_ADMIN_LISTEN): the OPA data API, admins only; metrics and
    // probes for anyone who can reach the port.
    {Verb::get,
     "/v1/data/{path*}",
     "/v1/data/education/allow",
     "",
     {401, 403, 403, 403, 403, 403, 200},
     true},
    {Verb::post,
     "/v1/data/{path*}",
     "/v1/data/education/allow",
     R"({"input":{"action":"join"}})",
     {401, 403, 403, 403, 403, 403, 200},
     true},
    {Verb::post,
     "/v1/data",
     "/v1/data",
     R"({"input":{}})",
     {401, 403, 403, 403, 403, 403, 200},
     true},
    // The policy status (bundle revision): admins only.
    {Verb::get, "/v1/status", "/v1/status", "", {401, 403, 403, 403, 403, 403, 200}, true},
    {Verb::get, "/metrics", "/metrics", "", {200, 200, 200, 200, 200, 200, 200}, true},
    {Verb::get, "/healthz", "/healthz", "", {200, 200, 200, 200, 200, 200, 200}, true},
    {Verb::get, "/readyz", "/readyz", "", {200, 200, 200, 200, 200, 200, 200}, true},
};

// The browser client: every file compiled into the binary (and "/" for index.html) is a
// route open to anyone. These rows are made from the same list register_api is given.
std::vector<Row> static_rows() {
  std::vector<Row> rows;
  for (const app::WebAsset& a : app::web_assets()) {
    rows.push_back({Verb::get, a.path, a.path, "", {200, 200, 200, 200, 200, 200, 200}});
    if (a.path == "/index.html") {
      rows.push_back({Verb::get, "/", "/", "", {200, 200, 200, 200, 200, 200, 200}});
    }
  }
  return rows;
}

std::string token_for(Who who, const base::Clock& clock) {
  if (who == kAnonymous) return "";
  base::Claims c;
  c.sub = std::string(kCallers[who].sub);
  c.name = std::string(kWhoName[who]);
  c.role = kCallers[who].role;
  c.iat = clock.now_unix_ms() / 1000;
  c.exp = c.iat + 3600;
  return base::mint_token(c, kSecret);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "edgeclass-authz-XXXXXX").string();
    if (mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The fixture database, written once; each World works on a copy of it.
struct Fixture {
  TempDir dir;
  std::string db_path;
  std::map<std::string, std::string> ids;  // "$COURSE" -> "crs_…" (no name is in another)
  std::shared_ptr<const classroom::RegoAuthorizer> policies;
};

classroom::Actor actor(Who who) {
  return {std::string(kCallers[who].sub), std::string(kWhoName[who]), kCallers[who].role};
}

base::Status build_fixture(Fixture& f, const classroom::Service& svc) {
  f.db_path = f.dir.path() + "/fixture.db";
  store::DbOptions fast;
  fast.synchronous_full = false;
  EC_ASSIGN_OR_RETURN(std::unique_ptr<store::Db> db,
                      store::Db::open(f.db_path, store::OpenMode::kReadWrite, fast));
  EC_RETURN_IF_ERROR(store::migrate(*db));
  return store::transact(*db, [&](store::Txn& txn) -> base::Status {
    auto course = [&](const char* title, store::CourseStatus status, Who owner,
                      bool members) -> base::Result<std::string> {
      classroom::CreateCourse cc{title, "", 100, status};
      EC_ASSIGN_OR_RETURN(store::Course c, svc.create_course(txn, actor(owner), cc));
      if (members) {
        EC_RETURN_IF_ERROR(svc.join(txn, actor(kEnrolled), c.id).status());
        EC_RETURN_IF_ERROR(svc.join(txn, actor(kRemoved), c.id).status());
        EC_RETURN_IF_ERROR(svc.remove_student(txn, actor(owner), c.id, kCallers[kRemoved].sub));
      }
      return c.id;
    };
    EC_ASSIGN_OR_RETURN(f.ids["$COURSE"],
                        course("Algebra", store::CourseStatus::kActive, kTeacher, true));
    EC_ASSIGN_OR_RETURN(f.ids["$IDLE_COURSE"],
                        course("Geometry", store::CourseStatus::kActive, kTeacher, true));
    EC_ASSIGN_OR_RETURN(f.ids["$DRAFT_COURSE"],
                        course("Unreleased", store::CourseStatus::kDraft, kTeacher, false));
    // The other teacher really teaches a course of their own.
    EC_RETURN_IF_ERROR(
        course("Biology", store::CourseStatus::kActive, kOtherTeacher, true).status());
    EC_ASSIGN_OR_RETURN(store::Session s,
                        svc.go_live(txn, actor(kTeacher), f.ids["$COURSE"], "Lesson 1"));
    f.ids["$SESSION"] = s.id;
    classroom::CreateQuiz q;
    q.title = "Check";
    q.questions.push_back({classroom::QuestionKind::kSingle, "2+2?", {"3", "4"}, {1}});
    EC_ASSIGN_OR_RETURN(store::Quiz draft, svc.create_quiz(txn, actor(kTeacher), s.id, q));
    f.ids["$DRAFT_QUIZ"] = draft.id;
    EC_ASSIGN_OR_RETURN(store::Quiz pub, svc.create_quiz(txn, actor(kTeacher), s.id, q));
    EC_RETURN_IF_ERROR(svc.publish_quiz(txn, actor(kTeacher), pub.id, 3600).status());
    f.ids["$QUIZ"] = pub.id;
    f.ids["$ENROLLED"] = std::string(kCallers[kEnrolled].sub);
    for (auto [course, code] :
         {std::pair{"$COURSE", "$CLASS_CODE"}, std::pair{"$DRAFT_COURSE", "$DRAFT_CLASS_CODE"}}) {
      EC_ASSIGN_OR_RETURN(std::optional<std::string> c,
                          store::get_join_code(txn.db(), f.ids[course]));
      if (!c) return base::internal_error(std::string(course) + " has no class code");
      f.ids[code] = *c;
    }
    return base::Status::ok();
  });
}

struct Reply {
  int status = 0;
  std::string label;  // the route the router matched
  std::string body;
  json::value json;  // null when the body is not JSON
  std::string code() const {
    const json::object* o = json.if_object();
    const json::value* e = o ? o->if_contains("error") : nullptr;
    const json::value* c = e && e->is_object() ? e->get_object().if_contains("code") : nullptr;
    return c && c->is_string() ? std::string(c->get_string()) : "";
  }
};

// The real API over a private copy of the fixture database: the group-commit writer, one
// reader, the default policies, register_api. Requests run on an io_context on this thread,
// as they would on one I/O thread of http::Server.
class World {
 public:
  World(const Fixture& f, const base::Clock& clock) : fixture_(f), clock_(clock) {
    std::string path = dir_.path() + "/edgeclass.db";
    std::filesystem::copy_file(f.db_path, path);
    store::DbOptions fast;
    fast.synchronous_full = false;
    auto db = store::Db::open(path, store::OpenMode::kReadWrite, fast);
    EXPECT_TRUE(db.is_ok()) << db.status().to_string();
    auto writer = store::Writer::start(std::move(db).value());
    EXPECT_TRUE(writer.is_ok()) << writer.status().to_string();
    writer_ = std::move(writer).value();
    auto reader = store::Db::open(path, store::OpenMode::kReadOnly);
    EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
    reader_ = std::move(reader).value();
    service_ = std::make_unique<classroom::Service>(
        base::SystemClock::instance(), base::SystemRandom::instance(),
        [p = f.policies]() -> std::shared_ptr<const classroom::Authorizer> { return p; }, 1000);
    deps_.service = service_.get();
    deps_.writer = writer_.get();
    deps_.readers = {reader_.get()};
    deps_.jwt_secret = std::string(kSecret);
    deps_.clock = &clock_;
    deps_.metrics_text = [] { return std::string("# no metrics in this test\n"); };
    deps_.ready = [] { return base::Status::ok(); };
    deps_.policy_status = [] { return json::object{{"bundles", json::object{}}}; };
    deps_.policy_data = [p = f.policies](std::string_view path, const json::value& input) {
      return app::query_data(p->engine(), path, input);
    };
    for (const app::WebAsset& a : app::web_assets()) {
      deps_.static_files.push_back({a.path, a.content_type, a.body});
    }
    register_api(router_, deps_);
    // The admin listener's router, with what app::Node gives it.
    admin_deps_.readers = deps_.readers;
    admin_deps_.service = deps_.service;
    admin_deps_.writer = deps_.writer;
    admin_deps_.jwt_secret = deps_.jwt_secret;
    admin_deps_.clock = deps_.clock;
    admin_deps_.metrics_text = deps_.metrics_text;
    admin_deps_.policy_data = deps_.policy_data;
    admin_deps_.ready = deps_.ready;
    admin_deps_.policy_status = deps_.policy_status;
    register_admin(admin_router_, admin_deps_);
  }
  ~World() {
    if (writer_) writer_->stop();
  }

  const Router& router(bool admin = false) const { return admin ? admin_router_ : router_; }

  // `target` with the fixture's $NAMES replaced by ids.
  std::string resolve(std::string_view target) const {
    std::string t(target);
    for (const auto& [name, id] : fixture_.ids) {
      for (size_t at = t.find(name); at != std::string::npos; at = t.find(name, at + id.size())) {
        t.replace(at, name.size(), id);
      }
    }
    return t;
  }

  Reply call(Verb method, std::string_view target, const std::string& token,
             std::string_view body = "", bool admin = false) {
    Request req;
    req.method(method);
    req.target(resolve(target));
    req.version(11);
    req.set(beast_http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(beast_http::field::authorization, "Bearer " + token);
    if (!body.empty()) req.body() = resolve(body);
    req.prepare_payload();

    std::string_view full = req.target();
    size_t q = full.find('?');
    std::string_view path = full.substr(0, q);
    std::string_view query = q == std::string_view::npos ? std::string_view() : full.substr(q + 1);
    PathParams params;
    Router::Match m = router(admin).match(method, path, params);
    Reply out;
    out.label = std::string(m.label);
    if (!m.handler) {
      out.status = m.path_known ? 405 : 404;
      return out;
    }
    Incoming in(req);
    Ctx ctx{in, params, path, query, 0, {}};
    asio::io_context ioc;
    auto work = asio::make_work_guard(ioc);
    std::optional<Response> res;
    std::exception_ptr error;
    asio::co_spawn(ioc, (*m.handler)(ctx), [&](std::exception_ptr e, Response r) {
      error = e;
      res = std::move(r);
      work.reset();
    });
    ioc.run();
    if (error || !res) {
      out.status = -1;
      out.body = "the handler threw";
      return out;
    }
    out.status = int(res->result_int());
    out.body = res->body();
    boost::system::error_code ec;
    out.json = json::parse(out.body, ec);
    if (ec) out.json = nullptr;
    return out;
  }

 private:
  const Fixture& fixture_;
  const base::Clock& clock_;
  TempDir dir_;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<store::Db> reader_;
  std::unique_ptr<classroom::Service> service_;
  ApiDeps deps_;
  Router router_;
  ApiDeps admin_deps_;
  Router admin_router_;
};

class AuthzMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new Fixture;
    size_t files = 0;
    auto loaded = app::load_policies("", &files);  // the defaults compiled into the binary
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
    fixture_->policies = std::move(loaded).value();
    classroom::Service svc(
        base::SystemClock::instance(), base::SystemRandom::instance(),
        [p = fixture_->policies]() -> std::shared_ptr<const classroom::Authorizer> { return p; },
        1000);
    base::Status st = build_fixture(*fixture_, svc);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
  }
  static void TearDownTestSuite() {
    delete fixture_;
    fixture_ = nullptr;
  }

  static std::vector<Row> all_rows() {
    std::vector<Row> rows(std::begin(kRows), std::end(kRows));
    for (const Row& r : static_rows()) rows.push_back(r);
    return rows;
  }

  static Fixture* fixture_;
  base::FakeClock clock_{base::SystemClock::instance().now_unix_ms()};
};
Fixture* AuthzMatrixTest::fixture_ = nullptr;

std::string route_name(Verb method, std::string_view route, bool admin = false) {
  return std::string(admin ? "admin " : "") + std::string(beast_http::to_string(method)) + " " +
         std::string(route);
}

// The table and the router agree: every route has a row, every row names a route, and every
// row's target reaches the route it names.
TEST_F(AuthzMatrixTest, EveryRouteHasARowAndEveryRowARoute) {
  World w(*fixture_, clock_);
  std::set<std::string> served, covered;
  for (bool admin : {false, true}) {
    for (const Router::RouteInfo& r : w.router(admin).routes()) {
      EXPECT_TRUE(served.insert(route_name(r.method, r.pattern, admin)).second)
          << route_name(r.method, r.pattern, admin) << " is registered twice";
    }
  }
  ASSERT_GT(served.size(), 25u) << "the router lost most of its routes";
  for (const Row& row : all_rows()) {
    std::string name = route_name(row.method, row.route, row.admin);
    covered.insert(name);
    EXPECT_TRUE(served.count(name))
        << "kRows has a row for " << name << ", which the router does not serve";
    PathParams params;
    std::string target = w.resolve(row.target);
    Router::Match m =
        w.router(row.admin).match(row.method, target.substr(0, target.find('?')), params);
    EXPECT_TRUE(m.handler && m.label == row.route)
        << row.target << " reaches " << m.label << ", not " << row.route;
  }
  for (const std::string& name : served) {
    EXPECT_TRUE(covered.count(name))
        << name << " has no row in kRows: add one with the status each caller gets, as "
        << "docs/api.md says";
  }
}

// Every route × every caller, each on a fresh copy of the fixture.
TEST_F(AuthzMatrixTest, EveryRouteAnswersEachCallerAsDocumented) {
  int cells = 0;
  for (const Row& row : all_rows()) {
    for (int who = 0; who < kWhoCount; ++who) {
      World w(*fixture_, clock_);
      Reply r = w.call(row.method, row.target, token_for(Who(who), clock_), row.body, row.admin);
      ++cells;
      int want = row.expect[size_t(who)];
      std::string where = route_name(row.method, row.target, row.admin) + " as " +
                          std::string(kWhoName[size_t(who)]);
      EXPECT_EQ(r.status, want) << where << ": got " << r.status << ", docs/api.md says " << want
                                << "\n  body: " << r.body.substr(0, 300);
      EXPECT_EQ(r.label, row.route) << where;
      if (r.status != want) continue;
      // The error codes that go with each refusal (docs/api.md, Errors).
      if (want == 401) {
        EXPECT_EQ(r.code(), "token_missing") << where;
      }
      if (want == 403) {
        EXPECT_TRUE(r.code() == "forbidden" || r.code() == "join_denied")
            << where << ": code " << r.code();
      }
      if (want == 404) {
        EXPECT_TRUE(r.code().ends_with("_not_found") && r.code() != "route_not_found")
            << where << ": code " << r.code();
      }
    }
  }
  EXPECT_EQ(cells, int(all_rows().size()) * kWhoCount);
}

// Every route that refuses an anonymous caller refuses a bad token the same way, whatever the
// token claims to be: an admin token signed with another secret, and an admin token that is
// not valid before tomorrow. (Refused requests change nothing, so one World serves them all.)
TEST_F(AuthzMatrixTest, EveryProtectedRouteRefusesBadTokens) {
  World w(*fixture_, clock_);
  int64_t now = clock_.now_unix_ms() / 1000;
  base::Claims admin{"adm_root", "Root", base::Role::kAdmin, now + 3600, now, 0};
  std::string forged = base::mint_token(admin, "not-this-deployment's-secret");
  admin.nbf = now + 86400;
  std::string early = base::mint_token(admin, kSecret);
  int protected_routes = 0;
  for (const Row& row : all_rows()) {
    if (row.expect[kAnonymous] != 401) continue;
    ++protected_routes;
    std::string where = route_name(row.method, row.target, row.admin);
    Reply f = w.call(row.method, row.target, forged, row.body, row.admin);
    EXPECT_EQ(f.status, 401) << where << ": " << f.body;
    EXPECT_EQ(f.code(), "token_bad_signature") << where;
    Reply e = w.call(row.method, row.target, early, row.body, row.admin);
    EXPECT_EQ(e.status, 401) << where << ": " << e.body;
    EXPECT_EQ(e.code(), "token_not_yet_valid") << where;
  }
  EXPECT_GT(protected_routes, 20);
}

// What the quiz routes show, not only whether they answer: an enrolled student sees the
// published quiz without the correct options; the teacher and admins see both, with them.
TEST_F(AuthzMatrixTest, QuizListsShowEachCallerOnlyWhatTheyMaySee) {
  World w(*fixture_, clock_);
  std::string draft = w.resolve("$DRAFT_QUIZ"), published = w.resolve("$QUIZ");
  auto ids_and_answers = [&](Who who) {
    Reply r = w.call(Verb::get, "/api/v1/sessions/$SESSION/quizzes", token_for(who, clock_));
    EXPECT_EQ(r.status, 200) << kWhoName[who] << ": " << r.body;
    std::map<std::string, bool> out;  // quiz id -> shows "correct"
    if (r.status != 200) return out;
    for (const json::value& q : r.json.at("items").as_array()) {
      bool shows = false;
      for (const json::value& question : q.at("questions").as_array()) {
        shows = shows || question.as_object().contains("correct");
      }
      out[std::string(q.at("id").as_string())] = shows;
    }
    return out;
  };
  EXPECT_EQ(ids_and_answers(kEnrolled), (std::map<std::string, bool>{{published, false}}));
  for (Who who : {kTeacher, kAdmin}) {
    EXPECT_EQ(ids_and_answers(who), (std::map<std::string, bool>{{draft, true}, {published, true}}))
        << kWhoName[who];
  }
  Reply one = w.call(Verb::get, "/api/v1/quizzes/$QUIZ", token_for(kEnrolled, clock_));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_FALSE(one.json.at("questions").as_array()[0].as_object().contains("correct"))
      << "students must not see the answers before the quiz is closed";
  // Refusals carry the policy's reason.
  Reply no = w.call(Verb::get, "/api/v1/sessions/$SESSION/quizzes", token_for(kOutsider, clock_));
  ASSERT_EQ(no.status, 403);
  EXPECT_NE(no.body.find("enrolled students"), std::string::npos) << no.body;
  EXPECT_EQ(no.body.find("2+2"), std::string::npos) << no.body;
}

// Token time claims over HTTP (docs/api.md, Authentication): nbf in the future is refused,
// and the per-thread token cache keeps applying the same expiry leeway as verify_token.
TEST_F(AuthzMatrixTest, TokenTimeClaimsAreHonouredThroughTheCache) {
  World w(*fixture_, clock_);
  int64_t now = clock_.now_unix_ms() / 1000;
  base::Claims c{"stu_enrolled", "Sam", base::Role::kStudent, now + 600, now, now + 86400};
  Reply early = w.call(Verb::get, "/api/v1/me", base::mint_token(c, kSecret));
  EXPECT_EQ(early.status, 401);
  EXPECT_EQ(early.code(), "token_not_yet_valid") << early.body;

  c.nbf = now + base::kTokenLeewaySeconds;  // within the leeway: accepted
  EXPECT_EQ(w.call(Verb::get, "/api/v1/me", base::mint_token(c, kSecret)).status, 200);

  c.nbf = 0;
  c.iat = now + 3600;  // issued an hour from now
  Reply future = w.call(Verb::get, "/api/v1/me", base::mint_token(c, kSecret));
  EXPECT_EQ(future.status, 401);
  EXPECT_EQ(future.code(), "token_not_yet_valid") << future.body;

  c.iat = now;
  c.exp = now + 10;
  std::string t = base::mint_token(c, kSecret);
  EXPECT_EQ(w.call(Verb::get, "/api/v1/me", t).status, 200);  // now cached on this thread
  clock_.advance_ms((10 + base::kTokenLeewaySeconds - 1) * 1000);
  EXPECT_EQ(w.call(Verb::get, "/api/v1/me", t).status, 200);  // past exp, within the leeway
  clock_.advance_ms(1000);
  Reply late = w.call(Verb::get, "/api/v1/me", t);
  EXPECT_EQ(late.status, 401);
  EXPECT_EQ(late.code(), "token_expired") << late.body;
}

}  // namespace
}  // namespace http
