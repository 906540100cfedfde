// UdpServer: the one UDP socket all WebRTC peers share (EDGECLASS_MEDIA_PORT). It receives
// datagrams and hands them to the Sfu, which demultiplexes by ICE ufrag and then by source
// address, sends what the Sfu emits, and ticks the Sfu's timers every 100 ms.
//
// Everything runs on the io_context's thread, which thereby is the Sfu's thread. The only
// Asio code of the media plane lives here.
//
// Sends made while handling a datagram or a timer tick are batched and leave in one
// sendmmsg(2) call at the end of the handler (or when kBatch datagrams are waiting): a key
// frame fanned out to a thousand subscribers is a thousand datagrams, and the syscall per
// datagram would dominate. Sends from outside the handlers go out at once.
//
// Multi-homed hosts: bound to a wildcard address (0.0.0.0 or ::), the socket asks the kernel
// for each datagram's destination address (IP_PKTINFO, IPV6_RECVPKTINFO) and remembers it
// per remote address; what is sent to that remote leaves from that address (IP_PKTINFO /
// IPV6_PKTINFO on sendmsg). Otherwise the kernel would pick the source by its route to the
// browser, which on a host with several addresses need not be the candidate the browser
// checked, and the browser drops answers from an address it did not send to. An entry not
// refreshed for kLocalAddressTtlMs is forgotten.
#pragma once

#include <netinet/in.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "media/sfu/sfu.h"

namespace media {

class UdpServer final : public Sfu::PacketSender {
 public:
  // `io` and `clock` must outlive the server.
  UdpServer(boost::asio::io_context& io, const base::Clock* clock);
  ~UdpServer() override;

  // Opens and binds the socket; port 0 picks a free port (tests).
  base::Status bind(const std::string& address, uint16_t port);
  // Starts receiving into `sfu` (which must outlive the server or stop()).
  void start(Sfu* sfu);
  // Cancels the receive loop and the timer; safe to call twice.
  void stop();

  uint16_t local_port() const;
  // True when replies leave from the address each peer's datagrams arrived at (wildcard
  // bind; see above).
  bool tracks_local_addresses() const { return pktinfo_; }
  uint64_t send_errors() const { return send_errors_.load(std::memory_order_relaxed); }

  // Sfu::PacketSender: a non-blocking send; a full socket buffer drops the datagram (media
  // tolerates loss better than delay).
  void send_udp(ByteSpan data, const SocketAddress& to) override;
  // Thread-safe (the fan-out threads call it together): sendmmsg(2) straight on the socket,
  // without the media thread's pending batch.
  void send_udp_batch(std::span<const Sfu::Datagram> batch) override;

  static SocketAddress from_endpoint(const boost::asio::ip::udp::endpoint& e);
  static boost::asio::ip::udp::endpoint to_endpoint(const SocketAddress& a);

 private:
  // Where a peer's datagrams arrived, for IP_PKTINFO/IPV6_PKTINFO on the answers.
  struct LocalAddress {
    bool v6 = false;
    in_addr v4{};
    in6_addr a6{};
    unsigned ifindex = 0;  // IPv6 link-local only
    int64_t seen_ns = 0;
  };
  // Room for one IPV6_PKTINFO (the larger of the two) control message.
  static constexpr size_t kControlBytes = 64;

  void receive_next();
  // Reads the datagrams waiting on the socket (up to a bound) and hands each to the Sfu.
  void drain();
  void remember_local(const SocketAddress& from, msghdr& mh, int64_t now_ns);
  // Adds the source-address control message for `to` to `m`, when one is known.
  void set_source(msghdr& m, const SocketAddress& to, char* control) const;
  void forget_stale_locals(int64_t now_ns);
  void arm_timer();
  void flush();

  static constexpr size_t kBatch = 64;
  static constexpr size_t kMaxDatagram = 1600;
  static constexpr int64_t kLocalAddressTtlMs = 120'000;
  struct Pending {
    std::array<uint8_t, kMaxDatagram> data;
    size_t len = 0;
    boost::asio::ip::udp::endpoint to;
    SocketAddress peer;  // `to` as the Sfu names it (the key of local_of_)
  };

  const base::Clock* clock_;  // not owned
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_;
  Sfu* sfu_ = nullptr;  // not owned
  std::array<uint8_t, 2048> buffer_{};
  bool running_ = false;
  bool in_handler_ = false;       // sends are batched while true
  std::vector<Pending> pending_;  // kBatch slots once used; the first pending_count_ are in use
  size_t pending_count_ = 0;
  std::atomic<uint64_t> send_errors_{0};
  bool pktinfo_ = false;  // bound to a wildcard address: track each peer's local address
  // Written by the media thread when a datagram arrives (never during a fan-out, which runs
  // inside the handler after the write), read by it and by the fan-out workers when sending.
  std::unordered_map<SocketAddress, LocalAddress, SocketAddressHash> local_of_;
  int64_t next_sweep_ns_ = 0;
};

}  // namespace media
