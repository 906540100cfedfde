// The Beast side of the REST API: each rest::Route as a coroutine handler. A rest::Reply that
// asks for a write is committed through the group-commit writer (http/commit.h) and answered
// once its group committed; the API itself is src/rest/api.cc.
#include "http/api.h"

#include <boost/asio/use_awaitable.hpp>

#include "http/commit.h"

namespace http {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// The request's headers as rest::HeaderLookup sees them (Beast's find is case-insensitive).
class BeastHeaders final : public rest::HeaderLookup {
 public:
  explicit BeastHeaders(const Request& req) : req_(req) {}
  std::optional<std::string_view> find(std::string_view name) const override {
    // Every authenticated route asks for this one: compared by Beast's enum, not by name.
    if (name == "Authorization") return find_header(req_, beast_http::field::authorization);
    return find_header(req_, name);
  }

 private:
  const Request& req_;
};

Handler adapt(rest::Handler handler, store::Writer* writer) {
  return [h = std::move(handler), writer](Ctx& c) -> awaitable<Response> {
    BeastHeaders headers(c.req);
    std::string_view method = c.req.method_string();
    rest::Request req{method, c.path, c.query, c.req.body(), headers};
    rest::Call call{req, c.params, c.thread_index, {}};
    rest::Reply reply = h(call);
    rest::Response res;
    if (reply.response) {
      res = std::move(*reply.response);
    } else {
      base::Status st = co_await async_commit(*writer, std::move(reply.op), reply.invalidates,
                                              asio::use_awaitable);
      res = reply.then(st);
    }
    c.user_id = std::move(call.user_id);
    // No Content-Length field: Server writes it from the body (one field less to make).
    co_return to_beast(std::move(res), 11, /*with_length=*/false);
  };
}

void add_all(Router& router, std::vector<rest::Route> routes, store::Writer* writer) {
  for (rest::Route& r : routes) {
    router.add(beast_http::string_to_verb(r.method), std::move(r.pattern),
               adapt(std::move(r.handler), writer));
  }
}

}  // namespace

base::Result<classroom::Actor> authenticate(const Request& req, const ApiDeps& deps,
                                            ThreadCache* cache) {
  return rest::authenticate(find_header(req, beast_http::field::authorization), deps, cache);
}

void register_api(Router& router, ApiDeps& deps) {
  add_all(router, rest::api_routes(deps), deps.writer);
}

void register_admin(Router& router, ApiDeps& deps) {
  add_all(router, rest::admin_routes(deps), deps.writer);
}

}  // namespace http
