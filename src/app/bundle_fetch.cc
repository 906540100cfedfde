#include "app/bundle_fetch.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "base/clock.h"
#include "base/log.h"
#include "base/strings.h"

namespace app {

namespace json = boost::json;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr int kTimeoutSeconds = 10;

struct Url {
  bool tls = false;
  std::string host, port, target;
};

base::Result<Url> parse_url(std::string_view url) {
  Url u;
  std::string_view rest;
  if (url.starts_with("https://")) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return base::invalid_argument("EDGECLASS_POLICY_BUNDLE_URL must start with http:// or https://",
                                  "bundle_url");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.size() > 2 && u.host.front() == '[' && u.host.back() == ']') {
    u.host = u.host.substr(1, u.host.size() - 2);
  }
  if (u.host.empty()) return base::invalid_argument("EDGECLASS_POLICY_BUNDLE_URL has no host");
  return u;
}

std::string rfc3339(int64_t ms) { return ms ? base::format_utc_ms(ms) : std::string(); }

}  // namespace

base::Result<HttpReply> http_exchange(
    const std::string& url_text, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& ca_file,
    size_t body_limit, std::string_view what) {
  const std::string w(what);
  EC_ASSIGN_OR_RETURN(Url u, parse_url(url_text));
  const Url* url = &u;
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  tcp::socket socket(ioc);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(url->host, url->port, ec);
  if (ec) return base::unavailable(w + ": cannot resolve " + url->host + ": " + ec.message());
  // Blocking calls with a deadline on every send and receive (the caller's own thread).
  boost::asio::connect(socket, endpoints, ec);
  if (ec) {
    return base::unavailable(w + ": cannot connect to " + url->host + ":" + url->port + ": " +
                             ec.message());
  }
  timeval tv{kTimeoutSeconds, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  bool post = !body.empty();
  bhttp::request<bhttp::string_body> req(post ? bhttp::verb::post : bhttp::verb::get, url->target,
                                         11);
  req.set(bhttp::field::host, url->host);
  req.set(bhttp::field::user_agent, "edgeclass/1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (post) {
    req.body() = std::move(body);
    req.prepare_payload();
  }
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit);
  auto exchange = [&](auto& stream) -> base::Status {
    bhttp::write(stream, req, ec);
    if (ec) return base::unavailable(w + ": request failed: " + ec.message());
    bhttp::read(stream, buf, parser, ec);
    if (ec) return base::unavailable(w + ": reading the response failed: " + ec.message());
    return base::Status::ok();
  };
  if (url->tls) {
    // The server's certificate must chain to `ca_file` (or the system's roots) and name the
    // URL's host.
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    if (!ca_file.empty())
      ctx.load_verify_file(ca_file, ec);
    else
      ctx.set_default_verify_paths(ec);
    if (ec) return base::invalid_argument(w + ": cannot load CA certificates: " + ec.message());
    ctx.set_verify_mode(boost::asio::ssl::verify_peer);
    boost::asio::ssl::stream<tcp::socket&> tls(socket, ctx);
    SSL_set_tlsext_host_name(tls.native_handle(), url->host.c_str());
    tls.set_verify_callback(boost::asio::ssl::host_name_verification(url->host));
    tls.handshake(boost::asio::ssl::stream_base::client, ec);
    if (ec) {
      return base::unavailable(w + ": TLS handshake with " + url->host +
                               " failed: " + ec.message());
    }
    EC_RETURN_IF_ERROR(exchange(tls));
    tls.shutdown(ec);
  } else {
    EC_RETURN_IF_ERROR(exchange(socket));
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  auto& res = parser.get();
  HttpReply out;
  out.status = res.result_int();
  out.etag = std::string(res[bhttp::field::etag]);
  out.body = std::move(res.body());
  return out;
}

json::object bundle_status_json(const BundleStatus& s) {
  json::object o{{"name", s.name}, {"active_revision", s.active_revision}};
  if (s.last_successful_activation_ms) {
    o["last_successful_activation"] = rfc3339(s.last_successful_activation_ms);
  }
  if (s.last_successful_download_ms) {
    o["last_successful_download"] = rfc3339(s.last_successful_download_ms);
  }
  if (s.last_successful_request_ms) {
    o["last_successful_request"] = rfc3339(s.last_successful_request_ms);
  }
  if (s.last_request_ms) o["last_request"] = rfc3339(s.last_request_ms);
  if (!s.last_error.empty()) {
    o["code"] = "bundle_error";
    o["message"] = s.last_error;
  }
  o["signature_verified"] = s.verified;
  o["activations"] = s.activations;
  o["failures"] = s.failures;
  return o;
}

BundlePoller::BundlePoller(std::string url, BundleVerification verify,
                           std::chrono::milliseconds interval, Activate activate)
    : url_(std::move(url)),
      verify_(std::move(verify)),
      interval_(interval),
      activate_(std::move(activate)) {
  status_.url = url_;
}

BundlePoller::~BundlePoller() { stop(); }

BundleStatus BundlePoller::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

base::Status BundlePoller::poll_once() {
  std::lock_guard<std::mutex> one_at_a_time(poll_mu_);
  base::SystemClock clock;
  std::string etag;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_.last_request_ms = clock.now_unix_ms();
    etag = status_.etag;
  }
  auto fail = [&](base::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.last_error = s.message();
    ++status_.failures;
    base::log::warn("policy.bundle_failed")
        .kv("url", url_)
        .kv("error", s.message())
        .kv("active_revision", status_.active_revision);
    return s;
  };
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Accept", "application/gzip, application/octet-stream"}};
  if (!etag.empty()) headers.emplace_back("If-None-Match", etag);
  auto reply = http_exchange(url_, "", headers, ca_file_, kMaxBundleBytes, "bundle");
  if (!reply.is_ok()) return fail(reply.status());
  HttpReply& res = *reply;
  int64_t now = clock.now_unix_ms();
  if (res.status == 304) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.last_successful_request_ms = now;
    status_.last_error.clear();
    return base::Status::ok();
  }
  if (res.status != 200) {
    return fail(
        base::unavailable("bundle: " + url_ + " answered HTTP " + std::to_string(res.status)));
  }
  std::string new_etag = res.etag;
  auto bundle = read_bundle(res.body, verify_);
  if (!bundle.is_ok()) return fail(bundle.status());
  if (bundle->delta) {
    // OPA's delta bundles patch the data of the bundle in force.
    if (!active_) {
      return fail(base::invalid_argument(
          "bundle: a delta bundle (patch.json) arrived before any snapshot bundle",
          "bundle_invalid"));
    }
    bundle = apply_delta(*active_, *bundle);
    if (!bundle.is_ok()) return fail(bundle.status());
  }
  std::string revision = bundle->revision;
  bool verified = bundle->verified;
  Bundle snapshot = *bundle;  // modules and data are cheap to copy (shared values, sources)
  if (auto s = activate_(std::move(bundle).value()); !s.is_ok()) return fail(s);
  active_ = std::move(snapshot);
  std::lock_guard<std::mutex> lock(mu_);
  status_.last_successful_request_ms = now;
  status_.last_successful_download_ms = now;
  status_.last_successful_activation_ms = clock.now_unix_ms();
  status_.active_revision = revision;
  status_.etag = new_etag;
  status_.verified = verified;
  status_.last_error.clear();
  ++status_.activations;
  base::log::info("policy.bundle_activated")
      .kv("url", url_)
      .kv("revision", revision)
      .kv("etag", new_etag)
      .kv("signature_verified", verified);
  return base::Status::ok();
}

void BundlePoller::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ec-bundle-poll");  // top -H, perf
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, interval_, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      (void)poll_once();
      lock.lock();
    }
  });
}

void BundlePoller::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace app
