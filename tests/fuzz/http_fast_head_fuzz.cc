// Differential fuzzing of the request-head fast path (http/fast_head.h) against Beast's parser:
// on every input the fast path takes, Beast's parser, set up as the server sets it up (header
// limit, body limit, eager), must accept the same bytes as a whole request with the same method,
// target, version, fields (enum, name, value, in order), keep-alive, empty body and length
// consumed. Inputs it leaves to Beast need nothing (Beast decides, as before the fast path).
//
// Input: [1 byte: the header limit: >= 0x80: the server's 16 KiB; else 16 + 8 * (byte & 0x7f),
// so heads at and around the limit are reached][raw bytes at the start of the connection buffer].
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../http/fast_head_readings.h"
#include "http/fast_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t limit = data[0] >= 0x80 ? 16 * 1024 : 16 + 8 * size_t(data[0] & 0x7f);
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  http::FastHead head;
  if (!http::parse_fast_head(bytes, limit, head)) return 0;
  if (head.consumed == 0 || head.consumed > bytes.size() || head.consumed > limit) {
    std::fprintf(stderr, "fast path consumed %zu of %zu bytes (limit %zu)\n", head.consumed,
                 bytes.size(), limit);
    std::abort();
  }
  http::Request fast_req;
  http::fill_request(head, fast_req);
  const std::string fast = http::fast_head_readings::describe(fast_req, head.consumed);

  bool mismatch = false;
  const std::string server = http::fast_head_readings::server_fast(bytes, limit, &mismatch);
  if (mismatch || (head.target.front() == '/' ? server != fast : !server.empty())) {
    std::fprintf(stderr, "http::Incoming reads it otherwise:\n%s\nfast path:\n%s\n", server.c_str(),
                 fast.c_str());
    std::abort();
  }

  std::string why;
  const std::string beast = http::fast_head_readings::beast(bytes, limit, &why);
  if (beast.empty()) {
    std::fprintf(stderr, "the fast path took a request Beast does not (%s):\n%s\n", why.c_str(),
                 fast.c_str());
    std::abort();
  }
  if (fast != beast) {
    std::fprintf(stderr, "fast path and Beast differ:\nfast:\n%s\nbeast:\n%s\n", fast.c_str(),
                 beast.c_str());
    std::abort();
  }
  return 0;
}
