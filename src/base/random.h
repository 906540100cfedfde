// Randomness seam and identifiers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace base {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with `n` random bytes.
  virtual void fill(void* out, size_t n) = 0;
  uint64_t next_u64() {
    uint64_t v;
    fill(&v, sizeof v);
    return v;
  }
};

// Reads the kernel's CSPRNG (getrandom). Safe from any thread.
class SystemRandom final : public Random {
 public:
  void fill(void* out, size_t n) override;
  static SystemRandom& instance();
};

// A deterministic generator (splitmix64) for tests. Not thread-safe.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  void fill(void* out, size_t n) override;

 private:
  uint64_t state_;
};

// A new identifier: `prefix` + "_" + 13 lowercase Crockford base32 characters (64 random bits),
// e.g. "crs_0f8k3m2q9d1xa". Unique across replicas without coordination.
std::string new_id(std::string_view prefix, Random& random);

// True when `id` has the shape new_id() produces for `prefix` (cheap validation of path ids).
bool is_valid_id(std::string_view id, std::string_view prefix);

}  // namespace base
