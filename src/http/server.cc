#include "http/server.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <tuple>

#include "base/clock.h"
#include "base/log.h"
#include "http/byte_class.h"
#include "http/fast_head.h"
#include "http/incoming.h"
#include "http/rest_route.h"
#include "http/start_gate.h"
#include "http/tls.h"

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
  bool busy = false;        // a request is being handled; finish it before closing
  int64_t deadline_ns = 0;  // monotonic; 0 = none. Past it, pending I/O is cancelled.
  std::string wire{};       // the response being written, reused across requests
  bool timed_out = false;
  bool in_overflow = false;  // over the limits; listed in Worker::overflow at overflow_it
  std::list<Conn*>::iterator overflow_it{};
  // The request being answered as its route sees it (respond()), set per request: here, in
  // the connection's frame, rather than in respond()'s, which would then be larger than the
  // 1,020 bytes Asio recycles per thread (a malloc and a free per request, two with the read's
  // frame it displaces). A REST route's call must stay put while its write commits.
  PathParams params{};
  std::optional<Ctx> ctx{};
  std::optional<RestCall> call{};
  std::optional<rest::Reply> reply{};  // the REST route's, until its answer is built
  void expires_after(std::chrono::nanoseconds d) {
    deadline_ns = base::SystemClock::instance().now_mono_ns() + d.count();
  }
};

// An io_context whose queued handlers can be destroyed before any context's services are:
// see ~Server.
class Server::Context : public asio::io_context {
 public:
  using asio::io_context::io_context;
  // Destroys the handlers still queued and the pending operations (execution_context's
  // shutdown, which the destructor runs again, harmlessly, before destroying the services).
  void destroy_handlers() { shutdown(); }
};

struct Server::Worker {
  explicit Worker(int i) : index(i), ioc(1) {}
  ~Worker() {
    if (bound_fd >= 0) ::close(bound_fd);
  }
  int index;
  // Its reactor (epoll, eventfd, timerfd: six system calls) is made with the first I/O
  // object below, so a context that does nothing yet costs a cold start nothing.
  Context ioc;
  // Made by make_io_objects(): thread 0's by listen(), the others' when their thread is
  // started (start_thread), so that their contexts' reactors are made after the listener
  // serves. Then only touched on this worker's thread (stop() posts there).
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> sweep;  // sweep_loop's; stop() cancels it
  // Threads 1..N-1: the socket listen() bound for this worker, before its acceptor exists;
  // make_io_objects() hands it to the acceptor.
  int bound_fd = -1;
  std::list<Conn*> conns;  // owned by this worker's thread
  // Over-limit connections being read, oldest first (also in conns). This thread only.
  std::list<Conn*> overflow;
  // Kept open to be closed when accept() runs out of descriptors (see on_fd_exhausted).
  int spare_fd = -1;
  bool listening = false;  // listen() done on acceptor (listen_worker)
  std::atomic<bool> done{false};
};

// A connection's place in its worker's lists (conns, and overflow while it is over the
// limits) and in the open-connection count, from serve()'s start until leave(). No
// destructor: a coroutine frame destroyed with its io_context must not touch the worker's
// lists, which are gone by then.
struct Server::Registration {
  Registration(Worker& w, Conn& c, std::atomic<int64_t>& open)
      : worker(w), conn(c), open_connections(open), it(w.conns.insert(w.conns.end(), &c)) {
    open_connections.fetch_add(1, std::memory_order_relaxed);
  }
  void leave_overflow() {
    if (conn.in_overflow) {
      worker.overflow.erase(conn.overflow_it);
      conn.in_overflow = false;
    }
  }
  void leave() {
    leave_overflow();
    if (registered) {
      worker.conns.erase(it);
      registered = false;
      open_connections.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  Worker& worker;
  Conn& conn;
  std::atomic<int64_t>& open_connections;
  std::list<Conn*>::iterator it;
  bool registered = true;
};

std::atomic<uint64_t>& Server::refused_counter(Admit admit) {
  return admit == Admit::kOverLimit ? counters_.refused_limit : counters_.refused_address;
}

Server::Server(ServerOptions options, const Router& router)
    : options_(std::move(options)),
      router_(router),
      admission_(options_.max_connections, options_.max_connections_per_address) {
  int n = options_.threads > 0 ? options_.threads : int(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(i));
}

Server::~Server() {
  if (!threads_.empty()) stop();
  // A handler still queued on one thread's context can own an object with I/O objects on
  // another's (a live session posted to its room's thread holds its timer and socket). Each
  // context's destructor destroys its handlers and then its services, so the context
  // destroyed last would free such a session after the other's services were gone (a
  // use-after-free ASan saw at exit). Destroying every context's handlers first, while all
  // their services exist, keeps that order safe.
  for (auto& w : workers_) w->ioc.destroy_handlers();
}

asio::io_context& Server::context(int i) { return workers_.at(size_t(i))->ioc; }

void Server::make_io_objects(Worker& w) {
  if (w.acceptor) return;
  w.acceptor.emplace(w.ioc);
  w.sweep.emplace(w.ioc);
  if (w.bound_fd < 0) return;
  boost::system::error_code ec;
  w.acceptor->assign(bound_protocol_ == 6 ? tcp::v6() : tcp::v4(), w.bound_fd, ec);
  if (ec) {
    ::close(w.bound_fd);  // accept_loop logs that this thread accepts nothing
  }
  w.bound_fd = -1;
}

namespace {

// A socket of the port's SO_REUSEPORT group, bound but not listening, without an io_context
// (its reactor is made later: Worker::acceptor). -1 and `ec` set on failure.
int bind_reuse_port(const tcp::endpoint& ep, boost::system::error_code& ec) {
  int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  int one = 1;
  if (fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0 &&
      ::bind(fd, ep.data(), socklen_t(ep.size())) == 0) {
    return fd;
  }
  ec.assign(errno, boost::system::system_category());
  if (fd >= 0) ::close(fd);
  return -1;
}

}  // namespace

base::Status Server::listen() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return base::invalid_argument("listen address '" + options_.host +
                                  "' is not an IP address (use e.g. 127.0.0.1 or 0.0.0.0)");
  }
  uint16_t port = options_.port;
  // The sockets below join the port's SO_REUSEPORT group, which any process of the same user
  // may join too: a second server started on a port another one already serves would bind
  // beside it and take half its connections. A socket without SO_REUSEPORT cannot bind a
  // port something listens on (SO_REUSEADDR still lets it past connections in TIME_WAIT),
  // so one is bound first, and closed, to find out.
  make_io_objects(*workers_.front());
  bound_protocol_ = addr.is_v6() ? 6 : 4;
  if (port != 0) {
    tcp::acceptor probe(workers_.front()->ioc);
    tcp::endpoint ep(addr, port);
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec) {
      return base::unavailable("cannot listen on " + options_.host + ":" + std::to_string(port) +
                               ": " + ec.message() +
                               (ec == asio::error::address_in_use
                                    ? " (another process listens there: stop it or choose "
                                      "another port)"
                                    : ""));
    }
  }
  for (auto& w : workers_) {
    tcp::endpoint ep(addr, port);
    std::string where = options_.host + ":" + std::to_string(port);
    if (w->index == 0) {
      w->acceptor->open(ep.protocol(), ec);
      if (!ec) w->acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) {
        using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
        w->acceptor->set_option(reuse_port(true), ec);
      }
      if (!ec) w->acceptor->bind(ep, ec);
      // Only the first socket listens now (see listen()'s contract): a socket of the port's
      // SO_REUSEPORT group takes connections only once it listens.
      if (!ec) ec = listen_worker(*w);
      if (!ec) port = w->acceptor->local_endpoint(ec).port();  // the others share the port
    } else if (!w->acceptor && w->bound_fd < 0) {
      w->bound_fd = bind_reuse_port(ep, ec);
    }
    if (ec) return base::unavailable("cannot listen on " + where + ": " + ec.message());
  }
  bound_port_ = port;
  return base::Status::ok();
}

