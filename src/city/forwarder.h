// city::Forwarder — the internal HTTP client that carries a request to the replica that is
// the home of its course, and brings the answer back.
//
// Keep-alive connections are pooled per I/O thread and per home; forward() runs on (and
// must be awaited from) the I/O thread `thread_index`, so a pool is only ever touched by its
// own thread. A request that fails on a pooled connection before any answer arrived is sent
// again once on a fresh connection (the home closed an idle connection; kMaxIdle keeps that
// from being one the home closes on its own, so the resend does not repeat a write the home
// performed); the city credential
// header marks the request as forwarded, so the home serves it itself.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace city {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// The header that carries the city credential on forwarded requests.
inline constexpr const char* kCityHeader = "X-Edgeclass-City";

class Forwarder {
 public:
  Forwarder(int threads, std::string credential, std::chrono::milliseconds timeout);
  ~Forwarder();

  // Sends `req` to `url` ("http://host:port"). unavailable/"course_home_unavailable" when
  // the home cannot be reached or does not answer within the timeout.
  // `url` and `req` must stay alive until it completes (`req` gets the credential header).
  boost::asio::awaitable<base::Result<HttpResponse>> forward(const std::string& url,
                                                             HttpRequest& req, int thread_index);

  // Connections opened so far (all threads; for tests and /metrics).
  uint64_t connections_opened() const { return opened_.load(); }

 private:
  using Stream = boost::beast::tcp_stream;
  struct Idle {
    std::unique_ptr<Stream> stream;
    std::chrono::steady_clock::time_point since;
  };
  struct Pool {
    std::unordered_map<std::string, std::vector<Idle>> idle;  // by url
  };
  // Pooled connections idle longer are closed, not reused: well under the server's keep-alive
  // idle time (60 s), so a reused connection is not one the home is closing, and a resend
  // after "no answer on a reused connection" does not meet a request the home has served.
  static constexpr std::chrono::seconds kMaxIdle{20};
  boost::asio::awaitable<base::Result<std::unique_ptr<Stream>>> open(const std::string& url);

  std::vector<Pool> pools_;  // one per I/O thread, touched only by that thread
  std::string credential_;
  std::chrono::milliseconds timeout_;
  std::atomic<uint64_t> opened_{0};
};

}  // namespace city
