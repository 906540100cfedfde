#include "http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <list>

#include "base/clock.h"
#include "base/log.h"

namespace http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto kNoThrow = asio::as_tuple(use_awaitable);

// One connection as its I/O thread sees it: stop() closes the idle ones, and the thread's
// sweep cancels the ones past their deadline. A deadline is a plain integer store per read
// or write (no timer per operation, which cost a timer-queue lock and executor copies).
struct Server::Conn {
  tcp::socket* socket;
  bool busy = false;         // a request is being handled; finish it before closing
  int64_t deadline_ns = 0;   // monotonic; 0 = none. Past it, pending I/O is cancelled.
  std::string wire;          // the response being written, reused across requests
  bool timed_out = false;
  void expires_after(std::chrono::nanoseconds d) {
    deadline_ns = base::SystemClock::instance().now_mono_ns() + d.count();
  }
};

struct Server::Worker {
  explicit Worker(int i) : index(i), ioc(1), acceptor(ioc) {}
  int index;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::list<Conn*> conns;  // owned by this worker's thread
  std::atomic<bool> done{false};
};

Server::Server(ServerOptions options, const Router& router)
    : options_(std::move(options)), router_(router) {
  int n = options_.threads > 0 ? options_.threads : int(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(i));
}

Server::~Server() {
  if (!threads_.empty()) stop();
}

asio::io_context& Server::context(int i) { return workers_.at(size_t(i))->ioc; }

base::Status Server::listen() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return base::invalid_argument("listen address '" + options_.host +
                                  "' is not an IP address (use e.g. 127.0.0.1 or 0.0.0.0)");
  }
  uint16_t port = options_.port;
  for (auto& w : workers_) {
    tcp::endpoint ep(addr, port);
    std::string where = options_.host + ":" + std::to_string(port);
    w->acceptor.open(ep.protocol(), ec);
    if (!ec) w->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) {
      using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
      w->acceptor.set_option(reuse_port(true), ec);
    }
    if (!ec) w->acceptor.bind(ep, ec);
    if (!ec) w->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return base::unavailable("cannot listen on " + where + ": " + ec.message());
    port = w->acceptor.local_endpoint().port();  // later threads share the chosen port
  }
  bound_port_ = port;
  return base::Status::ok();
}

asio::awaitable<void> Server::sweep_loop(Worker& w) {
  asio::steady_timer timer(w.ioc);
  while (!stopping_) {
    timer.expires_after(std::chrono::milliseconds(500));
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec || stopping_) co_return;
    int64_t now = base::SystemClock::instance().now_mono_ns();
    for (Conn* c : w.conns) {
      if (c->deadline_ns != 0 && now > c->deadline_ns) {
        boost::system::error_code ignored;
        c->timed_out = true;
        c->deadline_ns = 0;
        c->socket->cancel(ignored);
      }
    }
  }
}

void Server::start() {
  for (auto& w : workers_) {
    asio::co_spawn(w->ioc, accept_loop(*w), asio::detached);
    asio::co_spawn(w->ioc, sweep_loop(*w), asio::detached);
    threads_.emplace_back([wp = w.get()] {
      wp->ioc.run();
      wp->done = true;
    });
  }
}

void Server::stop() {
  if (stopping_.exchange(true)) {
    join();
    return;
  }
  for (auto& w : workers_) {
    asio::post(w->ioc, [wp = w.get()] {
      boost::system::error_code ec;
      wp->acceptor.close(ec);
      for (Conn* c : wp->conns) {
        if (!c->busy) c->socket->cancel(ec);
      }
    });
  }
  int64_t deadline = base::SystemClock::instance().now_mono_ns() +
                     int64_t(options_.drain_timeout.count()) * 1'000'000'000;
  while (base::SystemClock::instance().now_mono_ns() < deadline) {
    bool all = true;
    for (auto& w : workers_) all = all && w->done.load();
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& w : workers_) {
    if (!w->done) {
      base::log::warn("http.drain_timeout").kv("thread", w->index);
      w->ioc.stop();
    }
  }
  join();
}

void Server::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

asio::awaitable<void> Server::accept_loop(Worker& w) {
  while (!stopping_) {
    auto [ec, socket] = co_await w.acceptor.async_accept(kNoThrow);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      base::log::warn("http.accept_failed").kv("error", ec.message());
      asio::steady_timer t(w.ioc, std::chrono::milliseconds(50));
      co_await t.async_wait(kNoThrow);
      continue;
    }
    asio::co_spawn(w.ioc, serve(w, std::move(socket)), asio::detached);
  }
}

namespace {

Response simple_error(base::Code code, std::string msg, std::string reason) {
  Response r = error_response(base::Status(code, std::move(msg), std::move(reason)));
  r.keep_alive(false);
  return r;
}

}  // namespace

