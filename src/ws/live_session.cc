#include "ws/live_session.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cerrno>
#include <memory>

#include "base/clock.h"
#include "base/json_reader.h"
#include "base/utf8.h"
#include "classroom/room_protocol.h"
#include "ws/close_codes.h"
#include "ws/live_traffic.h"
#include "ws/room_shard.h"
#include "ws/send_ring.h"

namespace ws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Beast's options for the opening handshake (and refuse()'s whole connection).
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

// Frames written by one gathering sendmsg at most (Linux's UIO_MAXIOV is 1024; Asio's
// buffer adapter takes 64).
constexpr size_t kMaxGather = 64;

// TLS: a burst's frames are copied into one buffer of about this size at most (a single
// larger frame is written alone, whole).
constexpr size_t kTlsWriteBytes = 64 * 1024;

}  // namespace

LiveSession::LiveSession(http::Transport socket, std::shared_ptr<LiveRoom> host,
                         std::shared_ptr<RoomShard> shard, classroom::Participant who,
                         std::optional<classroom::ResumePoint> resume, const SessionLimits& limits)
    : limits_(limits),
      host_(std::move(host)),
      shard_(std::move(shard)),
      student_(who.role == classroom::Role::kStudent),
      sock_(std::move(socket)),
      timer_(sock_.get_executor()),
      who_(std::move(who)),
      resume_(std::move(resume)),
      flood_(limits.message_burst, limits.message_rate) {}

LiveSession::~LiveSession() {
  // Still open here only if run() never ended (its io_context went first).
  if (tcp().is_open()) unregister_socket();
}

asio::awaitable<void> LiveSession::refuse(http::Transport socket, HttpRequest req, uint16_t code,
                                          std::string reason) {
  Stream ws(std::move(socket));
  SessionLimits limits;
  configure(ws, limits);
  auto [ec] = co_await ws.async_accept(req, kNoThrow);
  if (ec) co_return;
  co_await ws.async_close(make_reason(code, reason), kNoThrow);
}

namespace {

// The opening handshake with Beast; the transport comes back to `sock` either way.
asio::awaitable<beast::error_code> accept_upgrade(http::Transport& sock, const HttpRequest& req,
                                                  const SessionLimits& limits) {
  LiveSession::Stream hs(std::move(sock));
  configure(hs, limits);
  // After the handshake the session keeps its own timer: Beast's must not stay armed.
  websocket::stream_base::timeout t;
  t.handshake_timeout = limits.handshake_timeout;
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  hs.set_option(t);
  auto [ec] = co_await hs.async_accept(req, kNoThrow);
  sock = std::move(hs.next_layer());
  co_return ec;
}

}  // namespace

