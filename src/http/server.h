// The HTTP/1.1 server: N I/O threads, each with its own io_context and its own acceptor on
// the shared port (SO_REUSEPORT lets the kernel spread connections), keep-alive sessions as
// C++20 coroutines, a deadline and a size limit on every read, graceful shutdown.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "http/admission.h"
#include "http/message.h"
#include "http/router.h"
#include "http/transport.h"

namespace http {

class StartGate;
class TlsCertificates;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;             // 0 picks a free port (see Server::port())
  int threads = 0;                  // 0: one per core
  // The names of the I/O threads the server makes (top -H, perf, /proc/<pid>/task/*/comm):
  // "<thread_name>-<index>", cut to Linux's 15 characters. Thread 0 run by run_first_worker()
  // is the caller's thread and keeps its name.
  std::string thread_name = "ec-io";
  size_t header_limit = 16 * 1024;  // bytes of request line + headers
  size_t body_limit = 1024 * 1024;  // bytes of request body
  // For a whole request once its first byte arrived, and a keep-alive connection's wait for
  // the next one (EDGECLASS_HTTP_TIMEOUT).
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds drain_timeout{10};  // graceful stop: then in-flight work is cut off
  // How often each thread looks for connections past their read/idle deadline. stop()
  // does not wait for the next look.
  std::chrono::milliseconds sweep_interval{500};
  // A new connection's wait for its first byte (capped at read_timeout): a connection that
  // sends nothing costs a descriptor for this long, not for the whole read timeout.
  std::chrono::milliseconds first_byte_timeout{10000};
  // Connections holding a place (HTTP and upgraded WebSockets); <= 0: no limit. Past it, a
  // connection is still read — /healthz, /readyz and /metrics are answered (then closed),
  // anything else gets 503 too_many_connections — from a small overflow pool per thread
  // whose oldest member is closed to make room for a new one.
  int64_t max_connections = 0;
  int64_t max_connections_per_address = 0;  // <= 0: none; past it 429, probes still served
  size_t overflow_per_thread = 16;          // over-limit connections being read, per thread
  std::chrono::milliseconds overflow_timeout{2000};  // for an over-limit connection's request
  // Set: every connection is TLS (HTTPS, WSS) with the certificate in force when it was
  // accepted. Not owned; must outlive the server.
  const TlsCertificates* tls = nullptr;
  // One `http.access` line per request at info level (docs/operations.md, "Logs").
  bool access_log = true;
};

// Counts of what the server refused or cut off, for /metrics. Relaxed atomics, any thread.
struct ConnectionCounters {
  std::atomic<uint64_t> refused_limit{0};         // over max_connections: answered 503
  std::atomic<uint64_t> refused_address{0};       // over the per-address limit: answered 429
  std::atomic<uint64_t> refused_fd_exhausted{0};  // accepted on the spare fd, closed at once
  std::atomic<uint64_t> overflow_evicted{0};      // over-limit connection closed to make room
  std::atomic<uint64_t> probes_over_limit{0};     // health/ready/metrics served while over
  std::atomic<uint64_t> accept_fd_errors{0};      // accept() failed with EMFILE/ENFILE/ENOBUFS
  std::atomic<uint64_t> accept_other_errors{0};
  std::atomic<uint64_t> first_byte_timeouts{0};     // new connection that sent nothing in time
  std::atomic<uint64_t> tls_handshake_failures{0};  // TLS port: handshake failed or timed out
  std::atomic<uint64_t> plain_http_on_tls{0};       // TLS port: plain HTTP refused with 400
};

// Holds a connection's place in the server's connection limits (an Admission::Slot) while it
// lives; the owner of an upgraded socket keeps it exactly as long as the socket is open.
using ConnectionSlot = std::shared_ptr<void>;

// Observes every finished request (metrics). Called on the I/O thread; must be cheap.
// `error_code` is the answer's {"error":{"code":...}} (http::error_code_of), "" for others.
using RequestObserver = std::function<void(std::string_view route, unsigned status,
                                           int64_t duration_ns, std::string_view error_code)>;

