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

}  // namespace
}  // namespace http
