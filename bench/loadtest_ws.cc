#include "loadtest_ws.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loadtest_common.h"

namespace loadtest {

namespace {
constexpr size_t kReadSize = 64 * 1024;
constexpr uint8_t kText = 0x1, kContinuation = 0x0, kClose = 0x8, kPing = 0x9;
}  // namespace

WsConn::~WsConn() {
  if (fd_ >= 0) ::close(fd_);
}

void WsConn::watch(bool out) {
  if (fd_ < 0 || state_ == State::kDone) return;
  epoll_event ev{};
  ev.events = (reading_ ? uint32_t(EPOLLIN) : 0u) | (out ? uint32_t(EPOLLOUT) : 0u);
  ev.data.ptr = this;
  epoll_ctl(loop_->epoll_fd_, EPOLL_CTL_MOD, fd_, &ev);
  watching_out_ = out;
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
  epoll_ctl(loop_->epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
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
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    finish(state_ == State::kOpen, state_ == State::kOpen ? close_code_ : 0);
    return;
  }
  if (n == 0) {
    finish(state_ == State::kOpen, state_ == State::kOpen ? close_code_ : 0);
    return;
  }
  std::string_view data(buf, size_t(n));
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

// ---- WsLoop ---------------------------------------------------------------------------------

WsLoop::WsLoop() : buf_(kReadSize) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { run(); });
}

WsLoop::~WsLoop() {
  stop_ = true;
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
  conns_.clear();
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
  c->watching_out_ = true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = c.get();
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  conns_.push_back(std::move(c));
}

void WsLoop::run() {
  std::vector<epoll_event> events(512);
  while (!stop_) {
    int n = epoll_wait(epoll_fd_, events.data(), int(events.size()), -1);
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<WsConn*>(events[size_t(i)].data.ptr);
      if (!c) {
        run_posted();
        continue;
      }
      const uint32_t e = events[size_t(i)].events;
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
          c->state_ != WsConn::State::kConnecting && c->reading_) {
        c->on_readable();
      }
    }
  }
}

}  // namespace loadtest