asio::awaitable<void> LiveSession::run(std::unique_ptr<HttpRequest> req) {
  auto self = shared_from_this();
  beast::error_code aec = co_await accept_upgrade(sock_, *req, limits_);
  req.reset();
  if (aec) co_return;
  beast::error_code ec;
  if (!tls()) {
    // The write path's sendmsg on the descriptor (TLS sets it in start_tls).
    tcp().non_blocking(true, ec);
    if (ec) co_return;
  }
  open_ = true;
  last_read_ = Clock::now();
  arm_timer(last_read_ + limits_.idle_timeout / 2);

  if (on_shard()) {
    // The room decides on its own thread; the welcome (or the refusal's close) comes back
    // through the shard, before any event after the join. Reading starts meanwhile: what the
    // client sends is posted to the room after the join, and ignored there if it was refused.
    joined_ = true;
    asio::post(host_->executor(), [host = host_, self, resume = std::move(resume_)] {
      self->shard()->answer_join(self, host->join(self, resume), host->traffic());
    });
  } else {
    auto reply = host_->join(self, resume_);
    if (!reply.is_ok()) {
      close(close_code_for(reply.status()), reply.status().message());
    } else {
      joined_ = true;
      // The reply carries the welcome: a home room's own, or the home's that an EdgeRoom
      // received before the upgrade (EdgeRoom::join).
      if (!reply->welcome.empty()) send_welcome(reply->welcome, reply->replay);
    }
  }
  resume_.reset();

  // Bytes the client sent behind the upgrade request, read with it by the HTTP server: the
  // first input.
  bool reading = true;
  if (std::string early = sock_.take_unread(); !early.empty()) {
    in_ = std::move(early);
    reading = consume_input();
  }
  // Each read is performed by Asio's reactor, plain or TLS alike (Transport::async_read_append,
  // http/reactor_read.h): what it reads goes straight onto in_, behind an incomplete frame's
  // bytes; a read that drained the socket (the usual small message; under TLS with nothing left
  // in OpenSSL) lets the next one wait without a recv first, and a wait costs no epoll_ctl.
  // Under TLS whatever OpenSSL holds (read ahead, a record longer than one read) is read
  // before any wait. A read that finds bytes at once completes through the thread's queue, so
  // a client keeping its socket full cannot hold its I/O thread: its other connections, the
  // flushes and the timers run between two reads.
  while (reading && !tls_close_) {
    auto [rec, n] = co_await sock_.async_read_append(in_, http::Transport::kAppendChunk, kNoThrow);
    // Cut (hard_close), end of stream, reset, a TLS error or the client's close_notify; or
    // woken for our close_notify (tls_close_: the closing handshake completed meanwhile).
    if (rec || tls_close_) break;
    last_read_ = Clock::now();
    ping_sent_ = false;
    if (discard_) {  // after a protocol error: wait for the end only
      in_ = {};
      continue;
    }
    if (!consume_input()) break;
  }
  open_ = false;
  ended_ = true;
  queue_.clear();
  head_ = 0;
  pong_at_ = kNoPong;
  partial_ = 0;
  queued_bytes_ = 0;
  in_ = {};
  message_ = {};
  if (tls_close_ && tcp().is_open()) {
    // The WebSocket closing handshake is complete: end TLS cleanly too (close_notify, so the
    // client can tell our end from a cut), and give the client kTlsShutdownTimeout to answer
    // with its own before the TCP connection closes. Server shutdown waits for this too.
    close_deadline_ = std::min(close_deadline_, Clock::now() + kTlsShutdownTimeout);
    arm_timer(close_deadline_);
    co_await sock_.shutdown_tls();
  }
  timer_.cancel();
  unregister_socket();
  sock_.close(ec);
  if (joined_) {
    if (on_shard()) {
      shard_->remove(*this);
      asio::post(host_->executor(), [host = host_, self] { host->leave(*self); });
    } else {
      host_->leave(*this);
    }
  }
  joined_ = false;
}

void LiveSession::start_in_room(std::vector<Frame> frames) {
  // The replay is bounded by the room's event buffer (4096 events, 4 MiB), not by the send
  // queue: the queue's bounds apply on top of what the replay still holds.
  for (const auto& f : frames) {
    replay_messages_left_ += 1;
    replay_bytes_left_ += f->size();
  }
  for (auto& f : frames) send_frame(std::move(f));
}

void LiveSession::deliver_to_room(std::string_view text) {
  if (on_shard()) {
    // Ignored there unless the connection is in the room (a refused join's reads).
    asio::post(host_->executor(),
               [host = host_, self = shared_from_this(), text = std::string(text)] {
                 if (host->is_member(*self)) host->on_message(*self, text);
               });
  } else {
    host_->on_message(*this, text);
  }
}

FlushList& LiveSession::flush_list() { return shard_ ? shard_->flush_list() : host_->flush_list(); }

// ---- reading --------------------------------------------------------------------------------

// Why a frame header cannot be accepted (the close code), or 0.
uint16_t LiveSession::header_problem(const FrameHeader& h) const {
  if (h.rsv != 0 || !is_known_opcode(uint8_t(h.opcode)) || !h.masked) {
    return kCloseProtocolError;  // extension bits, unknown opcode, or not masked
  }
  if (is_control(h.opcode)) {
    // Fragmented or over 125 bytes.
    return !h.fin || h.payload_size > 125 ? kCloseProtocolError : 0;
  }
  if ((h.opcode == Opcode::kContinuation) != in_message_) {
    return kCloseProtocolError;  // a continuation out of place, or a message inside one
  }
  if (message_.size() + h.payload_size > limits_.max_message_bytes) return kCloseTooBig;
  return 0;
}

