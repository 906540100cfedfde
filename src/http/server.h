// The HTTP/1.1 server: N I/O threads, each with its own io_context and its own acceptor on
// the shared port (SO_REUSEPORT lets the kernel spread connections), keep-alive sessions as
// C++20 coroutines, a deadline and a size limit on every read, graceful shutdown.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "http/message.h"
#include "http/router.h"

namespace http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port (see Server::port())
  int threads = 0;       // 0: one per core
  size_t header_limit = 16 * 1024;   // bytes of request line + headers
  size_t body_limit = 1024 * 1024;   // bytes of request body
  std::chrono::seconds read_timeout{30};   // for a whole request once its first byte arrived
  std::chrono::seconds idle_timeout{60};   // keep-alive wait between requests
  std::chrono::seconds drain_timeout{10};  // graceful stop: then in-flight work is cut off
};

// Observes every finished request (metrics). Called on the I/O thread; must be cheap.
using RequestObserver = std::function<void(std::string_view route, unsigned status,
                                           int64_t duration_ns)>;

// Takes over a connection whose request asked for a WebSocket upgrade. Returns false when no
// upgrade is served at that path (the server then answers 404). Called on the I/O thread
// `thread_index`; the stream's executor is that thread's.
using UpgradeHandler = std::function<bool(boost::beast::tcp_stream& stream, Request& req,
                                          int thread_index)>;

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();

  // Binds and listens on every thread's acceptor. Errors name the address and the reason
  // ("address already in use").
  base::Status listen();
  // Starts the I/O threads. Returns at once.
  void start();
  // Graceful stop: stop accepting, let in-flight requests finish (and answer them with
  // "Connection: close"), close idle connections, wait up to drain_timeout, then stop.
  // Blocks until every I/O thread has exited. Safe to call from any thread, once.
  void stop();
  // Blocks until the I/O threads exit (after stop()).
  void join();

  void set_observer(RequestObserver obs) { observer_ = std::move(obs); }
  void set_upgrade_handler(UpgradeHandler h) { upgrade_ = std::move(h); }

  uint16_t port() const { return bound_port_; }
  int thread_count() const { return int(workers_.size()); }
  // The io_context of I/O thread `i` (for work that must run on that thread, e.g. rooms).
  boost::asio::io_context& context(int i);
  // Open client connections across all threads.
  int64_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  bool stopping() const { return stopping_.load(); }

 private:
  struct Worker;
  struct Conn;

  boost::asio::awaitable<void> accept_loop(Worker& w);
  // Every 500 ms, cancels the I/O of connections past their deadline (read/idle timeouts).
  boost::asio::awaitable<void> sweep_loop(Worker& w);
  boost::asio::awaitable<void> serve(Worker& w, boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<Response> dispatch(Worker& w, Request& req, std::string_view& label);

  ServerOptions options_;
  const Router& router_;
  RequestObserver observer_;
  UpgradeHandler upgrade_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  uint16_t bound_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> open_connections_{0};
};

}  // namespace http
