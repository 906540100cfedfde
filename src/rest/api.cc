// REST handlers: authentication, body parsing and the writes around classroom::Service, for
// any transport (rest/router.h says how a Reply is answered).
#include "rest/api.h"

#include <boost/json/serialize.hpp>
#include <memory>
#include <optional>

#include "base/json_reader.h"
#include "base/jwt.h"
#include "base/log.h"
#include "base/strings.h"

namespace rest {

namespace json = boost::json;
using classroom::Actor;

namespace {

// The bearer token of an Authorization header (nullopt: none), or the 401 for its absence or
// form: token_missing, token_malformed.
base::Result<std::string_view> bearer_token(std::optional<std::string_view> authorization) {
  std::string_view token;
  if (authorization) {
    std::string_view v = *authorization;
    if (!base::starts_with(v, "Bearer ") && !base::starts_with(v, "bearer ")) {
      return base::unauthenticated("the Authorization header must be 'Bearer <token>'",
                                   "token_malformed");
    }
    token = v.substr(7);
  }
  if (token.empty()) {
    return base::unauthenticated(
        "this endpoint needs a bearer token: send 'Authorization: Bearer <token>' "
        "(mint one locally with `edgeclass token`)",
        "token_missing");
  }
  return token;
}

// authenticate() with the thread's cache, its Actor borrowed (ThreadCache::actor_ref says for
// how long).
base::Result<const Actor*> authenticate_ref(std::optional<std::string_view> authorization,
                                            const ApiDeps& deps, ThreadCache& cache) {
  EC_ASSIGN_OR_RETURN(std::string_view token, bearer_token(authorization));
  return cache.actor_ref(token, deps.jwt_secret, deps.clock->now_unix_ms() / 1000);
}

}  // namespace

base::Result<Actor> authenticate(std::optional<std::string_view> authorization, const ApiDeps& deps,
                                 ThreadCache* cache) {
  if (cache) {
    EC_ASSIGN_OR_RETURN(const Actor* actor, authenticate_ref(authorization, deps, *cache));
    return *actor;
  }
  EC_ASSIGN_OR_RETURN(std::string_view token, bearer_token(authorization));
  EC_ASSIGN_OR_RETURN(base::Claims claims,
                      base::verify_token(token, deps.jwt_secret, deps.clock->now_unix_ms() / 1000));
  return Actor{claims.sub, claims.name, claims.role};
}

namespace {

// Commits `op(txn)` (returning Status), then answers then().
template <typename Op, typename Then>
Reply write(Op op, Then then, bool invalidates = true) {
  return Reply::commit(std::move(op), invalidates,
                       [then = std::move(then)](const base::Status& st) mutable -> Response {
                         if (!st.is_ok()) return error_response(st);
                         return then();
                       });
}

// Commits `op(txn)` (returning Result<T>), then answers then(value).
template <typename T, typename Op, typename Then>
Reply write_value(Op op, Then then) {
  auto out = std::make_shared<std::optional<T>>();
  return Reply::commit(
      [out, op = std::move(op)](store::Txn& t) mutable -> base::Status {
        base::Result<T> r = op(t);
        if (!r.is_ok()) return r.status();
        *out = std::move(r).value();
        return base::Status::ok();
      },
      /*invalidates=*/true,
      [out, then = std::move(then)](const base::Status& st) mutable -> Response {
        if (!st.is_ok()) return error_response(st);
        return then(std::move(**out));
      });
}

base::Result<int> parse_limit(const Call& c) {
  auto v = c.query_param("limit");
  if (!v) return 50;
  auto n = base::parse_int(*v);
  if (!n || *n < 1 || *n > store::kMaxPageLimit) {
    return base::invalid_argument(
        "limit must be an integer from 1 to " + std::to_string(store::kMaxPageLimit),
        "invalid_query");
  }
  return int(*n);
}

template <typename T>
json::object page_json(const store::Page<T>& page) {
  json::array items;
  for (const auto& x : page.items) items.emplace_back(classroom::to_json(x));
  json::object o{{"items", std::move(items)}};
  if (page.next_cursor.empty())
    o["next_cursor"] = nullptr;
  else
    o["next_cursor"] = page.next_cursor;
  return o;
}

// Common prologue: the caller and, for bodies, the parsed JSON. On error, the response to send.
struct Prologue {
  // The thread's token cache's entry, borrowed (ThreadCache::actor_ref): valid while the handler
  // runs, not after it returns, so a write's op and continuation capture a copy. Copying it per
  // request (two strings, through three moves) was ~4 % of a GET course's instructions.
  const Actor& actor;
  json::value body;
};

base::Result<Prologue> begin(Call& c, const ApiDeps& d, bool with_body) {
  EC_ASSIGN_OR_RETURN(const Actor* actor, authenticate_ref(c.req.headers.find("Authorization"), d,
                                                           *d.caches[size_t(c.thread_index)]));
  c.user_id = actor->id;
  Prologue p{*actor, {}};
  if (with_body) {
    // The body is read as JSON whatever Content-Type says (curl -d sends a form type).
    EC_ASSIGN_OR_RETURN(p.body, base::parse_json(c.req.body));
  }
  return p;
}

store::Db& reader(const ApiDeps& d, const Call& c) { return *d.readers[size_t(c.thread_index)]; }
ThreadCache& cache(const ApiDeps& d, const Call& c) { return *d.caches[size_t(c.thread_index)]; }

#define EC_REPLY_TRY(lhs, expr)                                                                  \
  auto EC_CONCAT(r_, __LINE__) = (expr);                                                         \
  if (!EC_CONCAT(r_, __LINE__).is_ok()) return error_response(EC_CONCAT(r_, __LINE__).status()); \
  lhs = std::move(EC_CONCAT(r_, __LINE__)).value()

#define EC_REPLY_CHECK(expr)                          \
  do {                                                \
    base::Status ec_s_ = (expr);                      \
    if (!ec_s_.is_ok()) return error_response(ec_s_); \
  } while (0)

// Domain events (docs/operations.md, "Logs"): one info line per successful change, with the
// caller and the ids of the route (never a token, a secret or an answer).
void log_event(const char* event, const Call& c, const Response& res) {
  if (res.status / 100 == 2 && base::log::level() <= base::log::Level::kInfo) {
    base::log::Line line(base::log::Level::kInfo, event);
    line.kv("user", c.user_id);
    for (size_t i = 0; i < c.params.size; ++i) line.kv(c.params.names[i], c.params.values[i]);
  }
}

class Routes {
 public:
  explicit Routes(std::vector<Route>& out) : out_(out) {}
  void add(std::string method, std::string pattern, Handler h) {
    out_.push_back({std::move(method), std::move(pattern), std::move(h)});
  }
  // A route whose successful answers are logged as domain event `event`.
  void add_logged(std::string method, std::string pattern, const char* event, Handler h) {
    add(std::move(method), std::move(pattern), [event, h = std::move(h)](Call& c) -> Reply {
      Reply r = h(c);
      if (r.response) {
        log_event(event, c, *r.response);
        return r;
      }
      // The Call outlives the commit (rest/router.h), so the continuation may log with it.
      r.then = [event, &c, then = std::move(r.then)](const base::Status& st) {
        Response res = then(st);
        log_event(event, c, res);
        return res;
      };
      return r;
    });
  }

