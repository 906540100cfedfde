// REST handlers: authentication, body parsing and the writer bridge around classroom::Service.
#include "http/api.h"

#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <optional>

#include "base/json_reader.h"
#include "base/jwt.h"
#include "base/log.h"
#include "base/strings.h"
#include "http/commit.h"

namespace http {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;
using beast_http::status;
using classroom::Actor;

base::Result<Actor> authenticate(const Request& req, const ApiDeps& deps, ThreadCache* cache) {
  std::string_view token;
  auto it = req.find(beast_http::field::authorization);
  if (it != req.end()) {
    std::string_view v = it->value();
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
  int64_t now_s = deps.clock->now_unix_ms() / 1000;
  if (cache) return cache->actor_for(token, deps.jwt_secret, now_s);
  EC_ASSIGN_OR_RETURN(base::Claims claims, base::verify_token(token, deps.jwt_secret, now_s));
  return Actor{claims.sub, claims.name, claims.role};
}

namespace {

// Runs `fn(txn)` in the writer and waits for its group to commit.
template <typename Fn>
awaitable<base::Status> write(ApiDeps& d, Fn fn, bool invalidates = true) {
  co_return co_await async_commit(*d.writer, store::WriteOp(std::move(fn)), invalidates,
                                  use_awaitable);
}

// Runs `fn(txn)` (returning Result<T>) in the writer; its value once the group committed.
template <typename T, typename Fn>
awaitable<base::Result<T>> write_value(ApiDeps& d, Fn fn) {
  std::optional<T> out;
  base::Status st = co_await write(d, [&](store::Txn& t) -> base::Status {
    base::Result<T> r = fn(t);
    if (!r.is_ok()) return r.status();
    out = std::move(r).value();
    return base::Status::ok();
  });
  if (!st.is_ok()) co_return st;
  co_return std::move(*out);
}

base::Result<int> parse_limit(const Ctx& c) {
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
  Actor actor;
  json::value body;
};

base::Result<Prologue> begin(const Ctx& c, const ApiDeps& d, bool with_body) {
  EC_ASSIGN_OR_RETURN(Actor actor, authenticate(c.req, d, d.caches[size_t(c.thread_index)].get()));
  c.user_id = actor.id;
  Prologue p{std::move(actor), {}};
  if (with_body) {
    // The body is read as JSON whatever Content-Type says (curl -d sends a form type).
    EC_ASSIGN_OR_RETURN(p.body, base::parse_json(c.req.body()));
  }
  return p;
}

#define EC_CO_TRY(lhs, expr)                                     \
  auto EC_CONCAT(co_, __LINE__) = (expr);                        \
  if (!EC_CONCAT(co_, __LINE__).is_ok())                         \
    co_return error_response(EC_CONCAT(co_, __LINE__).status()); \
  lhs = std::move(EC_CONCAT(co_, __LINE__)).value()

#define EC_CO_CHECK(expr)                                \
  do {                                                   \
    base::Status ec_s_ = (expr);                         \
    if (!ec_s_.is_ok()) co_return error_response(ec_s_); \
  } while (0)

// Domain events (docs/operations.md, "Logs"): one info line per successful change, with the
// caller and the ids of the route (never a token, a secret or an answer).
template <class H>
void add_logged(Router& r, Verb verb, std::string pattern, const char* event, H handler) {
  r.add(verb, std::move(pattern),
        [event, h = Handler(std::move(handler))](Ctx& c) -> awaitable<Response> {
          Response res = co_await h(c);
          if (res.result_int() / 100 == 2 && base::log::level() <= base::log::Level::kInfo) {
            base::log::Line line(base::log::Level::kInfo, event);
            line.kv("user", c.user_id);
            for (size_t i = 0; i < c.params.size; ++i)
              line.kv(c.params.names[i], c.params.values[i]);
          }
          co_return res;
        });
}

void register_courses(Router& r, ApiDeps& d) {
  add_logged(
      r, Verb::post, "/api/v1/courses", "course.created", [&d](Ctx& c) -> awaitable<Response> {
        EC_CO_TRY(Prologue p, begin(c, d, true));
        EC_CO_TRY(classroom::CreateCourse req, d.service->parse_create_course(p.body));
        EC_CO_TRY(store::Course out, co_await write_value<store::Course>(d, [&](store::Txn& t) {
                    return d.service->create_course(t, p.actor, req);
                  }));
        co_return json_response(status::created, classroom::to_json(out));
      });

  r.add(Verb::get, "/api/v1/courses", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    EC_CO_TRY(int limit, parse_limit(c));
    store::CourseFilter f;
    if (auto s = c.query_param("status")) {
      f.status = store::parse_course_status(*s);
      if (!f.status) {
        co_return error_response(base::invalid_argument(
            "status must be one of draft, active, archived", "invalid_query"));
      }
    }
    if (auto t = c.query_param("teacher_id")) f.teacher_id = *t;
    std::string cursor = c.query_param("cursor").value_or("");
    EC_CO_TRY(auto page, d.service->list_courses(*d.readers[size_t(c.thread_index)], p.actor, f,
                                                 cursor, limit));
    co_return json_response(status::ok, page_json(page));
  });

  r.add(Verb::get, "/api/v1/courses/{id}", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    ThreadCache& cache = *d.caches[size_t(c.thread_index)];
    EC_CO_TRY(store::Course course, d.service->get_course(cache, p.actor, c.param("id")));
    Response res(status::ok, 11);
    res.set(beast_http::field::content_type, "application/json");
    res.body() = cache.course_body(course);
    res.prepare_payload();
    co_return res;
  });

  add_logged(r, Verb::patch, "/api/v1/courses/{id}", "course.updated",
             [&d](Ctx& c) -> awaitable<Response> {
               EC_CO_TRY(Prologue p, begin(c, d, true));
               EC_CO_TRY(classroom::CoursePatch patch, d.service->parse_course_patch(p.body));
               std::string id(c.param("id"));
               EC_CO_TRY(store::Course out,
                         co_await write_value<store::Course>(d, [&](store::Txn& t) {
                           return d.service->update_course(t, p.actor, id, patch);
                         }));
               if (d.live) d.live->course_changed(out);
               co_return json_response(status::ok, classroom::to_json(out));
             });

  add_logged(r, Verb::post, "/api/v1/courses/{id}/join", "course.enrolled",
             [&d](Ctx& c) -> awaitable<Response> {
               EC_CO_TRY(Prologue p, begin(c, d, false));
               std::string id(c.param("id"));
               EC_CO_TRY(classroom::JoinResult out,
                         co_await write_value<classroom::JoinResult>(
                             d, [&](store::Txn& t) { return d.service->join(t, p.actor, id); }));
               co_return json_response(out.created ? status::created : status::ok,
                                       classroom::to_json(out.enrollment));
             });

  auto remove = [&d](Ctx& c, std::string student) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    std::string id(c.param("id"));
    if (student.empty()) student = p.actor.id;
    EC_CO_CHECK(co_await write(
        d, [&](store::Txn& t) { return d.service->remove_student(t, p.actor, id, student); }));
    if (d.live) d.live->student_removed(id, student, p.actor.id);
    co_return json_response(
        status::ok, json::object{{"course_id", id}, {"student_id", student}, {"removed", true}});
  };
  add_logged(r, Verb::post, "/api/v1/courses/{id}/leave", "course.left",
             [remove](Ctx& c) { return remove(c, std::string()); });
  add_logged(r, Verb::delete_, "/api/v1/courses/{id}/students/{student_id}",
             "course.student_removed",
             [remove](Ctx& c) { return remove(c, std::string(c.param("student_id"))); });

