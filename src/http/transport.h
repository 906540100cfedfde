// http::Transport — a client connection's byte stream: plain TCP, or TLS over TCP.
//
// The HTTP server and the live WebSocket sessions read and write through it, so that one
// code path serves both http:// and https:// (wss://). It is an Asio AsyncStream
// (async_read_some / async_write_some), usable under beast::websocket::stream. The plain
// case costs one branch per operation; the TLS state lives on the heap, so a Transport is
// cheap to move and the TCP socket it hands out (socket()) keeps its address across moves.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <memory>
#include <utility>

namespace http {

class Transport {
 public:
  using tcp = boost::asio::ip::tcp;
  using TlsStream = boost::asio::ssl::stream<tcp::socket>;
  using executor_type = tcp::socket::executor_type;

  // A plain TCP connection.
  explicit Transport(tcp::socket socket) : plain_(std::move(socket)) {}
  // A TLS connection over `socket` with the certificate of `ctx` (kept alive by this
  // transport); the handshake is still to be done (tls()->async_handshake).
  Transport(tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> ctx);
  Transport(Transport&&) = default;
  Transport& operator=(Transport&&) = default;
  ~Transport();

  executor_type get_executor() { return socket().get_executor(); }
  // The TCP socket underneath (for options, cancel, shutdown and close).
  tcp::socket& socket() { return tls_ ? tls_->stream.next_layer() : plain_; }
  // The TLS stream, or nullptr for plain TCP.
  TlsStream* tls() { return tls_ ? &tls_->stream : nullptr; }
  bool is_tls() const { return tls_ != nullptr; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (tls_) return tls_->stream.async_read_some(buffers, std::forward<Token>(token));
    return plain_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (tls_) return tls_->stream.async_write_some(buffers, std::forward<Token>(token));
    return plain_.async_write_some(buffers, std::forward<Token>(token));
  }

  // Closes the TCP connection at once (no TLS close_notify).
  void close(boost::system::error_code& ec) { socket().close(ec); }

  // A connection between two I/O threads: its descriptor and, for TLS, the session state.
  // Closes what it still holds when destroyed.
  struct Detached {
    Detached() = default;
    Detached(Detached&& o) noexcept { *this = std::move(o); }
    Detached& operator=(Detached&& o) noexcept;
    ~Detached();
    int fd = -1;
    tcp protocol = tcp::v4();
    SSL* ssl = nullptr;  // owned (one reference)
    std::shared_ptr<boost::asio::ssl::context> ctx;
  };
  // Takes the connection off this thread's io_context (to adopt() it on another). Fails when
  // TLS input is already buffered beyond what was read (the client sent ahead of our answer).
  // Afterwards this transport is closed.
  Detached detach(boost::system::error_code& ec);
  // The detached connection on `ex`'s io_context.
  static Transport adopt(Detached&& d, const executor_type& ex, boost::system::error_code& ec);

 private:
  struct Tls {
    Tls(tcp::socket s, std::shared_ptr<boost::asio::ssl::context> c)
        : ctx(std::move(c)), stream(std::move(s), *ctx) {}
    Tls(tcp::socket s, std::shared_ptr<boost::asio::ssl::context> c, SSL* handle)
        : ctx(std::move(c)), stream(std::move(s), handle) {}
    std::shared_ptr<boost::asio::ssl::context> ctx;  // before stream: outlives it
    TlsStream stream;
  };
  tcp::socket plain_;  // the connection when plain; unopened under TLS
  std::unique_ptr<Tls> tls_;
};

// Beast's customisation points (found by argument-dependent lookup), so that
// beast::websocket::stream<Transport> closes, times out and tears down either kind.
void beast_close_socket(Transport& t);
void teardown(boost::beast::role_type role, Transport& t, boost::system::error_code& ec);
template <class Handler>
void async_teardown(boost::beast::role_type role, Transport& t, Handler&& handler) {
  if (Transport::TlsStream* s = t.tls()) {
    boost::beast::async_teardown(role, *s, std::forward<Handler>(handler));
  } else {
    boost::beast::websocket::async_teardown(role, t.socket(), std::forward<Handler>(handler));
  }
}

}  // namespace http
