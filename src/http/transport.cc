#include "http/transport.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <unistd.h>

namespace http {

Transport::Transport(tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> ctx)
    : plain_(socket.get_executor()),
      tls_(std::make_unique<Tls>(std::move(socket), std::move(ctx))) {}

Transport::~Transport() = default;

Transport::Detached& Transport::Detached::operator=(Detached&& o) noexcept {
  if (this != &o) {
    this->~Detached();
    fd = std::exchange(o.fd, -1);
    protocol = o.protocol;
    ssl = std::exchange(o.ssl, nullptr);
    ctx = std::move(o.ctx);
  }
  return *this;
}

Transport::Detached::~Detached() {
  if (fd >= 0) ::close(fd);
  if (ssl) SSL_free(ssl);
  fd = -1;
  ssl = nullptr;
}

Transport::Detached Transport::detach(boost::system::error_code& ec) {
  Detached d;
  tcp::socket& s = socket();
  d.protocol = s.local_endpoint(ec).protocol();
  if (ec) return d;
  if (tls_) {
    SSL* handle = tls_->stream.native_handle();
    // The session moves, the engine's buffers do not: refuse if ciphertext is waiting in
    // them (a client does not send before the answer to its upgrade, so this is rare).
    if (BIO_ctrl_pending(SSL_get_rbio(handle)) > 0) {
      ec = boost::asio::error::operation_not_supported;
      return d;
    }
    SSL_up_ref(handle);  // the engine frees its reference with tls_ below
    d.ssl = handle;
    d.ctx = tls_->ctx;
  }
  d.fd = s.release(ec);
  if (ec) d.fd = -1;
  tls_.reset();
  return d;
}

Transport Transport::adopt(Detached&& d, const executor_type& ex, boost::system::error_code& ec) {
  tcp::socket sock(ex);
  sock.assign(d.protocol, d.fd, ec);
  if (ec) return Transport(tcp::socket(ex));  // `d` closes the descriptor
  d.fd = -1;
  if (!d.ssl) return Transport(std::move(sock));
  Transport t{tcp::socket(ex)};
  // The stream's engine adopts the session (and gives it new BIOs).
  t.tls_ = std::make_unique<Tls>(std::move(sock), std::move(d.ctx), std::exchange(d.ssl, nullptr));
  return t;
}

void beast_close_socket(Transport& t) {
  boost::system::error_code ec;
  t.socket().close(ec);
}

void teardown(boost::beast::role_type role, Transport& t, boost::system::error_code& ec) {
  if (Transport::TlsStream* s = t.tls()) {
    boost::beast::teardown(role, *s, ec);
  } else {
    boost::beast::websocket::teardown(role, t.socket(), ec);
  }
}

}  // namespace http