 private:
  std::vector<Route>& out_;
};

void register_courses(Routes& r, ApiDeps& d) {
  r.add_logged("POST", "/api/v1/courses", "course.created", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, true));
    EC_REPLY_TRY(classroom::CreateCourse req, d.service->parse_create_course(p.body));
    return write_value<store::Course>(
        [&d, actor = p.actor, req = std::move(req)](store::Txn& t) {
          return d.service->create_course(t, actor, req);
        },
        [](store::Course out) { return json_response(201, classroom::to_json(out)); });
  });

  r.add("GET", "/api/v1/courses", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    EC_REPLY_TRY(int limit, parse_limit(c));
    store::CourseFilter f;
    if (auto s = c.query_param("status")) {
      f.status = store::parse_course_status(*s);
      if (!f.status) {
        return error_response(base::invalid_argument(
            "status must be one of draft, active, archived", "invalid_query"));
      }
    }
    if (auto t = c.query_param("teacher_id")) f.teacher_id = *t;
    std::string cursor = c.query_param("cursor").value_or("");
    EC_REPLY_TRY(auto page, d.service->list_courses(reader(d, c), p.actor, f, cursor, limit));
    return json_response(200, page_json(page));
  });

  r.add("GET", "/api/v1/courses/{id}", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    ThreadCache& tc = cache(d, c);
    EC_REPLY_TRY(const store::Course* course, d.service->see_course(tc, p.actor, c.param("id")));
    Response res;
    res.content_type = "application/json";
    res.shared_body = tc.course_body(*course);
    return res;
  });

  r.add_logged("PATCH", "/api/v1/courses/{id}", "course.updated", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, true));
    EC_REPLY_TRY(classroom::CoursePatch patch, d.service->parse_course_patch(p.body));
    return write_value<store::Course>(
        [&d, actor = p.actor, id = std::string(c.param("id")), patch = std::move(patch)](
            store::Txn& t) { return d.service->update_course(t, actor, id, patch); },
        [&d](store::Course out) {
          if (d.live) d.live->course_changed(out);
          return json_response(200, classroom::to_json(out));
        });
  });

  r.add_logged("POST", "/api/v1/courses/{id}/join", "course.enrolled", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    return write_value<classroom::JoinResult>(
        [&d, actor = p.actor, id = std::string(c.param("id"))](store::Txn& t) {
          return d.service->join(t, actor, id);
        },
        [](classroom::JoinResult out) {
          return json_response(out.created ? 201 : 200, classroom::to_json(out.enrollment));
        });
  });

  auto remove = [&d](Call& c, std::string student) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    std::string id(c.param("id"));
    if (student.empty()) student = p.actor.id;
    auto actor = std::make_shared<Actor>(p.actor);
    return write(
        [&d, actor, id, student](store::Txn& t) {
          return d.service->remove_student(t, *actor, id, student);
        },
        [&d, actor, id, student]() {
          if (d.live) d.live->student_removed(id, student, actor->id);
          return json_response(
              200, json::object{{"course_id", id}, {"student_id", student}, {"removed", true}});
        });
  };
  r.add_logged("POST", "/api/v1/courses/{id}/leave", "course.left",
               [remove](Call& c) { return remove(c, std::string()); });
  r.add_logged("DELETE", "/api/v1/courses/{id}/students/{student_id}", "course.student_removed",
               [remove](Call& c) { return remove(c, std::string(c.param("student_id"))); });

  r.add("GET", "/api/v1/courses/{id}/students", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    EC_REPLY_TRY(int limit, parse_limit(c));
    std::string cursor = c.query_param("cursor").value_or("");
    EC_REPLY_TRY(auto page,
                 d.service->list_students(reader(d, c), p.actor, c.param("id"), cursor, limit));
    return json_response(200, page_json(page));
  });
}