bool LiveSession::on_control_frame(Opcode op, std::string_view data) {
  if (op == Opcode::kPing) {
    if (!close_queued_) queue_pong(data);
    return true;
  }
  if (op != Opcode::kClose) return true;  // a pong
  peer_closed_ = true;
  if (close_sent_) {
    // The closing handshake is complete: the server closes TCP (after TLS's close_notify).
    tls_close_ = tls();
    return false;
  }
  if (!close_queued_) {
    const size_t n = data.size();
    uint16_t code = n >= 2 ? uint16_t((uint8_t(data[0]) << 8) | uint8_t(data[1])) : 0;
    // A close's payload is nothing, or a code a peer may send and a UTF-8 reason (RFC 6455
    // §5.5.1, §7.4); anything else fails the connection like any malformed frame, and is never
    // echoed (a code 0 or 1005 on the wire makes a browser fail the connection in turn).
    if (n == 1 || (n >= 2 && !is_valid_close_code(code))) {
      fail(kCloseProtocolError);
      return true;
    }
    if (n > 2 && !base::is_valid_utf8(data.substr(2))) {
      fail(kCloseInvalidPayload);
      return true;
    }
    // Echo the client's code (none: none), after the frame being written, if any.
    close_code_ = code ? code : uint16_t(kCloseNormal);
    open_ = false;
    drop_queued();  // what is not on the wire yet is not sent any more
    close_queued_ = true;
    push_frame(n >= 2 ? close_frame(code, {}) : control_frame(Opcode::kClose, {}));
    close_deadline_ = Clock::now() + limits_.handshake_timeout;
    arm_timer(close_deadline_);
  }
  return true;
}

void LiveSession::on_data_frame(const FrameHeader& h, std::string_view data) {
  if (!in_message_) message_text_ = h.opcode == Opcode::kText;
  if (close_code_) {  // closing: discard what still arrives until the close completes
    in_message_ = !h.fin;
    return;
  }
  const bool whole = h.fin && message_.empty();
  if (!whole) message_.append(data);
  in_message_ = !h.fin;
  if (!h.fin) return;
  std::string_view text = whole ? data : std::string_view(message_);
  if (!message_text_) {
    close(kCloseProtocol, "binary frames are not part of the protocol");
  } else if (!base::is_valid_utf8(text)) {
    fail(kCloseInvalidPayload);
  } else if (who_.role == classroom::Role::kStudent &&
             !flood_.try_take(base::SystemClock::instance().now_mono_ns())) {
    close(kCloseRateLimited, "too many messages");
  } else {
    deliver_to_room(text);
  }
  if (!whole) {
    message_.clear();
    if (message_.capacity() > 4096) message_ = {};  // one big message: do not keep 64 KB
  }
}

bool LiveSession::consume_input() {
  size_t pos = 0;
  bool keep_reading = true;
  while (keep_reading && !discard_) {
    std::string_view rest(in_.data() + pos, in_.size() - pos);
    FrameHeader h;
    ParseResult r = parse_frame_header(rest, &h);
    if (r == ParseResult::kNeedMore) break;
    if (r == ParseResult::kMalformed) {
      fail(kCloseProtocolError);  // a 64-bit length over 2^63
      break;
    }
    if (uint16_t code = header_problem(h)) {
      fail(code);
      break;
    }
    if (rest.size() < h.header_size + h.payload_size) break;  // the payload is on its way
    char* payload = in_.data() + pos + h.header_size;
    const size_t n = size_t(h.payload_size);
    unmask(payload, n, h.mask);
    pos += h.header_size + n;
    std::string_view data(payload, n);
    if (is_control(h.opcode)) {
      keep_reading = on_control_frame(h.opcode, data);
    } else {
      on_data_frame(h, data);
    }
  }
  if (discard_) {
    in_ = {};
  } else {
    in_.erase(0, pos);
    if (in_.empty() && in_.capacity() > 4096) in_ = {};
  }
  return keep_reading;
}

void LiveSession::fail(uint16_t code) {
  // Protocol-level closes carry the code only (docs/live-protocol.md, "Close codes").
  close(code, {});
  discard_ = true;  // the stream cannot be parsed any further
  in_message_ = false;
  message_ = {};
}

// ---- sending --------------------------------------------------------------------------------

void LiveSession::send_frame(Frame frame) {
  if (!open_ || close_code_ || !frame) return;
  if (queued() >= limits_.max_queue_messages + replay_messages_left_ ||
      queued_bytes_ + frame->size() > limits_.max_queue_bytes + replay_bytes_left_) {
    // Too slow. Drop what is queued (a resume replays it), except a frame already partly on
    // the wire, and say why; if the close cannot get out in time, cut the connection.
    drop_queued();
    close(kCloseTooSlow, "too slow: the send queue overflowed");
    close_deadline_ = Clock::now() + limits_.overflow_grace;
    arm_timer(close_deadline_);
    return;
  }
  push_frame(std::move(frame));
}

