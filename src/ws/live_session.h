// ws::LiveSession — one participant's WebSocket in a live room.
//
// Runs entirely on its room's I/O thread (the RoomHost's executor): the handshake, the read
// loop and the write loop are coroutines on that executor, so the session and its room share
// state without locks. Outgoing messages are shared immutable strings (one serialisation per
// room event, many sockets) held in a bounded queue; a client that cannot keep up is closed
// with 4008 instead of growing memory or slowing the room.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "classroom/chat.h"
#include "classroom/room.h"
#include "http/transport.h"

namespace ws {

class RoomHost;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using Text = std::shared_ptr<const std::string>;

struct SessionLimits {
  size_t max_queue_messages = 1024;     // queued, not yet written
  size_t max_queue_bytes = 4u << 20;    // of queued message text
  size_t max_message_bytes = 64 * 1024;  // incoming frame limit (Beast closes with 1009)
  std::chrono::seconds handshake_timeout{10};  // opening and closing handshakes
  std::chrono::seconds idle_timeout{30};  // silent this long (pings unanswered): dropped
  std::chrono::seconds overflow_grace{2};  // after a 4008, hard-close if the close stalls
  double message_burst = 50;  // a student's messages at once ...
  double message_rate = 20;   // ... and per second sustained; beyond: close 4029
                              // (the course's teacher is not limited)
};

class LiveSession : public std::enable_shared_from_this<LiveSession> {
 public:
  // Over a plain socket or TLS (http::Transport), not a beast::tcp_stream: the websocket's
  // own timeouts cover every wait, and tcp_stream's two timers would cost every idle
  // connection a few hundred bytes.
  using Stream = boost::beast::websocket::stream<http::Transport>;

  // `socket` must already be bound to `host`'s executor.
  LiveSession(http::Transport socket, std::shared_ptr<RoomHost> host, classroom::Participant who,
              std::optional<classroom::ResumePoint> resume, const SessionLimits& limits);

  // The connection's whole life: WebSocket handshake on `req`, join, read loop, leave.
  // co_spawn on the host's executor.
  // `req` is released once the handshake is done (it is not kept for the connection's life).
  boost::asio::awaitable<void> run(std::unique_ptr<HttpRequest> req);

  // Accepts the upgrade only to close it at once with `code` and `reason` (browsers cannot
  // read an HTTP error on a failed WebSocket). co_spawn on the stream's executor.
  static boost::asio::awaitable<void> refuse(http::Transport socket, HttpRequest req, uint16_t code,
                                             std::string reason);

  // Queues `text` for sending. Over the queue bounds the session is closed with 4008 and the
  // queue dropped. Ignored once a close has begun. Room thread only.
  void send(Text text);
  void send(std::string text) { send(std::make_shared<const std::string>(std::move(text))); }
  // Sends what is queued, then closes with `code`. Room thread only; idempotent.
  void close(uint16_t code, std::string reason);

  const classroom::Participant& who() const { return who_; }
  size_t queued() const { return queue_.size() - head_; }

  // Position in the host's connection list; maintained by RoomHost only.
  size_t host_index = 0;

 private:
  void kick_writer();
  void write_next();  // writes the next queued message, or the close, or goes idle
  boost::asio::awaitable<void> overflow_watchdog();

  Stream ws_;
  std::shared_ptr<RoomHost> host_;
  classroom::Participant who_;
  std::optional<classroom::ResumePoint> resume_;
  const SessionLimits& limits_;
  classroom::TokenBucket flood_;

  // All below: room thread only.
  // Queued messages, oldest at queue_[head_]. A vector and not a deque: an idle
  // connection's empty vector costs nothing, libstdc++'s empty deque holds ~600 bytes.
  std::vector<Text> queue_;
  size_t head_ = 0;
  size_t queued_bytes_ = 0;  // text bytes in queue_[head_..]
  // The welcome and resume replay not yet written: allowed on top of the queue's bounds.
  size_t replay_messages_left_ = 0;
  size_t replay_bytes_left_ = 0;
  bool open_ = false;        // handshake done, not yet closed
  bool writing_ = false;     // a write (or the close) is in flight
  bool close_sent_ = false;  // the close frame has been started
  bool joined_ = false;      // registered with the host
  std::optional<uint16_t> close_code_;  // a close has begun
  std::string close_reason_;
};

}  // namespace ws
