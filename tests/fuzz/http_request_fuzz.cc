// Fuzzes the HTTP request path in-process: raw bytes through Beast's request parser with the
// server's limits (16 KiB of headers, 1 MiB of body), then routing and the REST handlers on a
// fresh copy of the fuzz world (classroom_fuzz_world.h) with the real policies. Up to 4 pipelined
// requests per input run one after another on the same database, as on one keep-alive
// connection, so a request sees what the ones before it changed.
//
// Input: [1 byte: caller, % 8: anonymous, outsider, student, second student, removed student,
// teacher, other teacher, admin][raw HTTP/1.1 bytes]. A request without an Authorization
// header gets the caller's bearer token; placeholders ($C, $Q, $a ... see classroom_fuzz_world.h) are
// replaced in the target and the body after parsing.
//
// Properties (besides no crash): never a 500 (http_harness.h); every 4xx/5xx body is
// {"error":{"code":"<non-empty>","message":...}}; every 2xx body of a JSON route is JSON.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "classroom_fuzz_world.h"
#include "http_harness.h"

namespace {

namespace beast_http = boost::beast::http;
namespace json = boost::json;

void check(const http::Request& req, const http::Response& res) {
  unsigned s = res.result_int();
  auto ct = res.find(beast_http::field::content_type);
  bool is_json = ct != res.end() && ct->value().starts_with("application/json");
  if (s >= 400) {
    boost::system::error_code ec;
    json::value v = json::parse(res.body(), ec);
    const json::object* o = v.if_object();
    const json::value* e = o ? o->if_contains("error") : nullptr;
    const json::value* code = e && e->is_object() ? e->get_object().if_contains("code") : nullptr;
    if (ec || !code || !code->is_string() || code->get_string().empty()) {
      std::fprintf(stderr, "http fuzz: error answer without an error code\n%s %s\n%u %s\n",
                   std::string(req.method_string()).c_str(), std::string(req.target()).c_str(), s,
                   res.body().c_str());
      std::abort();
    }
  } else if (is_json) {
    boost::system::error_code ec;
    (void)json::parse(res.body(), ec);
    if (ec) {
      std::fprintf(stderr, "http fuzz: invalid JSON in a %u answer: %s\n", s, res.body().c_str());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 256 * 1024) return 0;
  fuzz::World& world = fuzz::World::get();
  fuzz::Who who = fuzz::Who(data[0] % fuzz::kWhoCount);
  const uint8_t* p = data + 1;
  size_t left = size - 1;
  fuzz::ApiHarness api;
  for (int n = 0; n < 4 && left > 0; ++n) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    parser.eager(true);
    boost::system::error_code ec;
    // What beast_http::read does with a stream that ends after the input: feed what there
    // is; when the parser wants more than is left, the connection has reached end of file.
    while (!parser.is_done()) {
      if (left == 0) {
        parser.put_eof(ec);
        break;
      }
      size_t used = parser.put(boost::asio::buffer(p, left), ec);
      p += used;
      left -= used;
      if (ec == beast_http::error::need_more) ec = {};
      if (ec) break;
      if (used == 0) {  // needs bytes that will never come
        parser.put_eof(ec);
        break;
      }
    }
    if (ec || !parser.is_done()) break;  // the server answers 400/413/431 and closes
    http::Request req = parser.release();
    if (who != fuzz::Who::kAnonymous && req.find(beast_http::field::authorization) == req.end()) {
      req.set(beast_http::field::authorization, "Bearer " + fuzz::token(who));
    }
    req.target(world.substitute(req.target()));
    req.body() = world.substitute(req.body());
    http::Response res = api.handle(req);
    check(req, res);
    if (!req.keep_alive()) break;
  }
  return 0;
}
