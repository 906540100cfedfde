#include "app/media_relay.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/city_front.h"
#include "app/media_plane.h"
#include "http/incoming.h"
#include "base/log.h"

namespace app {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using field = http::beast_http::field;

// The media thread's answer, awaited on the connection's I/O thread.
awaitable<base::Result<std::string>> serve_on_media(MediaPlane& media, std::string body) {
  auto ex = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(base::Result<std::string>)>(
      [ex, &media, &body](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        media.relay_serve(std::move(body), [h, ex](base::Result<std::string> r) mutable {
          asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        });
      },
      asio::use_awaitable);
}

}  // namespace

MediaRelay::MediaRelay(city::City& city, MediaPlane& media, std::string credential, int threads,
                       std::function<asio::io_context&(int)> context,
                       std::shared_ptr<city::PeerTrust> trust,
                       std::function<bool(std::string_view)> is_home)
    : city_(city),
      media_(media),
      credential_(credential),
      threads_(std::max(1, threads)),
      context_(std::move(context)),
      is_home_(std::move(is_home)),
      forwarder_(std::max(1, threads), std::move(credential), std::chrono::milliseconds(5000),
                 std::move(trust)) {}

void MediaRelay::install(http::Router& router) {
  router.add(http::Verb::post, kPath, [this](http::Ctx& c) -> awaitable<http::Response> {
    if (!CityFront::carries_credential(c, credential_)) {
      co_return http::error_response(base::permission_denied(
          "only another replica of this city may open a media relay", "forbidden"));
    }
    if (!media_.running()) {
      co_return http::error_response(
          base::unavailable("video is not available on this replica", "media_unavailable"));
    }
    std::string body(c.req.body());
    // The room named in the offer must be a live session homed here.
    {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(body, ec);
      const boost::json::value* room =
          !ec && v.is_object() ? v.as_object().if_contains("room") : nullptr;
      if (!room || !room->is_string()) {
        co_return http::error_response(
            base::invalid_argument("a relay offer names its room", "bad_relay_offer"));
      }
      if (!is_home_(std::string_view(room->as_string()))) {
        co_return http::error_response(base::not_found(
            "session " + std::string(room->as_string()) + " is not homed on this replica",
            "not_home"));
      }
    }
    base::Result<std::string> answer = co_await serve_on_media(media_, std::move(body));
    if (!answer.is_ok()) {
      base::log::warn("media.relay_refused").kv("error", answer.status().message());
      co_return http::error_response(answer.status());
    }
    http::Response res(boost::beast::http::status::ok, 11);
    res.set(field::content_type, "application/json");
    res.body() = std::move(*answer);
    res.prepare_payload();
    co_return res;
  });
}

void MediaRelay::ask(std::string room, std::string body,
                     std::function<void(base::Result<std::string>)> done) {
  city::Directory* dir = city_.directory();
  if (!dir) return done(base::unavailable("no city directory", "city_unavailable"));
  int thread = int(next_thread_.fetch_add(1) % uint64_t(threads_));
  dir->lookup(room, [this, thread, body = std::move(body),
                     done = std::move(done)](base::Result<city::Home> home) mutable {
    if (!home.is_ok()) return done(home.status());
    if (home->url.empty()) {
      return done(base::unavailable("the home replica " + home->replica_id + " is not alive",
                                    "course_home_unavailable"));
    }
    auto run = [this, thread, url = home->url, body = std::move(body),
                done = std::move(done)]() -> awaitable<void> {
      city::HttpRequest req{boost::beast::http::verb::post, kPath, 11};
      req.set(field::content_type, "application/json");
      std::string_view host = url;  // "http://host:port"
      if (size_t at = host.find("://"); at != std::string_view::npos) host.remove_prefix(at + 3);
      host = host.substr(0, host.find('/'));
      req.set(field::host, host);
      req.body() = body;
      req.prepare_payload();
      base::Result<city::HttpResponse> res = co_await forwarder_.forward(url, req, thread);
      if (!res.is_ok()) {
        done(res.status());
      } else if (res->result_int() != 200) {
        done(base::unavailable(
            "the home answered " + std::to_string(res->result_int()) + ": " + res->body(),
            "relay_refused"));
      } else {
        done(std::move(res->body()));
      }
    };
    asio::co_spawn(context_(thread), std::move(run), asio::detached);
  });
}

}  // namespace app
