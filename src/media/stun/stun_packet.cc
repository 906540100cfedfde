#include "media/stun/stun_packet.h"

#include <cstring>

#include "media/stun/stun_crypto.h"

namespace media::stun {
namespace {

constexpr uint32_t kFingerprintXor = 0x5354554e;
constexpr size_t kIntegritySize = 20;
constexpr size_t kMaxStringAttr = 763;  // RFC 5389: USERNAME < 513 bytes, reason < 763

uint16_t encode_type(Class cls, uint16_t method) {
  uint16_t c = uint16_t(cls);
  return uint16_t((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                  ((c & 1) << 4) | ((c & 2) << 7));
}

void decode_type(uint16_t type, Class* cls, uint16_t* method) {
  *method = uint16_t((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  *cls = Class(((type >> 4) & 1) | ((type >> 7) & 2));
}

base::Status stun_error(std::string msg) { return base::invalid_argument("stun: " + std::move(msg)); }

// Decodes XOR-MAPPED-ADDRESS (RFC 5389 section 15.2).
bool decode_xor_address(const uint8_t* v, size_t len, const uint8_t* header, SocketAddress* out) {
  if (len < 4) return false;
  uint8_t family = v[1];
  SocketAddress a;
  a.port = uint16_t(get_u16(v + 2) ^ (kMagicCookie >> 16));
  if (family == 0x01 && len == 8) {
    for (int i = 0; i < 4; ++i) a.ip[i] = v[4 + i] ^ header[4 + i];
  } else if (family == 0x02 && len == 20) {
    a.v6 = true;
    // XORed with the magic cookie followed by the transaction id: header bytes 4..19.
    for (int i = 0; i < 16; ++i) a.ip[i] = v[4 + i] ^ header[4 + i];
  } else {
    return false;
  }
  *out = a;
  return true;
}

void put_attr(std::vector<uint8_t>& out, uint16_t type, const uint8_t* v, size_t len) {
  put_u16(out, type);
  put_u16(out, uint16_t(len));
  out.insert(out.end(), v, v + len);
  while (out.size() % 4) out.push_back(0);
}

void put_attr_str(std::vector<uint8_t>& out, uint16_t type, std::string_view s) {
  put_attr(out, type, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

bool is_stun(ByteSpan data) {
  return data.size() >= kHeaderSize && (data[0] & 0xC0) == 0 &&
         get_u32(data.data() + 4) == kMagicCookie;
}

base::Result<StunMessage> parse(ByteSpan data) {
  if (!is_stun(data)) return stun_error("not a STUN message");
  size_t length = get_u16(data.data() + 2);
  if (length % 4 != 0) return stun_error("length not a multiple of 4");
  if (kHeaderSize + length != data.size()) return stun_error("length field disagrees with datagram");

  StunMessage m;
  decode_type(get_u16(data.data()), &m.cls, &m.method);
  std::memcpy(m.transaction_id.data(), data.data() + 8, 12);

  const uint8_t* p = data.data();
  size_t off = kHeaderSize;
  while (off < data.size()) {
    if (data.size() - off < 4) return stun_error("truncated attribute header");
    uint16_t type = get_u16(p + off);
    size_t len = get_u16(p + off + 2);
    size_t value_off = off + 4;
    size_t padded = (len + 3) & ~size_t(3);
    if (data.size() - value_off < padded) return stun_error("attribute overruns the message");
    const uint8_t* v = p + value_off;

    if (m.has_fingerprint) return stun_error("attribute after FINGERPRINT");
    if (m.has_integrity() && type != kAttrFingerprint) {
      return stun_error("attribute after MESSAGE-INTEGRITY");
    }
    switch (type) {
      case kAttrUsername:
        if (len > kMaxStringAttr) return stun_error("USERNAME too long");
        m.username.emplace(reinterpret_cast<const char*>(v), len);
        break;
      case kAttrSoftware:
        if (len > kMaxStringAttr) return stun_error("SOFTWARE too long");
        m.software.emplace(reinterpret_cast<const char*>(v), len);
        break;
      case kAttrPriority:
        if (len != 4) return stun_error("PRIORITY must be 4 bytes");
        m.priority = get_u32(v);
        break;
      case kAttrUseCandidate:
        if (len != 0) return stun_error("USE-CANDIDATE must be empty");
        m.use_candidate = true;
        break;
      case kAttrIceControlling:
        if (len != 8) return stun_error("ICE-CONTROLLING must be 8 bytes");
        m.ice_controlling = get_u64(v);
        break;
      case kAttrIceControlled:
        if (len != 8) return stun_error("ICE-CONTROLLED must be 8 bytes");
        m.ice_controlled = get_u64(v);
        break;
      case kAttrXorMappedAddress: {
        SocketAddress a;
        if (!decode_xor_address(v, len, p, &a)) return stun_error("malformed XOR-MAPPED-ADDRESS");
        m.xor_mapped_address = a;
        break;
      }
      case kAttrErrorCode:
        if (len < 4 || len - 4 > kMaxStringAttr) return stun_error("malformed ERROR-CODE");
        m.error_code = uint16_t((v[2] & 0x7) * 100 + v[3]);
        m.error_reason.assign(reinterpret_cast<const char*>(v + 4), len - 4);
        break;
      case kAttrMessageIntegrity:
        if (len != kIntegritySize) return stun_error("MESSAGE-INTEGRITY must be 20 bytes");
        m.integrity_offset = off;
        break;
      case kAttrFingerprint: {
        if (len != 4) return stun_error("FINGERPRINT must be 4 bytes");
        if (value_off + 4 != data.size()) return stun_error("FINGERPRINT is not last");
        // The CRC covers the message up to the attribute, with the length field as sent
        // (which already counts the FINGERPRINT attribute).
        uint32_t crc = crc32(data.subspan(0, off)) ^ kFingerprintXor;
        if (crc != get_u32(v)) return stun_error("FINGERPRINT mismatch");
        m.has_fingerprint = true;
        break;
      }
      default:
        if (type < 0x8000 && type != kAttrMappedAddress && type != kAttrUnknownAttributes) {
          if (m.unknown_required.size() < 16) m.unknown_required.push_back(type);
        }
        break;
    }
    off = value_off + padded;
  }
  return m;
}

bool verify_integrity(ByteSpan data, const StunMessage& msg, std::string_view key) {
  size_t mi = msg.integrity_offset;
  if (mi == 0 || mi + 4 + kIntegritySize > data.size()) return false;
  // HMAC input: the message up to MESSAGE-INTEGRITY, with the length field rewritten to end
  // right after MESSAGE-INTEGRITY (so a following FINGERPRINT is excluded).
  uint8_t buf[1500];
  if (mi > sizeof buf) return false;
  std::memcpy(buf, data.data(), mi);
  set_u16(buf + 2, uint16_t(mi + 4 + kIntegritySize - kHeaderSize));
  Sha1Digest mac = hmac_sha1(key, {buf, mi});
  const uint8_t* got = data.data() + mi + 4;
  uint8_t diff = 0;
  for (size_t i = 0; i < kIntegritySize; ++i) diff |= uint8_t(mac[i] ^ got[i]);
  return diff == 0;
}

std::vector<uint8_t> serialize(const StunMessage& m, std::string_view integrity_key,
                               bool fingerprint) {
  std::vector<uint8_t> out;
  out.reserve(128);
  put_u16(out, encode_type(m.cls, m.method));
  put_u16(out, 0);  // length, patched below
  put_u32(out, kMagicCookie);
  out.insert(out.end(), m.transaction_id.begin(), m.transaction_id.end());

  if (m.xor_mapped_address) {
    const SocketAddress& a = *m.xor_mapped_address;
    uint8_t v[20] = {};
    v[1] = a.v6 ? 0x02 : 0x01;
    set_u16(v + 2, uint16_t(a.port ^ (kMagicCookie >> 16)));
    size_t n = a.v6 ? 16 : 4;
    // XOR key: the magic cookie followed by the transaction id.
    uint8_t key[16];
    set_u32(key, kMagicCookie);
    std::memcpy(key + 4, m.transaction_id.data(), 12);
    for (size_t i = 0; i < n; ++i) v[4 + i] = a.ip[i] ^ key[i];
    put_attr(out, kAttrXorMappedAddress, v, 4 + n);
  }
  if (m.username) put_attr_str(out, kAttrUsername, *m.username);
  if (m.priority) {
    uint8_t v[4];
    set_u32(v, *m.priority);
    put_attr(out, kAttrPriority, v, 4);
  }
  if (m.use_candidate) put_attr(out, kAttrUseCandidate, nullptr, 0);
  if (m.ice_controlling) {
    uint8_t v[8];
    set_u64(v, *m.ice_controlling);
    put_attr(out, kAttrIceControlling, v, 8);
  }
  if (m.ice_controlled) {
    uint8_t v[8];
    set_u64(v, *m.ice_controlled);
    put_attr(out, kAttrIceControlled, v, 8);
  }
  if (m.error_code) {
    std::vector<uint8_t> v = {0, 0, uint8_t(*m.error_code / 100), uint8_t(*m.error_code % 100)};
    v.insert(v.end(), m.error_reason.begin(), m.error_reason.end());
    put_attr(out, kAttrErrorCode, v.data(), v.size());
  }
  if (m.cls == Class::kErrorResponse && !m.unknown_required.empty()) {
    std::vector<uint8_t> v;
    for (uint16_t t : m.unknown_required) put_u16(v, t);
    put_attr(out, kAttrUnknownAttributes, v.data(), v.size());
  }
  if (m.software) put_attr_str(out, kAttrSoftware, *m.software);

  if (!integrity_key.empty()) {
    set_u16(out.data() + 2, uint16_t(out.size() + 4 + kIntegritySize - kHeaderSize));
    Sha1Digest mac = hmac_sha1(integrity_key, out);
    put_attr(out, kAttrMessageIntegrity, mac.data(), mac.size());
  }
  if (fingerprint) {
    set_u16(out.data() + 2, uint16_t(out.size() + 8 - kHeaderSize));
    uint8_t v[4];
    set_u32(v, crc32(out) ^ kFingerprintXor);
    put_attr(out, kAttrFingerprint, v, 4);
  }
  set_u16(out.data() + 2, uint16_t(out.size() - kHeaderSize));
  return out;
}

}  // namespace media::stun
