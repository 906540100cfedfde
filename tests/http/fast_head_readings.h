// What tests/http/fast_head_test.cc and the http_fast_head_fuzz target compare: a request as
// the server uses it, in text, from the fast path (http/fast_head.h) and from Beast's parser.
#pragma once

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/fast_head.h"
#include "http/incoming.h"

namespace http::fast_head_readings {

// One parsed request as text: what the server uses of it, in order.
inline std::string describe(const Request& req, size_t consumed) {
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

// The same description of the request the server reads through http::Incoming's accessors
// (the fast head's views, no Beast message made). each_field gives the fields in the order sent;
// Beast's message keeps the fields of one name together (a field is inserted after the last one
// of its name, names compared without case), so they are listed here in Beast's order, which
// keeps the order sent among the fields of each name: all the server relies on (find() takes
// the first, the Host check counts).
inline std::string describe(const Incoming& req, size_t consumed) {
  std::string out = std::string(req.method_string()) + " " + std::string(req.target()) + " " +
                    std::to_string(req.version()) + (req.keep_alive() ? " keep-alive" : " close") +
                    " consumed=" + std::to_string(consumed) +
                    " body=" + std::to_string(req.body().size()) + "\n";
  std::vector<std::pair<std::string, std::string>> fields;  // lower-case name, line
  req.each_field(
      [&fields](boost::beast::http::field f, std::string_view name, std::string_view value) {
        std::string key(name);
        for (char& c : key) c = char(std::tolower(static_cast<unsigned char>(c)));
        std::string line =
            std::to_string(int(f)) + " [" + std::string(name) + "] [" + std::string(value) + "]\n";
        auto last = std::find_if(fields.rbegin(), fields.rend(),
                                 [&key](const auto& x) { return x.first == key; });
        fields.emplace(last == fields.rend() ? fields.end() : last.base(), std::move(key),
                       std::move(line));
      });
  for (const auto& f : fields) out += f.second;
  return out;
}

// The server's reading of `bytes` (http::Incoming::take_fast_head), "" when it leaves them to
// Beast: through the accessors, and again through the Beast message it builds on demand, which
// must say the same (`mismatch` is set otherwise).
inline std::string server_fast(std::string_view bytes, size_t header_limit, bool* mismatch) {
  Incoming in;
  if (!in.take_fast_head(bytes, header_limit)) return "";
  std::string via_accessors = describe(in, in.consumed());
  *mismatch = via_accessors != describe(in.beast(), in.consumed());
  return via_accessors;
}

// Beast's reading of `bytes` as the server configures its parser, or "" when it does not
// accept a whole request from them (`why`, when given, then says what it said).
inline std::string beast(std::string_view bytes, size_t header_limit, std::string* why = nullptr) {
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.header_limit(uint32_t(header_limit));
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  const size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec || !parser.is_done()) {
    if (why) *why = ec ? ec.message() : "not done";
    return "";
  }
  return describe(parser.get(), used);
}

}  // namespace http::fast_head_readings