// Takes over a connection whose request asked for a WebSocket upgrade. Returns false when no
// upgrade is served at that path (the server then answers 404). Called on the I/O thread
// `thread_index`; the stream's executor is that thread's. The stream is plain TCP or TLS
// (handshake done); a handler that returns true has moved it out.
// `slot` must be kept while the socket stays open.
using UpgradeHandler =
    std::function<bool(Transport& stream, Request& req, int thread_index, ConnectionSlot slot)>;

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();

  // Binds every thread's socket and listens on the first one's; the others listen when
  // their thread starts (start(), start_other_workers()), so that no connection waits in the
  // queue of a thread not yet running, and their io_contexts make their reactors then too.
  // Errors name the address and the reason ("address already in use"). Connections queue
  // from here on.
  base::Status listen();
  // Starts the I/O threads, every acceptor listening by the time it returns. Returns at once.
  void start();
  // The alternative to start() for a cold start: I/O thread 0's work runs on the calling
  // thread, at once (no thread to create or schedule before the first accept), and returns
  // when the server has stopped; start_other_workers(), from another thread, starts threads
  // 1..N-1, each listening once it runs. Each is called once. `after_window` is called on this
  // thread once `window` has passed (what a cold start's first connection is served in before
  // the calling thread spends time on anything else, such as starting that other thread).
  void run_first_worker(std::chrono::microseconds window,
                        const std::function<void()>& after_window);
  void start_other_workers();
  // Graceful stop: stop accepting, let in-flight requests finish (and answer them with
  // "Connection: close"), close idle connections, wait up to drain_timeout, then stop.
  // Blocks until every I/O thread has exited. Safe to call from any thread, once.
  void stop();
  // Blocks until the I/O threads exit (after stop()).
  void join();

  void set_observer(RequestObserver obs) { observer_ = std::move(obs); }
  void set_upgrade_handler(UpgradeHandler h) { upgrade_ = std::move(h); }
  // Upgrade requests wait at `gate` while it is closed (the live socket's admission asks the
  // policies), answered 503 if it fails or their wait is too long (http/start_gate.h). Set
  // before start().
  void set_upgrade_gate(std::shared_ptr<StartGate> gate) { upgrade_gate_ = std::move(gate); }

  uint16_t port() const { return bound_port_; }
  int thread_count() const { return int(workers_.size()); }
  // The io_context of I/O thread `i` (for work that must run on that thread, e.g. rooms).
  boost::asio::io_context& context(int i);
  // Open client connections across all threads (HTTP only; upgraded ones are not counted).
  int64_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  // Connections holding a place under max_connections (HTTP and upgraded WebSockets).
  int64_t admitted_connections() const { return admission_.open(); }
  int64_t max_connections() const { return admission_.max_connections(); }
  const ConnectionCounters& connection_counters() const { return counters_; }
  bool stopping() const { return stopping_.load(); }

 private:
  class Context;
  struct Worker;
  struct Conn;
  struct Registration;

  // The refusal counter of an over-limit verdict.
  std::atomic<uint64_t>& refused_counter(Admit admit);

  // `w`'s acceptor and sweep timer, which make its context's reactor, unless made already;
  // hands them the socket listen() bound for `w`.
  void make_io_objects(Worker& w);
  // listen() on `w`'s acceptor unless done already; on `w`'s thread once it runs.
  boost::system::error_code listen_worker(Worker& w);
  // accept_loop and sweep_loop on `w`'s context, and a thread to run it.
  void start_thread(Worker& w);
  boost::asio::awaitable<void> accept_loop(Worker& w);
  // Every sweep_interval, cancels the I/O of connections past their deadline (read/idle
  // timeouts).
  boost::asio::awaitable<void> sweep_loop(Worker& w);
  // Accept failed for want of descriptors: close the spare, accept and refuse one pending
  // connection with it, reopen the spare, and back off when that did not work either.
  boost::asio::awaitable<void> on_fd_exhausted(Worker& w, const boost::system::error_code& ec);
  boost::asio::awaitable<void> serve(Worker& w, boost::asio::ip::tcp::socket socket,
                                     Admission::Slot slot, Admit admit);
  // Puts an over-limit connection in its worker's overflow pool, evicting the oldest idle
  // member of a full pool. False: every member is busy, the connection must be closed.
  bool enter_overflow(Worker& w, Conn& conn, Admit admit);
  // Reads a new connection's first bytes under the first-byte deadline and, on the TLS port,
  // does the handshake. False: the connection is done.
  boost::asio::awaitable<bool> read_first_bytes(Conn& conn, Transport& stream,
                                                boost::beast::flat_buffer& buffer,
                                                std::chrono::nanoseconds read_timeout, bool over);
  // All of `bytes` to the connection, or the error that stopped it; waits for `first` before
  // the first write (what an attempt just now said to wait for).
  static boost::asio::awaitable<boost::system::error_code> write_all(
      Transport& stream, std::string_view bytes, Transport::Wait first = Transport::Wait::kNone);
  // Reading the next request into `in` (its fast head, when the fast path of
  // http/fast_head.h takes it, or its Beast parser), from `buffer` first, then the connection
  // (serve()'s loop). kDone: `in` holds a whole request, or `ec` says what stopped it; kMore:
  // `buffer` holds no more of it, read more.
  enum class ReadStep { kDone, kMore };
  static ReadStep parse_buffered(boost::beast::flat_buffer& buffer, Incoming& in,
                                 size_t header_limit, size_t body_limit,
                                 boost::system::error_code& ec);
  // The connection ended (end of stream) while `in` was being read: end_of_stream before any
  // byte of it, else what its parser says of the end (partial_message, or none).
  static boost::system::error_code end_of_input(Incoming& in, size_t header_limit,
                                                size_t body_limit);
  // Routes `req`, writes the answer and logs it (access log, observer). False: close.
  boost::asio::awaitable<bool> respond(Worker& w, Conn& conn, Transport& stream,
                                       const Incoming& req, bool over, int64_t start);
  // Writes `reply` (which closes the connection), then discards input for a bounded time.
  boost::asio::awaitable<void> reject(Conn& conn, Transport& stream, Response& reply);
  // TLS port: the handshake (TLS on the socket itself, http/transport.h), nothing read from
  // the socket yet. False: the connection is done.
  boost::asio::awaitable<bool> start_tls(Conn& conn, Transport& stream);
  // TLS port, a client that did not start with a TLS handshake (its first bytes in `buffer`):
  // a 400 if they look like plain HTTP.
  boost::asio::awaitable<void> refuse_plain_http(Conn& conn, Transport& stream,
                                                 const boost::beast::flat_buffer& buffer);

  ServerOptions options_;
  const Router& router_;
  RequestObserver observer_;
  UpgradeHandler upgrade_;
  std::shared_ptr<StartGate> upgrade_gate_;  // null: upgrades never wait
  ConnectionCounters counters_;
  // Before workers_: destroying an io_context destroys the coroutines holding Slots.
  Admission admission_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;  // thread 0's is none after run_first_worker()
  uint16_t bound_port_ = 0;
  int bound_protocol_ = 4;  // 4 or 6: the listen address's family (make_io_objects)
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> open_connections_{0};
};

}  // namespace http
