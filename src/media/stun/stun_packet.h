// STUN messages (RFC 5389) with the attributes ICE needs (RFC 8445 section 7.1.1):
// parse from bytes, check MESSAGE-INTEGRITY (short-term credentials) and FINGERPRINT, build
// responses. Pure functions over byte spans; nothing here allocates per attribute beyond the
// strings it returns.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "media/common/bytes.h"
#include "media/common/socket_address.h"

namespace media::stun {

enum class Class : uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

inline constexpr uint16_t kMethodBinding = 0x001;
inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr size_t kHeaderSize = 20;

// Attribute types used here (RFC 5389 section 18.2, RFC 8445 section 16.1).
enum AttributeType : uint16_t {
  kAttrMappedAddress = 0x0001,
  kAttrUsername = 0x0006,
  kAttrMessageIntegrity = 0x0008,
  kAttrErrorCode = 0x0009,
  kAttrUnknownAttributes = 0x000A,
  kAttrXorMappedAddress = 0x0020,
  kAttrPriority = 0x0024,
  kAttrUseCandidate = 0x0025,
  kAttrSoftware = 0x8022,
  kAttrFingerprint = 0x8028,
  kAttrIceControlled = 0x8029,
  kAttrIceControlling = 0x802A,
};

using TransactionId = std::array<uint8_t, 12>;

// A decoded message. Fields absent on the wire are empty optionals.
struct StunMessage {
  Class cls = Class::kRequest;
  uint16_t method = kMethodBinding;  // 12 bits
  TransactionId transaction_id{};

  std::optional<std::string> username;
  std::optional<std::string> software;
  std::optional<uint32_t> priority;
  bool use_candidate = false;
  std::optional<uint64_t> ice_controlling;  // tie-breaker
  std::optional<uint64_t> ice_controlled;   // tie-breaker
  std::optional<SocketAddress> xor_mapped_address;
  std::optional<uint16_t> error_code;  // 300..699
  std::string error_reason;
  // Comprehension-required attributes (type < 0x8000) this parser does not know. A request
  // carrying any must be answered with 420 listing them (RFC 5389 section 7.3.1). When
  // serializing an error response, they are written as UNKNOWN-ATTRIBUTES.
  std::vector<uint16_t> unknown_required;

  // Parse only: byte offset of the MESSAGE-INTEGRITY attribute header in the parsed buffer,
  // 0 when absent. verify_integrity() needs it.
  size_t integrity_offset = 0;
  // Parse only: a FINGERPRINT attribute was present (and matched, or parse() fails).
  bool has_fingerprint = false;

  bool has_integrity() const { return integrity_offset != 0; }
};

// True when `data` may be STUN: at least a header, first two bits zero and the magic cookie
// (the RFC 7983 demultiplexing test plus the cookie check).
bool is_stun(ByteSpan data);

// Decodes one message. Fails when the header is malformed, the length field disagrees with
// the buffer, an attribute overruns, an attribute other than FINGERPRINT follows
// MESSAGE-INTEGRITY, FINGERPRINT is not last or its CRC does not match. MESSAGE-INTEGRITY is
// located but not checked (that needs the password): call verify_integrity().
base::Result<StunMessage> parse(ByteSpan data);

// True when `data` (the exact bytes `msg` was parsed from) carries a MESSAGE-INTEGRITY that
// is the HMAC-SHA1 of the message under `key` (for ICE, the password of the receiving agent).
bool verify_integrity(ByteSpan data, const StunMessage& msg, std::string_view key);

// Encodes `msg`. Writes, in order: XOR-MAPPED-ADDRESS, USERNAME, PRIORITY, USE-CANDIDATE,
// ICE-CONTROLLING/ICE-CONTROLLED, ERROR-CODE, UNKNOWN-ATTRIBUTES, SOFTWARE; then
// MESSAGE-INTEGRITY under `integrity_key` when it is non-empty, then FINGERPRINT when
// `fingerprint` is true.
std::vector<uint8_t> serialize(const StunMessage& msg, std::string_view integrity_key,
                               bool fingerprint);

}  // namespace media::stun
