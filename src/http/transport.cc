#include "http/transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

namespace http {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

Transport& Transport::operator=(Transport&& o) noexcept {
  if (this != &o) {
    if (ssl_) SSL_free(ssl_);
    socket_ = std::move(o.socket_);
    ssl_ = std::exchange(o.ssl_, nullptr);
    ctx_ = std::move(o.ctx_);
    unread_ = std::move(o.unread_);
    reactor_ = o.reactor_;
    tls_failed_ = o.tls_failed_;
  }
  return *this;
}

void Transport::set_unread(const void* data, size_t size) {
  if (size == 0) {
    unread_.reset();
    return;
  }
  unread_ = std::make_unique<std::string>(static_cast<const char*>(data), size);
}

Transport::~Transport() {
  if (ssl_) SSL_free(ssl_);  // the socket BIO does not close the descriptor; socket_ does
}

namespace {

// Whether the socket read that OpenSSL made last on this thread returned fewer bytes than it
// asked for (or none: EAGAIN), i.e. the socket was drained then. Set by the socket BIO's
// callback below, reset by attempt_read before its SSL_read (thread-local rather than per
// connection: the SSL object moves between transports and threads, the callback stays).
thread_local bool tls_socket_drained = false;

// The socket BIO's callback (BIO_set_callback_ex): notes each read's result, changes nothing.
long note_socket_read(BIO*, int oper, const char*, size_t len, int, long, int ret,
                      size_t* processed) {
  if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
    tls_socket_drained = ret <= 0 || (processed && *processed < len);
  }
  return (oper & BIO_CB_RETURN) ? ret : 1;
}

// The OpenSSL connection's settings for TLS on the socket itself (see transport.h).
void configure_ssl(SSL* ssl) {
  // Partial writes: a full socket keeps what went out (whole records) and says how much.
  // Moving buffer: the rest may be written again from another address (a grown string).
  // Release buffers: an idle connection holds no record buffer.
  SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read what the socket has (up to a record buffer) in one recv, rather than a record's
  // header and then its body in two; what is read ahead stays in the SSL object, which is
  // why read_now comes before every wait for readability.
  SSL_set_read_ahead(ssl, 1);
  // attempt_read's way to know the socket was drained (the socket BIO SSL_set_fd made).
  BIO_set_callback_ex(SSL_get_rbio(ssl), &note_socket_read);
}

// What a non-blocking recv or send returned (`n`, errno when negative): the bytes, `again`
// when the socket is not ready, or the error.
Transport::Io plain_result(ssize_t n, Transport::Wait again) {
  Transport::Io io;
  if (n >= 0) {
    io.bytes = size_t(n);
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    io.wait = again;
  } else {
    io.ec = error_code(errno, boost::system::system_category());
  }
  return io;
}

}  // namespace

error_code Transport::start_tls(std::shared_ptr<asio::ssl::context> ctx) {
  error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) return ec;
  SSL* ssl = SSL_new(ctx->native_handle());
  if (!ssl || SSL_set_fd(ssl, int(socket_.native_handle())) != 1) {
    if (ssl) SSL_free(ssl);
    ERR_clear_error();
    return asio::error::no_memory;
  }
  configure_ssl(ssl);
  SSL_set_accept_state(ssl);
  if (ssl_) SSL_free(ssl_);
  ssl_ = ssl;
  ctx_ = std::move(ctx);
  return {};
}

Transport::Io Transport::tls_result(int r) {
  Io io;
  if (r > 0) {
    io.bytes = size_t(r);
    return io;
  }
  const int err = errno;
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      io.wait = Wait::kRead;
      break;
    case SSL_ERROR_WANT_WRITE:
      io.wait = Wait::kWrite;
      break;
    case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify
      io.ec = asio::error::eof;
      break;
    case SSL_ERROR_SYSCALL:
      tls_failed_ = true;
      io.ec = err ? error_code(err, boost::system::system_category())
                  : error_code(asio::ssl::error::stream_truncated);
      break;
    default: {
      tls_failed_ = true;
      const unsigned long e = ERR_peek_error();
      // OpenSSL 3: a TCP end without close_notify is an SSL error of its own.
      io.ec = ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING
                  ? error_code(asio::ssl::error::stream_truncated)
                  : error_code(int(e), asio::error::get_ssl_category());
      if (!io.ec) io.ec = asio::ssl::error::unexpected_result;
      break;
    }
  }
  ERR_clear_error();  // the queue is the thread's: leave nothing for another connection
  return io;
}

