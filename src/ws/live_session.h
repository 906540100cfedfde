// ws::LiveSession — one participant's WebSocket in a live room.
//
// Runs entirely on one I/O thread: its room's (the executor of its ws::LiveRoom, a RoomHost or
// an EdgeRoom), so the session and its room share state without locks; or, in a spread room
// (either kind), the thread that accepted it, where the room reaches it through that thread's
// RoomShard (ws/room_shard.h) and it posts its join, what it reads and its leave to the
// room's thread. Beast does the
// opening handshake; from then on the session frames and parses itself (ws/frame.h) over the plain
// socket:
// - Sending: outgoing messages are whole frames (header + payload) built once per room event
//   and shared by every receiver's bounded queue. Nothing is written at send(): a connection
//   with something new to send is put on its room's flush list, and one posted flush per
//   burst writes each such connection's queued frames with one gathering sendmsg (writev),
//   so a burst of events to one socket is one system call ("corking"). Where io_uring is
//   usable the burst's sendmsgs to all its sockets go to the kernel together, one
//   io_uring_enter per 256 sockets (ws/send_ring.h), each completing inline with the result a
//   sendmsg would have had. A socket that cannot take everything waits for writability and
//   writes the rest the same way. No allocation, no handler and no post per delivery; a
//   client that cannot keep up is closed with 4008 instead of growing memory or slowing the
//   room.
// - Reading: each read is performed by Asio's reactor (http::Transport::async_read_append):
//   the bytes are appended to the session's input as they are read, through the thread's
//   scratch buffer, and only the bytes of an incomplete frame are kept, so an idle connection
//   holds no buffer. A read that drained the socket lets the next one wait without a recv
//   first, and a wait costs no epoll_ctl (http/reactor_read.h).
// - One timer per connection: keep-alive pings, the idle timeout, the closing handshake's.
// The transport is touched in a few places only, each with a plain and a TLS branch; the
// framing, queues, flush list and timer are shared:
// - plain TCP: write_queued's sendmsg on the descriptor and the wait for writability;
// - TLS (wss://), done on the socket itself by the transport from the handshake on
//   (http/transport.h: SSL_read / SSL_write on the non-blocking descriptor, no buffers while
//   idle): write_queued copies the burst's frames (up to kTlsWriteBytes) into one per-session
//   buffer and writes it with SSL_write, waiting for the socket when it is full and popping
//   the frames once they are all out; the reads are the same reactor reads, SSL_read on the
//   socket, what OpenSSL holds first;
//   once the WebSocket closing handshake is complete the session ends TLS with close_notify
//   and gives the client kTlsShutdownTimeout to answer with its own (a cut connection, a
//   protocol error or a timeout closes TCP without it).
#pragma once

#include <sys/uio.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "classroom/chat.h"
#include "classroom/room.h"
#include "http/transport.h"
#include "ws/frame.h"
#include "ws/live_room.h"

