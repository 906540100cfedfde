// FanoutPool: the SFU's parallel fan-out for big classes.
//
// One teacher packet becomes a thousand subscriber packets, each SRTP-protected with its own
// keys and handed to the kernel; on one thread the last student gets it a thousand sends
// after the first. While the Sfu handles one datagram it queues every subscriber packet here
// (a copy with SRTP headroom) instead of sending it; run() then protects and sends them on
// `threads` threads at once — the calling (media) thread and threads-1 workers — and records
// each packet's forwarding latency (arrival to sendmmsg) in its room.
//
// Safety: packets are queued by lane, and a transport always uses the same lane
// (Sfu assigns lanes round-robin when it creates a transport), so during run() a transport's
// outbound SRTP session is used by exactly one thread. The media thread does nothing else
// until run() returns, and nothing else touches the queued transports meanwhile. Below
// kMinParallel packets run() stays on the calling thread (no wake-ups for small rooms).
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "media/common/bytes.h"
#include "media/sfu/sfu.h"

namespace media {

class FanoutPool {
 public:
  static constexpr size_t kMinParallel = 16;

  // `threads` >= 2 (the caller's thread counts as one). `sender` must be safe to call from
  // several threads at once (Sfu::PacketSender::send_udp_batch). Both pointers outlive
  // the pool.
  FanoutPool(int threads, Sfu::PacketSender* sender, const base::Clock* clock);
  ~FanoutPool();  // joins the workers
  FanoutPool(const FanoutPool&) = delete;
  FanoutPool& operator=(const FanoutPool&) = delete;

  int threads() const { return int(lanes_.size()); }
  // Queues buffer[0, len) (a plain RTP packet) for `transport`, whose lane is `lane`; its
  // forwarding latency goes to `room` once sent.
  void add(int lane, WebRtcTransport* transport, Room* room, int64_t arrival_ns,
           std::span<const uint8_t> packet);
  bool empty() const { return queued_ == 0; }
  // Protects and sends everything queued, then records the latencies. Returns when done.
  void run();

 private:
  struct Job {
    WebRtcTransport* transport;
    Room* room;
    int64_t arrival_ns;
    int64_t sent_ns;
    size_t offset;  // into the lane's arena
    size_t len;
  };
  struct Lane {
    std::vector<Job> jobs;
    std::vector<uint8_t> arena;  // the packets, each followed by SRTP headroom
  };

  void run_lane(Lane& lane);
  void worker(int index);

  Sfu::PacketSender* sender_;  // not owned
  const base::Clock* clock_;   // not owned
  std::vector<Lane> lanes_;
  size_t queued_ = 0;
  std::vector<std::thread> workers_;     // worker i runs lane i + 1
  std::atomic<uint32_t> generation_{0};  // bumped to start a run (or to stop)
  std::atomic<uint32_t> remaining_{0};   // workers still running the current run
  std::atomic<bool> stopping_{false};
};

}  // namespace media
