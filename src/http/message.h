// The request/response types handlers see, and what they are given about the caller.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "rest/message.h"
#include "rest/router.h"

namespace http {

namespace beast_http = boost::beast::http;
using Verb = beast_http::verb;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

using PathParams = rest::PathParams;

class Incoming;  // http/incoming.h

// Everything a handler gets for one request. Lives for the duration of the handler call.
struct Ctx {
  const Incoming& req;  // its accessors, or its beast() message where Beast's is needed
  const PathParams& params;
  std::string_view path;   // without the query string
  std::string_view query;  // after '?', may be empty
  int thread_index;        // which I/O thread serves this connection (for per-thread state)
  // The authenticated caller's id, set by the handler once known (for the access log).
  mutable std::string user_id;

  // The value of query parameter `name` (percent-decoded), if present.
  std::optional<std::string> query_param(std::string_view name) const;
  std::string_view param(std::string_view name) const;
};

using Handler = std::function<boost::asio::awaitable<Response>(Ctx&)>;

// The value of the request's first header called `name` (case-insensitive), or nullopt. A
// walk over the few fields a request has, cheaper per request than Beast's ordered lookup.
std::optional<std::string_view> find_header(const Request& req, std::string_view name);
// The same for a header Beast knows by enum (Host, Authorization, ...).
std::optional<std::string_view> find_header(const Request& req, beast_http::field name);

// A JSON response with `status` and a serialized body.
Response json_response(beast_http::status status, const boost::json::value& body,
                       unsigned version = 11);
// {"error":{"code":reason,"message":message}} with the HTTP status for the Status's code.
Response error_response(const base::Status& status, unsigned version = 11);
// The "code" of an error_response's body ({"error":{"code":"..."}}), or "" when `res` is
// not an error or its body is not one (a view into the body).
std::string_view error_code_of(const Response& res);
// The HTTP status for a canonical code.
beast_http::status http_status_for(base::Code code);
// The Beast form of a transport-neutral answer (rest/message.h), Content-Length set unless
// `with_length` is false (for http::Server, which writes the length of what it sends).
Response to_beast(rest::Response&& res, unsigned version = 11, bool with_length = true);

}  // namespace http