  r.add(Verb::get, "/api/v1/courses/{id}/students", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    EC_CO_TRY(int limit, parse_limit(c));
    std::string cursor = c.query_param("cursor").value_or("");
    EC_CO_TRY(auto page, d.service->list_students(*d.readers[size_t(c.thread_index)], p.actor,
                                                  c.param("id"), cursor, limit));
    co_return json_response(status::ok, page_json(page));
  });
}

// Class codes, joining by code and the gradebook: the teacher's tools around a course.
void register_teacher_tools(Router& r, ApiDeps& d) {
  // The class code: read and rotated by the course's teacher and admins; a student joins
  // with it like with the course id.
  r.add(Verb::get, "/api/v1/courses/{id}/join_code", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    std::string id(c.param("id"));
    EC_CO_TRY(std::optional<std::string> code,
              d.service->join_code(*d.readers[size_t(c.thread_index)], p.actor, id));
    json::object o{{"course_id", id}, {"join_code", nullptr}};
    if (code) o["join_code"] = *code;
    co_return json_response(status::ok, o);
  });

  add_logged(
      r, Verb::post, "/api/v1/courses/{id}/join_code/rotate", "course.join_code_rotated",
      [&d](Ctx& c) -> awaitable<Response> {
        EC_CO_TRY(Prologue p, begin(c, d, false));
        std::string id(c.param("id"));
        EC_CO_TRY(std::string code, co_await write_value<std::string>(d, [&](store::Txn& t) {
                    return d.service->rotate_join_code(t, p.actor, id);
                  }));
        co_return json_response(status::ok, json::object{{"course_id", id}, {"join_code", code}});
      });

  add_logged(
      r, Verb::post, "/api/v1/join", "course.enrolled_by_code",
      [&d](Ctx& c) -> awaitable<Response> {
        EC_CO_TRY(Prologue p, begin(c, d, true));
        EC_CO_TRY(std::string code, d.service->parse_join_by_code(p.body));
        // A code nobody has is refused on this thread's reader: guessing codes costs no writes.
        EC_CO_CHECK(d.service->course_for_code(*d.readers[size_t(c.thread_index)], code).status());
        EC_CO_TRY(classroom::JoinResult out,
                  co_await write_value<classroom::JoinResult>(
                      d, [&](store::Txn& t) { return d.service->join_by_code(t, p.actor, code); }));
        co_return json_response(out.created ? status::created : status::ok,
                                classroom::to_json(out.enrollment));
      });

  // The gradebook, as JSON and as a CSV file to download.
  r.add(Verb::get, "/api/v1/courses/{id}/gradebook.json", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    EC_CO_TRY(classroom::Gradebook g,
              d.service->gradebook(*d.readers[size_t(c.thread_index)], p.actor, c.param("id")));
    co_return json_response(status::ok, classroom::to_json(g));
  });

  r.add(Verb::get, "/api/v1/courses/{id}/gradebook.csv", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    classroom::CsvLanguage lang = classroom::CsvLanguage::kEnglish;
    if (auto l = c.query_param("lang")) {
      auto parsed = classroom::parse_csv_language(*l);
      if (!parsed) {
        co_return error_response(
            base::invalid_argument("lang must be en or zh-CN", "invalid_query"));
      }
      lang = *parsed;
    }
    EC_CO_TRY(classroom::Gradebook g,
              d.service->gradebook(*d.readers[size_t(c.thread_index)], p.actor, c.param("id")));
    Response res(status::ok, 11);
    res.set(beast_http::field::content_type, "text/csv; charset=utf-8");
    res.set(beast_http::field::content_disposition,
            "attachment; filename=\"gradebook-" + g.course_id + ".csv\"");
    res.set(beast_http::field::cache_control, "no-store");
    res.body() = classroom::to_csv(g, lang);
    res.prepare_payload();
    co_return res;
  });
}

