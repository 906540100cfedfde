// Fuzzes wasi::parse_request (picohttpparser and our framing rules) with small limits.
// Properties:
//  - a request is parsed only from bytes inside the input, and consumes no more than it has
//    (a chunked body is decoded into the request's own buffer);
//  - the head of a parsed request fits the header limit, its body the body limit (chunk
//    framing its own allowance);
//  - errors are 4xx/5xx answers with a JSON error code, never a crash;
//  - an incomplete input stays incomplete or becomes a request/error when bytes are added,
//    and parsing a prefix never reports a request longer than the prefix;
//  - serialize_response of any parsed request's echo frames a body of the right length.
#include <cstdlib>
#include <string>
#include <string_view>

#include "wasi/http1.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  wasi::Limits limits;
  limits.header_limit = 512;
  limits.body_limit = 256;
  limits.max_headers = 8;
  wasi::ParseResult r = wasi::parse_request(in, limits);
  if (r.status == wasi::ParseStatus::kError) {
    if (r.error.status < 400 || r.error.status > 599) std::abort();
    if (rest::error_code_of(r.error.status, r.error.body).empty()) std::abort();
  } else if (r.status == wasi::ParseStatus::kRequest) {
    const wasi::ParsedRequest& q = r.request;
    if (q.size > in.size() || q.body.size() > limits.body_limit) std::abort();
    if (q.decoded_body) {  // chunked: the decoded body, framing within its own allowance
      if (!inside(q.body, *q.decoded_body)) std::abort();
      if (q.size > limits.header_limit + limits.body_limit + limits.chunk_overhead_limit) {
        std::abort();
      }
    } else {
      if (q.size - q.body.size() > limits.header_limit) std::abort();
      if (!inside(q.body, in)) std::abort();
    }
    if (!inside(q.method, in)) std::abort();
    for (const auto& [n, v] : q.headers) {
      if (!inside(n, in) || !inside(v, in)) std::abort();
    }
    rest::Response echo;
    echo.body = std::string(q.body);
    std::string out;
    wasi::serialize_response(echo, q.minor_version, q.keep_alive, false, out);
    if (!out.ends_with("\r\n\r\n" + echo.body)) std::abort();
    // A strict prefix of a parsed request is never a longer request.
    if (q.size > 0) {
      wasi::ParseResult p = wasi::parse_request(in.substr(0, q.size - 1), limits);
      if (p.status == wasi::ParseStatus::kRequest && p.request.size > q.size - 1) std::abort();
    }
  }
  return 0;
}
