// Differential fuzzing of the request-head fast path (http/fast_head.h) against Beast's parser:
// on every input the fast path takes, Beast's parser, set up as the server sets it up (header
// limit, body limit, eager), must accept the same bytes as a whole request with the same method,
// target, version, fields (enum, name, value, in order), keep-alive, empty body and length
// consumed. Inputs it leaves to Beast need nothing (Beast decides, as before the fast path).
//
// Input: [1 byte: the header limit: >= 0x80: the server's 16 KiB; else 16 + 8 * (byte & 0x7f),
// so heads at and around the limit are reached][raw bytes at the start of the connection buffer].
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/fast_head.h"

namespace {

namespace beast_http = boost::beast::http;

std::string fast_fuzz_describe(const http::Request& req, size_t consumed) {
  std::string out = std::string(req.method_string()) + " " + std::string(req.target()) + " " +
                    std::to_string(req.version()) + (req.keep_alive() ? " keep-alive" : " close") +
                    " consumed=" + std::to_string(consumed) +
                    " body=" + std::to_string(req.body().size()) + "\n";
  for (const auto& f : req) {
    out += std::to_string(int(f.name())) + " [" + std::string(f.name_string()) + "] [" +
           std::string(f.value()) + "]\n";
  }
  return out;
}

}  // namespace

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
  const std::string fast = fast_fuzz_describe(fast_req, head.consumed);

  beast_http::request_parser<beast_http::string_body> parser;
  parser.header_limit(uint32_t(limit));
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  const size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec || !parser.is_done()) {
    std::fprintf(stderr, "the fast path took a request Beast does not (%s):\n%s\n",
                 ec ? ec.message().c_str() : "not done", fast.c_str());
    std::abort();
  }
  const std::string beast = fast_fuzz_describe(parser.get(), used);
  if (fast != beast) {
    std::fprintf(stderr, "fast path and Beast differ:\nfast:\n%s\nbeast:\n%s\n", fast.c_str(),
                 beast.c_str());
    std::abort();
  }
  return 0;
}
