#include "wasi/http1.h"

#include <picohttpparser.h>

#include <charconv>

namespace wasi {

namespace {

rest::Response fail(int http_status, base::Code code, std::string message, const char* reason) {
  rest::Response r = rest::error_response(base::Status(code, std::move(message), reason));
  r.status = http_status;
  return r;
}

bool has_token(std::string_view value, std::string_view token) {
  // A comma-separated list ("keep-alive, Upgrade"), compared case-insensitively.
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (rest::iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// RFC 9112 §3.2.2: the absolute form ("GET http://host/path") is served as its origin form.
std::string_view origin_form(std::string_view t) {
  size_t scheme = t.starts_with("http://") ? 7 : t.starts_with("https://") ? 8 : 0;
  if (scheme == 0) return t;
  size_t slash = t.find('/', scheme);
  size_t query = t.find('?', scheme);
  if (slash != std::string_view::npos && (query == std::string_view::npos || slash < query)) {
    return t.substr(slash);
  }
  return "/";  // no path: the root (a query without a path is dropped)
}

enum class ChunkedStatus { kIncomplete, kDone, kMalformed, kTooLarge };

// Decodes the chunked body at the start of `in` (RFC 9112 section 7.1) into `out`; `used` is
// the bytes of `in` it took, trailer section included (its fields are ignored). kTooLarge:
// more than `body_limit` decoded bytes, or more than `wire_limit` bytes of input without the
// end (so a connection's bounded buffer never waits for a body it cannot hold).
ChunkedStatus decode_chunked(std::string_view in, size_t body_limit, size_t wire_limit,
                             std::string& out, size_t& used) {
  constexpr size_t kMaxLine = 4096;  // a chunk-size line with its extensions, a trailer line
  out.clear();
  size_t pos = 0;
  auto more = [&] {
    return in.size() > wire_limit ? ChunkedStatus::kTooLarge : ChunkedStatus::kIncomplete;
  };
  for (;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      return in.size() - pos > kMaxLine ? ChunkedStatus::kMalformed : more();
    }
    if (eol - pos > kMaxLine) return ChunkedStatus::kMalformed;
    std::string_view hex = in.substr(pos, eol - pos);
    hex = hex.substr(0, hex.find(';'));  // chunk extensions are ignored
    while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\t')) hex.remove_suffix(1);
    size_t size = 0;
    auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
    if (hex.empty() || p != hex.data() + hex.size()) return ChunkedStatus::kMalformed;
    if (ec == std::errc::result_out_of_range || size > body_limit - out.size()) {
      return ChunkedStatus::kTooLarge;
    }
    if (ec != std::errc()) return ChunkedStatus::kMalformed;
    pos = eol + 2;
    if (size == 0) break;
    if (in.size() - pos < size + 2) return more();
    out.append(in.substr(pos, size));
    pos += size;
    if (in.substr(pos, 2) != "\r\n") return ChunkedStatus::kMalformed;
    pos += 2;
  }
  for (;;) {  // the trailer section, up to an empty line
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      return in.size() - pos > kMaxLine ? ChunkedStatus::kMalformed : more();
    }
    if (eol == pos) {
      used = pos + 2;
      return ChunkedStatus::kDone;
    }
    if (eol - pos > kMaxLine) return ChunkedStatus::kMalformed;
    pos = eol + 2;
  }
}

}  // namespace

std::optional<std::string_view> ParsedRequest::find(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (rest::iequals(n, name)) return v;
  }
  return std::nullopt;
}