void LiveSession::send(std::string_view text) {
  host_->traffic().count_out(text);
  send_frame(text_frame(text));
}

void LiveSession::send_error(std::string_view ref, const base::Status& status) {
  host_->traffic().count_error(status.reason());
  send(classroom::error_reply(ref, status));
}

void LiveSession::push_frame(Frame frame) {
  queued_bytes_ += frame->size();
  queue_.push_back(std::move(frame));
  // A long burst to one socket (many replies to one read) is written as it grows, half a
  // queue at a time, rather than filling the queue before the burst ends.
  if (!writing_ && queued() >= std::min(kMaxGather, limits_.max_queue_messages / 2 + 1)) {
    write_queued();
    return;
  }
  schedule_flush();
}

void LiveSession::queue_pong(std::string_view payload) {
  // While the socket is full (the client reads nothing), a pong still wholly in the queue
  // (not partly written, not copied into the TLS write in flight) is replaced. A client
  // that reads gets a pong for every ping.
  const size_t started = head_ + (tls() ? tls_frames_ : (partial_ > 0 ? 1 : 0));
  if (writing_ && pong_at_ != kNoPong && pong_at_ >= started && pong_at_ < queue_.size()) {
    Frame pong = control_frame(Opcode::kPong, payload);
    queued_bytes_ = queued_bytes_ - queue_[pong_at_]->size() + pong->size();
    queue_[pong_at_] = std::move(pong);
    return;
  }
  push_frame(control_frame(Opcode::kPong, payload));
  pong_at_ = queue_.size() - 1;
}

void LiveSession::close(uint16_t code, std::string reason) {
  if (!open_ || close_code_) return;
  close_code_ = code;
  close_queued_ = true;
  push_frame(close_frame(code, reason));
  close_deadline_ = Clock::now() + limits_.handshake_timeout;
  arm_timer(close_deadline_);
}

void LiveSession::schedule_flush() {
  if (flush_listed_ || writing_) return;  // a waiting writer takes the new frames too
  flush_listed_ = true;
  flush_list().add(shared_from_this());
}

void LiveSession::send_welcome(std::string_view welcome,
                               const std::vector<classroom::RoomEvent>& replay) {
  start_in_room(welcome_frames(welcome, replay, &host_->traffic()));
}

std::vector<Frame> LiveSession::welcome_frames(std::string_view welcome,
                                               const std::vector<classroom::RoomEvent>& replay,
                                               LiveTraffic* traffic) {
  std::vector<Frame> frames;
  frames.reserve(replay.size() + 1);
  frames.push_back(text_frame(welcome));
  if (traffic) traffic->count_out(welcome);
  for (const auto& ev : replay) {
    if (!ev.json) continue;
    frames.push_back(text_frame(*ev.json));
    if (traffic) traffic->count_out(*ev.json);
  }
  return frames;
}

void FlushList::add(std::shared_ptr<LiveSession> s) {
  if (!current_) {
    auto burst = std::make_unique<Sessions>();
    burst->swap(spare_);
    current_ = burst.get();
    asio::post(ex_, [self = shared_from_this(), burst = std::move(burst)]() mutable {
      self->flush(*burst);
    });
  }
  current_->push_back(std::move(s));
}

void FlushList::flush(Sessions& sessions) {
  // What writing queues meanwhile (say a failed socket's leave sends presence) goes to the
  // next burst, posted anew.
  current_ = nullptr;
  SendRing* ring = SendRing::for_this_thread();
  if (!ring) {
    for (auto& s : sessions) {
      s->flush_listed_ = false;
      s->write_queued();
    }
  } else {
    // The plain sockets' gathering sendmsgs go to the thread's ring, one io_uring_enter per
    // chunk instead of a system call per socket; the rest (TLS, a socket already waiting to
    // drain, nothing queued) takes its ordinary path. The results are applied as write_queued
    // applies its own sendmsg's.
    const auto apply = [&sessions](uint64_t i, int res) { sessions[i]->on_ring_sent(res); };
    for (size_t i = 0; i < sessions.size(); ++i) {
      if (i + LiveSession::kPrefetchAhead < sessions.size())
        LiveSession::prefetch(sessions[i + LiveSession::kPrefetchAhead].get());
      LiveSession& s = *sessions[i];
      s.flush_listed_ = false;
      if (!s.ring_ready()) {
        s.write_queued();
        continue;
      }
      iovec iov[kMaxGather];
      const size_t n = s.gather(iov);
      ring->add(s.tcp().native_handle(), iov, n, i, s.registered_with(*ring));
      if (ring->full()) ring->submit(apply);
    }
    ring->submit(apply);
  }
  sessions.clear();
  // Keep the vector's memory for the next burst.
  if (sessions.capacity() <= 4096 && sessions.capacity() > spare_.capacity()) spare_.swap(sessions);
}

