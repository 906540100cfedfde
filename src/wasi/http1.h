// HTTP/1.1 framing for the wasm32-wasi server, without I/O: requests are parsed out of a
// connection's input bytes (picohttpparser, third_party/picohttpparser) under a header-size
// and a body-size limit, and answers are serialized into bytes to send. The socket loop
// (wasi/serve.cc) only moves bytes; this file decides what they mean, so it is unit-tested
// natively (tests/wasi) and runs the same in the module.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rest/message.h"

namespace wasi {

struct Limits {
  size_t header_limit = 16 * 1024;  // bytes of request line + headers (as the native server)
  size_t body_limit = 1024 * 1024;  // bytes of request body
  size_t max_headers = 64;          // header lines per request
  // Bytes of chunked framing (size lines, extensions, trailers) allowed beyond body_limit: a
  // chunked body may take body_limit + chunk_overhead_limit bytes on the wire.
  size_t chunk_overhead_limit = 64 * 1024;
};

// One request parsed out of the input. Views into the input, valid until it is consumed.
struct ParsedRequest : rest::HeaderLookup {
  std::string_view method;
  std::string_view target;  // origin form ("/path?query"); an absolute-form target is reduced
  int minor_version = 1;    // HTTP/1.<minor_version>
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;  // into the input, or into decoded_body
  // A chunked body, decoded (Transfer-Encoding: chunked); on the heap, so `body` stays valid
  // when the request is moved.
  std::shared_ptr<const std::string> decoded_body;
  bool keep_alive = true;  // what the client asked for (version default and Connection)
  size_t size = 0;         // bytes of input the request took (head + body)

  std::optional<std::string_view> find(std::string_view name) const override;
};

enum class ParseStatus {
  kIncomplete,  // more bytes are needed (still within the limits)
  kRequest,     // `request` holds one whole request
  kError,       // `error` is the answer to send before closing the connection
};

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  ParsedRequest request;
  rest::Response error;  // 400 bad_request, 413 body_too_large, 431 headers_too_large, 501
};

// Parses the first request in `input`. Errors are the native server's codes and messages
// (docs/api.md, "Errors").
ParseResult parse_request(std::string_view input, const Limits& limits);

// The bytes of `res` as an answer to a request of HTTP/1.<minor_version>: status line, the
// response's headers, Server, Content-Length and, when `keep_alive` is false, Connection:
// close (HTTP/1.0 with keep-alive: Connection: keep-alive). `head`: no body.
void serialize_response(const rest::Response& res, int minor_version, bool keep_alive, bool head,
                        std::string& out);

}  // namespace wasi
