// http::Transport — a client connection's byte stream: plain TCP, or TLS over TCP.
//
// The HTTP server and the live WebSocket sessions read and write through it, so that one
// code path serves both http:// and https:// (wss://), from the TLS handshake to the end.
//
// TLS is done on the socket itself: the OpenSSL connection (SSL) reads and writes the
// non-blocking descriptor through a socket BIO, and its record buffers are released while the
// connection is idle (SSL_MODE_RELEASE_BUFFERS). An idle TLS connection then holds the SSL
// object alone (its keys, two cipher contexts, the session: about 14 KB). Asio's ssl::stream,
// used before, added about 68 KB of buffers (its core's and a BIO pair's) for the connection's
// whole life and copied every record through the pair (docs/live-performance.md).
//
// Three ways to use it:
// - non-blocking calls, read_now() / write_now(), which say what to wait for when they
//   cannot go on (async_wait(Wait)): the HTTP server's and the live session's writes;
// - an Asio AsyncStream (async_read_some / async_write_some), usable under
//   beast::websocket::stream (the WebSocket opening handshake, refuse()) and Beast's HTTP
//   writes; its reads are the HTTP server's;
// - async_read_append, a read that appends to a string as it reads: the live session's.
// The plain case costs one branch per operation. A Transport is cheap to move, and the TCP
// socket it hands out (socket()) is the one it holds; it must not move while an operation is
// pending on it.
#pragma once

#include <openssl/types.h>

#include <algorithm>
#include <boost/asio/append.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "http/reactor_read.h"

namespace http {

class Transport {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;
  using error_code = boost::system::error_code;

  // A plain TCP connection.
  explicit Transport(tcp::socket socket) : socket_(std::move(socket)) {}
  Transport(Transport&& o) noexcept
      : socket_(std::move(o.socket_)),
        ssl_(std::exchange(o.ssl_, nullptr)),
        ctx_(std::move(o.ctx_)),
        unread_(std::move(o.unread_)),
        reactor_(o.reactor_),
        tls_failed_(o.tls_failed_) {}
  Transport& operator=(Transport&& o) noexcept;
  ~Transport();

  // Makes this plain connection a TLS one (server side) with the certificate of `ctx`, which
  // this transport keeps alive; nothing may have been read from the socket yet. The handshake
  // is still to be done (handshake()). Fails only when OpenSSL cannot make the connection.
  error_code start_tls(std::shared_ptr<boost::asio::ssl::context> ctx);
  // The server side of the TLS handshake, waiting on the socket as it needs to; a cancel() or
  // close() of the socket (a deadline) ends it with an error. TLS only.
  boost::asio::awaitable<error_code> handshake();

  executor_type get_executor() { return socket_.get_executor(); }
  // The TCP socket underneath (for options, waits, cancel, shutdown and close).
  tcp::socket& socket() { return socket_; }
  bool is_tls() const { return ssl_ != nullptr; }

  // What a non-blocking call did.
  enum class Wait { kNone, kRead, kWrite };
  struct Io {
    size_t bytes = 0;  // read or written (0 when it failed or has to wait)
    // Nothing could be done now: wait for the socket to allow this (async_wait), then call
    // again (a write with at least the same bytes: TLS may have taken part of them).
    Wait wait = Wait::kNone;
    // End of stream (asio::error::eof: the peer's FIN, or TLS's close_notify), a TCP end
    // without close_notify under TLS (asio::ssl::error::stream_truncated), a reset, a TLS
    // error, or bad_descriptor once the socket is closed.
    error_code ec;
  };
  // Up to `size` bytes into `data`, without blocking: under TLS what OpenSSL holds already
  // comes first (decrypted or not), so call this before waiting for readability.
  Io read_now(void* data, size_t size);
  // As much of `data` as goes now, without blocking (under TLS, whole records: a partial
  // result is what went out, the rest is to be written again).
  Io write_now(const void* data, size_t size);
  // Waits until the socket allows what `w` asks (kRead or kWrite).
  template <class Token>
  auto async_wait(Wait w, Token&& token) {
    return socket_.async_wait(w == Wait::kWrite ? tcp::socket::wait_write : tcp::socket::wait_read,
                              std::forward<Token>(token));
  }

