#include "base/random.h"

#ifdef __wasi__
#include <unistd.h>  // getentropy: WASI's random_get
#else
#include <sys/random.h>
#endif

#include <array>
#include <cstring>

namespace base {

namespace {
constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford, lower case
constexpr size_t kIdChars = 13;                                   // ceil(64 / 5)
}  // namespace

void SystemRandom::fill(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
#ifdef __wasi__
  // WASI has no getrandom; getentropy (random_get) gives at most 256 bytes a call and fails
  // only when the host has no randomness, which nothing can recover from.
  while (n > 0) {
    size_t k = n < 256 ? n : 256;
    if (getentropy(p, k) != 0) __builtin_trap();
    p += k;
    n -= k;
  }
#else
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got <= 0) continue;  // EINTR; getrandom does not fail otherwise once seeded
    p += got;
    n -= size_t(got);
  }
#endif
}

SystemRandom& SystemRandom::instance() {
  static SystemRandom random;
  return random;
}

void SeededRandom::fill(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    size_t k = n < sizeof z ? n : sizeof z;
    std::memcpy(p, &z, k);
    p += k;
    n -= k;
  }
}

std::string new_id(std::string_view prefix, Random& random) {
  uint64_t v = random.next_u64();
  std::string id(prefix);
  id += '_';
  for (size_t i = 0; i < kIdChars; ++i) {
    id += kAlphabet[v & 31];
    v >>= 5;
  }
  return id;
}

bool is_valid_id(std::string_view id, std::string_view prefix) {
  // Which bytes kAlphabet holds, as a table: every read of a course or quiz checks its id.
  static constexpr auto kInAlphabet = [] {
    std::array<bool, 256> in{};
    for (const char* p = kAlphabet; *p; ++p) in[static_cast<unsigned char>(*p)] = true;
    return in;
  }();
  if (id.size() != prefix.size() + 1 + kIdChars) return false;
  if (id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_') return false;
  for (char c : id.substr(prefix.size() + 1)) {
    if (!kInAlphabet[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace base