// Class codes, joining by code and the gradebook: the teacher's tools around a course.
void register_teacher_tools(Routes& r, ApiDeps& d) {
  // The class code: read and rotated by the course's teacher and admins; a student joins
  // with it like with the course id.
  r.add("GET", "/api/v1/courses/{id}/join_code", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    std::string id(c.param("id"));
    EC_REPLY_TRY(std::optional<std::string> code, d.service->join_code(reader(d, c), p.actor, id));
    json::object o{{"course_id", id}, {"join_code", nullptr}};
    if (code) o["join_code"] = *code;
    return json_response(200, o);
  });

  r.add_logged(
      "POST", "/api/v1/courses/{id}/join_code/rotate", "course.join_code_rotated",
      [&d](Call& c) -> Reply {
        EC_REPLY_TRY(Prologue p, begin(c, d, false));
        std::string id(c.param("id"));
        return write_value<std::string>(
            [&d, actor = p.actor, id](store::Txn& t) {
              return d.service->rotate_join_code(t, actor, id);
            },
            [id](std::string code) {
              return json_response(200, json::object{{"course_id", id}, {"join_code", code}});
            });
      });

  r.add_logged("POST", "/api/v1/join", "course.enrolled_by_code", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, true));
    EC_REPLY_TRY(std::string code, d.service->parse_join_by_code(p.body));
    // A code nobody has is refused on this thread's reader: guessing codes costs no writes.
    EC_REPLY_CHECK(d.service->course_for_code(reader(d, c), code).status());
    return write_value<classroom::JoinResult>(
        [&d, actor = p.actor, code](store::Txn& t) {
          return d.service->join_by_code(t, actor, code);
        },
        [](classroom::JoinResult out) {
          return json_response(out.created ? 201 : 200, classroom::to_json(out.enrollment));
        });
  });

  // The gradebook, as JSON and as a CSV file to download.
  r.add("GET", "/api/v1/courses/{id}/gradebook.json", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    EC_REPLY_TRY(classroom::Gradebook g,
                 d.service->gradebook(reader(d, c), p.actor, c.param("id")));
    return json_response(200, classroom::to_json(g));
  });

  r.add("GET", "/api/v1/courses/{id}/gradebook.csv", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    classroom::CsvLanguage lang = classroom::CsvLanguage::kEnglish;
    if (auto l = c.query_param("lang")) {
      auto parsed = classroom::parse_csv_language(*l);
      if (!parsed) {
        return error_response(base::invalid_argument("lang must be en or zh-CN", "invalid_query"));
      }
      lang = *parsed;
    }
    EC_REPLY_TRY(classroom::Gradebook g,
                 d.service->gradebook(reader(d, c), p.actor, c.param("id")));
    Response res;
    res.content_type = "text/csv; charset=utf-8";
    res.headers.push_back(
        {"Content-Disposition", "attachment; filename=\"gradebook-" + g.course_id + ".csv\""});
    res.headers.push_back({"Cache-Control", "no-store"});
    res.body = classroom::to_csv(g, lang);
    return res;
  });
}

