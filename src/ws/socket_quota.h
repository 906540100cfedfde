// ws::SocketQuota — how many live sockets each user holds, and the per-user limit
// (docs/live-protocol.md, "Connecting"). One user with many tabs, or a script opening
// sockets with one stolen token, cannot take more than `max_per_user` places in the server.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ws {

class SocketQuota : public std::enable_shared_from_this<SocketQuota> {
 public:
  // `max_per_user` 0: no limit. Create with std::make_shared (holds keep the quota alive).
  explicit SocketQuota(size_t max_per_user) : max_per_user_(max_per_user) {}

  // A hold on one of `user`'s places, released when the last copy is destroyed (keep it
  // with the socket); nullptr when the user already holds `max_per_user` (counted in
  // refused()). Thread-safe.
  std::shared_ptr<void> acquire(const std::string& user);

  size_t max_per_user() const { return max_per_user_; }
  // Sockets `user` holds now.
  size_t held(const std::string& user) const;
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  void release(const std::string& user);

  const size_t max_per_user_;
  std::atomic<uint64_t> refused_{0};
  mutable std::mutex mu_;                         // guards held_
  std::unordered_map<std::string, size_t> held_;  // users with at least one socket
};

}  // namespace ws