void register_sessions(Router& r, ApiDeps& d) {
  add_logged(r, Verb::post, "/api/v1/courses/{id}/sessions", "session.started",
             [&d](Ctx& c) -> awaitable<Response> {
               EC_CO_TRY(Prologue p, begin(c, d, !c.req.body().empty()));
               std::string title;
               if (!c.req.body().empty()) {
                 base::JsonReader rd(p.body);
                 EC_CO_TRY(std::optional<std::string> t, rd.optional_string("title", 1, 200));
                 EC_CO_CHECK(rd.finish());
                 title = t.value_or("");
               }
               std::string id(c.param("id"));
               EC_CO_TRY(store::Session out,
                         co_await write_value<store::Session>(d, [&](store::Txn& t) {
                           return d.service->go_live(t, p.actor, id, title);
                         }));
               co_return json_response(status::created, classroom::to_json(out));
             });

  r.add(Verb::get, "/api/v1/courses/{id}/sessions", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    store::Db& db = *d.readers[size_t(c.thread_index)];
    EC_CO_TRY(auto list, d.service->list_sessions(db, p.actor, c.param("id")));
    // The course's teacher and admins also see how many students came to each session.
    EC_CO_TRY(auto counts, d.service->attendance_counts(db, p.actor, c.param("id")));
    auto want = c.query_param("status");
    json::array items;
    for (const auto& s : list) {
      if (want && store::to_string(s.status) != *want) continue;
      json::object o = classroom::to_json(s);
      if (counts) {
        auto it = counts->find(s.id);
        o["attendance"] = it == counts->end() ? 0 : it->second;
      }
      items.emplace_back(std::move(o));
    }
    co_return json_response(status::ok, json::object{{"items", std::move(items)}});
  });

  r.add(Verb::get, "/api/v1/sessions/{id}", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    EC_CO_TRY(store::Session s,
              d.service->get_session(*d.readers[size_t(c.thread_index)], p.actor, c.param("id")));
    co_return json_response(status::ok, classroom::to_json(s));
  });

  r.add(Verb::get, "/api/v1/sessions/{id}/attendance", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    EC_CO_TRY(classroom::Attendance a,
              d.service->attendance(*d.readers[size_t(c.thread_index)], p.actor, c.param("id")));
    co_return json_response(status::ok, classroom::to_json(a));
  });

  add_logged(r, Verb::post, "/api/v1/sessions/{id}/end", "session.ended",
             [&d](Ctx& c) -> awaitable<Response> {
               EC_CO_TRY(Prologue p, begin(c, d, false));
               std::string id(c.param("id"));
               EC_CO_TRY(store::Session out,
                         co_await write_value<store::Session>(d, [&](store::Txn& t) {
                           return d.service->end_session(t, p.actor, id);
                         }));
               if (d.live) d.live->session_ended(out);
               co_return json_response(status::ok, classroom::to_json(out));
             });
}

