// A fast path for the common request: a complete, plain, bodiless HTTP/1.x request head at
// the start of the connection's buffer, read with a 16-byte-wide scan instead of Beast's
// byte-by-byte parser, and handed to the server as the same Beast Request Beast's parser would
// have made of it.
//
// It is strict on purpose: anything it does not take as it is goes to Beast's parser, which
// decides as it always did (accepts, frames or rejects), so odd input behaves exactly as before.
// What it takes: GET, HEAD or DELETE; a target of visible ASCII; HTTP/1.1 or HTTP/1.0; at most
// kMaxFastFields fields, each a token name, ':', spaces, a value of printable ASCII (no tab, no
// byte >= 0x80), CRLF; the whole head within the header limit. What it leaves to Beast: any
// other method; Content-Length, Transfer-Encoding, Upgrade, Proxy-Connection; a Connection field
// other than a single "close" or "keep-alive"; obs-fold; tabs, bare CR or LF, control characters
// or bytes >= 0x80 anywhere in the head; an incomplete head. Where it takes a request, Beast
// accepts it with the same method, target, version, fields (names, enums, values, in order),
// keep-alive and length consumed (tests/http/fast_head_test.cc, tests/fuzz/http_fast_head_fuzz.cc
// check that on every input where it answers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/message.h"

namespace http {

struct FastHead {
  static constexpr size_t kMaxFastFields = 24;
  // Plain members, left uninitialized until parse_fast_head sets them: a FastHead is made per
  // request, and zeroing every slot cost more than the parse of a short head.
  struct Field {
    beast_http::field name;
    uint32_t name_size;
    uint32_t value_size;
    const char* name_data;
    const char* value_data;
    std::string_view name_string() const { return {name_data, name_size}; }
    std::string_view value() const { return {value_data, value_size}; }
  };
  Verb method = Verb::unknown;
  std::string_view target;
  unsigned version = 11;  // 10 or 11
  size_t field_count = 0;
  size_t consumed = 0;  // bytes of the head, final CRLF included
  Field fields[kMaxFastFields];
};

// Fills `out` (views into `bytes`) and returns true when `bytes` starts with a request head the
// fast path takes whole and whose length is at most `header_limit`; false: Beast's parser reads
// this request (nothing of `bytes` is used).
bool parse_fast_head(std::string_view bytes, size_t header_limit, FastHead& out);

// Sets a fresh Request's method, target, version and fields from `head`, as Beast's parser does.
void fill_request(const FastHead& head, Request& req);

}  // namespace http
