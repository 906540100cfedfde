// PacketCache: the last N packets of one source stream, by sequence number, so NACKs from
// subscribers can be answered without asking the publisher (RFC 4585 generic NACK).
//
// A ring of preallocated slots indexed by seq mod N: storing never allocates after the
// first lap. Stores the plain (decrypted) packet as received from the publisher.
// Not thread-safe; owned by its Producer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace media {

class PacketCache {
 public:
  // `capacity` is rounded up to a power of two. Packets older than `max_age_ms` are not
  // returned (a retransmission that late is useless to a real-time decoder).
  explicit PacketCache(size_t capacity = 1024, int64_t max_age_ms = 1000);

  void store(uint32_t ssrc, uint16_t seq, std::span<const uint8_t> packet, int64_t now_ns);
  // The stored packet for (ssrc, seq), or empty when absent, overwritten or too old.
  std::span<const uint8_t> find(uint32_t ssrc, uint16_t seq, int64_t now_ns) const;

 private:
  struct Slot {
    bool used = false;
    uint32_t ssrc = 0;
    uint16_t seq = 0;
    int64_t stored_ns = 0;
    std::vector<uint8_t> bytes;
  };
  std::vector<Slot> slots_;
  size_t mask_;
  int64_t max_age_ns_;
};

}  // namespace media