bool LiveSession::registered_with(SendRing& ring) {
  if (!register_tried_) {
    register_tried_ = true;
    if (ring.register_fd(tcp().native_handle())) registered_ring_ = ring.shared_from_this();
  }
  return registered_ring_.get() == &ring;
}

void LiveSession::unregister_socket() {
  if (!registered_ring_) return;
  registered_ring_->unregister_fd(tcp().native_handle());
  registered_ring_.reset();
}

bool LiveSession::ring_ready() {
  return !writing_ && head_ < queue_.size() && !tls() && tcp().is_open();
}

size_t LiveSession::gather(iovec* iov) const {
  size_t nb = 0;
  for (size_t i = head_; i < queue_.size() && nb < kMaxGather; ++i, ++nb) {
    const std::string& f = *queue_[i];
    const size_t off = i == head_ ? partial_ : 0;
    iov[nb].iov_base = const_cast<char*>(f.data() + off);
    iov[nb].iov_len = f.size() - off;
  }
  return nb;
}

void LiveSession::on_ring_sent(int res) {
  if (res == SendRing::kNotSubmitted) {  // the ring failed before this send: write it now
    write_queued();
    return;
  }
  if (!sent(res < 0 ? -ssize_t(-res) : ssize_t(res), res < 0 ? -res : 0)) return;
  // The rest (beyond one gather, after a partial write) and the drained queue's bookkeeping.
  write_queued();
}

bool LiveSession::sent(ssize_t n, int err) {
  if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
    // The socket is full: write the rest (and whatever comes meanwhile) once it drains.
    writing_ = true;
    tcp().async_wait(asio::socket_base::wait_write,
                     [self = shared_from_this()](beast::error_code wec) {
                       self->writing_ = false;
                       if (!wec) self->write_queued();
                     });
    return false;
  }
  if (n < 0) {  // reset or broken: the read loop sees it too and leaves the room
    hard_close();
    return false;
  }
  // Retire what went out.
  size_t left_to_retire = size_t(n);
  while (left_to_retire > 0 && head_ < queue_.size()) {
    const size_t left = queue_[head_]->size() - partial_;
    if (left_to_retire < left) {
      partial_ += left_to_retire;
      break;
    }
    left_to_retire -= left;
    partial_ = 0;
    retire_head();
  }
  return true;
}

void LiveSession::drop_queued() {
  if (head_ >= queue_.size()) return;
  // Plain: a frame partly on the wire; TLS: the frames of the write in flight.
  const size_t keep = tls() ? tls_frames_ : (partial_ > 0 ? 1 : 0);
  for (size_t i = head_ + keep; i < queue_.size(); ++i) queued_bytes_ -= queue_[i]->size();
  queue_.erase(queue_.begin() + ptrdiff_t(head_ + keep), queue_.end());
  if (pong_at_ != kNoPong && pong_at_ >= queue_.size()) pong_at_ = kNoPong;
}

