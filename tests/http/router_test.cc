#include "http/router.h"

#include <gtest/gtest.h>

namespace http {
namespace {

Handler dummy() {
  return [](Ctx&) -> boost::asio::awaitable<Response> { co_return Response(); };
}

TEST(RouterTest, HeadMatchesTheGetRoute) {
  Router r;
  r.add(Verb::get, "/api/v1/courses/{id}", dummy());
  r.add(Verb::post, "/api/v1/courses", dummy());
  PathParams p;
  Router::Match m = r.match(Verb::head, "/api/v1/courses/crs_1", p);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.label, "/api/v1/courses/{id}");
  EXPECT_EQ(p.get("id"), "crs_1");
  // No GET route at this path: HEAD is not allowed there either.
  m = r.match(Verb::head, "/api/v1/courses", p);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.allow, "POST");
  // No route at all, after one whose {id} was taken before its last segment differed: nothing
  // captured.
  r.add(Verb::get, "/api/v1/courses/{id}/students", dummy());
  m = r.match(Verb::get, "/api/v1/courses/crs_1/quizzes", p);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(p.size, 0u);
}

TEST(RouterTest, AllowListsHeadWithGet) {
  Router r;
  r.add(Verb::get, "/healthz", dummy());
  PathParams p;
  Router::Match m = r.match(Verb::put, "/healthz", p);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.allow, "GET, HEAD");
}

RestRoute rest_route() {
  return RestRoute{[](rest::Call&) -> rest::Reply { return rest::Response{}; }, nullptr};
}

TEST(RouterTest, ARestRouteIsRunInPlaceUntilAWrapperReplacesIt) {
  Router r;
  r.add(Verb::get, "/api/v1/courses/{id}", rest_route());
  r.add(Verb::get, "/api/v1/me", rest_route());
  r.add(Verb::get, "/healthz", dummy());
  PathParams p;
  Router::Match m = r.match(Verb::get, "/api/v1/courses/crs_1", p);
  ASSERT_NE(m.handler, nullptr);  // its coroutine form, for wrappers
  EXPECT_NE(m.rest, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/healthz", p).rest, nullptr);  // a coroutine route
  // A wrapper that leaves a route (an empty Handler) keeps it in place; one that wraps it
  // takes it over.
  r.wrap([](const Router::RouteInfo& route, const Handler& inner) -> Handler {
    if (route.pattern == "/api/v1/me") return inner;
    return {};
  });
  m = r.match(Verb::get, "/api/v1/courses/crs_1", p);
  EXPECT_NE(m.rest, nullptr);
  EXPECT_EQ(p.get("id"), "crs_1");
  m = r.match(Verb::get, "/api/v1/me", p);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.rest, nullptr);
}

TEST(RouterTest, PiecesMatchWholeSegmentsOnly) {
  Router r;
  r.add(Verb::get, "/api/v1/courses/{id}", dummy());
  r.add(Verb::get, "/api/v1/courses/{id}/students/{student_id}", dummy());
  r.add(Verb::get, "/v1/data/{path*}", dummy());
  r.add(Verb::get, "/", dummy());
  PathParams p;
  // An empty {id}, a literal that only starts the segment, an extra segment: no route.
  EXPECT_EQ(r.match(Verb::get, "/api/v1/courses/", p).handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/api/v1/coursesX/crs_1", p).handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/api/v1/course/crs_1", p).handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/api/v1/courses/crs_1/", p).handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/api//v1/courses/crs_1", p).handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/api/v1/courses/crs_1/students/", p).handler, nullptr);
  EXPECT_EQ(p.size, 0u);
  Router::Match m = r.match(Verb::get, "/api/v1/courses/crs_1/students/usr_2", p);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.label, "/api/v1/courses/{id}/students/{student_id}");
  EXPECT_EQ(p.get("id"), "crs_1");
  EXPECT_EQ(p.get("student_id"), "usr_2");
  // "{x*}": the rest of the path, slashes included; after a final slash, empty.
  m = r.match(Verb::get, "/v1/data/a/b/c", p);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(p.get("path"), "a/b/c");
  m = r.match(Verb::get, "/v1/data/", p);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(p.get("path"), "");
  EXPECT_EQ(r.match(Verb::get, "/v1/data", p).handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "/v1/datax/a", p).handler, nullptr);
  EXPECT_NE(r.match(Verb::get, "/", p).handler, nullptr);
  EXPECT_EQ(r.match(Verb::get, "//", p).handler, nullptr);
  // Deeper than any route (17 segments): none, the rest route included.
  EXPECT_EQ(r.match(Verb::get, "/v1/data/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o", p).handler, nullptr);
  EXPECT_NE(r.match(Verb::get, "/v1/data/a/b/c/d/e/f/g/h/i/j/k/l/m/n", p).handler, nullptr);
}

}  // namespace
}  // namespace http
