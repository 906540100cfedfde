// Connection admission: a global limit on open client connections (kept below the process's
// file descriptor limit) and an optional per-address limit. The HTTP server asks before it
// serves a new connection; a connection that gets a Slot holds its place until the Slot is
// destroyed, also after a WebSocket upgrade (the live hub keeps the Slot with the socket).
#pragma once

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace http {

// What admit() decided.
enum class Admit {
  kAdmitted,          // a regular place
  kOverLimit,         // the global limit is reached
  kOverAddressLimit,  // this address holds its limit of connections
};

// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d), the per-address key.
using AddressKey = std::array<unsigned char, 16>;

class Admission {
 public:
  // `max_connections` <= 0: no global limit; `max_per_address` <= 0: no per-address limit.
  Admission(int64_t max_connections, int64_t max_per_address)
      : max_(max_connections), max_per_address_(max_per_address) {}
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // A place held by one connection; releases it when destroyed. Move-only. The Admission
  // must outlive every Slot.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept : owner_(o.owner_), key_(o.key_), keyed_(o.keyed_) {
      o.owner_ = nullptr;
    }
    Slot& operator=(Slot&& o) noexcept;
    ~Slot() { release(); }
    explicit operator bool() const { return owner_ != nullptr; }
    void release();

   private:
    friend class Admission;
    Admission* owner_ = nullptr;
    AddressKey key_{};
    bool keyed_ = false;  // counted per address
  };

  // Takes a place for a connection from `addr`, or says why not (`*slot` left empty).
  // Thread-safe; without a per-address limit it is one atomic add.
  Admit admit(const AddressKey& addr, Slot* slot);

  int64_t open() const { return open_.load(std::memory_order_relaxed); }
  int64_t max_connections() const { return max_; }
  int64_t max_per_address() const { return max_per_address_; }

 private:
  struct KeyHash {
    size_t operator()(const AddressKey& k) const;
  };
  void release(const Slot& slot);

  const int64_t max_;
  const int64_t max_per_address_;
  std::atomic<int64_t> open_{0};
  std::mutex mu_;  // guards per_address_
  std::unordered_map<AddressKey, int64_t, KeyHash> per_address_;
};

// File descriptors the process keeps for itself when the connection limit is derived from
// the fd limit: the databases, listening and media sockets, the event loops, the health
// overflow places and the spare descriptors of the accept loops. 10% of the limit, at least
// 128 and at most 1024.
int64_t reserved_fds(int64_t fd_limit);

// The fd limit after raising the soft RLIMIT_NOFILE to the hard one where allowed (an
// infinite hard limit is capped at 1,048,576). `*raised_from` is the soft limit found at
// start (equal to the result when nothing changed).
int64_t raise_fd_limit(int64_t* raised_from);

// The default global connection limit for `fd_limit`: fd_limit - reserved_fds(fd_limit),
// at least 16.
int64_t default_max_connections(int64_t fd_limit);

}  // namespace http
