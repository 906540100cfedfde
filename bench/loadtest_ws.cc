#include "loadtest_ws.h"

#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>

#include "loadtest_common.h"

namespace loadtest {

namespace {
constexpr size_t kReadSize = 64 * 1024;
constexpr uint8_t kText = 0x1, kContinuation = 0x0, kClose = 0x8, kPing = 0x9;
}  // namespace

WsConn::~WsConn() {
  if (fd_ >= 0) ::close(fd_);
}

// The epoll interest: reading (unless the ring reads, or reading stopped) and writing.
void WsConn::watch(bool out) {
  if (fd_ < 0 || state_ == State::kDone) return;
  epoll_event ev{};
  ev.events = (reading_ && !on_ring_ ? uint32_t(EPOLLIN) : 0u) | (out ? uint32_t(EPOLLOUT) : 0u);
  ev.data.ptr = this;
  watching_out_ = out;
  if (ev.events == 0) {
    if (in_epoll_) epoll_ctl(loop_->epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
    in_epoll_ = false;
    return;
  }
  epoll_ctl(loop_->epoll_fd_, in_epoll_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd_, &ev);
  in_epoll_ = true;
}

void WsConn::send_frame(uint8_t opcode, std::string_view payload) {
  if (state_ != State::kOpen) return;
  char head[14];
  size_t h = 0;
  head[h++] = char(0x80 | opcode);
  if (payload.size() < 126) {
    head[h++] = char(0x80 | payload.size());
  } else if (payload.size() < 65536) {
    head[h++] = char(0x80 | 126);
    head[h++] = char(payload.size() >> 8);
    head[h++] = char(payload.size());
  } else {
    head[h++] = char(0x80 | 127);
    for (int i = 7; i >= 0; --i) head[h++] = char(uint64_t(payload.size()) >> (8 * i));
  }
  // xorshift32: a different mask for every frame (the server only unmasks it).
  uint32_t m = mask_seed_;
  m ^= m << 13;
  m ^= m >> 17;
  m ^= m << 5;
  mask_seed_ = m;
  char mask[4] = {char(m), char(m >> 8), char(m >> 16), char(m >> 24)};
  std::memcpy(head + h, mask, 4);
  h += 4;
  size_t at = out_.size();
  out_.append(head, h);
  out_.append(payload);
  for (size_t i = 0; i < payload.size(); ++i) out_[at + h + i] ^= mask[i & 3];
  if (!watching_out_) flush();
}

void WsConn::send_text(std::string_view text) { send_frame(kText, text); }

void WsConn::stop_reading() {
  reading_ = false;
  watch(watching_out_);
}

void WsConn::flush() {
  while (!out_.empty()) {
    ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.erase(0, size_t(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!watching_out_) watch(true);
      return;
    }
    finish(state_ == State::kOpen, state_ == State::kOpen ? 1006 : 0);
    return;
  }
  if (watching_out_) watch(false);
}

void WsConn::finish(bool opened, int code) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  if (in_epoll_) epoll_ctl(loop_->epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
  in_epoll_ = false;
  // A multishot recv holds the socket open past close(): shutdown ends it (its last
  // completion then finds this connection done).
  if (on_ring_) ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
  fd_ = -1;
  if (opened)
    on_closed(code);
  else
    on_failed(code);
}

void WsConn::on_readable() {
  char* buf = loop_->buf_.data();
  ssize_t n = ::recv(fd_, buf, kReadSize, 0);
  const int64_t now = now_ns();  // the receive time of everything this read completes
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    finish(state_ == State::kOpen, state_ == State::kOpen ? close_code_ : 0);
    return;
  }
  on_bytes(std::string_view(buf, size_t(n)), now);
}

void WsConn::on_bytes(std::string_view data, int64_t now) {
  if (state_ == State::kHandshake) {
    in_.append(data);
    auto end = in_.find("\r\n\r\n");
    if (end == std::string::npos) return;
    // "HTTP/1.1 101 Switching Protocols"
    int status = 0;
    if (in_.size() > 12 && in_.compare(0, 5, "HTTP/") == 0) status = std::atoi(in_.c_str() + 9);
    if (status != 101) {
      finish(false, status);
      return;
    }
    std::string rest = in_.substr(end + 4);
    in_.clear();
    state_ = State::kOpen;
    on_open();
    if (state_ == State::kOpen && !rest.empty()) parse(rest, now);
    if (state_ == State::kOpen && reading_ && loop_->ring_) loop_->to_ring(this);
    return;
  }
  if (state_ != State::kOpen) return;
  if (in_.empty()) {
    parse(data, now);
  } else {
    in_.append(data);
    std::string all = std::move(in_);
    in_.clear();
    parse(all, now);
  }
}

// Whole frames of `data` are handled; an incomplete one is kept in in_.
void WsConn::parse(std::string_view data, int64_t now) {
  while (state_ == State::kOpen) {
    if (data.size() < 2) break;
    auto b = reinterpret_cast<const uint8_t*>(data.data());
    const bool fin = b[0] & 0x80;
    const uint8_t op = b[0] & 0x0f;
    const bool masked = b[1] & 0x80;
    uint64_t len = b[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
      if (data.size() < 4) break;
      len = (uint64_t(b[2]) << 8) | b[3];
      h = 4;
    } else if (len == 127) {
      if (data.size() < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
      h = 10;
    }
    const size_t mask_at = h;
    if (masked) h += 4;
    if (data.size() < h || data.size() - h < len) break;
    std::string unmasked;
    std::string_view payload = data.substr(h, size_t(len));
    if (masked) {  // servers do not mask; accepted anyway
      unmasked.assign(payload);
      for (size_t i = 0; i < unmasked.size(); ++i) unmasked[i] ^= char(b[mask_at + (i & 3)]);
      payload = unmasked;
    }
    data.remove_prefix(h + size_t(len));
    if (op == kText || op == kContinuation) {
      if (op == kText && fin && frag_.empty()) {
        on_text(payload, now);
      } else {
        frag_.append(payload);
        if (fin) {
          std::string whole = std::move(frag_);
          frag_.clear();
          on_text(whole, now);
        }
      }
    } else if (op == kClose) {
      close_code_ = payload.size() >= 2 ? (uint8_t(payload[0]) << 8) | uint8_t(payload[1]) : 1005;
      send_frame(kClose, payload.substr(0, 2));
    } else if (op == kPing) {
      send_frame(0xA, payload);
    }
  }
  if (state_ == State::kOpen && !data.empty()) in_.assign(data);
}

// ---- the ring ------------------------------------------------------------------------------

namespace {

int ring_setup(unsigned entries, io_uring_params* p) {
  return int(::syscall(__NR_io_uring_setup, entries, p));
}
int ring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
               io_uring_getevents_arg* arg = nullptr) {
  return int(::syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
                       flags | (arg ? IORING_ENTER_EXT_ARG : 0u), arg, arg ? sizeof *arg : 0));
}
template <typename T>
T load_acquire(const T* p) {
  return std::atomic_ref<const T>(*p).load(std::memory_order_acquire);
}
template <typename T>
void store_release(T* p, T v) {
  std::atomic_ref<T>(*p).store(v, std::memory_order_release);
}

constexpr uint64_t kEpollTag = 1;    // user_data of the poll on the epoll set (conns are aligned)
constexpr uint64_t kProvideTag = 2;  // of buffers handed back
constexpr unsigned kBuffers = 4096;  // provided buffers (a power of two)
constexpr unsigned kBufferSize = 4096;

}  // namespace