boost::system::error_code Server::listen_worker(Worker& w) {
  boost::system::error_code ec;
  if (!w.listening) w.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) w.listening = true;
  return ec;
}

asio::awaitable<void> Server::sweep_loop(Worker& w) {
  while (!stopping_) {
    w.sweep->expires_after(options_.sweep_interval);
    auto [ec] = co_await w.sweep->async_wait(kNoThrow);
    if (ec || stopping_) co_return;
    int64_t now = base::SystemClock::instance().now_mono_ns();
    for (Conn* c : w.conns) {
      if (c->deadline_ns != 0 && now > c->deadline_ns) {
        // Cancelled again at every sweep until the connection sets a new deadline or ends:
        // a cancel finds nothing to cancel when the connection's coroutine is not waiting on
        // the socket right now (its read's completion posted, or a TLS read's yield), and the
        // connection would otherwise go on without a deadline.
        boost::system::error_code ignored;
        c->timed_out = true;
        c->socket->cancel(ignored);
      }
    }
  }
}

void Server::start() {
  for (auto& w : workers_) {
    make_io_objects(*w);
    if (auto ec = listen_worker(*w)) {
      base::log::error("http.listen_failed").kv("thread", w->index).kv("error", ec.message());
    }
  }
  for (auto& w : workers_) start_thread(*w);
}

void Server::start_thread(Worker& w) {
  make_io_objects(w);  // before the thread, which then owns them
  asio::co_spawn(w.ioc, accept_loop(w), asio::detached);
  asio::co_spawn(w.ioc, sweep_loop(w), asio::detached);
  threads_.emplace_back([wp = &w, name = options_.thread_name] {
    const std::string n = name + "-" + std::to_string(wp->index);
    pthread_setname_np(pthread_self(), n.substr(0, 15).c_str());
    wp->ioc.run();
    wp->done = true;
  });
}

void Server::run_first_worker(std::chrono::microseconds window,
                              const std::function<void()>& after_window) {
  Worker& w = *workers_.front();
  make_io_objects(w);  // made by listen() already
  asio::co_spawn(w.ioc, accept_loop(w), asio::detached);
  asio::co_spawn(w.ioc, sweep_loop(w), asio::detached);
  w.ioc.run_for(window);
  after_window();
  if (!w.ioc.stopped()) w.ioc.run();
  w.done = true;
}

void Server::start_other_workers() {
  for (size_t i = 1; i < workers_.size(); ++i) start_thread(*workers_[i]);
}

