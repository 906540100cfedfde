#include "media/transport/udp_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "base/log.h"

namespace media {

namespace asio = boost::asio;
using asio::ip::udp;

UdpServer::UdpServer(asio::io_context& io, const base::Clock* clock)
    : clock_(clock), socket_(io), timer_(io) {}

UdpServer::~UdpServer() { stop(); }

base::Status UdpServer::bind(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return base::invalid_argument("media: bad listen address '" + address + "'");
  udp::endpoint ep(addr, port);
  socket_.open(ep.protocol(), ec);
  // No SO_REUSEADDR: on UDP it would let a second server silently share the port.
  if (!ec) socket_.bind(ep, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    return base::unavailable("media: cannot bind UDP " + address + ":" + std::to_string(port) +
                             ": " + ec.message());
  }
  // Don't fragment, without path MTU discovery (IP_PMTUDISC_PROBE): media packets stay under
  // 1,300 bytes, a fragment lost would lose the whole packet anyway, and with DF set the
  // kernel skips picking an IP ID per datagram (a hash and a shared atomic), which matters
  // at a thousand subscribers.
  if (ep.address().is_v4()) {
    int probe = IP_PMTUDISC_PROBE;
    ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
  }
  // Room for bursts: a key frame to a thousand subscribers is a lot of datagrams at once.
  socket_.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  // On a wildcard address, learn where each datagram arrived (see the header).
  if (addr.is_unspecified()) {
    int on = 1;
    const int fd = socket_.native_handle();
    const int r = ep.address().is_v4()
                      ? ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on)
                      : ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    pktinfo_ = r == 0;
    if (!pktinfo_) {
      base::log::warn("media.pktinfo_unavailable")
          .kv("error", std::string(std::strerror(errno)))
          .kv("note",
              "answers leave by the kernel's route; on a multi-homed host set "
              "EDGECLASS_PUBLIC_IP and bind that address");
    }
  }
  return base::Status::ok();
}

uint16_t UdpServer::local_port() const {
  boost::system::error_code ec;
  auto ep = socket_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void UdpServer::start(Sfu* sfu) {
  sfu_ = sfu;
  running_ = true;
  receive_next();
  arm_timer();
}

void UdpServer::stop() {
  running_ = false;
  boost::system::error_code ec;
  timer_.cancel();
  socket_.close(ec);
}

void UdpServer::receive_next() {
  socket_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (!running_ || ec == asio::error::operation_aborted) return;
    if (!ec) drain();
    receive_next();
  });
}

namespace {

// The sender of a received datagram, as the Sfu names peers (IPv4-mapped IPv6 as IPv4).
SocketAddress from_sockaddr(const sockaddr_storage& ss) {
  SocketAddress a;
  if (ss.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
    std::memcpy(a.ip.data(), &sin.sin_addr, 4);
    a.port = ntohs(sin.sin_port);
    return a;
  }
  const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
  a.port = ntohs(sin6.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
    std::memcpy(a.ip.data(), sin6.sin6_addr.s6_addr + 12, 4);
  } else {
    a.v6 = true;
    std::memcpy(a.ip.data(), sin6.sin6_addr.s6_addr, 16);
  }
  return a;
}

}  // namespace

void UdpServer::drain() {
  // A bound per wake-up, so that the timer and posted work get their turn under a flood.
  for (int i = 0; i < 64 && running_; ++i) {
    sockaddr_storage from{};
    iovec iov{buffer_.data(), buffer_.size()};
    alignas(cmsghdr) char control[kControlBytes];
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(socket_.native_handle(), &mh, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained (an error is consumed by the read; wait again)
    }
    if (n == 0 || (mh.msg_flags & MSG_TRUNC)) continue;  // empty, or larger than any we use
    const SocketAddress peer = from_sockaddr(from);
    const int64_t now = clock_->now_mono_ns();
    if (pktinfo_) remember_local(peer, mh, now);
    in_handler_ = true;
    sfu_->on_udp_packet(std::span<uint8_t>(buffer_.data(), size_t(n)), peer, now);
    in_handler_ = false;
    flush();
  }
}

void UdpServer::remember_local(const SocketAddress& from, msghdr& mh, int64_t now_ns) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    LocalAddress local;
    local.seen_ns = now_ns;
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      local.v4 = info.ipi_addr;  // the datagram's destination address
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      local.v6 = true;
      local.a6 = info.ipi6_addr;
      // A link-local source only means something with its interface.
      if (IN6_IS_ADDR_LINKLOCAL(&info.ipi6_addr)) local.ifindex = info.ipi6_ifindex;
    } else {
      continue;
    }
    local_of_[from] = local;
    break;
  }
  if (now_ns >= next_sweep_ns_) forget_stale_locals(now_ns);
}

void UdpServer::forget_stale_locals(int64_t now_ns) {
  next_sweep_ns_ = now_ns + 10'000'000'000;  // every 10 s
  const int64_t oldest = now_ns - kLocalAddressTtlMs * 1'000'000;
  std::erase_if(local_of_, [oldest](const auto& kv) { return kv.second.seen_ns < oldest; });
}

