#include "http_harness.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>

#include "classroom_fuzz_world.h"
#include "http/incoming.h"

namespace fuzz {

namespace asio = boost::asio;

namespace {

[[noreturn]] void fail(const http::Request& req, const http::Response& res, std::string_view why) {
  std::fprintf(stderr, "http fuzz: %.*s\n--- request: %s %s\n%s\n--- response: %u\n%s\n",
               int(why.size()), why.data(), std::string(req.method_string()).c_str(),
               std::string(req.target()).c_str(), req.body().c_str(), res.result_int(),
               res.body().c_str());
  std::abort();
}

}  // namespace

ApiHarness::ApiHarness() : clock_(kNowMs) {
  World& w = World::get();
  std::string path = w.fresh_db();
  auto rw = store::Db::open(path, store::OpenMode::kReadWrite);
  if (!rw.is_ok()) std::abort();
  auto writer = store::Writer::start(std::move(rw).value());
  if (!writer.is_ok()) std::abort();
  writer_ = std::move(writer).value();
  auto ro = store::Db::open(path, store::OpenMode::kReadOnly);
  if (!ro.is_ok()) std::abort();
  reader_ = std::move(ro).value();

  auto policies = w.policies();
  service_ = std::make_unique<classroom::Service>(
      clock_, random_,
      [policies]() -> std::shared_ptr<const classroom::Authorizer> { return policies; }, 30);
  deps_.service = service_.get();
  deps_.writer = writer_.get();
  deps_.readers = {reader_.get()};
  deps_.jwt_secret = std::string(kSecret);
  deps_.clock = &clock_;
  deps_.metrics_text = [] { return std::string("# no metrics\n"); };
  deps_.ready = [] { return base::Status::ok(); };
  deps_.policy_data = [policies](std::string_view path, const boost::json::value& input) {
    return app::query_data(policies->engine(), path, input);
  };
  http::register_api(router_, deps_);
}

ApiHarness::~ApiHarness() { writer_->stop(); }

http::Response ApiHarness::handle(http::Request& req) {
  // What http::Server::respond does between the parsed request and the answer (server.cc);
  // keep the two in step.
  std::string_view target = req.target();
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  http::PathParams params;
  http::Router::Match m = router_.match(req.method(), path, params);
  if (!m.handler) {
    http::Response r = http::error_response(
        m.path_known ? base::invalid_argument("method not allowed", "method_not_allowed")
                     : base::not_found("no route", "route_not_found"));
    return r;
  }
  http::Incoming in(req);
  http::Ctx ctx{in, params, path, query, 0, {}};
  asio::io_context ioc(1);
  auto guard = asio::make_work_guard(ioc);
  std::optional<http::Response> out;
  bool done = false;
  asio::co_spawn(ioc, (*m.handler)(ctx), [&](std::exception_ptr e, http::Response r) {
    done = true;
    if (e) {
      // The server catches this and answers 500: a handler that throws on some input.
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        http::Response res(http::beast_http::status::internal_server_error, 11);
        res.body() = ex.what();
        fail(req, res, "the handler threw");
      }
    }
    out = std::move(r);
  });
  while (!done) ioc.run_one();  // the Writer thread posts commit completions back here
  static const bool verbose = std::getenv("EDGECLASS_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%s %s -> %u %.300s\n", std::string(req.method_string()).c_str(),
                 std::string(req.target()).c_str(), out->result_int(), out->body().c_str());
  }
  if (out->result_int() == 500) fail(req, *out, "500 answer");
  return std::move(*out);
}

}  // namespace fuzz