void Server::stop() {
  if (stopping_.exchange(true)) {
    join();
    return;
  }
  // Connections not handling a request end now: their pending read or wait is cancelled. A
  // cancel reaches only an operation that is pending, and one that is not at that moment
  // (its completion already queued, or a TLS read yielding to the thread's other work) would
  // then wait for its client with no sweep left to time it out, until the drain timeout. So
  // the cancel is repeated every 50 ms (kRecancelNs) while the thread has not finished.
  constexpr int64_t kRecancelNs = 50'000'000;
  auto cancel_idle = [](Worker* wp) {
    boost::system::error_code ec;
    for (Conn* c : wp->conns) {
      if (!c->busy) c->socket->cancel(ec);
    }
  };
  for (auto& w : workers_) {
    asio::post(w->ioc, [wp = w.get(), cancel_idle] {
      boost::system::error_code ec;
      if (wp->acceptor) wp->acceptor->close(ec);
      if (wp->sweep) wp->sweep->cancel();
      cancel_idle(wp);
    });
  }
  int64_t now = base::SystemClock::instance().now_mono_ns();
  const int64_t deadline = now + int64_t(options_.drain_timeout.count()) * 1'000'000'000;
  int64_t recancel = now + kRecancelNs;
  for (; now < deadline; now = base::SystemClock::instance().now_mono_ns()) {
    bool all = true;
    for (auto& w : workers_) all = all && w->done.load();
    if (all) break;
    if (now >= recancel) {
      for (auto& w : workers_) {
        if (!w->done) asio::post(w->ioc, [wp = w.get(), cancel_idle] { cancel_idle(wp); });
      }
      recancel = now + kRecancelNs;
    }
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

namespace {

int64_t now_ns() { return base::SystemClock::instance().now_mono_ns(); }
constexpr int64_t kLogEveryNs = 10'000'000'000;  // refusal log lines: one per kind per 10 s

int open_spare_fd() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

AddressKey address_key(const tcp::socket& socket) {
  AddressKey key{};
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return key;
  auto a = ep.address();
  auto v6 = a.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()) : a.to_v6();
  auto bytes = v6.to_bytes();
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors ||                         // EMFILE
         ec == boost::system::errc::too_many_files_open_in_system ||  // ENFILE
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

// What a connection accepted on the spare descriptor is told before it is closed: written
// with one non-blocking send, without reading the request (there is no descriptor to spare).
const std::string& no_descriptors_reply() {
  static const std::string reply = [] {
    std::string body =
        R"({"error":{"code":"too_many_connections","message":"the server is out of connections; retry shortly"}})";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return reply;
}

}  // namespace

asio::awaitable<void> Server::accept_loop(Worker& w) {
  // A socket that did not listen yet (start_other_workers) listens on its own thread, once
  // that thread runs: until then connections go to the sockets that do.
  if (auto ec = listen_worker(w)) {
    base::log::error("http.listen_failed")
        .kv("thread", w.index)
        .kv("error", ec.message())
        .kv("note", "this I/O thread accepts nothing; the others serve the port");
    co_return;
  }
  w.spare_fd = open_spare_fd();
  static base::log::Every log_other(kLogEveryNs), log_limit(kLogEveryNs), log_address(kLogEveryNs);
  while (!stopping_) {
    auto [ec, socket] = co_await w.acceptor->async_accept(kNoThrow);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      if (out_of_descriptors(ec)) {
        co_await on_fd_exhausted(w, ec);
        continue;
      }
      counters_.accept_other_errors.fetch_add(1, std::memory_order_relaxed);
      if (uint64_t n; log_other.due(now_ns(), &n)) {
        base::log::warn("http.accept_failed").kv("error", ec.message()).kv("suppressed", n);
      }
      asio::steady_timer t(w.ioc, std::chrono::milliseconds(50));
      co_await t.async_wait(kNoThrow);
      continue;
    }
    Admission::Slot slot;
    Admit admit = admission_.admit(
        admission_.max_per_address() > 0 ? address_key(socket) : AddressKey{}, &slot);
    if (admit == Admit::kOverLimit) {
      if (uint64_t n; log_limit.due(now_ns(), &n)) {
        base::log::warn("http.connection_limit_reached")
            .kv("max_connections", admission_.max_connections())
            .kv("suppressed", n)
            .kv("note", "new connections get 503 too_many_connections; probes are still served");
      }
    } else if (admit == Admit::kOverAddressLimit) {
      if (uint64_t n; log_address.due(now_ns(), &n)) {
        base::log::warn("http.address_limit_reached")
            .kv("max_connections_per_address", admission_.max_per_address())
            .kv("suppressed", n);
      }
    }
    asio::co_spawn(w.ioc, serve(w, std::move(socket), std::move(slot), admit), asio::detached);
  }
  if (w.spare_fd >= 0) ::close(w.spare_fd);
  w.spare_fd = -1;
}

asio::awaitable<void> Server::on_fd_exhausted(Worker& w, const boost::system::error_code& ec) {
  static base::log::Every log_every(kLogEveryNs);
  counters_.accept_fd_errors.fetch_add(1, std::memory_order_relaxed);
  // The listening socket stays readable while connections wait, so retrying at once would
  // spin. With the spare descriptor closed there is room for one accept: refuse that
  // connection properly and take the spare back. Each round removes one waiting connection
  // (work in proportion to arrivals, not a spin); without a spare, wait before trying again.
  bool refused = false;
  if (w.spare_fd >= 0) {
    ::close(w.spare_fd);
    w.spare_fd = -1;
    int fd = ::accept4(w.acceptor->native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      const std::string& reply = no_descriptors_reply();
      ssize_t sent = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      (void)sent;
      ::close(fd);
      refused = true;
      counters_.refused_fd_exhausted.fetch_add(1, std::memory_order_relaxed);
    }
    w.spare_fd = open_spare_fd();
  }
  if (uint64_t n; log_every.due(now_ns(), &n)) {
    base::log::error("http.accept_fd_exhausted")
        .kv("error", ec.message())
        .kv("open_connections", admission_.open())
        .kv("max_connections", admission_.max_connections())
        .kv("suppressed", n)
        .kv("note",
            "out of file descriptors: raise the fd limit (ulimit -n) or lower "
            "EDGECLASS_MAX_CONNECTIONS");
  }
  if (!refused || w.spare_fd < 0) {
    asio::steady_timer t(w.ioc, std::chrono::milliseconds(100));
    co_await t.async_wait(kNoThrow);
  }
}

namespace {

Response simple_error(base::Code code, std::string msg, std::string reason) {
  Response r = error_response(base::Status(code, std::move(msg), std::move(reason)));
  r.keep_alive(false);
  return r;
}

// What a Host value may hold: letters, digits and "-._~!$&'()*+,;=%:[]" (a table: every request
// has one, and a search of that string per punctuation byte showed in the profile).
constexpr std::array<bool, 256> kHostChar = alnum_and("-._~!$&'()*+,;=%:[]");

// RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host header, an HTTP/1.0 one at most
// one, and its value is uri-host [":" port] (empty when the target has no authority).
// Returns what is wrong, or an empty string.
std::string host_problem(const Incoming& req) {
  size_t n = 0;
  std::string_view host;
  req.each_field([&](beast_http::field name, std::string_view, std::string_view value) {
    if (name == beast_http::field::host && n++ == 0) host = value;
  });
  if (n > 1) return "more than one Host header";
  if (n == 0) {
    return req.version() >= 11 ? "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)"
                               : std::string();
  }
  for (char c : host) {
    if (!kHostChar[static_cast<unsigned char>(c)]) {
      return "the Host header is not a valid host[:port]";
    }
  }
  return {};
}

// RFC 9112 §3.2.2: a server must accept the absolute form ("GET http://host/path"), as a
// proxy sends it; the routes see the origin form ("/path?query") either way.
void to_origin_form(Request& req) {
  std::string_view t = req.target();
  size_t scheme = t.starts_with("http://") ? 7 : t.starts_with("https://") ? 8 : 0;
  if (scheme == 0) return;
  size_t slash = t.find('/', scheme);
  size_t query = t.find('?', scheme);
  std::string origin;
  if (slash != std::string_view::npos && (query == std::string_view::npos || slash < query)) {
    origin = std::string(t.substr(slash));
  } else {
    origin = "/" + std::string(query == std::string_view::npos ? "" : t.substr(query));
  }
  req.target(origin);
}

// The paths answered even past the connection limits, so that orchestration keeps seeing
// the process (liveness, readiness) and monitoring keeps its metrics.
bool is_probe(const Incoming& req) {
  if (req.method() != Verb::get && req.method() != Verb::head) return false;
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

// X-Request-Id: a client's or proxy's own id is kept when it is a plain token (1-64 of
// [A-Za-z0-9._-]), so one id follows a request through the platform; otherwise a new one.
// Held inline (no allocation per request).
struct RequestId {
  char text[64];
  size_t size = 0;
  std::string_view view() const { return {text, size}; }
};

RequestId request_id_for(const Incoming& req) {
  RequestId id;
  if (std::optional<std::string_view> given = req.find("X-Request-Id")) {
    std::string_view v = *given;
    bool ok = !v.empty() && v.size() <= sizeof id.text;
    for (char c : v) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-');
    }
    if (ok) {
      std::copy(v.begin(), v.end(), id.text);
      id.size = v.size();
      return id;
    }
  }
  // Per thread: a random prefix and a counter (unique in the process, cheap per request).
  static std::atomic<uint64_t> seeds{0};
  thread_local uint64_t prefix = (uint64_t(base::SystemClock::instance().now_unix_ms()) << 16) ^
                                 (seeds.fetch_add(1) * 0x9E3779B97F4A7C15ull) ^
                                 uint64_t(reinterpret_cast<uintptr_t>(&prefix));
  thread_local uint64_t counter = 0;
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t a = prefix, b = ++counter;
  for (int i = 7; i >= 0; --i, a >>= 4) id.text[size_t(i)] = kHex[a & 15];
  for (int i = 19; i >= 8; --i, b >>= 4) id.text[size_t(i)] = kHex[b & 15];
  id.size = 20;
  return id;
}

}  // namespace

asio::awaitable<void> Server::reject(Conn& conn, Transport& socket, Response& reply) {
  boost::system::error_code ec;
  conn.expires_after(std::chrono::seconds(5));
  co_await beast_http::async_write(socket, reply, kNoThrow);
  if (observer_) observer_("unmatched", reply.result_int(), 0, error_code_of(reply));
  conn.busy = false;  // the reply is out: an overflow member may be evicted while it lingers
  // Lingering close: the client may still be sending (the rejected body, pipelined
  // requests). Closing now would reset the connection and could destroy our reply before
  // the client reads it, so stop sending (under TLS with close_notify first, best effort) and
  // discard input for a bounded time and amount.
  socket.send_close_notify();
  socket.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn.expires_after(std::chrono::seconds(2));
  // Made on first use rather than held in the static TLS block every thread zeroes when it
  // starts (a cold start pays for each page it touches; docs/operations.md, "Cold start").
  static thread_local const std::unique_ptr<char[]> sink(new char[16384]);
  for (size_t total = 0; total < (8u << 20);) {
    auto [dec, n] = co_await socket.async_read_some(asio::buffer(sink.get(), 16384), kNoThrow);
    if (dec) break;
    total += n;
  }
}

namespace {

// The answer to a request that could not be read, or nothing when the client only went away
// (end of stream, timeout, reset, or cancelled by stop()).
std::optional<Response> read_error_reply(const boost::system::error_code& rec,
                                         const ServerOptions& options) {
  if (rec == beast_http::error::body_limit) {
    return simple_error(
        base::Code::kPayloadTooLarge,
        "request body is larger than " + std::to_string(options.body_limit) + " bytes",
        "body_too_large");
  }
  if (rec == beast_http::error::header_limit) {
    Response reply = simple_error(
        base::Code::kInvalidArgument,
        "request headers are larger than " + std::to_string(options.header_limit) + " bytes",
        "headers_too_large");
    reply.result(beast_http::status::request_header_fields_too_large);
    return reply;
  }
  if (rec.category() == beast_http::make_error_code(beast_http::error::end_of_stream).category() &&
      rec != beast_http::error::end_of_stream && rec != beast_http::error::partial_message) {
    return simple_error(base::Code::kInvalidArgument,
                        "malformed HTTP request (" + rec.message() + ")", "bad_request");
  }
  return std::nullopt;
}

// The refusal of a request that came in over the connection limits (not a probe).
Response over_limit_reply(Admit admit, unsigned version) {
  Response reply =
      admit == Admit::kOverLimit
          ? simple_error(base::Code::kUnavailable,
                         "the server is at its connection limit; retry shortly",
                         "too_many_connections")
          : simple_error(base::Code::kResourceExhausted,
                         "too many connections from your address; close some and retry",
                         "too_many_connections");
  reply.set(beast_http::field::retry_after, "1");
  reply.version(version);
  return reply;
}

// A header of the handler's answer that the server writes itself (or drops) instead.
bool replaced_field(std::string_view name) {
  return rest::iequals(name, "Connection") || rest::iequals(name, "Server") ||
         rest::iequals(name, "X-Request-Id");
}

// One buffer, one write: the status line and fields serialized by hand (Beast's serializer
// walks a chain of buffer views per write, measurable at this rate), with no Beast message:
// the Content-Type, then the handler's other headers, as they are. HEAD: the GET answer's
// status and headers (its Content-Length included), no body.
// The framing headers (Server, X-Request-Id, Content-Length unless the handler set one, and
// Connection as `keep_alive` and the version need it) are the server's.
void serialize_response(const rest::Response& res, bool head, unsigned version, bool keep_alive,
                        std::string_view request_id, std::string& wire) {
  using namespace std::string_view_literals;
  char status[24];
  const auto status_end = std::to_chars(status, status + sizeof status, res.status).ptr;
  const std::string_view reason =
      beast_http::obsolete_reason(beast_http::status(unsigned(res.status)));
  const std::string_view body = res.body_view();
  const std::string_view sent_body = head ? std::string_view() : body;
  // The most it can take, so that the bytes are copied in place with no capacity check each
  // (the buffer keeps its capacity between answers: only what the last answer's bytes did not
  // reach is zero-filled by the resize, a few dozen bytes in the steady state).
  size_t bound = 9 + size_t(status_end - status) + 1 + reason.size() + 2 +
                 "Content-Type: "sv.size() + res.content_type.size() + 2 +
                 "Server: edgeclass\r\nX-Request-Id: "sv.size() + request_id.size() + 2 +
                 "Content-Length: "sv.size() + 20 + 2 + "Connection: keep-alive\r\n"sv.size() + 2 +
                 sent_body.size();
  bool has_length = false;
  for (const rest::Header& h : res.headers) {
    has_length = has_length || rest::iequals(h.name, "Content-Length");
    bound += h.name.size() + 2 + h.value.size() + 2;
  }
  if (wire.size() < bound) wire.resize(bound);
  char* out = wire.data();
  // An empty view may have no data at all (a HEAD answer's body): memcpy from a null pointer
  // is undefined even for 0 bytes (UBSan stops the server there).
  auto put = [&out](std::string_view s) {
    if (s.empty()) return;
    std::memcpy(out, s.data(), s.size());
    out += s.size();
  };
  // A literal's length is known here, so its copy is a few moves rather than a memcpy call
  // (a dozen calls per answer were ~200 instructions).
  auto put_literal = [&out]<size_t N>(const char(&s)[N]) {
    std::memcpy(out, s, N - 1);
    out += N - 1;
  };
  if (version == 10) {
    put_literal("HTTP/1.0 ");
  } else {
    put_literal("HTTP/1.1 ");
  }
  put(std::string_view(status, size_t(status_end - status)));
  *out++ = ' ';
  put(reason);
  put_literal("\r\n");
  if (!res.content_type.empty()) {
    put_literal("Content-Type: ");
    put(res.content_type);
    put_literal("\r\n");
  }
  for (const rest::Header& h : res.headers) {
    if (replaced_field(h.name)) continue;
    put(h.name);
    put_literal(": ");
    put(h.value);
    put_literal("\r\n");
  }
  put_literal("Server: edgeclass\r\nX-Request-Id: ");
  put(request_id);
  put_literal("\r\n");
  if (!has_length) {
    put_literal("Content-Length: ");
    out = std::to_chars(out, out + 20, body.size()).ptr;
    put_literal("\r\n");
  }
  if (version >= 11 && !keep_alive) put_literal("Connection: close\r\n");
  if (version == 10 && keep_alive) put_literal("Connection: keep-alive\r\n");
  put_literal("\r\n");
  put(sent_body);
  wire.resize(size_t(out - wire.data()));
}

// As Beast's message::keep_alive() says of a REST answer once http::to_beast made it one: no
// handler asked for "Connection: close".
bool keep_alive_of(const rest::Response& res) {
  for (const rest::Header& h : res.headers) {
    if (rest::iequals(h.name, "Connection") && h.value.find("close") != std::string::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace {

// As much of `bytes` as the connection takes now (non-blocking sends or TLS writes), removed
// from `bytes`; the error that stopped it, or none, and in `wait` what to wait for when it
// took less than everything. (An error code and an enum rather than a Transport::Io: in
// respond()'s coroutine frame, the extra bytes took the frame past the 1,020 bytes Asio
// recycles per thread, for a malloc and a free, ~650 instructions, per request.)
boost::system::error_code send_now(Transport& socket, std::string_view& bytes,
                                   Transport::Wait& wait) {
  wait = Transport::Wait::kNone;
  while (!bytes.empty()) {
    Transport::Io io = socket.write_now(bytes.data(), bytes.size());
    if (io.ec) return io.ec;
    if (io.wait != Transport::Wait::kNone) {
      wait = io.wait;
      break;
    }
    bytes.remove_prefix(io.bytes);
  }
  return {};
}

}  // namespace

// Writes go to the socket directly (a non-blocking send, or SSL_write on the socket) and wait
// only when the kernel takes less than everything: an answer written at once costs no trip
// through the io_context's queue (Asio posts every async operation's completion).
asio::awaitable<boost::system::error_code> Server::write_all(Transport& socket,
                                                             std::string_view bytes,
                                                             Transport::Wait first) {
  Transport::Wait wait = first;
  for (;;) {
    if (wait != Transport::Wait::kNone) {
      auto [ec] = co_await socket.async_wait(wait, kNoThrow);
      if (ec) co_return ec;
    }
    if (boost::system::error_code ec = send_now(socket, bytes, wait)) co_return ec;
    if (bytes.empty()) co_return boost::system::error_code{};
  }
}

// One request into `in` (eager: header and body) is read as Beast's async_read does:
// end_of_stream when the peer closed before sending anything, partial_message when it closed in
// the middle, the parser's errors (limits, bad syntax). serve() runs the loop (below) in its own
// frame: a coroutine of its own was a frame, its start and its resumption per request (~300
// instructions of a GET course).
Server::ReadStep Server::parse_buffered(beast::flat_buffer& buffer, Incoming& in,
                                        size_t header_limit, size_t body_limit,
                                        boost::system::error_code& ec) {
  ec = {};
  while (buffer.size() > 0) {
    // A whole plain head in the buffer, before Beast has seen any of it: the fast path
    // (http/fast_head.h), which leaves everything it does not take to Beast below. Its
    // request stays as views into the buffer (consumed, but not overwritten before the next
    // read) and gets no Beast message unless someone asks for one (http/incoming.h).
    if (!in.parser_started() &&
        in.take_fast_head(
            std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()),
            header_limit)) {
      buffer.consume(in.consumed());
      return ReadStep::kDone;
    }
    auto& parser = in.parser(header_limit, body_limit);
    const size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (!ec) {
      if (parser.is_done()) return ReadStep::kDone;
      if (used > 0) continue;
    } else if (ec != beast_http::error::need_more) {
      return ReadStep::kDone;
    }
    ec = {};
    break;
  }
  return ReadStep::kMore;
}

boost::system::error_code Server::end_of_input(Incoming& in, size_t header_limit,
                                               size_t body_limit) {
  if (!in.parser_started()) return beast_http::error::end_of_stream;
  boost::system::error_code ec;
  in.parser(header_limit, body_limit).put_eof(ec);
  return ec;
}

bool Server::enter_overflow(Worker& w, Conn& conn, Admit admit) {
  // A full pool closes its oldest idle member — a client holding connections open without
  // sending can delay a probe but not block it.
  if (w.overflow.size() >= std::max<size_t>(1, options_.overflow_per_thread)) {
    Conn* victim = nullptr;
    for (Conn* c : w.overflow) {
      if (!c->busy) {
        victim = c;
        break;
      }
    }
    if (!victim) {  // every member is writing its answer: no room, and no descriptor
      refused_counter(admit).fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    boost::system::error_code ec;
    victim->in_overflow = false;
    w.overflow.erase(victim->overflow_it);
    victim->socket->cancel(ec);
    counters_.overflow_evicted.fetch_add(1, std::memory_order_relaxed);
  }
  conn.in_overflow = true;
  conn.overflow_it = w.overflow.insert(w.overflow.end(), &conn);
  return true;
}

asio::awaitable<bool> Server::read_first_bytes(Conn& conn, Transport& socket,
                                               beast::flat_buffer& buffer,
                                               std::chrono::nanoseconds read_timeout, bool over) {
  // The first byte of a new connection has a deadline of its own, shorter than the request's:
  // an idle connection is closed before it costs much.
  conn.expires_after(std::min<std::chrono::nanoseconds>(options_.first_byte_timeout, read_timeout));
  boost::system::error_code fec;
  if (options_.tls) {
    // The TLS port: the first byte tells a TLS handshake (a record of type 22) from plain
    // HTTP. It is looked at in place (MSG_PEEK), so that OpenSSL reads the whole ClientHello
    // from the socket itself; anything else is read below as plain bytes.
    const int fd = socket.socket().native_handle();
    for (;;) {
      auto [wec] = co_await socket.socket().async_wait(tcp::socket::wait_read, kNoThrow);
      if (wec) {
        fec = wec;
        break;
      }
      unsigned char byte = 0;
      const ssize_t peeked = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      if (peeked == 1 && byte == 0x16) co_return co_await start_tls(conn, socket);
      break;  // plain bytes, end of stream or an error: the read below says which
    }
  }
  // 512 bytes: what Beast's parser would have read first (an idle connection keeps this
  // buffer; the parser grows it for the rest of the request).
  size_t n = 0;
  if (!fec) std::tie(fec, n) = co_await socket.async_read_some(buffer.prepare(512), kNoThrow);
  if (fec) {
    if (conn.timed_out && !over) {
      counters_.first_byte_timeouts.fetch_add(1, std::memory_order_relaxed);
      static base::log::Every log_every(kLogEveryNs);
      if (uint64_t skipped; log_every.due(now_ns(), &skipped)) {
        base::log::info("http.first_byte_timeout")
            .kv("after_ms", int64_t(options_.first_byte_timeout.count()))
            .kv("suppressed", skipped);
      }
    }
    co_return false;
  }
  buffer.commit(n);
  if (options_.tls) {
    co_await refuse_plain_http(conn, socket, buffer);
    co_return false;
  }
  co_return true;
}

namespace {

// A coroutine route's answer (a Beast message) as a REST answer to write: its fields in their
// order, its body moved, and "Connection: close" where Beast's keep_alive() says so (an
// HTTP/1.0 answer without keep-alive too).
asio::awaitable<rest::Response> run_coroutine(const Handler& handler, Ctx& ctx) {
  Response r = co_await handler(ctx);
  rest::Response out;
  out.status = int(r.result_int());
  for (const auto& f : r) out.headers.push_back({std::string(f.name_string()), std::string(f.value())});
  if (!r.keep_alive()) out.set("Connection", "close");
  out.body = std::move(r.body());
  co_return out;
}

}  // namespace

asio::awaitable<bool> Server::respond(Worker& w, Conn& conn, Transport& socket, const Incoming& req,
                                      bool over, int64_t start) {
  std::string_view label;
  std::string_view user_id;  // the call's, which conn keeps until the answer is logged
  const bool head = req.method() == Verb::head;
  const RequestId request_id = request_id_for(req);
  // Routing and the handler, here rather than in a coroutine of their own (a frame and two
  // moves of the answer less per request). A REST route (http/rest_route.h) is called in place
  // and its answer written as it is: no coroutine, no Beast message, and a body shared with a
  // cache (GET course) copied once, into the connection's buffer.
  rest::Response res;
  // What is written: `res`, or a REST route's immediate answer where it is, in conn.reply (not
  // moved out of it: a Response move and destruction less per request).
  const rest::Response* answer = &res;
  {
    std::string_view target = req.target();
    size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    std::string_view query =
        q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    Router::Match m = router_.match(req.method(), path, conn.params);
    label = m.label;
    if (!m.handler) {
      res = rest::route_error(m.path_known, req.method_string(), path, m.allow);
    } else {
      Ctx& ctx = conn.ctx.emplace(Ctx{req, conn.params, path, query, w.index, {}});
      bool threw = false;
      try {
        if (m.rest) {
          RestCall& rc = conn.call.emplace(ctx);
          rest::Reply& reply = conn.reply.emplace(m.rest->handler(rc.call));
          if (reply.response) {
            answer = &*reply.response;
          } else {
            res = co_await commit_reply(*m.rest->writer, reply);
          }
          user_id = rc.call.user_id;
        } else {
          res = co_await run_coroutine(*m.handler, ctx);
          user_id = ctx.user_id;
        }
      } catch (const std::exception& e) {
        // A handler bug must not take the connection or the process down.
        base::log::error("http.handler_exception").kv("route", label).kv("what", e.what());
        threw = true;
      }
      if (threw) {
        res = rest::error_response(
            base::internal_error("internal error; the server logged the details"));
        answer = &res;
      }
    }
  }
  const rest::Response& out = *answer;
  const bool keep_alive = req.keep_alive() && keep_alive_of(out) && !stopping_ && !over;
  conn.expires_after(options_.read_timeout);
  serialize_response(out, head, req.version(), keep_alive, request_id.view(), conn.wire);
  // The next read follows at once; when the last one drained the socket it waits for
  // readability without a recv (http/reactor_read.h).
  // The usual answer goes out here at once (one send, or SSL_write on the socket), without
  // write_all's coroutine.
  std::string_view unsent = conn.wire;
  Transport::Wait wait;
  boost::system::error_code wec = send_now(socket, unsent, wait);
  if (!wec && !unsent.empty()) wec = co_await write_all(socket, unsent, wait);
  const int64_t took = base::SystemClock::instance().now_mono_ns() - start;
  const std::string_view body = out.body_view();
  if (observer_) {
    observer_(label, unsigned(out.status), took, rest::error_code_of(out.status, body));
  }
  // The route template, never the raw target (ids, and the live socket's token query).
  if (options_.access_log && base::log::level() <= base::log::Level::kInfo) {
    base::log::info("http.access")
        .kv("request_id", request_id.view())
        .kv("method", std::string_view(req.method_string().data(), req.method_string().size()))
        .kv("route", label.empty() ? std::string_view("unmatched") : label)
        .kv("status", unsigned(out.status))
        .kv("duration_ms", double(took) / 1e6)
        .kv("user", user_id)
        .kv("bytes", uint64_t(head ? 0 : body.size()))
        .kv("tls", socket.is_tls());
  }
  // Nothing of the call is kept past its answer (a reply's continuation may hold more).
  conn.reply.reset();
  conn.call.reset();
  conn.ctx.reset();
  co_return !wec && keep_alive;
}

asio::awaitable<void> Server::serve(Worker& w, tcp::socket raw, Admission::Slot slot, Admit admit) {
  boost::system::error_code ec;
  raw.set_option(tcp::no_delay(true), ec);
  Transport socket(std::move(raw));
  Conn conn{&socket.socket()};
  Registration reg(w, conn, open_connections_);
  // Over the limits: this connection's request is read from the overflow pool (a probe is
  // answered, anything else refused).
  const bool over = admit != Admit::kAdmitted;
  if (over && !enter_overflow(w, conn, admit)) {
    reg.leave();
    socket.close(ec);
    co_return;
  }
  const auto read_timeout =
      over ? std::chrono::duration_cast<std::chrono::nanoseconds>(options_.overflow_timeout)
           : std::chrono::duration_cast<std::chrono::nanoseconds>(options_.read_timeout);

  beast::flat_buffer buffer;
  // The request being read or answered, reused for each one (in this frame, which lives as
  // long as the connection: the fast path's head, ~800 bytes, is part of it).
  Incoming req;
  bool first = true;
  while (!stopping_) {
    conn.busy = false;
    if (first) {
      first = false;
      if (!co_await read_first_bytes(conn, socket, buffer, read_timeout, over)) break;
    }
    req.reset();
    conn.expires_after(read_timeout);
    // The next request: from `buffer` first, then the connection (parse_buffered says how).
    // More bytes come from a read performed by Asio's reactor (Transport::async_read_some,
    // http/reactor_read.h). After a plain read that drained the socket (fewer bytes than
    // asked: the usual request), the next one waits for readability without a recv first, as
    // nginx does; a wait costs no epoll_ctl. Under TLS it is SSL_read on the socket, OpenSSL's
    // buffered bytes first. A read that finds bytes at once completes through the io_context's
    // queue, so a client keeping the socket full of pipelined requests cannot hold the I/O
    // thread (its other connections, the deadline sweep, new connections go first).
    const size_t header_limit = uint32_t(options_.header_limit);
    boost::system::error_code rec;
    while (parse_buffered(buffer, req, header_limit, options_.body_limit, rec) == ReadStep::kMore) {
      const size_t want = beast::read_size(buffer, 65536);
      if (want == 0) {
        rec = beast_http::error::buffer_overflow;
        break;
      }
      auto [ec_read, n] = co_await socket.async_read_some(buffer.prepare(want), kNoThrow);
      buffer.commit(n);
      if (ec_read == asio::error::eof) {
        rec = end_of_input(req, header_limit, options_.body_limit);
        break;
      }
      if (ec_read) {
        rec = ec_read;
        break;
      }
    }
    conn.busy = true;
    if (rec) {
      if (std::optional<Response> reply = read_error_reply(rec, options_)) {
        co_await reject(conn, socket, *reply);
      }
      break;
    }

    // The fast path takes only origin-form targets; Beast's message is rewritten in place.
    if (!req.target().starts_with('/')) to_origin_form(req.beast());
    if (std::string why = host_problem(req); !why.empty()) {
      Response reply = simple_error(base::Code::kInvalidArgument, why, "bad_request");
      reply.version(req.version());
      co_await reject(conn, socket, reply);
      break;
    }
    if (over) {
      if (!is_probe(req)) {
        Response reply = over_limit_reply(admit, req.version());
        refused_counter(admit).fetch_add(1, std::memory_order_relaxed);
        co_await reject(conn, socket, reply);
        break;
      }
      counters_.probes_over_limit.fetch_add(1, std::memory_order_relaxed);
      reg.leave_overflow();  // answering it now; not evictable while busy anyway
    }
    int64_t start = base::SystemClock::instance().now_mono_ns();
    // Looking for the Upgrade field first spares every other request is_upgrade's lookups.
    if (upgrade_ && req.find(beast_http::field::upgrade) &&
        beast::websocket::is_upgrade(req.beast())) {
      if (upgrade_gate_ && !upgrade_gate_->is_open()) {
        // The upgrade's admission needs what the gate waits for (the policies): the coroutine
        // waits, the thread serves on.
        if (base::Status st = co_await upgrade_gate_->wait(); !st.is_ok()) {
          Response r = upgrade_gate_->refusal(st, req.version());
          co_await reject(conn, socket, r);
          break;
        }
      }
      ConnectionSlot held = std::make_shared<Admission::Slot>(std::move(slot));
      // What the client sent behind the request (its first frames, read with it) goes with
      // the connection to the WebSocket session.
      socket.set_unread(buffer.data().data(), buffer.size());
      // The handler runs to its end on this thread, so the sweep cannot see the moved-out
      // socket before reg.leave().
      if (upgrade_(socket, req.beast(), w.index, held)) {
        reg.leave();
        if (observer_)
          observer_("upgrade", 101, base::SystemClock::instance().now_mono_ns() - start, {});
        co_return;  // the stream now belongs to the WebSocket session
      }
      Response r =
          simple_error(base::Code::kNotFound, "no WebSocket endpoint at this path", "not_found");
      r.version(req.version());
      co_await reject(conn, socket, r);
      break;
    }
    if (!co_await respond(w, conn, socket, req, over, start)) break;
  }
  reg.leave();
  // Under TLS the end of the stream is said in TLS first (close_notify, if the socket takes it
  // now), so that a client does not see a truncated stream; then TCP's.
  socket.send_close_notify();
  socket.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> Server::refuse_plain_http(Conn& conn, Transport& stream,
                                                const beast::flat_buffer& buffer) {
  static base::log::Every log_plain(kLogEveryNs);
  counters_.plain_http_on_tls.fetch_add(1, std::memory_order_relaxed);
  if (uint64_t n; log_plain.due(now_ns(), &n)) {
    base::log::info("http.plain_http_on_tls_port").kv("suppressed", n);
  }
  auto first = static_cast<const unsigned char*>(buffer.data().data());
  if (buffer.size() > 0 && first[0] >= 'A' && first[0] <= 'Z') {  // looks like a request line
    Response reply =
        simple_error(base::Code::kInvalidArgument,
                     "this port speaks HTTPS only: use https:// (and wss:// for the live socket)",
                     "https_required");
    reply.version(11);
    co_await reject(conn, stream, reply);
  }
}

asio::awaitable<bool> Server::start_tls(Conn& conn, Transport& stream) {
  static base::log::Every log_failed(kLogEveryNs);
  conn.expires_after(options_.read_timeout);
  boost::system::error_code hec = stream.start_tls(options_.tls->current());
  if (!hec) hec = co_await stream.handshake();
  if (hec) {
    counters_.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
    if (uint64_t n; log_failed.due(now_ns(), &n)) {
      base::log::info("http.tls_handshake_failed")
          .kv("error", conn.timed_out ? std::string("timed out") : hec.message())
          .kv("suppressed", n);
    }
    boost::system::error_code ec;
    stream.close(ec);
    co_return false;
  }
  co_return true;
}

}  // namespace http
