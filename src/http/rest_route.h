// A route of the REST API (src/rest) as http::Server runs it: the handler is called in place
// on the I/O thread and its rest::Response written as it is, with no coroutine or Beast
// message of its own; a reply that asks for a write is committed through the group-commit
// writer (http/commit.h) first. The same route as a coroutine handler (coroutine_handler) is
// what Router::wrap gives wrappers (the city's front, the start gate).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string_view>

#include "http/message.h"
#include "rest/router.h"
#include "store/writer.h"

namespace http {

class Incoming;

struct RestRoute {
  rest::Handler handler;
  store::Writer* writer = nullptr;  // commits the route's writes; not owned, outlives the router
};

// The request's headers as rest::HeaderLookup sees them (case-insensitive names).
class IncomingHeaders final : public rest::HeaderLookup {
 public:
  explicit IncomingHeaders(const Incoming& req) : req_(req) {}
  std::optional<std::string_view> find(std::string_view name) const override;

 private:
  const Incoming& req_;
};

// What a REST handler is given for one request. Must stay where it is (the views point into
// it) and live until the answer is built: a reply's commit continuation may refer to `call`.
struct RestCall {
  explicit RestCall(const Ctx& c);
  RestCall(const RestCall&) = delete;
  RestCall& operator=(const RestCall&) = delete;
  IncomingHeaders headers;
  rest::Request req;
  rest::Call call;
};

// Commits `reply`'s write through `writer` and returns the answer its continuation builds.
// `reply` (and the Call it refers to) must live until this completes.
boost::asio::awaitable<rest::Response> commit_reply(store::Writer& writer, rest::Reply& reply);

// `route` as a coroutine handler answering a Beast message (for Router::wrap's wrappers).
Handler coroutine_handler(std::shared_ptr<const RestRoute> route);

}  // namespace http