asio::awaitable<void> Server::serve(Worker& w, tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  Conn conn{&socket};
  auto it = w.conns.insert(w.conns.end(), &conn);
  bool registered = true;
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  auto unregister = [&] {
    if (registered) {
      w.conns.erase(it);
      registered = false;
      open_connections_.fetch_sub(1, std::memory_order_relaxed);
    }
  };

  beast::flat_buffer buffer;
  while (!stopping_) {
    conn.busy = false;
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(uint32_t(options_.header_limit));
    parser.body_limit(options_.body_limit);
    conn.expires_after(options_.read_timeout);
    auto [rec, nread] = co_await beast_http::async_read(socket, buffer, parser, kNoThrow);
    conn.busy = true;
    if (rec) {
      std::optional<Response> reply;
      if (rec == beast_http::error::body_limit) {
        reply = simple_error(base::Code::kPayloadTooLarge,
                             "request body is larger than " + std::to_string(options_.body_limit) +
                                 " bytes",
                             "body_too_large");
      } else if (rec == beast_http::error::header_limit) {
        reply = simple_error(base::Code::kInvalidArgument,
                             "request headers are larger than " +
                                 std::to_string(options_.header_limit) + " bytes",
                             "headers_too_large");
        reply->result(beast_http::status::request_header_fields_too_large);
      } else if (rec.category() ==
                     beast_http::make_error_code(beast_http::error::end_of_stream).category() &&
                 rec != beast_http::error::end_of_stream &&
                 rec != beast_http::error::partial_message) {
        reply = simple_error(base::Code::kInvalidArgument,
                             "malformed HTTP request (" + rec.message() + ")", "bad_request");
      }
      if (reply) {
        conn.expires_after(std::chrono::seconds(5));
        co_await beast_http::async_write(socket, *reply, kNoThrow);
        if (observer_) observer_("unmatched", reply->result_int(), 0);
        // Lingering close: the client may still be sending the rejected body. Closing now
        // would reset the connection and could destroy our reply before the client reads
        // it, so stop sending and discard input for a bounded time and amount first.
        socket.shutdown(tcp::socket::shutdown_send, ec);
        conn.expires_after(std::chrono::seconds(2));
        static thread_local char sink[16384];
        for (size_t total = 0; total < (8u << 20);) {
          auto [dec, n] = co_await socket.async_read_some(asio::buffer(sink), kNoThrow);
          if (dec) break;
          total += n;
        }
      }
      break;  // end of stream, timeout, reset, or cancelled by stop()
    }

    Request req = parser.release();
    int64_t start = base::SystemClock::instance().now_mono_ns();
    if (beast::websocket::is_upgrade(req) && upgrade_) {
      unregister();
      beast::tcp_stream stream(std::move(socket));
      if (upgrade_(stream, req, w.index)) {
        if (observer_) observer_("upgrade", 101, base::SystemClock::instance().now_mono_ns() - start);
        co_return;  // the stream now belongs to the WebSocket session
      }
      Response r = simple_error(base::Code::kNotFound, "no WebSocket endpoint at this path",
                                "not_found");
      stream.expires_after(std::chrono::seconds(5));
      co_await beast_http::async_write(stream, r, kNoThrow);
      co_return;
    }

    std::string_view label;
    Response res = co_await dispatch(w, req, label);
    res.version(req.version());
    res.set(beast_http::field::server, "edgeclass");
    res.keep_alive(req.keep_alive() && res.keep_alive() && !stopping_);
    conn.expires_after(options_.read_timeout);
    // One buffer, one write: the status line and fields serialized by hand (Beast's
    // serializer walks a chain of buffer views per write, measurable at this rate).
    std::string& wire = conn.wire;
    wire.clear();
    wire += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    wire += std::to_string(res.result_int());
    wire += ' ';
    wire += res.reason();
    wire += "\r\n";
    for (const auto& f : res) {
      wire += f.name_string();
      wire += ": ";
      wire += f.value();
      wire += "\r\n";
    }
    wire += "\r\n";
    wire += res.body();
    auto [wec, nwritten] = co_await asio::async_write(socket, asio::buffer(wire), kNoThrow);
    if (observer_) {
      observer_(label, res.result_int(), base::SystemClock::instance().now_mono_ns() - start);
    }
    if (wec || !res.keep_alive()) break;
  }
  unregister();
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<Response> Server::dispatch(Worker& w, Request& req, std::string_view& label) {
  std::string_view target = req.target();
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  PathParams params;
  Router::Match m = router_.match(req.method(), path, params);
  label = m.label;
  if (!m.handler) {
    if (m.path_known) {
      Response r = error_response(base::Status(
          base::Code::kInvalidArgument,
          "method " + std::string(req.method_string()) + " is not allowed here; use " + m.allow,
          "method_not_allowed"));
      r.result(beast_http::status::method_not_allowed);
      r.set(beast_http::field::allow, m.allow);
      co_return r;
    }
    co_return error_response(
        base::not_found("no route for " + std::string(path), "route_not_found"));
  }
  Ctx ctx{req, params, path, query, w.index};
  try {
    co_return co_await (*m.handler)(ctx);
  } catch (const std::exception& e) {
    // A handler bug must not take the connection or the process down.
    base::log::error("http.handler_exception").kv("route", label).kv("what", e.what());
  }
  co_return error_response(base::internal_error("internal error; the server logged the details"));
}

}  // namespace http