namespace ws {

class RoomShard;
class SendRing;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using Text = std::shared_ptr<const std::string>;

struct SessionLimits {
  size_t max_queue_messages = 1024;            // queued, not yet written
  size_t max_queue_bytes = 4u << 20;           // of queued message text
  size_t max_message_bytes = 64 * 1024;        // incoming frame limit (Beast closes with 1009)
  std::chrono::seconds handshake_timeout{10};  // opening and closing handshakes
  std::chrono::seconds idle_timeout{30};       // silent this long (pings unanswered): dropped
  std::chrono::seconds overflow_grace{2};      // after a 4008, hard-close if the close stalls
  double message_burst = 50;                   // a student's messages at once ...
  double message_rate = 20;                    // ... and per second sustained; beyond: close 4029
                                               // (the course's teacher is not limited)
};

class LiveSession;

// The connections of one room with something new to send: one posted flush per burst writes
// them all (see above). Owned by the RoomHost; on its thread only. The pending burst's list
// belongs to the posted handler, so connections are never kept alive by the room beyond it
// (an io_context destroyed with the flush pending releases them).
class FlushList : public std::enable_shared_from_this<FlushList> {
 public:
  explicit FlushList(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  // Adds `s` (not yet listed); posts the flush if none is pending.
  void add(std::shared_ptr<LiveSession> s);
  // Forgets the pending burst (the I/O threads have stopped; its handler owns it).
  void clear() {
    current_ = nullptr;
    spare_ = {};
  }

 private:
  using Sessions = std::vector<std::shared_ptr<LiveSession>>;
  void flush(Sessions& sessions);

  boost::asio::any_io_executor ex_;
  Sessions* current_ = nullptr;  // the pending burst's list (owned by the posted handler)
  Sessions spare_;               // a drained list's memory, for the next burst
};

class LiveSession : public std::enable_shared_from_this<LiveSession> {
  // The send path's state comes first and together (a room event touches it in every
  // receiver's session): on a busy I/O thread each session is out of the cache by the time
  // the next event reaches it (the kernel's TCP work in between evicts it), so each cache
  // line touched per delivery is a miss. Spread over the object, the broadcast loop's first
  // load of each session was 83 % of its samples at 1,000 x 100/s; here a delivery touches
  // the object's first two or three lines, the socket's descriptor right after them.
  // The session's thread only.
  // Queued frames, oldest at queue_[head_], of which `partial_` bytes are already written.
  // A vector and not a deque: an idle connection's empty vector costs nothing, libstdc++'s
  // empty deque holds ~600 bytes.
  std::vector<Frame> queue_;
  size_t head_ = 0;
  size_t partial_ = 0;
  size_t queued_bytes_ = 0;  // frame bytes in queue_[head_..]
  // The index in queue_ of a pong none of whose bytes are written yet, or kNoPong.
  static constexpr size_t kNoPong = size_t(-1);
  size_t pong_at_ = kNoPong;
  // The welcome and resume replay not yet written: allowed on top of the queue's bounds.
  size_t replay_messages_left_ = 0;
  size_t replay_bytes_left_ = 0;
  const SessionLimits& limits_;
  std::shared_ptr<LiveRoom> host_;      // set at construction
  std::shared_ptr<RoomShard> shard_;    // null: on the room's thread; set at construction
  std::optional<uint16_t> close_code_;  // a close has begun
  const bool student_;                  // who_.role is kStudent (the audience test per event)
  bool open_ = false;                   // handshake done, accepting sends, not yet closed
  bool flush_listed_ = false;           // on the room's flush list
  bool writing_ = false;                // waiting for writability (plain) or a write to end (TLS)
  bool close_queued_ = false;           // the close frame is in the queue (nothing goes after it)
  bool register_tried_ = false;
  // The ring the plain socket is registered with (its slot is the descriptor's number),
  // shared so that it outlives the socket's registration; unregistered wherever the socket is
  // closed (hard_close, the end of run(), the destructor).
  std::shared_ptr<SendRing> registered_ring_;

 public:
  // After a completed closing handshake over TLS, how long the client has to answer our
  // close_notify with its own before the TCP connection is closed anyway.
  static constexpr std::chrono::seconds kTlsShutdownTimeout{2};

  // The opening handshake's (and refuse()'s) stream, over a plain socket or TLS; after the
  // handshake the session keeps only the transport.
  using Stream = boost::beast::websocket::stream<http::Transport>;

  // `host` is a RoomHost, or an EdgeRoom on a replica that is not the course's home. Without
  // `shard`, `socket` must already be bound to `host`'s executor. With one (a spread room's
  // connection on another I/O thread than the room's), `socket` is bound to `shard`'s
  // thread, and the session posts its join, messages and leave to `host`'s.
  LiveSession(http::Transport socket, std::shared_ptr<LiveRoom> host,
              std::shared_ptr<RoomShard> shard, classroom::Participant who,
              std::optional<classroom::ResumePoint> resume, const SessionLimits& limits);
  ~LiveSession();
  LiveSession(const LiveSession&) = delete;
  LiveSession& operator=(const LiveSession&) = delete;

  // The connection's whole life: WebSocket handshake on `req`, join, read loop, leave.
  // co_spawn on the host's executor.
  // `req` is released once the handshake is done (it is not kept for the connection's life).
  boost::asio::awaitable<void> run(std::unique_ptr<HttpRequest> req);

