#include "media/sfu/fanout_pool.h"

#include <pthread.h>

#include <array>
#include <cstring>

#include "media/sfu/room.h"
#include "media/transport/webrtc_transport.h"

namespace media {

namespace {
// Datagrams per send_udp_batch call (one sendmmsg).
constexpr size_t kBatch = 32;
}  // namespace

FanoutPool::FanoutPool(int threads, Sfu::PacketSender* sender, const base::Clock* clock)
    : sender_(sender), clock_(clock), lanes_(size_t(threads < 2 ? 2 : threads)) {
  for (size_t i = 1; i < lanes_.size(); ++i) {
    workers_.emplace_back([this, i] {
      const std::string name = "ec-fanout-" + std::to_string(i);  // top -H, perf
      pthread_setname_np(pthread_self(), name.c_str());
      worker(int(i));
    });
  }
}

FanoutPool::~FanoutPool() {
  stopping_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

void FanoutPool::add(int lane, WebRtcTransport* transport, Room* room, int64_t arrival_ns,
                     std::span<const uint8_t> packet) {
  Lane& l = lanes_[size_t(lane) % lanes_.size()];
  size_t offset = l.arena.size();
  l.arena.resize(offset + packet.size() + Room::kSendHeadroom);
  std::memcpy(l.arena.data() + offset, packet.data(), packet.size());
  l.jobs.push_back(Job{transport, room, arrival_ns, 0, offset, packet.size()});
  ++queued_;
}

void FanoutPool::run() {
  if (queued_ == 0) return;
  if (queued_ < kMinParallel) {
    for (Lane& l : lanes_) run_lane(l);
  } else {
    // The jobs were written by this thread; the release on generation_ publishes them to
    // the workers, and their release on remaining_ publishes the send times back.
    remaining_.store(uint32_t(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    run_lane(lanes_[0]);
    for (uint32_t left; (left = remaining_.load(std::memory_order_acquire)) != 0;) {
      remaining_.wait(left, std::memory_order_acquire);
    }
  }
  for (Lane& l : lanes_) {
    for (const Job& j : l.jobs) {
      if (j.sent_ns) j.room->observe_forward_latency(j.sent_ns - j.arrival_ns);
    }
    l.jobs.clear();
    l.arena.clear();
  }
  queued_ = 0;
}

void FanoutPool::run_lane(Lane& lane) {
  std::array<Sfu::Datagram, kBatch> batch;
  std::array<Job*, kBatch> owners;
  size_t n = 0;
  auto flush = [&] {
    if (n == 0) return;
    sender_->send_udp_batch(std::span<const Sfu::Datagram>(batch.data(), n));
    int64_t now = clock_->now_mono_ns();
    for (size_t i = 0; i < n; ++i) owners[i]->sent_ns = now;
    n = 0;
  };
  for (Job& j : lane.jobs) {
    std::span<uint8_t> buffer(lane.arena.data() + j.offset, j.len + Room::kSendHeadroom);
    SocketAddress to;
    auto protected_len = j.transport->protect_rtp(buffer, j.len, &to);
    if (!protected_len.is_ok()) continue;  // not connected (yet, or any more)
    batch[n] = Sfu::Datagram{buffer.first(*protected_len), to};
    owners[n] = &j;
    if (++n == kBatch) flush();
  }
  flush();
}

void FanoutPool::worker(int index) {
  uint32_t seen = generation_.load(std::memory_order_acquire);
  for (;;) {
    generation_.wait(seen, std::memory_order_acquire);
    seen = generation_.load(std::memory_order_acquire);
    if (stopping_.load(std::memory_order_acquire)) return;
    run_lane(lanes_[size_t(index)]);
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) remaining_.notify_one();
  }
}

}  // namespace media
