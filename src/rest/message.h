// The transport-neutral HTTP model the REST API is written against: a request as views into
// whatever the transport read (Beast's message natively, the HTTP/1.1 parser's buffer in the
// wasm32-wasi server) and a plain response. No Asio, no Beast, no threads: it builds for
// wasm32-wasi with the portable core.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace rest {

// Looks up a request header by name (case-insensitive). The transport implements it over
// its own header storage, so handlers see one interface whoever parsed the request.
class HeaderLookup {
 public:
  virtual ~HeaderLookup() = default;
  // The first header called `name`, or nullopt when there is none. The view is valid as
  // long as the request is.
  virtual std::optional<std::string_view> find(std::string_view name) const = 0;
};

// One request as the handlers see it. Views into the transport's storage, valid for the
// request's lifetime (the transport keeps it alive until the answer is built).
struct Request {
  std::string_view method;  // as sent: "GET", "POST", ...
  std::string_view path;    // origin form, without the query string
  std::string_view query;   // after '?', may be empty
  std::string_view body;
  const HeaderLookup& headers;
};

struct Header {
  std::string name;
  std::string value;
};

// One answer. The transport adds the framing headers (Content-Length, Connection, Server,
// X-Request-Id) when it writes it.
struct Response {
  int status = 200;
  // The Content-Type ("" for none), written before `headers`: a literal, or text that lives as
  // long as the routes (a static file's type). Kept apart from `headers`, which would cost the
  // usual answer two allocations (the vector, and "application/json" past the short-string
  // buffer) and a name compare to find again.
  std::string_view content_type;
  std::vector<Header> headers;  // the others, in the order they are written
  std::string body;
  // Set: the body is this text, shared with the cache that keeps it (GET course's serialized
  // row), and `body` is unused: an answer from the cache is neither allocated nor copied
  // before the transport writes it. Read the body through body_view().
  std::shared_ptr<const std::string> shared_body;

  std::string_view body_view() const { return shared_body ? std::string_view(*shared_body) : body; }

  // Replaces the value of header `name` (case-insensitive), or adds it.
  void set(std::string_view name, std::string value);
  // The value of header `name`, or null.
  const std::string* find(std::string_view name) const;
};

// A JSON response with `status` and `body` serialized.
Response json_response(int status, const boost::json::value& body);
// {"error":{"code":reason,"message":message}} with the HTTP status for the Status's code
// (and WWW-Authenticate: Bearer for a 401).
Response error_response(const base::Status& status);
// The "code" of an error_response's body, or "" when `res` is not one (a view into the body).
std::string_view error_code_of(int status, std::string_view body);
// The HTTP status for a canonical code.
int http_status_for(base::Code code);
// The reason phrase of `status` ("Not Found"); "Unknown" for codes we never send.
std::string_view reason_phrase(int status);

// The value of query parameter `name` in `query` (percent-decoded, '+' as space), if present.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// Case-insensitive ASCII comparison (header names).
bool iequals(std::string_view a, std::string_view b);

}  // namespace rest