// One io_uring for one loop thread (SINGLE_ISSUER | DEFER_TASKRUN: created and entered by
// that thread only, and completion work runs when it enters), with one group of provided
// buffers that the multishot receives fill, each handed back once its bytes are parsed.
struct WsLoop::Ring {
  int fd = -1;
  void* sq_map = MAP_FAILED;
  size_t sq_len = 0;
  void* cq_map = MAP_FAILED;
  size_t cq_len = 0;
  io_uring_sqe* sqes = static_cast<io_uring_sqe*>(MAP_FAILED);
  size_t sqes_len = 0;
  unsigned *sq_head = nullptr, *sq_tail = nullptr, *sq_array = nullptr;
  unsigned sq_mask = 0, sq_entries = 0;
  unsigned *cq_head = nullptr, *cq_tail = nullptr;
  unsigned cq_mask = 0;
  io_uring_cqe* cqes = nullptr;
  unsigned to_submit = 0;
  std::vector<char> buffers;

  ~Ring() {
    if (sqes != MAP_FAILED) munmap(sqes, sqes_len);
    if (cq_map != MAP_FAILED && cq_map != sq_map) munmap(cq_map, cq_len);
    if (sq_map != MAP_FAILED) munmap(sq_map, sq_len);
    if (fd >= 0) ::close(fd);
  }