  // TLS: sends close_notify and reads until the peer's (what comes before it is discarded).
  // Ends then, when the connection fails, or when the socket is cancelled or closed (the
  // caller's deadline). Plain: returns at once.
  boost::asio::awaitable<void> shutdown_tls();
  // TLS: sends close_notify if the socket takes it now (best effort: never waits, and does
  // nothing after a fatal TLS or socket error, when OpenSSL must not send it), without waiting
  // for the peer's. Reads may go on afterwards, until the peer's close_notify or end.
  void send_close_notify();

  // Asio's AsyncStream: what read_now / write_now do, waiting as needed (one buffer of the
  // sequence, the first non-empty one, per call, as Asio's ssl::stream does).
  // Reads are performed by Asio's reactor itself (http/reactor_read.h): a read that drained
  // the socket lets the next one wait for readability without a recv first, and a read that
  // must wait costs no epoll_ctl. A read that completes at once is
  // posted, never delivered inside the initiating call. No other read may be pending.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          const boost::asio::mutable_buffer first = first_buffer<boost::asio::mutable_buffer>(b);
          start_read(&Transport::attempt_read, first.data(), first.size(), std::move(handler));
        },
        token, buffers);
  }
  // Reads up to `max` bytes (at most kAppendChunk) and appends them to `out` at the moment
  // they are read, inside the reactor's operation (http/reactor_read.h), not when the
  // completion runs. So a read that waits holds no buffer (an idle connection keeps none),
  // and the thread's connections share one scratch buffer for the read itself: a completion
  // posted for one connection cannot find its bytes overwritten by another's read. Otherwise as
  // async_read_some (drained reads, no epoll_ctl per wait, a result found at once is posted);
  // completes with (error, bytes appended). `out` must stay alive, and not be changed, until
  // the read completes.
  static constexpr size_t kAppendChunk = 16 * 1024;
  template <class Token>
  auto async_read_append(std::string& out, size_t max, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, size_t)>(
        [this](auto handler, std::string* o, size_t m) {
          start_read(&Transport::attempt_append, o, std::min(m, kAppendChunk), std::move(handler));
        },
        token, &out, max);
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (ssl_) {
            boost::asio::async_compose<decltype(handler), void(error_code, size_t)>(
                TlsWriteOp{this, first_buffer<boost::asio::const_buffer>(b)}, handler, socket_);
          } else {
            socket_.async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  // Bytes read from the connection that belong to whoever takes it over next (the client's
  // first WebSocket frames, sent in the same read or TLS record as the upgrade request): kept
  // with the transport (moves, detach / adopt) until take_unread(). The readers above do not
  // return them; the new owner takes them before its first read.
  void set_unread(const void* data, size_t size);
  std::string take_unread() {
    return unread_ ? std::move(*std::exchange(unread_, nullptr)) : std::string();
  }

  // Closes the TCP connection at once (no TLS close_notify).
  void close(error_code& ec) { socket_.close(ec); }

  // A connection between two I/O threads: its descriptor and, for TLS, the OpenSSL connection
  // (with whatever input it has buffered). Closes what it still holds when destroyed.
  struct Detached {
    Detached() = default;
    Detached(Detached&& o) noexcept { *this = std::move(o); }
    Detached& operator=(Detached&& o) noexcept;
    ~Detached();
    int fd = -1;
    tcp protocol = tcp::v4();
    SSL* ssl = nullptr;  // owned
    std::shared_ptr<boost::asio::ssl::context> ctx;
    std::unique_ptr<std::string> unread;  // the transport's (set_unread)
  };
  // Takes the connection off this thread's io_context (to adopt() it on another). Afterwards
  // this transport is closed.
  Detached detach(error_code& ec);
  // The detached connection on `ex`'s io_context.
  static Transport adopt(Detached&& d, const executor_type& ex, error_code& ec);

 private:
  // async_write_some under TLS: write_now, waiting as it says. A result without a wait is
  // posted (never delivered inside the initiating call).
  struct TlsWriteOp {
    Transport* t;
    boost::asio::const_buffer buffer;
    bool waited = false;
    bool done = false;
    Io io{};
    template <class Self>
    void operator()(Self& self, error_code wec = {}) {
      if (done) return self.complete(io.ec, io.bytes);
      if (wec) return self.complete(wec, 0);
      if (buffer.size() > 0) {
        io = t->write_now(buffer.data(), buffer.size());
        if (io.wait != Wait::kNone) {
          waited = true;
          t->async_wait(io.wait, std::move(self));
          return;
        }
      }
      if (waited) return self.complete(io.ec, io.bytes);
      done = true;
      boost::asio::post(t->socket_.get_executor(), std::move(self));
    }
  };
  // A read under TLS: the reactor's read (start_plain_read), and when OpenSSL needs the
  // socket writable first (a reply it owes the peer), a wait for that and the read again.
  struct TlsReadOp {
    Transport* t;
    detail::ReactorReadBase::Attempt attempt;
    void* data;
    size_t size;
    bool reading = false;
    template <class Self>
    void operator()(Self& self, error_code ec = {}, size_t n = 0) {
      if (reading && ec != boost::asio::error::would_block) return self.complete(ec, n);
      if (ec) return self.complete(ec, 0);  // the wait for writability failed
      if (reading) {
        reading = false;
        t->async_wait(Wait::kWrite, std::move(self));
        return;
      }
      reading = true;
      t->start_plain_read(attempt, data, size, std::move(self));
    }
  };
  // A read performed by the reactor with `attempt(this, data, size)` (attempt_read or
  // attempt_append); under TLS through TlsReadOp.
  template <class Handler>
  void start_read(detail::ReactorReadBase::Attempt attempt, void* data, size_t size,
                  Handler&& handler) {
    if (ssl_) {
      boost::asio::async_compose<std::decay_t<Handler>, void(error_code, size_t)>(
          TlsReadOp{this, attempt, data, size}, handler, socket_);
    } else {
      start_plain_read(attempt, data, size, std::forward<Handler>(handler));
    }
  }
  // The reactor's read (read_now as it performs it): see http/reactor_read.h.
  template <class Handler>
  void start_plain_read(detail::ReactorReadBase::Attempt attempt, void* data, size_t size,
                        Handler&& handler) {
    if (!reactor_) reactor_ = &detail::reactor_of(socket_);
    detail::start_reactor_read(*reactor_, socket_, attempt, this, data, size,
                               std::forward<Handler>(handler));
  }
  // read_now into `data` (async_read_some's).
  static detail::ReadAttempt attempt_read(void* transport, void* data, size_t size);
  // read_now into the thread's scratch buffer, whatever came appended to the std::string
  // `out` (async_read_append's).
  static detail::ReadAttempt attempt_append(void* transport, void* out, size_t size);
  template <class Buffer, class Buffers>
  static Buffer first_buffer(const Buffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer b(*it);
      if (b.size() > 0) return b;
    }
    return Buffer();
  }
  // What an SSL call's result `r` says (SSL_get_error), OpenSSL's error queue emptied.
  Io tls_result(int r);

  tcp::socket socket_;
  SSL* ssl_ = nullptr;                              // owned; TLS when set
  std::shared_ptr<boost::asio::ssl::context> ctx_;  // the certificate's, kept with ssl_
  std::unique_ptr<std::string> unread_;             // set_unread's (rare: a pointer)
  detail::Reactor* reactor_ = nullptr;  // socket_'s io_context's, found at the first read
  bool tls_failed_ = false;  // an SSL call failed fatally (SSL_ERROR_SSL or _SYSCALL)
};

// Beast's customisation points (found by argument-dependent lookup), so that
// beast::websocket::stream<Transport> closes, times out and tears down either kind. Under TLS
// the teardown sends close_notify (when the socket takes it) before the TCP one.
void beast_close_socket(Transport& t);
void teardown(boost::beast::role_type role, Transport& t, boost::system::error_code& ec);
template <class Handler>
void async_teardown(boost::beast::role_type role, Transport& t, Handler&& handler) {
  t.send_close_notify();
  boost::beast::websocket::async_teardown(role, t.socket(), std::forward<Handler>(handler));
}

}  // namespace http
