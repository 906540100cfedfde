#include "wasi/serve.h"

#include <wasi/api.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "classroom/reader.h"
#include "store/txn.h"

// WasmEdge's socket extension (module wasi_snapshot_preview1; its README lists them). The
// V1 signatures: every argument i32, every result a WASI errno.
#define WASMEDGE_IMPORT(name) \
  __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))
extern "C" {
struct WasiAddress {
  uint8_t* buf;
  uint32_t buf_len;
};
WASMEDGE_IMPORT("sock_open") uint32_t we_sock_open(uint32_t af, uint32_t type, uint32_t* fd);
WASMEDGE_IMPORT("sock_bind") uint32_t we_sock_bind(uint32_t fd, WasiAddress* addr, uint32_t port);
WASMEDGE_IMPORT("sock_listen") uint32_t we_sock_listen(uint32_t fd, uint32_t backlog);
WASMEDGE_IMPORT("sock_setsockopt")
uint32_t we_sock_setsockopt(uint32_t fd, uint32_t level, uint32_t name, const void* flag,
                            uint32_t flag_size);
WASMEDGE_IMPORT("sock_getlocaladdr")
uint32_t we_sock_getlocaladdr(uint32_t fd, WasiAddress* addr, uint32_t* type, uint32_t* port);
}

namespace wasi {

namespace {

constexpr uint64_t kListener = ~uint64_t(0);
constexpr uint64_t kTimer = ~uint64_t(0) - 1;

struct Conn {
  uint32_t fd;
  uint64_t id;      // poll_oneoff userdata
  std::string in;   // bytes read, not yet consumed by a request
  std::string out;  // the answer being sent
  size_t out_off = 0;
  bool close_after = false;  // close once `out` is sent
  bool draining = false;     // answer sent after an error: discard input until EOF or deadline
  bool closed = false;
  int64_t deadline_ns = 0;  // monotonic; past it the connection is closed
};

int64_t now_ns() { return base::SystemClock::instance().now_mono_ns(); }

std::string errno_text(uint32_t e) { return "WASI errno " + std::to_string(e); }

class Loop {
 public:
  Loop(const ServeOptions& o, const rest::Router& r, store::Db& db)
      : opt_(o), router_(r), db_(db) {}

  base::Status run(uint32_t listener) {
    listener_ = listener;
    // Once after start-up too: migrations (or a WAL left by a killed predecessor) are written.
    checkpoint_due_ns_ = now_ns() + opt_.checkpoint_idle_ms * 1'000'000;
    std::vector<__wasi_subscription_t> subs;
    std::vector<__wasi_event_t> events;
    while (true) {
      subs.clear();
      if (conns_.size() < opt_.max_connections) subs.push_back(read_sub(kListener, listener_));
      int64_t next_deadline = 0;
      for (auto& c : conns_) {
        bool writing = c->out_off < c->out.size();
        subs.push_back(writing ? write_sub(c->id, c->fd) : read_sub(c->id, c->fd));
        if (c->deadline_ns && (!next_deadline || c->deadline_ns < next_deadline)) {
          next_deadline = c->deadline_ns;
        }
      }
      if (checkpoint_due_ns_ && (!next_deadline || checkpoint_due_ns_ < next_deadline)) {
        next_deadline = checkpoint_due_ns_;
      }
      if (next_deadline) {
        __wasi_subscription_t t{};
        t.userdata = kTimer;
        t.u.tag = __WASI_EVENTTYPE_CLOCK;
        t.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        t.u.u.clock.timeout = uint64_t(std::max<int64_t>(next_deadline - now_ns(), 1'000'000));
        t.u.u.clock.precision = 1'000'000;
        subs.push_back(t);
      }
      events.resize(subs.size());
      __wasi_size_t n = 0;
      if (uint32_t e = __wasi_poll_oneoff(subs.data(), events.data(), subs.size(), &n)) {
        return base::unavailable("poll_oneoff failed: " + errno_text(e));
      }
      for (size_t i = 0; i < n; ++i) {
        const __wasi_event_t& ev = events[i];
        if (ev.userdata == kTimer) continue;
        if (ev.userdata == kListener) {
          accept_one();
          continue;
        }
        Conn* c = find(ev.userdata);
        if (!c) continue;
        if (ev.error && ev.error != __WASI_ERRNO_AGAIN) {
          close(*c);
          continue;
        }
        if (ev.type == __WASI_EVENTTYPE_FD_WRITE) {
          on_writable(*c);
        } else {
          on_readable(*c);
        }
      }
      expire();
      checkpoint_if_idle();
      std::erase_if(conns_, [](const std::unique_ptr<Conn>& c) { return c->closed; });
    }
  }

