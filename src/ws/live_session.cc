#include "ws/live_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "base/clock.h"
#include "ws/close_codes.h"
#include "ws/room_host.h"

namespace ws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

void configure(LiveSession::Stream& ws, const SessionLimits& limits) {
  websocket::stream_base::timeout t;
  t.handshake_timeout = limits.handshake_timeout;
  t.idle_timeout = limits.idle_timeout;
  t.keep_alive_pings = true;  // ping at idle/2; no answer by idle: the read fails
  ws.set_option(t);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "edgeclass"); }));
  ws.read_message_max(limits.max_message_bytes);
  ws.text(true);
  // The server neither masks nor compresses, so without auto-fragmentation Beast does not
  // need its write buffer: keep it minimal (it is allocated per connection).
  ws.auto_fragment(false);
  ws.write_buffer_bytes(256);
}

// Close reasons are limited to 123 bytes by RFC 6455.
websocket::close_reason make_reason(uint16_t code, const std::string& reason) {
  return websocket::close_reason(static_cast<websocket::close_code>(code),
                                 std::string_view(reason).substr(0, 120));
}

}  // namespace

LiveSession::LiveSession(http::Transport socket, std::shared_ptr<RoomHost> host,
                         classroom::Participant who, std::optional<classroom::ResumePoint> resume,
                         const SessionLimits& limits)
    : ws_(std::move(socket)),
      host_(std::move(host)),
      who_(std::move(who)),
      resume_(std::move(resume)),
      limits_(limits),
      flood_(limits.message_burst, limits.message_rate) {}

asio::awaitable<void> LiveSession::refuse(http::Transport socket, HttpRequest req, uint16_t code,
                                          std::string reason) {
  Stream ws(std::move(socket));
  SessionLimits limits;
  configure(ws, limits);
  auto [ec] = co_await ws.async_accept(req, kNoThrow);
  if (ec) co_return;
  co_await ws.async_close(make_reason(code, reason), kNoThrow);
}

asio::awaitable<void> LiveSession::run(std::unique_ptr<HttpRequest> req) {
  auto self = shared_from_this();
  configure(ws_, limits_);
  auto [aec] = co_await ws_.async_accept(*req, kNoThrow);
  req.reset();
  if (aec) co_return;
  open_ = true;

  auto reply = host_->join(self, resume_);
  resume_.reset();
  if (!reply.is_ok()) {
    close(close_code_for(reply.status()), reply.status().message());
  } else {
    joined_ = true;
    // The replay is bounded by the room's event buffer (4096 events, 4 MiB), not by the send
    // queue: the queue's bounds apply on top of what the replay still holds.
    for (const auto& ev : reply->replay) {
      replay_messages_left_ += 1;
      replay_bytes_left_ += ev.json ? ev.json->size() : 0;
    }
    replay_messages_left_ += 1;  // the welcome
    replay_bytes_left_ += reply->welcome.size();
    send(std::move(reply->welcome));
    for (auto& ev : reply->replay) send(std::move(ev.json));
  }

  beast::flat_buffer buffer;
  for (;;) {
    auto [rec, n] = co_await ws_.async_read(buffer, kNoThrow);
    if (rec) break;     // closed by either side, timeout, reset, or too big (Beast sent 1009)
    if (close_code_) {  // closing: discard what still arrives until the close completes
      buffer.consume(buffer.size());
      continue;
    }
    if (!ws_.got_text()) {
      close(kCloseProtocol, "binary frames are not part of the protocol");
    } else if (who_.role == classroom::Role::kStudent &&
               !flood_.try_take(base::SystemClock::instance().now_mono_ns())) {
      close(kCloseRateLimited, "too many messages");
    } else {
      std::string_view text(static_cast<const char*>(buffer.data().data()), buffer.size());
      host_->on_message(*this, text);
    }
    buffer.consume(buffer.size());
    if (buffer.capacity() > 4096) buffer.shrink_to_fit();  // one big frame: do not keep 64 KB
  }
  open_ = false;
  queue_.clear();
  head_ = 0;
  queued_bytes_ = 0;
  if (joined_) host_->leave(*this);
  joined_ = false;
}

void LiveSession::send(Text text) {
  if (!open_ || close_code_ || !text) return;
  if (queued() >= limits_.max_queue_messages + replay_messages_left_ ||
      queued_bytes_ + text->size() > limits_.max_queue_bytes + replay_bytes_left_) {
    // Too slow. Drop what is queued (a resume replays it) and say why.
    queue_ = {};
    head_ = 0;
    queued_bytes_ = 0;
    close(kCloseTooSlow, "too slow: the send queue overflowed");
    asio::co_spawn(ws_.get_executor(), overflow_watchdog(), asio::detached);
    return;
  }
  queued_bytes_ += text->size();
  queue_.push_back(std::move(text));
  kick_writer();
}

void LiveSession::close(uint16_t code, std::string reason) {
  if (!open_ || close_code_) return;
  close_code_ = code;
  close_reason_ = std::move(reason);
  kick_writer();
}

void LiveSession::kick_writer() {
  if (writing_ || !open_) return;
  writing_ = true;
  write_next();
}

// The write path is plain completion handlers, not a coroutine: one event fans out to a
// thousand connections, and a handler costs less than spawning a coroutine per burst.
void LiveSession::write_next() {
  if (!open_) {
    writing_ = false;
    return;
  }
  if (head_ < queue_.size()) {
    Text msg = std::move(queue_[head_++]);
    if (head_ == queue_.size()) {  // drained: reuse the vector from the start, or free it
      if (queue_.capacity() > 16)
        queue_ = {};  // after a burst, give the memory back
      else
        queue_.clear();
      head_ = 0;
    }
    queued_bytes_ -= msg->size();
    if (replay_messages_left_ > 0) {
      replay_messages_left_ -= 1;
      replay_bytes_left_ -= std::min(replay_bytes_left_, msg->size());
    }
    const std::string& text = *msg;
    ws_.async_write(asio::buffer(text), [self = shared_from_this(), msg = std::move(msg)](
                                            beast::error_code ec, size_t) {
      if (ec) {
        self->writing_ = false;  // the read loop sees the failure too and leaves the room
        return;
      }
      self->write_next();
    });
    return;
  }
  if (close_code_ && !close_sent_) {
    close_sent_ = true;
    ws_.async_close(make_reason(*close_code_, close_reason_),
                    [self = shared_from_this()](beast::error_code) { self->writing_ = false; });
    return;
  }
  writing_ = false;
}

asio::awaitable<void> LiveSession::overflow_watchdog() {
  auto self = shared_from_this();
  asio::steady_timer timer(ws_.get_executor(), limits_.overflow_grace);
  co_await timer.async_wait(kNoThrow);
  if (open_) {
    // The close frame could not get out (the client's window is full): cut the TCP
    // connection; the pending write and read fail and the session ends.
    beast::error_code ec;
    ws_.next_layer().close(ec);
  }
}

}  // namespace ws