  // Null when this kernel (or a seccomp policy) gives no ring with multishot receives.
  static std::unique_ptr<Ring> create() {
    auto r = std::make_unique<Ring>();
    io_uring_params p{};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE |
              IORING_SETUP_SUBMIT_ALL;
    p.cq_entries = 65536;
    r->fd = ring_setup(1024, &p);
    if (r->fd < 0 || !(p.features & IORING_FEAT_SINGLE_MMAP)) return nullptr;
    r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    r->sq_len = r->cq_len = std::max(r->sq_len, r->cq_len);
    r->sq_map = mmap(nullptr, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                     IORING_OFF_SQ_RING);
    if (r->sq_map == MAP_FAILED) return nullptr;
    r->cq_map = r->sq_map;
    r->sqes_len = p.sq_entries * sizeof(io_uring_sqe);
    r->sqes = static_cast<io_uring_sqe*>(mmap(nullptr, r->sqes_len, PROT_READ | PROT_WRITE,
                                              MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES));
    if (r->sqes == MAP_FAILED) return nullptr;
    auto* sq = static_cast<char*>(r->sq_map);
    r->sq_head = reinterpret_cast<unsigned*>(sq + p.sq_off.head);
    r->sq_tail = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
    r->sq_mask = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
    r->sq_entries = p.sq_entries;
    r->sq_array = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
    r->cq_head = reinterpret_cast<unsigned*>(sq + p.cq_off.head);
    r->cq_tail = reinterpret_cast<unsigned*>(sq + p.cq_off.tail);
    r->cq_mask = *reinterpret_cast<unsigned*>(sq + p.cq_off.ring_mask);
    r->cqes = reinterpret_cast<io_uring_cqe*>(sq + p.cq_off.cqes);
    // The provided buffers (IORING_OP_PROVIDE_BUFFERS: this kernel's provided-buffer rings
    // answered every receive with ENOBUFS), all given at once; the first enter hands them over.
    r->buffers.resize(size_t(kBuffers) * kBufferSize);
    io_uring_sqe* e = r->sqe();
    e->opcode = IORING_OP_PROVIDE_BUFFERS;
    e->fd = int(kBuffers);  // how many
    e->addr = reinterpret_cast<uint64_t>(r->buffers.data());
    e->len = kBufferSize;
    e->off = 0;  // the first buffer's id
    e->buf_group = 0;
    e->user_data = kProvideTag;
    return r;
  }

  char* buffer(uint16_t bid) { return buffers.data() + size_t(bid) * kBufferSize; }
  // Hands buffer `bid` back to the kernel (at the next enter; no completion unless it fails).
  void give_back(uint16_t bid) {
    io_uring_sqe* e = sqe();
    e->opcode = IORING_OP_PROVIDE_BUFFERS;
    e->flags = IOSQE_CQE_SKIP_SUCCESS;
    e->fd = 1;
    e->addr = reinterpret_cast<uint64_t>(buffer(bid));
    e->len = kBufferSize;
    e->off = bid;
    e->buf_group = 0;
    e->user_data = kProvideTag;
  }