 private:
  static __wasi_subscription_t read_sub(uint64_t id, uint32_t fd) {
    __wasi_subscription_t s{};
    s.userdata = id;
    s.u.tag = __WASI_EVENTTYPE_FD_READ;
    s.u.u.fd_read.file_descriptor = fd;
    return s;
  }
  static __wasi_subscription_t write_sub(uint64_t id, uint32_t fd) {
    __wasi_subscription_t s{};
    s.userdata = id;
    s.u.tag = __WASI_EVENTTYPE_FD_WRITE;
    s.u.u.fd_write.file_descriptor = fd;
    return s;
  }

  Conn* find(uint64_t id) {
    for (auto& c : conns_) {
      if (c->id == id && !c->closed) return c.get();
    }
    return nullptr;
  }

  void accept_one() {
    __wasi_fd_t fd;
    if (uint32_t e = __wasi_sock_accept(listener_, __WASI_FDFLAGS_NONBLOCK, &fd)) {
      if (e != __WASI_ERRNO_AGAIN) base::log::warn("wasi.accept_failed").kv("error", errno_text(e));
      return;
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->id = next_id_++;
    c->deadline_ns = now_ns() + opt_.idle_timeout_ms * 1'000'000;
    conns_.push_back(std::move(c));
  }

  void close(Conn& c) {
    if (c.closed) return;
    (void)__wasi_fd_close(c.fd);
    c.closed = true;
  }

  void expire() {
    int64_t now = now_ns();
    for (auto& c : conns_) {
      if (!c->closed && c->deadline_ns && now > c->deadline_ns) close(*c);
    }
  }

  // Once no write has committed for checkpoint_idle_ms, copies the WAL into the database file
  // and truncates it to zero bytes. A module cannot catch SIGTERM, so it never closes its
  // connection cleanly: without this, the next start would replay the whole WAL (up to
  // SQLite's 1000-page autocheckpoint) while opening the database. Durability is the same
  // either way: a commit is on disk in the WAL (synchronous=FULL) before it is answered.
  void checkpoint_if_idle() {
    if (!checkpoint_due_ns_ || now_ns() < checkpoint_due_ns_) return;
    checkpoint_due_ns_ = 0;
    int64_t start = now_ns();
    base::Status st = db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!st.is_ok()) {
      base::log::warn("wasi.checkpoint_failed").kv("error", st.message());
      return;
    }
    base::log::debug("wasi.checkpoint").kv("duration_ms", double(now_ns() - start) / 1e6);
  }

  void on_readable(Conn& c) {
    // Bounded: never more than one request's head and body limits, with a chunked body's
    // framing (parse_request refuses anything larger before it is all read).
    const size_t cap =
        opt_.limits.header_limit + opt_.limits.body_limit + opt_.limits.chunk_overhead_limit;
    char buf[16384];
    size_t room = c.draining ? sizeof buf : std::min(sizeof buf, cap - std::min(cap, c.in.size()));
    if (room == 0) return;  // a whole request is buffered; answered first
    __wasi_iovec_t iov{reinterpret_cast<uint8_t*>(buf), room};
    __wasi_size_t got = 0;
    __wasi_roflags_t flags = 0;
    uint32_t e = __wasi_sock_recv(c.fd, &iov, 1, 0, &got, &flags);
    if (e == __WASI_ERRNO_AGAIN) return;
    if (e || got == 0) {
      close(c);
      return;
    }
    if (c.draining) return;
    if (c.in.empty()) c.deadline_ns = now_ns() + opt_.read_timeout_ms * 1'000'000;
    c.in.append(buf, got);
    process(c);
  }