void register_sessions(Routes& r, ApiDeps& d) {
  r.add_logged("POST", "/api/v1/courses/{id}/sessions", "session.started", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, !c.req.body.empty()));
    std::string title;
    if (!c.req.body.empty()) {
      base::JsonReader rd(p.body);
      EC_REPLY_TRY(std::optional<std::string> t, rd.optional_string("title", 1, 200));
      EC_REPLY_CHECK(rd.finish());
      title = t.value_or("");
    }
    return write_value<store::Session>(
        [&d, actor = p.actor, id = std::string(c.param("id")), title](store::Txn& t) {
          return d.service->go_live(t, actor, id, title);
        },
        [](store::Session out) { return json_response(201, classroom::to_json(out)); });
  });

  r.add("GET", "/api/v1/courses/{id}/sessions", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    std::optional<store::SessionStatus> want;
    if (auto s = c.query_param("status")) {
      want = store::parse_session_status(*s);
      // Not an empty list: a typo ("?status=ended ") must not read as "no sessions".
      if (!want) {
        return error_response(
            base::invalid_argument("status must be live or ended", "invalid_query"));
      }
    }
    store::Db& db = reader(d, c);
    EC_REPLY_TRY(auto list, d.service->list_sessions(db, p.actor, c.param("id")));
    // The course's teacher and admins also see how many students came to each session.
    EC_REPLY_TRY(auto counts, d.service->attendance_counts(db, p.actor, c.param("id")));
    json::array items;
    for (const auto& s : list) {
      if (want && s.status != *want) continue;
      json::object o = classroom::to_json(s);
      if (counts) {
        auto it = counts->find(s.id);
        o["attendance"] = it == counts->end() ? 0 : it->second;
      }
      items.emplace_back(std::move(o));
    }
    return json_response(200, json::object{{"items", std::move(items)}});
  });

  r.add("GET", "/api/v1/sessions/{id}", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    EC_REPLY_TRY(store::Session s, d.service->get_session(reader(d, c), p.actor, c.param("id")));
    return json_response(200, classroom::to_json(s));
  });

  r.add("GET", "/api/v1/sessions/{id}/attendance", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    EC_REPLY_TRY(classroom::Attendance a,
                 d.service->attendance(reader(d, c), p.actor, c.param("id")));
    return json_response(200, classroom::to_json(a));
  });

  r.add_logged("POST", "/api/v1/sessions/{id}/end", "session.ended", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    return write_value<store::Session>(
        [&d, actor = p.actor, id = std::string(c.param("id"))](store::Txn& t) {
          return d.service->end_session(t, actor, id);
        },
        [&d](store::Session out) {
          if (d.live) d.live->session_ended(out);
          return json_response(200, classroom::to_json(out));
        });
  });
}