  io_uring_sqe* sqe() {
    unsigned tail = *sq_tail;
    if (tail - load_acquire(sq_head) >= sq_entries) {
      enter(0);
      tail = *sq_tail;
    }
    io_uring_sqe* e = &sqes[tail & sq_mask];
    std::memset(e, 0, sizeof *e);
    sq_array[tail & sq_mask] = tail & sq_mask;
    store_release(sq_tail, tail + 1);
    ++to_submit;
    return e;
  }
  // Submits what is queued and, with `wait`, waits for at least one completion.
  void enter(unsigned wait) {
    int n = ring_enter(fd, to_submit, wait, wait ? IORING_ENTER_GETEVENTS : 0);
    if (n >= 0) to_submit -= std::min(to_submit, unsigned(n));
  }
  // Waits until `wait` completions are ready or `timeout_ns` passed; how many are ready.
  unsigned enter_for(unsigned wait, int64_t timeout_ns) {
    __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
    io_uring_getevents_arg arg{};
    arg.ts = reinterpret_cast<uint64_t>(&ts);
    int n = ring_enter(fd, to_submit, wait, IORING_ENTER_GETEVENTS, &arg);
    if (n >= 0) to_submit -= std::min(to_submit, unsigned(n));
    return load_acquire(cq_tail) - *cq_head;
  }
  void recv_multishot(int sock, uint64_t tag) {
    io_uring_sqe* e = sqe();
    e->opcode = IORING_OP_RECV;
    e->fd = sock;
    e->flags = IOSQE_BUFFER_SELECT;
    e->ioprio = IORING_RECV_MULTISHOT;
    e->buf_group = 0;
    e->user_data = tag;
  }
  void poll_multishot(int fd_to_poll, uint64_t tag) {
    io_uring_sqe* e = sqe();
    e->opcode = IORING_OP_POLL_ADD;
    e->fd = fd_to_poll;
    e->poll32_events = POLLIN;
    e->len = IORING_POLL_ADD_MULTI;
    e->user_data = tag;
  }
};

// ---- WsLoop ---------------------------------------------------------------------------------

WsLoop::WsLoop() : buf_(kReadSize) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  std::promise<void> started;
  thread_ = std::thread([this, &started] {
    // The ring belongs to this thread (SINGLE_ISSUER).
    const char* env = std::getenv("LOADTEST_IO_URING");
    if (!(env && std::strcmp(env, "0") == 0)) ring_ = Ring::create();
    ring_ready_ = ring_ != nullptr;
    started.set_value();
    run();
  });
  started.get_future().wait();
}

WsLoop::~WsLoop() {
  stop_ = true;
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
  conns_.clear();
  ring_.reset();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void WsLoop::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void WsLoop::run_posted() {
  uint64_t n;
  (void)!::read(wake_fd_, &n, sizeof n);
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fns.swap(posted_);
  }
  for (auto& fn : fns) fn();
}

void WsLoop::connect(std::shared_ptr<WsConn> c, const WsEndpoint& ep, const std::string& target,
                     int rcvbuf) {
  c->loop_ = this;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    c->state_ = WsConn::State::kDone;
    c->on_failed(0);
    return;
  }
  c->fd_ = fd;
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(ep.port);
  inet_pton(AF_INET, ep.host.c_str(), &addr.sin_addr);
  c->mask_seed_ ^= uint32_t(fd) * 2654435761u;
  int r = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (r < 0 && errno != EINPROGRESS) {
    c->state_ = WsConn::State::kDone;
    ::close(fd);
    c->fd_ = -1;
    c->on_failed(0);
    return;
  }
  // The key is fixed: the client does not check Sec-WebSocket-Accept (a load tool talking to a
  // server it started).
  c->out_ = "GET " + target + " HTTP/1.1\r\nHost: " + ep.host + ":" + std::to_string(ep.port) +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  c->state_ = WsConn::State::kConnecting;
  c->watch(true);
  conns_.push_back(std::move(c));
}

void WsLoop::to_ring(WsConn* c) {
  c->on_ring_ = true;
  c->watch(c->watching_out_);  // leaves the epoll set unless it waits to write
  ring_->recv_multishot(c->fd_, reinterpret_cast<uint64_t>(c));
}

