// The two checksums STUN needs: HMAC-SHA1 for MESSAGE-INTEGRITY (RFC 5389 section 15.4)
// and CRC-32 for FINGERPRINT (section 15.5). Implemented here rather than through OpenSSL
// because docs/design.md keeps OpenSSL out of media_core, and because the STUN parser
// is fuzzed and unit-tested on its own. Both are pure functions, safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace media::stun {

using Sha1Digest = std::array<uint8_t, 20>;

// SHA-1 (FIPS 180-4) of `data`.
Sha1Digest sha1(std::span<const uint8_t> data);

// HMAC-SHA1 (RFC 2104) of `data` under `key` (any length).
Sha1Digest hmac_sha1(std::string_view key, std::span<const uint8_t> data);

// CRC-32 as in ISO 3309 / zlib (reflected, polynomial 0xEDB88320), of `data`.
uint32_t crc32(std::span<const uint8_t> data);

}  // namespace media::stun