void UdpServer::set_source(msghdr& m, const SocketAddress& to, char* control) const {
  if (!pktinfo_) return;
  auto it = local_of_.find(to);
  if (it == local_of_.end()) return;
  const LocalAddress& local = it->second;
  std::memset(control, 0, kControlBytes);
  m.msg_control = control;
  cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
  if (!local.v6) {
    m.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_spec_dst = local.v4;  // the source address; the route still picks the interface
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
  } else {
    m.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo info{};
    info.ipi6_addr = local.a6;
    info.ipi6_ifindex = local.ifindex;
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
  }
}

void UdpServer::arm_timer() {
  timer_.expires_after(std::chrono::milliseconds(100));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!running_ || ec) return;
    in_handler_ = true;
    sfu_->on_timer();
    in_handler_ = false;
    flush();
    arm_timer();
  });
}

void UdpServer::send_udp(ByteSpan data, const SocketAddress& to) {
  if (!in_handler_ || data.size() > kMaxDatagram) {
    udp::endpoint ep = to_endpoint(to);
    iovec iov{const_cast<uint8_t*>(data.data()), data.size()};
    msghdr m{};
    m.msg_name = ep.data();
    m.msg_namelen = socklen_t(ep.size());
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(cmsghdr) char control[kControlBytes];
    set_source(m, to, control);
    ssize_t n;
    do {
      n = ::sendmsg(socket_.native_handle(), &m, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) send_errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The batch's slots (~100 KB) are made on the first batched send, not at start-up: a cold
  // start pays for every page it touches (docs/operations.md, "Cold start").
  if (pending_.empty()) pending_.resize(kBatch);
  Pending& p = pending_[pending_count_++];
  std::memcpy(p.data.data(), data.data(), data.size());
  p.len = data.size();
  p.to = to_endpoint(to);
  p.peer = to;
  if (pending_count_ == kBatch) flush();
}

namespace {

// sendmmsg(2) until every message is out; a datagram the kernel refuses (EAGAIN: socket
// buffer full, or an error) is dropped and counted. Media tolerates loss better than delay.
void send_all(int fd, mmsghdr* msgs, size_t count, std::atomic<uint64_t>& errors) {
  size_t sent = 0;
  while (sent < count) {
    int n = ::sendmmsg(fd, msgs + sent, unsigned(count - sent), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      errors.fetch_add(1, std::memory_order_relaxed);
      ++sent;
      continue;
    }
    sent += size_t(n);
  }
}

// Points message `m` (and its one iovec) at `len` bytes of `data` for `to`.
void fill_message(mmsghdr& m, iovec& iov, const uint8_t* data, size_t len, udp::endpoint& to) {
  iov.iov_base = const_cast<uint8_t*>(data);
  iov.iov_len = len;
  m.msg_hdr = msghdr{};
  m.msg_hdr.msg_iov = &iov;
  m.msg_hdr.msg_iovlen = 1;
  m.msg_hdr.msg_name = to.data();
  m.msg_hdr.msg_namelen = socklen_t(to.size());
}

}  // namespace

void UdpServer::flush() {
  if (pending_count_ == 0) return;
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  alignas(cmsghdr) char control[kBatch][kControlBytes];
  for (size_t i = 0; i < pending_count_; ++i) {
    fill_message(msgs[i], iov[i], pending_[i].data.data(), pending_[i].len, pending_[i].to);
    set_source(msgs[i].msg_hdr, pending_[i].peer, control[i]);
  }
  send_all(socket_.native_handle(), msgs.data(), pending_count_, send_errors_);
  pending_count_ = 0;
}

void UdpServer::send_udp_batch(std::span<const Sfu::Datagram> batch) {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::array<udp::endpoint, kBatch> to;
  alignas(cmsghdr) char control[kBatch][kControlBytes];
  while (!batch.empty()) {
    size_t n = std::min(batch.size(), kBatch);
    for (size_t i = 0; i < n; ++i) {
      to[i] = to_endpoint(batch[i].to);
      fill_message(msgs[i], iov[i], batch[i].data.data(), batch[i].data.size(), to[i]);
      set_source(msgs[i].msg_hdr, batch[i].to, control[i]);
    }
    send_all(socket_.native_handle(), msgs.data(), n, send_errors_);
    batch = batch.subspan(n);
  }
}

SocketAddress UdpServer::from_endpoint(const udp::endpoint& e) {
  SocketAddress a;
  auto addr = e.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  if (addr.is_v4()) {
    auto b = addr.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  } else {
    a.v6 = true;
    auto b = addr.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  }
  a.port = e.port();
  return a;
}

udp::endpoint UdpServer::to_endpoint(const SocketAddress& a) {
  if (a.v6) {
    asio::ip::address_v6::bytes_type b;
    std::copy(a.ip.begin(), a.ip.end(), b.begin());
    return {asio::ip::address_v6(b), a.port};
  }
  asio::ip::address_v4::bytes_type b;
  std::copy(a.ip.begin(), a.ip.begin() + 4, b.begin());
  return {asio::ip::address_v4(b), a.port};
}

}  // namespace media
