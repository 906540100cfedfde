#include "city/forwarder.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <tuple>

#include "base/log.h"

namespace city {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

base::Status home_down(const std::string& url, const std::string& why) {
  return base::unavailable("the course's home replica (" + url + ") cannot be reached: " + why,
                           "course_home_unavailable");
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no detail from OpenSSL";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string der_of(X509* x) {
  unsigned char* out = nullptr;
  int n = i2d_X509(x, &out);
  if (n <= 0) return {};
  std::string der(reinterpret_cast<char*>(out), size_t(n));
  OPENSSL_free(out);
  return der;
}

}  // namespace

// --- PeerTrust ---

base::Result<std::shared_ptr<PeerTrust>> PeerTrust::load(std::string ca_file) {
  std::shared_ptr<PeerTrust> t(new PeerTrust(std::move(ca_file)));
  t->stamp_ = t->stamp();
  EC_ASSIGN_OR_RETURN(t->current_, t->build({}));
  return t;
}

PeerTrust::Stamp PeerTrust::stamp() const {
  struct stat st {};
  if (ca_file_.empty() || ::stat(ca_file_.c_str(), &st) != 0) return {};
  return {uint64_t(st.st_ino), uint64_t(st.st_size),
          int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

base::Result<PeerTrust::Current> PeerTrust::build(const std::vector<std::string>& previous) const {
  ERR_clear_error();
  Current c;
  c.ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* h = c.ctx->native_handle();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  SSL_CTX_set_options(h, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_verify(h, SSL_VERIFY_PEER, nullptr);
  auto pinned = std::make_shared<std::vector<std::string>>();
  if (ca_file_.empty()) {
    if (SSL_CTX_set_default_verify_paths(h) != 1) {
      return base::invalid_argument("the system trust store cannot be loaded: " + openssl_error());
    }
  } else {
    FILE* f = std::fopen(ca_file_.c_str(), "r");
    if (!f) {
      return base::invalid_argument("EDGECLASS_CITY_CA=" + ca_file_ +
                                    " cannot be opened: " + std::strerror(errno));
    }
    X509_STORE* store = SSL_CTX_get_cert_store(h);
    while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
      c.file_der.push_back(der_of(x));
      X509_STORE_add_cert(store, x);  // takes its own reference
      X509_free(x);
    }
    std::fclose(f);
    ERR_clear_error();  // the end of the file reads as an error
    if (c.file_der.empty()) {
      return base::invalid_argument("EDGECLASS_CITY_CA=" + ca_file_ + " holds no PEM certificate");
    }
    *pinned = c.file_der;
    for (const std::string& der : previous) {
      if (std::find(pinned->begin(), pinned->end(), der) != pinned->end()) continue;
      const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
      if (X509* x = d2i_X509(nullptr, &p, long(der.size()))) {
        X509_STORE_add_cert(store, x);
        X509_free(x);
        pinned->push_back(der);
      }
    }
    ERR_clear_error();
    // A certificate of the file is a trust anchor even when it is not self-signed.
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  }
  c.pinned = std::move(pinned);
  return c;
}

PeerTrust::Current PeerTrust::current() {
  std::lock_guard lock(mu_);
  if (!ca_file_.empty()) {
    Stamp now = stamp();
    if (!(now == stamp_)) {
      stamp_ = now;
      auto next = build(current_.file_der);
      if (next.is_ok()) {
        current_ = std::move(next).value();
        base::log::info("city.ca_reloaded").kv("file", ca_file_);
      } else {
        base::log::error("city.ca_reload_failed")
            .kv("file", ca_file_)
            .kv("error", next.status().message())
            .kv("note", "the previous certificates stay in force");
      }
    }
  }
  return current_;
}

base::Status PeerTrust::check_name(SSL* ssl, const Current& with, const std::string& host) const {
  if (ca_file_.empty()) return base::Status::ok();  // public certificates: chain only
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (!peer) return base::unavailable("it presented no certificate");
  std::string der = der_of(peer);
  bool pinned = std::find(with.pinned->begin(), with.pinned->end(), der) != with.pinned->end();
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  bool named = ec ? X509_check_host(peer, host.data(), host.size(), 0, nullptr) == 1
                  : X509_check_ip_asc(peer, host.c_str(), 0) == 1;
  X509_free(peer);
  if (pinned || named) return base::Status::ok();
  return base::unavailable("its certificate does not name " + host +
                           " and is not one of EDGECLASS_CITY_CA's own");
}

// --- Forwarder ---

beast::tcp_stream& Forwarder::Conn::tcp() { return tls ? tls->next_layer() : *plain; }

Forwarder::Forwarder(int threads, std::string credential, std::chrono::milliseconds timeout,
                     std::shared_ptr<PeerTrust> trust)
    : pools_(size_t(std::max(1, threads))),
      credential_(std::move(credential)),
      timeout_(timeout),
      trust_(std::move(trust)) {}

Forwarder::~Forwarder() = default;

void Forwarder::close_idle() {
  for (Pool& p : pools_) p.idle.clear();
}

asio::awaitable<base::Result<std::unique_ptr<Forwarder::Conn>>> Forwarder::open(
    const std::string& url) {
  auto parsed = parse_peer_url(url);
  if (!parsed.is_ok()) co_return home_down(url, parsed.status().message());
  const PeerUrl& u = *parsed;
  if (u.tls && !trust_) co_return home_down(url, "no TLS client settings");
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(u.host, u.port, kNoThrow);
  if (rec) co_return home_down(url, rec.message());
  auto conn = std::make_unique<Conn>();
  PeerTrust::Current trust;
  if (u.tls) {
    trust = trust_->current();
    conn->ctx = trust.ctx;
    conn->tls = std::make_unique<Tls>(beast::tcp_stream(ex), *conn->ctx);
  } else {
    conn->plain = std::make_unique<Plain>(ex);
  }
  beast::tcp_stream& tcp_stream = conn->tcp();
  tcp_stream.expires_after(timeout_);
  auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kNoThrow);
  if (cec) co_return home_down(url, cec.message());
  tcp_stream.socket().set_option(tcp::no_delay(true));
  if (u.tls) {
    SSL* s = conn->tls->native_handle();
    boost::system::error_code ec;
    (void)asio::ip::make_address(u.host, ec);
    // SNI takes host names only (RFC 6066), not addresses.
    if (ec && SSL_set_tlsext_host_name(s, u.host.c_str()) != 1) {
      co_return home_down(url, "bad TLS server name: " + openssl_error());
    }
    auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kNoThrow);
    if (hec) {
      std::string why = "TLS handshake failed: " + hec.message();
      long v = SSL_get_verify_result(s);
      if (v != X509_V_OK) {
        why += std::string(" (certificate: ") + X509_verify_cert_error_string(v) +
               (trust_->ca_file().empty() ? "; not trusted by the system store, see "
                                            "EDGECLASS_CITY_CA)"
                                          : "; not trusted by EDGECLASS_CITY_CA)");
      }
      co_return home_down(url, why);
    }
    base::Status named = trust_->check_name(s, trust, u.host);
    if (!named.is_ok()) co_return home_down(url, named.message());
  }
  opened_++;
  co_return std::move(conn);
}