  // Answers the first whole request in `c.in`, if there is one and nothing is being sent.
  void process(Conn& c) {
    if (c.out_off < c.out.size() || c.close_after) return;
    ParseResult p = parse_request(c.in, opt_.limits);
    if (p.status == ParseStatus::kIncomplete) return;
    if (p.status == ParseStatus::kError) {
      serialize_response(p.error, 1, false, false, c.out);
      c.out_off = 0;
      c.close_after = true;
      log_access("-", "unmatched", p.error.status, 0, "");
    } else {
      answer(c, p.request);
      c.in.erase(0, p.request.size);
    }
    c.deadline_ns = now_ns() + opt_.read_timeout_ms * 1'000'000;
    on_writable(c);
  }

  void answer(Conn& c, const ParsedRequest& pr) {
    int64_t start = now_ns();
    std::string_view target = pr.target;
    size_t q = target.find('?');
    rest::Request req{pr.method, target.substr(0, q),
                      q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                      pr.body, pr};
    rest::PathParams params;
    rest::Router::Match m = router_.match(req.method, req.path, params);
    rest::Call call{req, params, 0, {}};
    rest::Response res;
    if (!m.handler) {
      res = rest::route_error(m.path_known, req.method, req.path, m.allow);
    } else {
      rest::Reply reply = (*m.handler)(call);
      if (reply.response) {
        res = std::move(*reply.response);
      } else {
        // One request at a time: the write commits before anything else is read.
        base::Status st = store::transact(db_, reply.op);
        if (st.is_ok() && reply.invalidates) classroom::bump_catalog_generation();
        // Each write pushes the idle checkpoint back (checkpoint_if_idle).
        checkpoint_due_ns_ = now_ns() + opt_.checkpoint_idle_ms * 1'000'000;
        res = reply.then(st);
      }
    }
    res.set("X-Request-Id", request_id(pr));
    bool keep = pr.keep_alive;
    serialize_response(res, pr.minor_version, keep, pr.method == "HEAD", c.out);
    c.out_off = 0;
    c.close_after = !keep;
    log_access(pr.method, m.handler ? m.label : std::string_view("unmatched"), res.status,
               now_ns() - start, call.user_id);
  }

  std::string request_id(const ParsedRequest& pr) {
    if (auto v = pr.find("X-Request-Id"); v && !v->empty() && v->size() <= 64) {
      bool ok = true;
      for (char ch : *v) {
        ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-');
      }
      if (ok) return std::string(*v);
    }
    return "w" + std::to_string(base::SystemClock::instance().now_unix_ms()) + "-" +
           std::to_string(++requests_);
  }

  void log_access(std::string_view method, std::string_view route, int status, int64_t ns,
                  std::string_view user) {
    if (base::log::level() > base::log::Level::kInfo) return;
    base::log::info("http.access")
        .kv("method", method)
        .kv("route", route)
        .kv("status", int64_t(status))
        .kv("duration_ms", double(ns) / 1e6)
        .kv("user", user);
  }