void LiveSession::write_queued() {
  if (writing_ || !tcp().is_open()) return;
  if (tls()) {
    write_queued_tls();
    return;
  }
  while (head_ < queue_.size()) {
    // One gathering sendmsg straight on the descriptor (non-blocking since the handshake):
    // Asio's write_some would copy the list into its own iovec array first.
    iovec iov[kMaxGather];
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = gather(iov);
    ssize_t n;
    do {
      n = ::sendmsg(tcp().native_handle(), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (!sent(n, n < 0 ? errno : 0)) return;
  }
  on_drained();
}

void LiveSession::gather_tls_burst() {
  tls_out_.clear();
  size_t i = head_;
  for (; i < queue_.size() && i - head_ < kMaxGather; ++i) {
    const std::string& f = *queue_[i];
    if (i > head_ && tls_out_.size() + f.size() > kTlsWriteBytes) break;
    tls_out_.append(f);
  }
  tls_frames_ = i - head_;
}

void LiveSession::write_queued_tls() {
  for (;;) {
    if (tls_frames_ == 0) {
      if (head_ >= queue_.size()) {
        on_drained();
        return;
      }
      // One contiguous copy of the burst: one TLS record stream, instead of a record per
      // frame.
      gather_tls_burst();
      tls_out_done_ = 0;
    }
    const http::Transport::Io io =
        sock_.write_now(tls_out_.data() + tls_out_done_, tls_out_.size() - tls_out_done_);
    if (io.bytes > 0) {
      tls_out_done_ += io.bytes;
      if (tls_out_done_ < tls_out_.size()) continue;
      // Retire the frames that went out.
      for (; tls_frames_ > 0 && head_ < queue_.size(); --tls_frames_) retire_head();
      tls_frames_ = 0;
      continue;
    }
    if (io.wait != http::Transport::Wait::kNone) {
      // The socket is full (or TLS needs to read first): the rest of tls_out_, then what
      // was queued meanwhile, once it can go on.
      writing_ = true;
      sock_.async_wait(io.wait, [self = shared_from_this()](beast::error_code wec) {
        self->writing_ = false;
        if (!wec) self->write_queued();
      });
      return;
    }
    tls_frames_ = 0;  // reset, broken or a TLS error: the read loop ends too
    hard_close();
    return;
  }
}

void LiveSession::retire_head() {
  const size_t size = queue_[head_]->size();
  queued_bytes_ -= size;
  if (replay_messages_left_ > 0) {
    replay_messages_left_ -= 1;
    replay_bytes_left_ -= std::min(replay_bytes_left_, size);
  }
  if (head_ == pong_at_) pong_at_ = kNoPong;
  queue_[head_++].reset();
}

void LiveSession::on_drained() {
  // A big burst's TLS buffer is not kept for an idle connection.
  if (tls() && tls_out_.capacity() > 4096) tls_out_ = {};
  // Drained: reuse the vector from the start, or free it after a burst.
  if (queue_.capacity() > 16)
    queue_ = {};
  else
    queue_.clear();
  head_ = 0;
  pong_at_ = kNoPong;
  if (close_queued_ && !close_sent_) {
    close_sent_ = true;
    beast::error_code ec;
    if (peer_closed_ && tls()) {
      // Our answer to the client's close is out: end the read loop, which then sends TLS's
      // close_notify and closes the TCP connection (run()).
      tls_close_ = true;
      tcp().cancel(ec);
    } else if (peer_closed_) {
      // Our answer to the client's close is out: the server closes the TCP connection.
      hard_close();
    } else if (discard_) {
      // After a protocol error the client's close cannot be told from the rest: say we are
      // done (FIN) and let the read loop run to the client's end or the deadline.
      // (Under TLS no close_notify: the close frame has said it.)
      tcp().shutdown(asio::socket_base::shutdown_send, ec);
    }
  }
}

void LiveSession::hard_close() {
  beast::error_code ec;
  unregister_socket();
  sock_.close(ec);
  timer_.cancel();
}

// ---- the timer ------------------------------------------------------------------------------

void LiveSession::arm_timer(Clock::time_point at) {
  if (timer_waiting_ && at >= timer_at_) return;  // the pending wait comes first anyway
  if (!tcp().is_open()) return;
  timer_at_ = at;
  timer_.expires_at(at);  // cancels a later wait, whose handler then only returns
  timer_waiting_ = true;
  timer_.async_wait([self = shared_from_this(), at](beast::error_code ec) {
    if (ec || self->timer_at_ != at) return;  // cancelled or re-armed earlier
    self->timer_waiting_ = false;
    self->timer_at_ = Clock::time_point::max();
    self->on_timer();
  });
}

void LiveSession::on_timer() {
  if (!tcp().is_open()) return;
  const auto now = Clock::now();
  if (now >= close_deadline_ || now - last_read_ >= limits_.idle_timeout) {
    // The close could not complete in time, or the client went silent (no pong either).
    hard_close();
    return;
  }
  const auto half = limits_.idle_timeout / 2;
  if (!ping_sent_ && !close_queued_ && now - last_read_ >= half) {
    ping_sent_ = true;
    push_frame(control_frame(Opcode::kPing, {}));
  }
  auto next = ping_sent_ ? last_read_ + limits_.idle_timeout : last_read_ + half;
  arm_timer(std::min(std::max(next, now + std::chrono::milliseconds(10)), close_deadline_));
}

}  // namespace ws
