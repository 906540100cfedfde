#include "media/transport/udp_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/log.h"

namespace media {

namespace asio = boost::asio;
using asio::ip::udp;

UdpServer::UdpServer(asio::io_context& io, const base::Clock* clock)
    : clock_(clock), socket_(io), timer_(io), pending_(kBatch) {}

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
  socket_.async_receive_from(asio::buffer(buffer_), from_,
                             [this](const boost::system::error_code& ec, size_t n) {
                               if (!running_ || ec == asio::error::operation_aborted) return;
                               if (!ec && n > 0) {
                                 in_handler_ = true;
                                 sfu_->on_udp_packet(std::span<uint8_t>(buffer_.data(), n),
                                                     from_endpoint(from_), clock_->now_mono_ns());
                                 in_handler_ = false;
                                 flush();
                               }
                               receive_next();
                             });
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
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(data.data(), data.size()), to_endpoint(to), 0, ec);
    if (ec) send_errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Pending& p = pending_[pending_count_++];
  std::memcpy(p.data.data(), data.data(), data.size());
  p.len = data.size();
  p.to = to_endpoint(to);
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
  for (size_t i = 0; i < pending_count_; ++i) {
    fill_message(msgs[i], iov[i], pending_[i].data.data(), pending_[i].len, pending_[i].to);
  }
  send_all(socket_.native_handle(), msgs.data(), pending_count_, send_errors_);
  pending_count_ = 0;
}

void UdpServer::send_udp_batch(std::span<const Sfu::Datagram> batch) {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::array<udp::endpoint, kBatch> to;
  while (!batch.empty()) {
    size_t n = std::min(batch.size(), kBatch);
    for (size_t i = 0; i < n; ++i) {
      to[i] = to_endpoint(batch[i].to);
      fill_message(msgs[i], iov[i], batch[i].data.data(), batch[i].data.size(), to[i]);
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