namespace {

// Writes `req` and reads the answer on `s`. {write error, read error, bytes read}.
template <class Stream>
asio::awaitable<std::tuple<boost::system::error_code, boost::system::error_code, size_t>>
round_trip(Stream& s, HttpRequest& req, beast::flat_buffer& buffer, HttpResponse& res) {
  auto [wec, wn] = co_await beast::http::async_write(s, req, kNoThrow);
  if (wec) co_return std::make_tuple(wec, boost::system::error_code(), size_t(0));
  auto [rec, rn] = co_await beast::http::async_read(s, buffer, res, kNoThrow);
  co_return std::make_tuple(boost::system::error_code(), rec, rn);
}

}  // namespace

asio::awaitable<base::Result<HttpResponse>> Forwarder::forward(const std::string& url,
                                                               HttpRequest& req, int thread_index) {
  Pool& pool = pools_[size_t(thread_index) % pools_.size()];
  req.set(kCityHeader, credential_);
  req.keep_alive(true);
  req.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Conn> conn;
    bool reused = false;
    auto& idle = pool.idle[url];
    auto now = std::chrono::steady_clock::now();
    while (attempt == 0 && !idle.empty() && !conn) {
      Idle last = std::move(idle.back());
      idle.pop_back();
      if (now - last.since < kMaxIdle) {
        conn = std::move(last.conn);
        reused = true;
      }
    }
    if (!conn) {
      auto opened = co_await open(url);
      if (!opened.is_ok()) co_return opened.status();
      conn = std::move(opened).value();
    }
    conn->tcp().expires_after(timeout_);
    beast::flat_buffer buffer;
    HttpResponse res;
    auto [wec, rec, rn] = conn->tls ? co_await round_trip(*conn->tls, req, buffer, res)
                                    : co_await round_trip(*conn->plain, req, buffer, res);
    if (wec) {
      if (reused) continue;
      co_return home_down(url, wec.message());
    }
    if (rec) {
      // Nothing came back on a pooled connection: the home had closed it. Once more, fresh.
      if (reused && rn == 0) continue;
      co_return home_down(url, rec == beast::error::timeout ? "no answer in time" : rec.message());
    }
    if (res.keep_alive() && buffer.size() == 0 && idle.size() < 64) {
      idle.push_back(Idle{std::move(conn), std::chrono::steady_clock::now()});
    }
    co_return std::move(res);
  }
  co_return home_down(url, "the connection was closed twice");
}

}  // namespace city
