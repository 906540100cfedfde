#include "http/rest_route.h"

#include <boost/asio/use_awaitable.hpp>

#include "http/commit.h"
#include "http/incoming.h"

namespace http {

std::optional<std::string_view> IncomingHeaders::find(std::string_view name) const {
  // Every authenticated route asks for this one: compared by Beast's enum, not by name.
  if (name == "Authorization") return req_.find(beast_http::field::authorization);
  return req_.find(name);
}

RestCall::RestCall(const Ctx& c)
    : headers(c.req),
      req{c.req.method_string(), c.path, c.query, c.req.body(), headers},
      call{req, c.params, c.thread_index, {}} {}

boost::asio::awaitable<rest::Response> commit_reply(store::Writer& writer, rest::Reply& reply) {
  base::Status st = co_await async_commit(writer, std::move(reply.op), reply.invalidates,
                                          boost::asio::use_awaitable);
  co_return reply.then(st);
}

Handler coroutine_handler(std::shared_ptr<const RestRoute> route) {
  return [route = std::move(route)](Ctx& c) -> boost::asio::awaitable<Response> {
    RestCall rc(c);
    rest::Reply reply = route->handler(rc.call);
    rest::Response res;
    if (reply.response) {
      res = std::move(*reply.response);
    } else {
      res = co_await commit_reply(*route->writer, reply);
    }
    c.user_id = std::move(rc.call.user_id);
    // No Content-Length field: Server writes it from the body (one field less to make).
    co_return to_beast(std::move(res), 11, /*with_length=*/false);
  };
}

}  // namespace http