ParseResult parse_request(std::string_view input, const Limits& limits) {
  ParseResult out;
  const char* method = nullptr;
  const char* path = nullptr;
  size_t method_len = 0, path_len = 0, num_headers = limits.max_headers;
  int minor = 0;
  std::vector<phr_header> headers(limits.max_headers);
  // Only the first header_limit bytes may hold the head: a longer one is refused without
  // waiting for its end.
  size_t window = std::min(input.size(), limits.header_limit);
  int n = phr_parse_request(input.data(), window, &method, &method_len, &path, &path_len, &minor,
                            headers.data(), &num_headers, 0);
  if (n == -2) {
    if (input.size() >= limits.header_limit) {
      out.status = ParseStatus::kError;
      out.error =
          fail(431, base::Code::kInvalidArgument,
               "request headers are larger than " + std::to_string(limits.header_limit) + " bytes",
               "headers_too_large");
    }
    return out;  // incomplete
  }
  if (n < 0) {
    out.status = ParseStatus::kError;
    // picohttpparser also fails when there are more header lines than it was given room for.
    out.error = fail(400, base::Code::kInvalidArgument,
                     "malformed HTTP request (bad request line or headers, or more than " +
                         std::to_string(limits.max_headers) + " header lines)",
                     "bad_request");
    return out;
  }
  ParsedRequest& req = out.request;
  req.method = std::string_view(method, method_len);
  req.target = origin_form(std::string_view(path, path_len));
  req.minor_version = minor;
  req.headers.reserve(num_headers);
  std::optional<size_t> content_length;
  std::optional<std::string_view> transfer_encoding;
  size_t host_count = 0;
  req.keep_alive = minor >= 1;
  for (size_t i = 0; i < num_headers; ++i) {
    std::string_view name(headers[i].name, headers[i].name_len);
    std::string_view value(headers[i].value, headers[i].value_len);
    if (headers[i].name == nullptr) {  // an obsolete line folding (RFC 9112 §5.2)
      out.status = ParseStatus::kError;
      out.error = fail(400, base::Code::kInvalidArgument,
                       "malformed HTTP request (folded header line)", "bad_request");
      return out;
    }
    req.headers.emplace_back(name, value);
    if (rest::iequals(name, "Content-Length")) {
      size_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty() ||
          (content_length && *content_length != v)) {
        out.status = ParseStatus::kError;
        out.error = fail(400, base::Code::kInvalidArgument,
                         "malformed HTTP request (bad Content-Length)", "bad_request");
        return out;
      }
      content_length = v;
    } else if (rest::iequals(name, "Transfer-Encoding")) {
      if (transfer_encoding) {  // two lines: a list we do not take apart
        out.status = ParseStatus::kError;
        out.error = fail(400, base::Code::kInvalidArgument,
                         "malformed HTTP request (more than one Transfer-Encoding)", "bad_request");
        return out;
      }
      transfer_encoding = value;
    } else if (rest::iequals(name, "Connection")) {
      if (has_token(value, "close")) req.keep_alive = false;
      if (has_token(value, "keep-alive")) req.keep_alive = true;
    } else if (rest::iequals(name, "Host")) {
      ++host_count;
    }
  }
  if (minor >= 1 && host_count != 1) {
    out.status = ParseStatus::kError;
    out.error =
        fail(400, base::Code::kInvalidArgument,
             host_count == 0 ? "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)"
                             : "more than one Host header",
             "bad_request");
    return out;
  }
  if (transfer_encoding) {
    // RFC 9112 section 6.1: chunked is the only coding we take, and it must be alone (a
    // Content-Length beside it is refused: the two framings could be read differently by
    // something in front of us).
    if (!rest::iequals(*transfer_encoding, "chunked")) {
      out.status = ParseStatus::kError;
      out.error = fail(501, base::Code::kInvalidArgument,
                       "Transfer-Encoding '" + std::string(*transfer_encoding) +
                           "' is not supported: send the body with Content-Length or chunked",
                       "not_implemented");
      return out;
    }
    if (content_length || minor == 0) {
      out.status = ParseStatus::kError;
      out.error = fail(400, base::Code::kInvalidArgument,
                       content_length ? "malformed HTTP request (both Content-Length and "
                                        "Transfer-Encoding)"
                                      : "malformed HTTP request (chunked body in HTTP/1.0)",
                       "bad_request");
      return out;
    }
    auto decoded = std::make_shared<std::string>();
    size_t used = 0;
    switch (decode_chunked(input.substr(size_t(n)), limits.body_limit,
                           limits.body_limit + limits.chunk_overhead_limit, *decoded, used)) {
      case ChunkedStatus::kIncomplete:
        return out;
      case ChunkedStatus::kMalformed:
        out.status = ParseStatus::kError;
        out.error = fail(400, base::Code::kInvalidArgument,
                         "malformed HTTP request (bad chunked body)", "bad_request");
        return out;
      case ChunkedStatus::kTooLarge:
        out.status = ParseStatus::kError;
        out.error =
            fail(413, base::Code::kPayloadTooLarge,
                 "request body is larger than " + std::to_string(limits.body_limit) + " bytes",
                 "body_too_large");
        return out;
      case ChunkedStatus::kDone:
        break;
    }
    req.body = *decoded;
    req.decoded_body = std::move(decoded);
    req.size = size_t(n) + used;
    out.status = ParseStatus::kRequest;
    return out;
  }
  size_t body = content_length.value_or(0);
  if (body > limits.body_limit) {
    out.status = ParseStatus::kError;
    out.error = fail(413, base::Code::kPayloadTooLarge,
                     "request body is larger than " + std::to_string(limits.body_limit) + " bytes",
                     "body_too_large");
    return out;
  }
  if (input.size() - size_t(n) < body) return out;  // incomplete: the body is still coming
  req.body = input.substr(size_t(n), body);
  req.size = size_t(n) + body;
  out.status = ParseStatus::kRequest;
  return out;
}

void serialize_response(const rest::Response& res, int minor_version, bool keep_alive, bool head,
                        std::string& out) {
  out.clear();
  out += minor_version == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += rest::reason_phrase(res.status);
  out += "\r\n";
  if (!res.content_type.empty()) {
    out += "Content-Type: ";
    out += res.content_type;
    out += "\r\n";
  }
  for (const rest::Header& h : res.headers) {
    if (rest::iequals(h.name, "Content-Length") || rest::iequals(h.name, "Connection")) continue;
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "Server: edgeclass\r\nContent-Length: ";
  out += std::to_string(res.body_view().size());
  out += "\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (minor_version == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!head) out += res.body_view();
}

}  // namespace wasi