  void on_writable(Conn& c) {
    while (c.out_off < c.out.size()) {
      __wasi_ciovec_t iov{reinterpret_cast<const uint8_t*>(c.out.data() + c.out_off),
                          c.out.size() - c.out_off};
      __wasi_size_t sent = 0;
      uint32_t e = __wasi_sock_send(c.fd, &iov, 1, 0, &sent);
      if (e == __WASI_ERRNO_AGAIN) return;
      if (e) {
        close(c);
        return;
      }
      c.out_off += sent;
    }
    c.out.clear();
    c.out_off = 0;
    if (c.close_after) {
      // Lingering close: stop sending, discard what the client still sends for a moment,
      // so that closing does not reset the connection before it read the answer.
      (void)__wasi_sock_shutdown(c.fd, __WASI_SDFLAGS_WR);
      c.draining = true;
      c.in.clear();
      c.deadline_ns = now_ns() + 2'000'000'000;
      return;
    }
    c.deadline_ns =
        now_ns() + (c.in.empty() ? opt_.idle_timeout_ms : opt_.read_timeout_ms) * 1'000'000;
    if (!c.in.empty()) process(c);  // a pipelined request already read
  }

  const ServeOptions& opt_;
  const rest::Router& router_;
  store::Db& db_;
  uint32_t listener_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
  uint64_t next_id_ = 1;
  uint64_t requests_ = 0;
  int64_t checkpoint_due_ns_ = 0;  // monotonic; 0 when the WAL holds nothing to checkpoint
};

struct Listener {
  uint32_t fd;
  uint16_t port;  // the bound one (the kernel's choice when 0 was asked for)
};

base::Result<Listener> listen_on(const std::string& host, uint16_t port) {
  uint8_t ip[4];
  {
    unsigned a, b, c, d;
    char tail;
    if (std::sscanf(host.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 ||
        b > 255 || c > 255 || d > 255) {
      return base::invalid_argument("listen address '" + host +
                                    "' is not an IPv4 address (use e.g. 127.0.0.1 or 0.0.0.0)");
    }
    ip[0] = uint8_t(a), ip[1] = uint8_t(b), ip[2] = uint8_t(c), ip[3] = uint8_t(d);
  }
  std::string where = host + ":" + std::to_string(port);
  uint32_t fd = 0;
  if (uint32_t e = we_sock_open(1 /*inet4*/, 2 /*stream*/, &fd)) {
    return base::unavailable("cannot open a socket for " + where + ": " + errno_text(e) +
                             " (does the runtime have WasmEdge's socket extension?)");
  }
  // SO_REUSEADDR (WASI level SOL_SOCKET = 0, option SO_REUSEADDR = 0), as natively: a
  // restarted server binds while its old connections are in TIME_WAIT.
  const int32_t on = 1;
  if (uint32_t e = we_sock_setsockopt(fd, 0, 0, &on, sizeof on)) {
    base::log::warn("wasi.reuseaddr_failed").kv("error", errno_text(e));
  }
  WasiAddress addr{ip, 4};
  if (uint32_t e = we_sock_bind(fd, &addr, port)) {
    return base::unavailable(
        "cannot listen on " + where + ": " +
        (e == __WASI_ERRNO_ADDRINUSE ? "address already in use" : errno_text(e)));
  }
  if (uint32_t e = we_sock_listen(fd, 128)) {
    return base::unavailable("cannot listen on " + where + ": " + errno_text(e));
  }
  uint8_t bound[16] = {};
  WasiAddress local{bound, sizeof bound};
  uint32_t type = 0, bound_port = 0;
  if (uint32_t e = we_sock_getlocaladdr(fd, &local, &type, &bound_port)) {
    return base::unavailable("cannot read the address bound for " + where + ": " + errno_text(e));
  }
  return Listener{fd, uint16_t(bound_port)};
}

}  // namespace

base::Status serve(const ServeOptions& options, const rest::Router& router, store::Db& db) {
  EC_ASSIGN_OR_RETURN(Listener l, listen_on(options.host, options.port));
  // The native server's ready line (tests and scripts read the URL from it).
  base::log::info("edgeclass.ready")
      .kv("url", "http://" + options.host + ":" + std::to_string(l.port) + "/")
      .kv("runtime", "wasm32-wasi");
  Loop loop(options, router, db);
  return loop.run(l.fd);
}

}  // namespace wasi