void register_quizzes(Router& r, ApiDeps& d) {
  add_logged(r, Verb::post, "/api/v1/sessions/{id}/quizzes", "quiz.created",
             [&d](Ctx& c) -> awaitable<Response> {
               EC_CO_TRY(Prologue p, begin(c, d, true));
               EC_CO_TRY(classroom::CreateQuiz req, d.service->parse_create_quiz(p.body));
               std::string id(c.param("id"));
               EC_CO_TRY(store::Quiz out, co_await write_value<store::Quiz>(d, [&](store::Txn& t) {
                           return d.service->create_quiz(t, p.actor, id, req);
                         }));
               co_return json_response(status::created, classroom::to_json(out, true));
             });

  r.add(Verb::get, "/api/v1/sessions/{id}/quizzes", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    store::Db& db = *d.readers[size_t(c.thread_index)];
    bool teacher = false;
    EC_CO_TRY(auto list, d.service->list_quizzes(db, p.actor, c.param("id"), &teacher));
    json::array items;
    for (const auto& q : list) items.emplace_back(classroom::to_json(q, teacher));
    co_return json_response(status::ok, json::object{{"items", std::move(items)}});
  });

  r.add(Verb::get, "/api/v1/quizzes/{id}", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    bool teacher = false;
    EC_CO_TRY(store::Quiz q, d.service->get_quiz(*d.readers[size_t(c.thread_index)], p.actor,
                                                 c.param("id"), &teacher));
    co_return json_response(status::ok, classroom::to_json(q, teacher));
  });

  add_logged(r, Verb::post, "/api/v1/quizzes/{id}/publish", "quiz.published",
             [&d](Ctx& c) -> awaitable<Response> {
               EC_CO_TRY(Prologue p, begin(c, d, true));
               EC_CO_TRY(int64_t limit, d.service->parse_publish(p.body));
               std::string id(c.param("id"));
               EC_CO_TRY(store::Quiz out, co_await write_value<store::Quiz>(d, [&](store::Txn& t) {
                           return d.service->publish_quiz(t, p.actor, id, limit);
                         }));
               if (d.live) d.live->quiz_changed(out);
               co_return json_response(status::ok, classroom::to_json(out, true));
             });

  add_logged(r, Verb::post, "/api/v1/quizzes/{id}/close", "quiz.closed",
             [&d](Ctx& c) -> awaitable<Response> {
               EC_CO_TRY(Prologue p, begin(c, d, false));
               std::string id(c.param("id"));
               EC_CO_TRY(store::Quiz out, co_await write_value<store::Quiz>(d, [&](store::Txn& t) {
                           return d.service->close_quiz(t, p.actor, id);
                         }));
               if (d.live) d.live->quiz_changed(out);
               co_return json_response(status::ok, classroom::to_json(out, true));
             });

  r.add(Verb::post, "/api/v1/quizzes/{id}/answers", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, true));
    EC_CO_TRY(classroom::PreparedAnswers prepared,
              d.service->prepare_answers(*d.caches[size_t(c.thread_index)], p.actor, c.param("id"),
                                         p.body));
    EC_CO_CHECK(co_await write(
        d, [&](store::Txn& t) { return d.service->commit_answers(t, prepared); },
        /*invalidates=*/false));
    if (d.live) d.live->answers_committed(prepared);
    json::array acks;
    for (const auto& a : prepared.answers) {
      acks.emplace_back(json::object{{"question", a.question}, {"accepted", true}});
    }
    co_return json_response(status::created, json::object{{"quiz_id", prepared.quiz.id},
                                                          {"student_id", p.actor.id},
                                                          {"answers", std::move(acks)}});
  });

  r.add(Verb::get, "/api/v1/quizzes/{id}/results", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    EC_CO_TRY(json::object res,
              d.service->results(*d.readers[size_t(c.thread_index)], p.actor, c.param("id")));
    co_return json_response(status::ok, res);
  });
}

