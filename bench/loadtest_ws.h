// loadtest::WsLoop — many client WebSockets on one thread, on raw non-blocking sockets, an
// io_uring and an epoll set: the receivers of `edgeclass-loadtest live`.
//
// Why not Beast here: the load client shares the machine with the servers it measures, and
// what it spends per received frame is taken from them (and delays its own timestamps). A
// Beast read costs two recvmsg (the data, then a speculative one that finds nothing) and
// several handler hops per frame. Here an open socket has one multishot recv on the loop's
// io_uring (provided buffers; DEFER_TASKRUN, so the kernel does the
// receives of every ready socket inside the loop's one io_uring_enter): no system call per
// frame, which on this paravirtualised box costs more than the receive itself. Frames are
// parsed in place (server frames are not masked). Connecting and the upgrade run on an epoll
// set (the ring polls it); without io_uring (LOADTEST_IO_URING=0, or a kernel that refuses)
// open sockets stay there too: one recv() per readable socket. The receive time handed to
// `on_text` is taken when the loop handles the data, after the kernel put it in our buffer;
// once woken, the loop gathers completions for up to 1 ms (or 64 of them) before handling
// them (LOADTEST_BATCH="count,us"; "1": off), so a receive time can be late by that much,
// never early.
//
//   loadtest::WsLoop loop;            // starts its thread
//   loop.post([&] { loop.connect(conn, {"127.0.0.1", 8080}, "/api/v1/sessions/s/live?token=t"); });
//
// Scope: what a load client needs, not a general client: text frames (fragmented ones
// reassembled), ping answered with pong, a close frame's code kept, no extensions
// (permessage-deflate is not offered), client frames masked as RFC 6455 requires.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace loadtest {

struct WsEndpoint {
  std::string host;  // a numeric IPv4 address
  uint16_t port = 0;
};

class WsLoop;

// One client connection. Every member is used on its loop's thread only.
class WsConn {
 public:
  virtual ~WsConn();

  // The server accepted the upgrade (101).
  virtual void on_open() {}
  // A whole text message; `received_ns` (now_ns()) was taken right after the recv() that
  // completed it.
  virtual void on_text(std::string_view text, int64_t received_ns) = 0;
  // The connection failed before it opened (`status`: the HTTP status of a refused upgrade,
  // 0 for a network error), or ended after it opened (`close_code`: the server's close frame's
  // code, 1006 when the socket ended without one). Called once.
  virtual void on_failed(int status) { (void)status; }
  virtual void on_closed(int close_code) { (void)close_code; }

  // Queues a masked text frame; written at once when the socket takes it.
  void send_text(std::string_view text);
  // Stops reading (a slow consumer: the server's writes pile up in the socket buffers). Only
  // before or in on_open(): an open socket's receive on the ring is not cancelled.
  void stop_reading();
  bool is_open() const { return state_ == State::kOpen; }

 private:
  friend class WsLoop;
  enum class State { kConnecting, kHandshake, kOpen, kDone };
  void send_frame(uint8_t opcode, std::string_view payload);
  void flush();
  void on_readable();
  void on_bytes(std::string_view data, int64_t now);
  void parse(std::string_view data, int64_t now);
  void finish(bool opened, int code);
  void watch(bool out);

  WsLoop* loop_ = nullptr;
  int fd_ = -1;
  State state_ = State::kConnecting;
  bool reading_ = true;
  bool watching_out_ = false;
  bool in_epoll_ = false;
  bool on_ring_ = false;  // reading through the loop's io_uring, not epoll
  int close_code_ = 1006;
  uint32_t mask_seed_ = 0x9e3779b9;
  std::string in_;    // bytes not yet parsed (an incomplete frame or response)
  std::string out_;   // bytes the socket has not taken yet
  std::string frag_;  // a fragmented text message so far
};

class WsLoop {
 public:
  WsLoop();   // starts the thread
  ~WsLoop();  // stops it and closes every socket
  WsLoop(const WsLoop&) = delete;
  WsLoop& operator=(const WsLoop&) = delete;

  // Runs `fn` on the loop's thread, in order.
  void post(std::function<void()> fn);
  // Loop thread only: opens `c` to `ep` and upgrades with GET `target`. `rcvbuf` > 0 sets
  // SO_RCVBUF before the connect.
  void connect(std::shared_ptr<WsConn> c, const WsEndpoint& ep, const std::string& target,
               int rcvbuf = 0);
  // Whether open sockets read through io_uring (known once the thread started).
  bool uses_io_uring() const { return ring_ready_.load(); }

 private:
  friend class WsConn;
  struct Ring;
  void run();
  void run_posted();
  void poll_epoll(int timeout_ms);
  void to_ring(WsConn* c);
  void on_completion(uint64_t user_data, int res, uint32_t flags);

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;   // guarded by mu_
  std::vector<std::shared_ptr<WsConn>> conns_;  // loop thread: every connection made here
  std::vector<char> buf_;                       // loop thread: what recv() reads into
  std::unique_ptr<Ring> ring_;                  // loop thread; null: epoll only
  std::atomic<bool> ring_ready_{false};
  std::thread thread_;
};

}  // namespace loadtest