  // Accepts the upgrade only to close it at once with `code` and `reason` (browsers cannot
  // read an HTTP error on a failed WebSocket). co_spawn on the stream's executor.
  static boost::asio::awaitable<void> refuse(http::Transport socket, HttpRequest req, uint16_t code,
                                             std::string reason);

  // Queues a text frame (ws::text_frame: build it once and send it to every receiver). Over
  // the queue bounds the session is closed with 4008 and the queue dropped. Ignored once a
  // close has begun. Written at the end of the current burst (see above). The session's thread
  // only.
  void send_frame(Frame frame);
  // Frames `text` (one receiver's message), counts it by type (LiveTraffic) and queues it.
  void send(const Text& text) {
    if (text) send(std::string_view(*text));
  }
  void send(std::string_view text);
  // Sends classroom::error_reply(ref, status), counted by its code.
  void send_error(std::string_view ref, const base::Status& status);
  // Queues the welcome and a resume's replay: allowed on top of the queue's bounds (they are
  // bounded by the room's event buffer). The session's thread only.
  void send_welcome(std::string_view welcome, const std::vector<classroom::RoomEvent>& replay);
  // Sends what is queued, then closes with `code`. The session's thread only; idempotent.
  void close(uint16_t code, std::string reason);

  const classroom::Participant& who() const { return who_; }
  // Asks the CPU for `s`'s send path state (and its make_shared control block just before
  // it) a few sessions ahead of a loop over a room's connections.
  static void prefetch(const LiveSession* s) {
    const char* p = reinterpret_cast<const char*>(s);
    __builtin_prefetch(p - 16);
    __builtin_prefetch(p + 48);
    __builtin_prefetch(p + 112);
  }
  static constexpr size_t kPrefetchAhead = 4;
  // Whether a room event for `a` goes to this connection (a.includes(role, user_id), the
  // role read from the send path's state, the id only when the role is not enough). Any
  // thread (set at construction).
  bool hears(const classroom::Audience& a) const {
    return a.includes_role(student_ ? classroom::Role::kStudent : classroom::Role::kTeacher) ||
           a.names(who_.user_id);
  }
  size_t queued() const { return queue_.size() - head_; }
  // Runs on another I/O thread than its room (a spread room's), served through the RoomShard
  // of its thread. Any thread (set at construction).
  bool on_shard() const { return shard_ != nullptr; }
  RoomShard* shard() const { return shard_.get(); }
  // The session's own I/O thread (its room's, or its shard's). Any thread.
  boost::asio::any_io_executor executor() { return timer_.get_executor(); }

  // The room accepted the connection: queues its welcome and replay (`frames`, in order), which
  // the queue's bounds allow on top. The connection's own thread; called by RoomShard for a
  // connection on a shard (one on the room's thread does it itself after the join).
  void start_in_room(std::vector<Frame> frames);
  // The frames of a welcome and its replay, in order, each counted in `traffic` when given.
  static std::vector<Frame> welcome_frames(std::string_view welcome,
                                           const std::vector<classroom::RoomEvent>& replay,
                                           LiveTraffic* traffic);
  // The read loop has ended (the connection's own thread).
  bool ended() const { return ended_; }

  // Position in the host's connection list; maintained by the host (RoomHost, EdgeRoom) only.
  size_t host_index = 0;
  // Position in the shard's connection list; maintained by RoomShard only (its thread).
  size_t shard_index = 0;

 private:
  using Clock = std::chrono::steady_clock;

  friend class FlushList;

