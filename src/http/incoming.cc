#include "http/incoming.h"

#include <utility>

#include "rest/message.h"

namespace http {

std::string_view Incoming::method_string() const {
  if (beast_) return beast_->method_string();
  const auto s = beast_http::to_string(head_.method);
  return {s.data(), s.size()};
}

std::string_view Incoming::target() const {
  if (beast_) return beast_->target();
  return head_.target;
}

std::string_view Incoming::body() const {
  if (beast_) return beast_->body();
  return {};  // the fast path takes no request with a body
}

bool Incoming::keep_alive() const {
  if (beast_) return beast_->keep_alive();
  // The fast path takes a Connection field only when it is exactly "close" or "keep-alive", so
  // Beast's token-list test of the first one comes down to a compare.
  std::optional<std::string_view> connection = find(beast_http::field::connection);
  if (head_.version < 11) return connection && rest::iequals(*connection, "keep-alive");
  return !connection || !rest::iequals(*connection, "close");
}

std::optional<std::string_view> Incoming::find(std::string_view name) const {
  if (beast_) return find_header(*beast_, name);
  for (size_t i = 0; i < head_.field_count; ++i) {
    const FastHead::Field& f = head_.fields[i];
    if (f.name_size == name.size() && rest::iequals(f.name_string(), name)) return f.value();
  }
  return std::nullopt;
}

std::optional<std::string_view> Incoming::find(beast_http::field name) const {
  if (beast_) return find_header(*beast_, name);
  for (size_t i = 0; i < head_.field_count; ++i) {
    if (head_.fields[i].name == name) return head_.fields[i].value();
  }
  return std::nullopt;
}

const Request& Incoming::beast() const {
  if (!beast_) {
    fill_request(head_, filled_.emplace());
    beast_ = &*filled_;
  }
  return *beast_;
}

Request& Incoming::beast() {
  std::as_const(*this).beast();
  return parser_ ? parser_->get() : *filled_;
}

void Incoming::reset() {
  parser_.reset();
  filled_.reset();
  beast_ = nullptr;
  head_.field_count = 0;
  head_.method = Verb::unknown;
  head_.target = {};
}

bool Incoming::take_fast_head(std::string_view bytes, size_t header_limit) {
  // An absolute-form target ("GET http://host/path") goes to Beast's parser, whose message the
  // server rewrites to the origin form; the fast path keeps only views.
  return !bytes.empty() && parse_fast_head(bytes, header_limit, head_) &&
         head_.target.front() == '/';
}

Incoming::Parser& Incoming::parser(size_t header_limit, size_t body_limit) {
  if (!parser_) {
    Parser& p = parser_.emplace();
    p.header_limit(uint32_t(header_limit));
    p.body_limit(body_limit);
    p.eager(true);
    beast_ = &p.get();
  }
  return *parser_;
}

}  // namespace http