Transport::Io Transport::read_now(void* data, size_t size) {
  Io io;
  if (!socket_.is_open()) {
    // The descriptor's number may already belong to another connection.
    io.ec = asio::error::bad_descriptor;
    return io;
  }
  if (ssl_) {
    ERR_clear_error();
    errno = 0;
    return tls_result(SSL_read(ssl_, data, int(std::min<size_t>(size, 1u << 30))));
  }
  ssize_t n;
  do {
    n = ::recv(socket_.native_handle(), data, size, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n == 0 && size > 0) io.ec = asio::error::eof;
  return n == 0 ? io : plain_result(n, Wait::kRead);
}

detail::ReadAttempt Transport::attempt_read(void* transport, void* data, size_t size) {
  auto* t = static_cast<Transport*>(transport);
  tls_socket_drained = false;
  const Io io = t->read_now(data, size);
  detail::ReadAttempt r;
  r.again = io.wait == Wait::kRead;
  r.want_write = io.wait == Wait::kWrite;
  r.bytes = io.bytes;
  r.ec = io.ec;
  // The socket had no more when it was read: plain, fewer bytes than asked; TLS, OpenSSL's
  // last read of the socket in this SSL_read returned fewer than it asked for, and OpenSSL
  // holds nothing more (neither decrypted nor read ahead: bytes the socket no longer shows).
  if (io.bytes > 0) {
    r.drained = t->ssl_ ? tls_socket_drained && !SSL_has_pending(t->ssl_) : io.bytes < size;
  }
  return r;
}

namespace {

// Where a thread's async_read_append reads land before they are appended. Allocated on the
// thread's first such read rather than held in the static TLS block, which every thread of the
// process (log writer, store writer, media, ...) zeroes when it starts: a cold start pays for
// each page it touches (docs/operations.md, "Cold start").
char* read_scratch() {
  thread_local const std::unique_ptr<char[]> chunk(new char[Transport::kAppendChunk]);
  return chunk.get();
}

}  // namespace

detail::ReadAttempt Transport::attempt_append(void* transport, void* out, size_t size) {
  char* scratch = read_scratch();
  detail::ReadAttempt r = attempt_read(transport, scratch, std::min(size, kAppendChunk));
  if (r.bytes > 0) static_cast<std::string*>(out)->append(scratch, r.bytes);
  return r;
}

Transport::Io Transport::write_now(const void* data, size_t size) {
  Io io;
  if (!socket_.is_open()) {
    io.ec = asio::error::bad_descriptor;
    return io;
  }
  if (size == 0) return io;
  if (ssl_) {
    ERR_clear_error();
    errno = 0;
    return tls_result(SSL_write(ssl_, data, int(std::min<size_t>(size, 1u << 30))));
  }
  ssize_t n;
  do {
    n = ::send(socket_.native_handle(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return plain_result(n, Wait::kWrite);
}

asio::awaitable<error_code> Transport::handshake() {
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  for (;;) {
    if (!socket_.is_open()) co_return asio::error::bad_descriptor;
    ERR_clear_error();
    errno = 0;
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) co_return error_code();
    Io io = tls_result(r);
    if (io.wait == Wait::kNone) co_return io.ec ? io.ec : error_code(asio::error::eof);
    auto [wec] = co_await async_wait(io.wait, kNoThrow);
    if (wec) co_return wec;
  }
}

void Transport::send_close_notify() {
  // OpenSSL: SSL_shutdown must not be called after SSL_ERROR_SYSCALL or SSL_ERROR_SSL.
  if (!ssl_ || !socket_.is_open() || tls_failed_) return;
  // Sent already: a second SSL_shutdown would read the socket for the peer's.
  if (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

asio::awaitable<void> Transport::shutdown_tls() {
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  if (!ssl_) co_return;
  // Our close_notify (waiting while the socket is full), then the peer's, read until it
  // comes; the caller's deadline cuts the connection, which ends either wait.
  bool sent = false;
  char sink[2048];
  for (;;) {
    if (!socket_.is_open()) co_return;
    ERR_clear_error();
    errno = 0;
    int r;
    if (!sent) {
      r = SSL_shutdown(ssl_);
      if (r == 1) co_return;  // both sent
      if (r == 0) {
        sent = true;
        continue;
      }
    } else {
      r = SSL_read(ssl_, sink, int(sizeof sink));
      if (r > 0) {
        // Data after the close: not parsed any more. Let the thread's other work (the
        // caller's deadline among it) run between reads: a peer could keep the socket full.
        co_await asio::post(socket_.get_executor(), asio::use_awaitable);
        continue;
      }
    }
    Io io = tls_result(r);
    if (io.wait == Wait::kNone) co_return;  // the peer's close_notify, or gone
    auto [wec] = co_await async_wait(io.wait, kNoThrow);
    if (wec) co_return;
  }
}

Transport::Detached& Transport::Detached::operator=(Detached&& o) noexcept {
  if (this != &o) {
    // What this one held is closed here (not with ~Detached(): the members would be
    // destroyed, and the assignments below would release ctx a second time).
    if (fd >= 0) ::close(fd);
    if (ssl) SSL_free(ssl);
    fd = std::exchange(o.fd, -1);
    protocol = o.protocol;
    ssl = std::exchange(o.ssl, nullptr);
    ctx = std::move(o.ctx);
    unread = std::move(o.unread);
  }
  return *this;
}

Transport::Detached::~Detached() {
  if (fd >= 0) ::close(fd);
  if (ssl) SSL_free(ssl);
  fd = -1;
  ssl = nullptr;
}

Transport::Detached Transport::detach(error_code& ec) {
  Detached d;
  d.protocol = socket_.local_endpoint(ec).protocol();
  if (ec) return d;
  // The SSL object keeps its socket BIO: the descriptor keeps its number across threads.
  d.ssl = std::exchange(ssl_, nullptr);
  d.ctx = std::move(ctx_);
  d.unread = std::move(unread_);
  d.fd = socket_.release(ec);
  if (ec) d.fd = -1;
  return d;
}

Transport Transport::adopt(Detached&& d, const executor_type& ex, error_code& ec) {
  tcp::socket sock(ex);
  sock.assign(d.protocol, d.fd, ec);
  if (ec) return Transport(tcp::socket(ex));  // `d` closes the descriptor
  d.fd = -1;
  Transport t(std::move(sock));
  t.unread_ = std::move(d.unread);
  if (d.ssl) {
    t.socket_.non_blocking(true, ec);
    t.ssl_ = std::exchange(d.ssl, nullptr);
    t.ctx_ = std::move(d.ctx);
  }
  return t;
}

void beast_close_socket(Transport& t) {
  error_code ec;
  t.socket().close(ec);
}

void teardown(boost::beast::role_type role, Transport& t, error_code& ec) {
  t.send_close_notify();
  boost::beast::websocket::teardown(role, t.socket(), ec);
}

}  // namespace http