  // Puts the session on its room's flush list (one post per burst, not per frame).
  void schedule_flush();
  // Writes queued frames until the queue is empty or the socket is full (then waits for it).
  void write_queued();
  // Plain socket, something queued, not waiting to drain: the flush may write it through the
  // thread's SendRing.
  bool ring_ready();
  // The queued frames from head_ (the unwritten rest of a partial one first), up to
  // kMaxGather, as iovecs; returns how many.
  size_t gather(iovec* iov) const;
  // The result of a sendmsg of gather()'s frames: `n` bytes went out (retired), or it failed
  // with `err` (EAGAIN: waits for writability; else hard_close). True: write on.
  bool sent(ssize_t n, int err);
  // The SendRing's result for this session's send (bytes, -errno, or kNotSubmitted).
  void on_ring_sent(int res);
  // Registers the socket with `ring` at its first send through it (once; see SendRing);
  // true if it is registered there.
  bool registered_with(SendRing& ring);
  // Unregisters the socket from its ring, if it is registered: before its descriptor closes.
  void unregister_socket();
  // Queues a frame outside the queue's bounds (control frames, the close).
  void push_frame(Frame frame);
  // Answers a client's ping. While the socket is full, at most one pong waits in the queue:
  // a ping replaces the pong that has not started out (RFC 6455 §5.5.3 lets a pong answer
  // only the latest ping), so a client that floods pings and reads nothing grows no queue.
  // Pongs are outside the queue's bounds (a ping flood is no slow consumer of the room's
  // events), so without this the queue grew by a frame per ping, without limit.
  void queue_pong(std::string_view payload);
  // Drops the queued frames except one already partly written.
  void drop_queued();
  // Handles the bytes in in_: whole frames, then keeps the rest. False: stop reading.
  bool consume_input();
  // Why a frame header cannot be accepted (the close code), or 0.
  uint16_t header_problem(const FrameHeader& h) const;
  // A ping (answered), a pong, or a close (echoed). False: the closing handshake is complete.
  bool on_control_frame(Opcode op, std::string_view data);
  // A text or continuation frame: a whole message goes to the room.
  void on_data_frame(const FrameHeader& h, std::string_view data);
  // A protocol error: close with `code` and stop parsing what the client sends.
  void fail(uint16_t code);
  // Cuts the TCP connection at once: pending waits fail, the read loop ends.
  void hard_close();
  // The one timer: keep-alive ping, idle timeout, closing handshake and overflow deadlines.
  void arm_timer(Clock::time_point at);
  void on_timer();

  // The frame at head_ is on the wire: pops it (and its share of the replay allowance).
  void retire_head();
  // The queue is drained: frees its memory, and ends the connection once the close is out.
  void on_drained();
  // Copies the queued frames from head_ (up to kTlsWriteBytes, at least one frame) into
  // tls_out_ and sets tls_frames_: what one TLS write takes.
  void gather_tls_burst();
  // TLS: writes the burst's frames with the transport's non-blocking writes (SSL_write on
  // the socket), waiting when it is full (see above).
  void write_queued_tls();
  bool tls() const { return sock_.is_tls(); }
  // The TCP socket underneath the transport.
  boost::asio::ip::tcp::socket& tcp() { return sock_.socket(); }
  // The flush list of the connection's thread (the room's, or its shard's).
  FlushList& flush_list();
  // Hands a whole text message to the room (directly, or posted to the room's thread).
  void deliver_to_room(std::string_view text);

  // All below: the session's thread only, unless said otherwise.
  http::Transport sock_;
  boost::asio::steady_timer timer_;
  classroom::Participant who_;
  std::optional<classroom::ResumePoint> resume_;
  classroom::TokenBucket flood_;

  // Received bytes not yet a whole frame (the pending read appends to in_ when it reads: only
  // the read loop touches it), and the fragments of a message in progress. Empty (no
  // allocation) for an idle connection.
  std::string in_;
  std::string message_;
  // TLS only: the frames being written (queue_[head_..head_+tls_frames_) copied into
  // tls_out_, of which tls_out_done_ bytes are taken by the TLS layer).
  std::string tls_out_;
  size_t tls_frames_ = 0;
  size_t tls_out_done_ = 0;
  bool in_message_ = false;   // a fragmented message has begun
  bool message_text_ = true;  // ... and is text
  Clock::time_point last_read_;
  Clock::time_point close_deadline_ = Clock::time_point::max();
  Clock::time_point timer_at_ = Clock::time_point::max();  // the timer's pending expiry
  bool timer_waiting_ = false;
  bool ping_sent_ = false;    // a keep-alive ping is out since the last read
  bool close_sent_ = false;   // ... and fully written
  bool peer_closed_ = false;  // the client's close frame arrived
  bool discard_ = false;      // a protocol error: what the client sends is not parsed any more
  bool joined_ = false;       // registered with the host (on a shard: the join was posted)
  bool ended_ = false;        // the read loop has ended
  // TLS: the closing handshake completed, so the connection ends with close_notify (run()).
  bool tls_close_ = false;
};

}  // namespace ws