// Handles what the epoll set has ready, waiting up to `timeout_ms`.
void WsLoop::poll_epoll(int timeout_ms) {
  epoll_event events[256];
  for (int pass = 0; pass < 64; ++pass) {  // bounded: a socket that stays ready waits a turn
    int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<WsConn*>(events[i].data.ptr);
      if (!c) {
        run_posted();
        continue;
      }
      const uint32_t e = events[i].events;
      if (c->state_ == WsConn::State::kConnecting && (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          c->finish(false, 0);
          continue;
        }
        c->state_ = WsConn::State::kHandshake;
      }
      if ((e & EPOLLOUT) && c->state_ != WsConn::State::kDone) c->flush();
      if ((e & (EPOLLIN | EPOLLERR | EPOLLHUP)) && c->state_ != WsConn::State::kDone &&
          c->state_ != WsConn::State::kConnecting && c->reading_ && !c->on_ring_) {
        c->on_readable();
      }
    }
    // Blocking only the first time; then what is still (or newly) ready, until nothing is:
    // the ring's poll of the set fires on new readiness only.
    if (timeout_ms != 0 && !ring_) return;
    timeout_ms = 0;
  }
}

void WsLoop::on_completion(uint64_t user_data, int res, uint32_t flags) {
  const bool more = flags & IORING_CQE_F_MORE;
  if (user_data == kProvideTag) return;  // only a failure completes (none expected)
  if (user_data == kEpollTag) {
    poll_epoll(0);
    if (!more) ring_->poll_multishot(epoll_fd_, kEpollTag);
    return;
  }
  auto* c = reinterpret_cast<WsConn*>(user_data);
  if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
    const auto bid = uint16_t(flags >> IORING_CQE_BUFFER_SHIFT);
    if (c->state_ == WsConn::State::kOpen)
      c->on_bytes(std::string_view(ring_->buffer(bid), size_t(res)), now_ns());
    ring_->give_back(bid);
    if (!more && c->state_ == WsConn::State::kOpen) ring_->recv_multishot(c->fd_, user_data);
    return;
  }
  if (res == -ENOBUFS && c->state_ == WsConn::State::kOpen) {
    if (!more) ring_->recv_multishot(c->fd_, user_data);  // buffers come back below
    return;
  }
  // End of stream or an error (or the end of a receive this connection's finish() cut).
  if (c->state_ != WsConn::State::kDone)
    c->finish(c->state_ == WsConn::State::kOpen, c->close_code_);
}

void WsLoop::run() {
  if (!ring_) {
    while (!stop_) poll_epoll(-1);
    return;
  }
  // Wake-ups cost more than receives on this box: once woken, the loop gathers completions for
  // up to kWindow (or until kBatch are ready) before it handles them, like a NIC's interrupt
  // coalescing. A receive time can only be late by that much, never early.
  unsigned batch = 64;
  int64_t window_ns = 1'000'000;
  if (const char* b = std::getenv("LOADTEST_BATCH")) {  // "count,microseconds"; "1" disables
    batch = unsigned(std::max(1, std::atoi(b)));
    if (const char* c = std::strchr(b, ',')) window_ns = int64_t(std::atoi(c + 1)) * 1000;
  }
  ring_->poll_multishot(epoll_fd_, kEpollTag);
  bool woken = false;
  while (!stop_) {
    if (woken && batch > 1)
      woken = ring_->enter_for(batch, window_ns) > 0;
    else
      ring_->enter(1);
    unsigned head = *ring_->cq_head;
    const unsigned tail = load_acquire(ring_->cq_tail);
    woken = woken || head != tail;
    for (; head != tail; ++head) {
      const io_uring_cqe& cqe = ring_->cqes[head & ring_->cq_mask];
      uint64_t user_data = cqe.user_data;
      int res = cqe.res;
      uint32_t flags = cqe.flags;
      store_release(ring_->cq_head, head + 1);
      on_completion(user_data, res, flags);
    }
  }
}

}  // namespace loadtest
