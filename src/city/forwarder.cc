#include "city/forwarder.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace city {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

base::Status home_down(const std::string& url, const std::string& why) {
  return base::unavailable("the course's home replica (" + url + ") cannot be reached: " + why,
                           "course_home_unavailable");
}

}  // namespace

Forwarder::Forwarder(int threads, std::string credential, std::chrono::milliseconds timeout)
    : pools_(size_t(std::max(1, threads))), credential_(std::move(credential)), timeout_(timeout) {}

Forwarder::~Forwarder() = default;

asio::awaitable<base::Result<std::unique_ptr<Forwarder::Stream>>> Forwarder::open(
    const std::string& url) {
  std::string_view rest = url;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  std::string host(rest.substr(0, colon));
  std::string port = colon == std::string_view::npos ? "80" : std::string(rest.substr(colon + 1));
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, kNoThrow);
  if (rec) co_return home_down(url, rec.message());
  auto stream = std::make_unique<Stream>(ex);
  stream->expires_after(timeout_);
  auto [cec, ep] = co_await stream->async_connect(endpoints, kNoThrow);
  if (cec) co_return home_down(url, cec.message());
  stream->socket().set_option(tcp::no_delay(true));
  opened_++;
  co_return std::move(stream);
}

asio::awaitable<base::Result<HttpResponse>> Forwarder::forward(const std::string& url,
                                                               HttpRequest& req, int thread_index) {
  Pool& pool = pools_[size_t(thread_index) % pools_.size()];
  req.set(kCityHeader, credential_);
  req.keep_alive(true);
  req.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Stream> stream;
    bool reused = false;
    auto& idle = pool.idle[url];
    auto now = std::chrono::steady_clock::now();
    while (attempt == 0 && !idle.empty() && !stream) {
      Idle last = std::move(idle.back());
      idle.pop_back();
      if (now - last.since < kMaxIdle) {
        stream = std::move(last.stream);
        reused = true;
      }
    }
    if (!stream) {
      auto opened = co_await open(url);
      if (!opened.is_ok()) co_return opened.status();
      stream = std::move(opened).value();
    }
    stream->expires_after(timeout_);
    auto [wec, wn] = co_await beast::http::async_write(*stream, req, kNoThrow);
    if (wec) {
      if (reused) continue;
      co_return home_down(url, wec.message());
    }
    beast::flat_buffer buffer;
    HttpResponse res;
    auto [rec, rn] = co_await beast::http::async_read(*stream, buffer, res, kNoThrow);
    if (rec) {
      // Nothing came back on a pooled connection: the home had closed it. Once more, fresh.
      if (reused && rn == 0) continue;
      co_return home_down(url, rec == beast::error::timeout ? "no answer in time" : rec.message());
    }
    if (res.keep_alive() && buffer.size() == 0 && idle.size() < 64) {
      idle.push_back(Idle{std::move(stream), std::chrono::steady_clock::now()});
    }
    co_return std::move(res);
  }
  co_return home_down(url, "the connection was closed twice");
}

}  // namespace city
