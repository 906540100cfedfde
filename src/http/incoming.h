// http::Incoming — the request the server read, as the server and the handlers see it: either
// the fast path's head (http/fast_head.h: views into the connection's buffer, no Beast fields
// made) or the message Beast's parser built. Most requests are read by the fast path and
// answered through the accessors alone; code that needs Beast's message itself (the city's
// forwarding, the WebSocket upgrade) asks beast(), which builds it from the fast head on first
// use. Filling Beast's fields (an allocation and an ordered insert per field, the target
// copied) and freeing them again was ~1,200 instructions of a ~11,700-instruction GET.
#pragma once

#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <optional>
#include <string_view>

#include "http/fast_head.h"
#include "http/message.h"

namespace http {

class Incoming {
 public:
  using Parser = beast_http::request_parser<beast_http::string_body>;

  // Empty: the server fills it per request (reset(), then take_fast_head() or parser()).
  Incoming() = default;
  // Wraps a message someone else owns (tests, harnesses); `req` must outlive this. beast()
  // then returns it; the mutable beast() must not be called.
  explicit Incoming(const Request& req) : beast_(&req) {}
  Incoming(const Incoming&) = delete;
  Incoming& operator=(const Incoming&) = delete;

  Verb method() const { return beast_ ? beast_->method() : head_.method; }
  std::string_view method_string() const;
  // The request target as sent (origin form once the server took it: "/path?query").
  std::string_view target() const;
  unsigned version() const { return beast_ ? beast_->version() : head_.version; }
  // As Beast's message::keep_alive() says (the version and the first Connection field).
  bool keep_alive() const;
  std::string_view body() const;
  // The value of the first field called `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> find(std::string_view name) const;
  // The same for a field Beast knows by enum (Host, Authorization, ...).
  std::optional<std::string_view> find(beast_http::field name) const;
  // Calls f(beast_http::field, std::string_view name, std::string_view value) for every field:
  // a fast-path request's in the order sent; a Beast message's in its order, where the fields
  // of one name are together (Beast inserts a field after the last one of its name). Either
  // way the fields of each name come in the order sent.
  template <typename F>
  void each_field(F&& f) const {
    if (beast_) {
      for (const auto& field : *beast_) f(field.name(), field.name_string(), field.value());
      return;
    }
    for (size_t i = 0; i < head_.field_count; ++i) {
      const FastHead::Field& field = head_.fields[i];
      f(field.name, field.name_string(), field.value());
    }
  }

  // Beast's message: the parser's, or built from the fast head on the first call (its views
  // point into the connection's buffer, which is not read again before the answer is out).
  const Request& beast() const;
  Request& beast();

  // --- For http::Server, which reads requests into it.
  // Forgets the last request (the fast head's views, the parser and any message built).
  void reset();
  // True when the fast path took the request at the start of `bytes` (views into it, and
  // consumed() says how much of it was the head); false: nothing was taken.
  bool take_fast_head(std::string_view bytes, size_t header_limit);
  size_t consumed() const { return head_.consumed; }
  // The parser of a request the fast path did not take, made (with these limits, eager) on
  // first use. The message's accessors above read from it from then on.
  Parser& parser(size_t header_limit, size_t body_limit);
  // Beast's parser was given bytes of this request (the fast path is no longer tried for it).
  bool parser_started() const { return parser_ && parser_->got_some(); }

 private:
  FastHead head_;  // the fast path's request, when beast_ is null
  // The request Beast's parser reads, made only for a request the fast path did not take.
  std::optional<Parser> parser_;
  mutable std::optional<Request> filled_;  // beast() of a fast-path request
  // The message the accessors read: the parser's, filled_, or a caller's; null while the
  // fast head is the request.
  mutable const Request* beast_ = nullptr;
};

}  // namespace http
