// The Beast side of the REST API: each rest::Route as a coroutine handler. A rest::Reply that
// asks for a write is committed through the group-commit writer (http/commit.h) and answered
// once its group committed; the API itself is src/rest/api.cc.
#include "http/api.h"

#include <boost/asio/use_awaitable.hpp>

#include "http/commit.h"
#include "http/incoming.h"

namespace http {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// The request's headers as rest::HeaderLookup sees them (case-insensitive names).
class IncomingHeaders final : public rest::HeaderLookup {
 public:
  explicit IncomingHeaders(const Incoming& req) : req_(req) {}
  std::optional<std::string_view> find(std::string_view name) const override {
    // Every authenticated route asks for this one: compared by Beast's enum, not by name.
    if (name == "Authorization") return req_.find(beast_http::field::authorization);
    return req_.find(name);
  }

 private:
  const Incoming& req_;
};

Handler adapt(rest::Handler handler, store::Writer* writer) {
  return [h = std::move(handler), writer](Ctx& c) -> awaitable<Response> {
    IncomingHeaders headers(c.req);
    rest::Request req{c.req.method_string(), c.path, c.query, c.req.body(), headers};
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

base::Result<classroom::Actor> authenticate(const Incoming& req, const ApiDeps& deps,
                                            ThreadCache* cache) {
  return rest::authenticate(req.find(beast_http::field::authorization), deps, cache);
}

void register_api(Router& router, ApiDeps& deps) {
  add_all(router, rest::api_routes(deps), deps.writer);
}

void register_admin(Router& router, ApiDeps& deps) {
  add_all(router, rest::admin_routes(deps), deps.writer);
}

}  // namespace http