void register_ops(Router& r, ApiDeps& d) {
  r.add(Verb::get, "/healthz", [](Ctx&) -> awaitable<Response> {
    co_return json_response(status::ok, json::object{{"status", "ok"}});
  });
  r.add(Verb::get, "/readyz", [&d](Ctx&) -> awaitable<Response> {
    base::Status s = d.ready ? d.ready() : base::Status::ok();
    if (!s.is_ok()) co_return error_response(base::unavailable(s.message(), "not_ready"));
    co_return json_response(status::ok, json::object{{"status", "ready"}});
  });
  r.add(Verb::get, "/api/v1/me", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    co_return json_response(status::ok, json::object{{"id", p.actor.id},
                                                     {"name", p.actor.name},
                                                     {"role", base::role_name(p.actor.role)}});
  });

  for (const StaticFile& f : d.static_files) {
    auto serve = [f](Ctx&) -> awaitable<Response> {
      Response res(status::ok, 11);
      res.set(beast_http::field::content_type, f.content_type);
      res.set(beast_http::field::cache_control, "no-cache");
      res.body() = std::string(f.body);
      res.prepare_payload();
      co_return res;
    };
    r.add(Verb::get, std::string(f.path), serve);
    if (f.path == "/index.html") r.add(Verb::get, "/", serve);
  }
}

// The admin listener's routes: what operators and monitoring need, never the product.
void register_admin_ops(Router& r, ApiDeps& d) {
  r.add(Verb::get, "/healthz", [](Ctx&) -> awaitable<Response> {
    co_return json_response(status::ok, json::object{{"status", "ok"}});
  });
  r.add(Verb::get, "/readyz", [&d](Ctx&) -> awaitable<Response> {
    base::Status s = d.ready ? d.ready() : base::Status::ok();
    if (!s.is_ok()) co_return error_response(base::unavailable(s.message(), "not_ready"));
    co_return json_response(status::ok, json::object{{"status", "ready"}});
  });
  r.add(Verb::get, "/metrics", [&d](Ctx&) -> awaitable<Response> {
    Response res(status::ok, 11);
    res.set(beast_http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = d.metrics_text ? d.metrics_text() : std::string();
    res.prepare_payload();
    co_return res;
  });
  auto data = [&d](Ctx& c, bool with_body) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, with_body && !c.req.body().empty()));
    if (p.actor.role != base::Role::kAdmin) {
      co_return error_response(
          base::permission_denied("the policy data API is for admins", "forbidden"));
    }
    json::value input;
    if (with_body && !c.req.body().empty()) {
      base::JsonReader rd(p.body);
      const json::value* in = rd.optional_any("input");
      EC_CO_CHECK(rd.finish());
      if (in) input = *in;
    }
    if (!d.policy_data) {
      co_return error_response(base::unavailable("no policy engine is loaded", "no_policy"));
    }
    EC_CO_TRY(json::object out, d.policy_data(c.param("path"), input));
    co_return json_response(status::ok, out);
  };
  r.add(Verb::post, "/v1/data/{path*}", [data](Ctx& c) { return data(c, true); });
  r.add(Verb::get, "/v1/data/{path*}", [data](Ctx& c) { return data(c, false); });
  r.add(Verb::post, "/v1/data", [data](Ctx& c) { return data(c, true); });
  // OPA's status API: the active bundle's revision and when it was activated.
  r.add(Verb::get, "/v1/status", [&d](Ctx& c) -> awaitable<Response> {
    EC_CO_TRY(Prologue p, begin(c, d, false));
    if (p.actor.role != base::Role::kAdmin) {
      co_return error_response(
          base::permission_denied("the policy status API is for admins", "forbidden"));
    }
    if (!d.policy_status) {
      co_return error_response(base::not_found("no policy status here", "not_found"));
    }
    co_return json_response(status::ok, json::object{{"result", d.policy_status()}});
  });
}

}  // namespace

void register_api(Router& router, ApiDeps& deps) {
  deps.caches.clear();
  for (store::Db* db : deps.readers) deps.caches.push_back(std::make_unique<ThreadCache>(*db));
  register_courses(router, deps);
  register_teacher_tools(router, deps);
  register_sessions(router, deps);
  register_quizzes(router, deps);
  register_ops(router, deps);
}

void register_admin(Router& router, ApiDeps& deps) {
  deps.caches.clear();
  for (store::Db* db : deps.readers) deps.caches.push_back(std::make_unique<ThreadCache>(*db));
  register_admin_ops(router, deps);
}

}  // namespace http
