// SRTP protection profiles and keys: what DTLS negotiates and exports and SRTP consumes.
#pragma once

#include <cstdint>
#include <vector>

namespace media {

enum class SrtpProfile { kNone, kAeadAes128Gcm, kAes128CmSha1_80 };

inline const char* to_string(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::kNone:
      return "none";
    case SrtpProfile::kAeadAes128Gcm:
      return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::kAes128CmSha1_80:
      return "SRTP_AES128_CM_SHA1_80";
  }
  return "none";
}

// Master key || master salt length for a profile (RFC 5764, RFC 7714): 16+14 or 16+12.
inline size_t srtp_master_length(SrtpProfile p) {
  return p == SrtpProfile::kAeadAes128Gcm ? 28 : p == SrtpProfile::kAes128CmSha1_80 ? 30 : 0;
}

// Keys exported from the DTLS handshake (RFC 5764 section 4.2), split by direction.
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::kNone;
  std::vector<uint8_t> local_master;   // key || salt that this side protects with
  std::vector<uint8_t> remote_master;  // key || salt that this side unprotects with
};

}  // namespace media