void register_quizzes(Routes& r, ApiDeps& d) {
  r.add_logged("POST", "/api/v1/sessions/{id}/quizzes", "quiz.created", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, true));
    EC_REPLY_TRY(classroom::CreateQuiz req, d.service->parse_create_quiz(p.body));
    return write_value<store::Quiz>(
        [&d, actor = p.actor, id = std::string(c.param("id")),
         req = std::move(req)](store::Txn& t) { return d.service->create_quiz(t, actor, id, req); },
        [](store::Quiz out) { return json_response(201, classroom::to_json(out, true)); });
  });

  r.add("GET", "/api/v1/sessions/{id}/quizzes", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    bool teacher = false;
    EC_REPLY_TRY(auto list,
                 d.service->list_quizzes(reader(d, c), p.actor, c.param("id"), &teacher));
    json::array items;
    for (const auto& q : list) items.emplace_back(classroom::to_json(q, teacher));
    return json_response(200, json::object{{"items", std::move(items)}});
  });

  r.add("GET", "/api/v1/quizzes/{id}", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    bool teacher = false;
    EC_REPLY_TRY(store::Quiz q,
                 d.service->get_quiz(reader(d, c), p.actor, c.param("id"), &teacher));
    return json_response(200, classroom::to_json(q, teacher));
  });

  r.add_logged("POST", "/api/v1/quizzes/{id}/publish", "quiz.published", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, true));
    EC_REPLY_TRY(int64_t limit, d.service->parse_publish(p.body));
    return write_value<store::Quiz>(
        [&d, actor = p.actor, id = std::string(c.param("id")), limit](store::Txn& t) {
          return d.service->publish_quiz(t, actor, id, limit);
        },
        [&d](store::Quiz out) {
          if (d.live) d.live->quiz_changed(out);
          return json_response(200, classroom::to_json(out, true));
        });
  });

  r.add_logged("POST", "/api/v1/quizzes/{id}/close", "quiz.closed", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    return write_value<store::Quiz>(
        [&d, actor = p.actor, id = std::string(c.param("id"))](store::Txn& t) {
          return d.service->close_quiz(t, actor, id);
        },
        [&d](store::Quiz out) {
          if (d.live) d.live->quiz_changed(out);
          return json_response(200, classroom::to_json(out, true));
        });
  });

  r.add("POST", "/api/v1/quizzes/{id}/answers", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, true));
    EC_REPLY_TRY(classroom::PreparedAnswers prepared,
                 d.service->prepare_answers(cache(d, c), p.actor, c.param("id"), p.body));
    auto shared = std::make_shared<classroom::PreparedAnswers>(std::move(prepared));
    return write([&d, shared](store::Txn& t) { return d.service->commit_answers(t, *shared); },
                 [&d, shared, student = p.actor.id]() {
                   if (d.live) d.live->answers_committed(*shared);
                   json::array acks;
                   for (const auto& a : shared->answers) {
                     acks.emplace_back(json::object{{"question", a.question}, {"accepted", true}});
                   }
                   return json_response(201, json::object{{"quiz_id", shared->quiz.id},
                                                          {"student_id", student},
                                                          {"answers", std::move(acks)}});
                 },
                 /*invalidates=*/false);
  });

  r.add("GET", "/api/v1/quizzes/{id}/results", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    EC_REPLY_TRY(json::object res, d.service->results(reader(d, c), p.actor, c.param("id")));
    return json_response(200, res);
  });
}

