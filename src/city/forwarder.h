// city::Forwarder — the internal HTTP client that carries a request to the replica that is
// the home of its course, and brings the answer back, over plain HTTP or TLS (https://
// advertised URLs: the replicas listen with EDGECLASS_TLS_CERT).
//
// Keep-alive connections are pooled per I/O thread and per home URL (both kinds); forward()
// runs on (and must be awaited from) the I/O thread `thread_index`, so a pool is only ever
// touched by its own thread. A request that fails on a pooled connection before any answer
// arrived is sent again once on a fresh connection (the home closed an idle connection;
// kMaxIdle keeps that from being one the home closes on its own, so the resend does not
// repeat a write the home performed); the city credential header marks the request as
// forwarded, so the home serves it itself.
//
// Who is trusted as a home over TLS (PeerTrust; docs/design.md, "The city"):
//  - without EDGECLASS_CITY_CA, a chain to the system trust store (OpenSSL's default paths,
//    SSL_CERT_FILE / SSL_CERT_DIR), whatever name the certificate holds: the replicas'
//    certificate is usually the public one and does not name every replica's internal name;
//  - with EDGECLASS_CITY_CA (a PEM file of certificates), a chain to a certificate of that
//    file only (a non-self-signed one counts too: a pinned leaf or intermediate), and then
//    either the peer's certificate is one of the file's own (pinned: any name) or it must
//    name the advertised URL's host (DNS or IP subject alternative name).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "city/peer_url.h"

namespace city {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// The header that carries the city credential on forwarded requests.
inline constexpr const char* kCityHeader = "X-Edgeclass-City";

// The TLS client settings for https homes: TLS 1.2+, the trust anchors above. Thread-safe;
// with a CA file, a change of the file (inode, size or time: a Secret update) is loaded
// before the next new connection, the certificates of the file before it staying trusted
// until the next change; a file that stops loading keeps the previous settings.
class PeerTrust {
 public:
  // `ca_file` empty: the system trust store. Errors name the file and what OpenSSL said.
  static base::Result<std::shared_ptr<PeerTrust>> load(std::string ca_file);

  struct Current {
    std::shared_ptr<boost::asio::ssl::context> ctx;
    // DER of the file's certificates, and of the file before the last change: during a
    // certificate renewal the replicas present the old and the new one for a while.
    std::shared_ptr<const std::vector<std::string>> pinned;
    std::vector<std::string> file_der;  // the file's own (the next reload keeps these)
  };
  Current current();
  // After the handshake: is the peer's certificate good for `host` (see above)? The chain
  // was verified by the handshake already.
  base::Status check_name(SSL* ssl, const Current& with, const std::string& host) const;
  const std::string& ca_file() const { return ca_file_; }

 private:
  struct Stamp {
    uint64_t ino = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  explicit PeerTrust(std::string ca_file) : ca_file_(std::move(ca_file)) {}
  base::Result<Current> build(const std::vector<std::string>& previous) const;
  Stamp stamp() const;

  const std::string ca_file_;
  std::mutex mu_;  // guards the two below
  Current current_;
  Stamp stamp_;
};

class Forwarder {
 public:
  // `trust` null: https URLs are refused (course_home_unavailable naming why).
  Forwarder(int threads, std::string credential, std::chrono::milliseconds timeout,
            std::shared_ptr<PeerTrust> trust);
  ~Forwarder();

  // Sends `req` to `url` ("http://host:port" or "https://host:port"). unavailable /
  // "course_home_unavailable" when the home cannot be reached, fails TLS verification, or
  // does not answer within the timeout.
  // `url` and `req` must stay alive until it completes (`req` gets the credential header).
  boost::asio::awaitable<base::Result<HttpResponse>> forward(const std::string& url,
                                                             HttpRequest& req, int thread_index);

  // Closes every pooled connection. Only while no forward() runs (the I/O threads have
  // stopped) and their io_contexts still exist.
  void close_idle();

  // Connections opened so far (all threads; for tests and /metrics).
  uint64_t connections_opened() const { return opened_.load(); }

 private:
  using Plain = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  // One connection to a home: plain, or TLS (with the context it was made with).
  struct Conn {
    std::unique_ptr<Plain> plain;
    std::shared_ptr<boost::asio::ssl::context> ctx;  // before tls: outlives it
    std::unique_ptr<Tls> tls;
    boost::beast::tcp_stream& tcp();
  };
  struct Idle {
    std::unique_ptr<Conn> conn;
    std::chrono::steady_clock::time_point since;
  };
  struct Pool {
    std::unordered_map<std::string, std::vector<Idle>> idle;  // by url
  };
  // Pooled connections idle longer are closed, not reused: well under the server's keep-alive
  // idle time (60 s), so a reused connection is not one the home is closing, and a resend
  // after "no answer on a reused connection" does not meet a request the home has served.
  static constexpr std::chrono::seconds kMaxIdle{20};
  boost::asio::awaitable<base::Result<std::unique_ptr<Conn>>> open(const std::string& url);

  std::vector<Pool> pools_;  // one per I/O thread, touched only by that thread
  std::string credential_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<PeerTrust> trust_;
  std::atomic<uint64_t> opened_{0};
};

}  // namespace city
