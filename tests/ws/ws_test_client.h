// A blocking WebSocket client for the live tests, with timeouts (it drives its own
// io_context). Shared by live_ws_test.cc and room_projection_test.cc.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::testing {

class Client {
 public:
  // A browser sends Origin (the server refuses it with a close code); a program does not
  // (a refused upgrade is an HTTP error, left in http_status() and http_body()).
  enum class As { kBrowser, kProgram };

  // Connects to `target` on 127.0.0.1; `rcvbuf` > 0 shrinks the receive buffer (a slow
  // reader).
  bool connect(uint16_t port, const std::string& target, As as = As::kBrowser, int rcvbuf = 0) {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace websocket = beast::websocket;
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.open(asio::ip::tcp::v4(), ec);
    if (rcvbuf > 0) sock.set_option(asio::socket_base::receive_buffer_size(rcvbuf), ec);
    sock.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return false;
    if (as == As::kBrowser) {
      ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(beast::http::field::origin, "http://127.0.0.1");
      }));
    }
    websocket::response_type res;
    ws_.handshake(res, "127.0.0.1", target, ec);
    http_status_ = res.result_int();
    http_body_ = res.body();
    return !ec;
  }
  unsigned http_status() const { return http_status_; }
  const std::string& http_body() const { return http_body_; }

  // The next text message, or nullopt on close/timeout (close_code() then says why).
  std::optional<boost::json::object> read(std::chrono::milliseconds timeout = kDefault) {
    namespace beast = boost::beast;
    beast::flat_buffer buf;
    beast::error_code ec;
    bool done = false;
    ws_.async_read(buf, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      beast::get_lowest_layer(ws_).cancel();
      ioc_.restart();
      ioc_.run_for(std::chrono::seconds(2));
      if (!done) {  // e.g. a close handshake waiting for a peer that went away: give up
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
        ioc_.restart();
        ioc_.run_for(std::chrono::seconds(2));
      }
      return std::nullopt;
    }
    if (ec) return std::nullopt;
    return boost::json::parse(beast::buffers_to_string(buf.data())).as_object();
  }

  // Reads until a message of `type` arrives (the others are kept in `seen`).
  std::optional<boost::json::object> expect(std::string_view type,
                                            std::chrono::milliseconds timeout = kDefault) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto m = read(std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now()));
      if (!m) return std::nullopt;
      seen.push_back(*m);
      if (m->at("type").as_string() == type) return m;
    }
    return std::nullopt;
  }

  // Reads until the server closes; the close code (0 when it did not close in time).
  int closed(std::chrono::milliseconds timeout = kDefault) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (!read(std::chrono::duration_cast<std::chrono::milliseconds>(
              until - std::chrono::steady_clock::now()))) {
        return ws_.reason().code;
      }
    }
    return 0;
  }

  void send(const boost::json::object& o) {
    boost::beast::error_code ec;
    ws_.write(boost::asio::buffer(boost::json::serialize(o)), ec);
  }
  // Drops the connection without a close handshake (a tab that went away).
  void close() {
    boost::beast::error_code ec;
    boost::beast::get_lowest_layer(ws_).socket().close(ec);
  }
  // The stream itself, for frames the helpers above do not send (fragments, pings, bad text).
  boost::beast::websocket::stream<boost::beast::tcp_stream>& stream() { return ws_; }
  int close_code() const { return ws_.reason().code; }
  std::string close_reason() const { return std::string(ws_.reason().reason.c_str()); }

  std::vector<boost::json::object> seen;

 private:
  // Generous: what a test waits for crosses threads and sockets, and a loaded 2-core machine
  // can hold those up for seconds (a wait that is met returns at once).
  static constexpr std::chrono::milliseconds kDefault{15000};
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{ioc_};
  unsigned http_status_ = 0;
  std::string http_body_;
};

}  // namespace ws::testing