void register_health(Routes& r, ApiDeps& d) {
  r.add("GET", "/healthz", [](Call&) -> Reply {
    return json_response(200, json::object{{"status", "ok"}});
  });
  r.add("GET", "/readyz", [&d](Call&) -> Reply {
    base::Status s = d.ready ? d.ready() : base::Status::ok();
    if (!s.is_ok()) return error_response(base::unavailable(s.message(), "not_ready"));
    return json_response(200, json::object{{"status", "ready"}});
  });
}

void register_ops(Routes& r, ApiDeps& d) {
  register_health(r, d);
  r.add("GET", "/api/v1/me", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    return json_response(200, json::object{{"id", p.actor.id},
                                           {"name", p.actor.name},
                                           {"role", base::role_name(p.actor.role)}});
  });

  for (const StaticFile& f : d.static_files) {
    auto serve = [f](Call&) -> Reply {
      Response res;
      res.content_type = f.content_type;
      res.headers.push_back({"Cache-Control", "no-cache"});
      res.body = std::string(f.body);
      return res;
    };
    r.add("GET", std::string(f.path), serve);
    if (f.path == "/index.html") r.add("GET", "/", serve);
  }
}

// The admin listener's routes: what operators and monitoring need, never the product.
void register_admin_ops(Routes& r, ApiDeps& d) {
  register_health(r, d);
  r.add("GET", "/metrics", [&d](Call&) -> Reply {
    Response res;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = d.metrics_text ? d.metrics_text() : std::string();
    return res;
  });
  auto data = [&d](Call& c, bool with_body) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, with_body && !c.req.body.empty()));
    if (p.actor.role != base::Role::kAdmin) {
      return error_response(
          base::permission_denied("the policy data API is for admins", "forbidden"));
    }
    json::value input;
    if (with_body && !c.req.body.empty()) {
      base::JsonReader rd(p.body);
      const json::value* in = rd.optional_any("input");
      EC_REPLY_CHECK(rd.finish());
      if (in) input = *in;
    }
    if (!d.policy_data) {
      return error_response(base::unavailable("no policy engine is loaded", "no_policy"));
    }
    EC_REPLY_TRY(json::object out, d.policy_data(c.param("path"), input));
    return json_response(200, out);
  };
  r.add("POST", "/v1/data/{path*}", [data](Call& c) { return data(c, true); });
  r.add("GET", "/v1/data/{path*}", [data](Call& c) { return data(c, false); });
  r.add("POST", "/v1/data", [data](Call& c) { return data(c, true); });
  // OPA's status API: the active bundle's revision and when it was activated.
  r.add("GET", "/v1/status", [&d](Call& c) -> Reply {
    EC_REPLY_TRY(Prologue p, begin(c, d, false));
    if (p.actor.role != base::Role::kAdmin) {
      return error_response(
          base::permission_denied("the policy status API is for admins", "forbidden"));
    }
    if (!d.policy_status)
      return error_response(base::not_found("no policy status here", "not_found"));
    return json_response(200, json::object{{"result", d.policy_status()}});
  });
}

void make_caches(ApiDeps& deps) {
  deps.caches.clear();
  for (store::Db* db : deps.readers) deps.caches.push_back(std::make_unique<ThreadCache>(*db));
}

}  // namespace

std::vector<Route> api_routes(ApiDeps& deps) {
  make_caches(deps);
  std::vector<Route> out;
  Routes r(out);
  register_courses(r, deps);
  register_teacher_tools(r, deps);
  register_sessions(r, deps);
  register_quizzes(r, deps);
  register_ops(r, deps);
  return out;
}

std::vector<Route> admin_routes(ApiDeps& deps) {
  make_caches(deps);
  std::vector<Route> out;
  Routes r(out);
  register_admin_ops(r, deps);
  return out;
}

}  // namespace rest
