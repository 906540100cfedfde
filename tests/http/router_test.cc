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
}

TEST(RouterTest, AllowListsHeadWithGet) {
  Router r;
  r.add(Verb::get, "/healthz", dummy());
  PathParams p;
  Router::Match m = r.match(Verb::put, "/healthz", p);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.allow, "GET, HEAD");
}

}  // namespace
}  // namespace http
