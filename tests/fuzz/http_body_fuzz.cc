// Fuzzes every REST route's JSON body reader through its handler: the first byte picks the
// route (and the caller the route is for: the course's teacher, an enrolled student or the
// admin), the rest is the request body, sent with a valid token on a fresh copy of the fuzz
// world (classroom_fuzz_world.h). Placeholders ($C, $Q, ...) in the body are replaced.
//
// Property (besides no crash): never a 500 (http_harness.h): a body the handler cannot use is
// a 4xx naming the problem.
#include <boost/beast/http/field.hpp>
#include <string>

#include "classroom_fuzz_world.h"
#include "http_harness.h"

namespace {

struct Route {
  http::Verb method;
  const char* target;
  fuzz::Who who;
};

// Every route that reads a body (docs/api.md); answers twice: a first answer and a second one.
constexpr Route kRoutes[] = {
    {http::Verb::post, "/api/v1/courses", fuzz::Who::kTeacher},
    {http::Verb::patch, "/api/v1/courses/$C", fuzz::Who::kTeacher},
    {http::Verb::post, "/api/v1/courses/$C/sessions", fuzz::Who::kTeacher},
    {http::Verb::post, "/api/v1/sessions/$S/quizzes", fuzz::Who::kTeacher},
    {http::Verb::post, "/api/v1/quizzes/$D/publish", fuzz::Who::kTeacher},
    {http::Verb::post, "/api/v1/quizzes/$Q/answers", fuzz::Who::kStudent},
    {http::Verb::post, "/api/v1/quizzes/$Q/answers", fuzz::Who::kStudent2},
    {http::Verb::post, "/v1/data/education/allow", fuzz::Who::kAdmin},
    {http::Verb::post, "/v1/data", fuzz::Who::kAdmin},
};
constexpr size_t kRouteCount = sizeof(kRoutes) / sizeof(kRoutes[0]);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1024 * 1024) return 0;
  fuzz::World& world = fuzz::World::get();
  const Route& r = kRoutes[data[0] % kRouteCount];
  http::Request req(r.method, world.substitute(r.target), 11);
  req.set(boost::beast::http::field::authorization, "Bearer " + fuzz::token(r.who));
  req.set(boost::beast::http::field::content_type, "application/json");
  req.body() = world.substitute(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  req.prepare_payload();
  fuzz::ApiHarness api;
  (void)api.handle(req);
  return 0;
}
