// SrtpSession: one direction of SRTP/SRTCP (RFC 3711, RFC 7714) for one transport, wrapping
// libsrtp2. An inbound session unprotects what the browser sends (any SSRC); an outbound
// session protects what the server sends (any SSRC). Retransmissions of a packet that was
// already protected are allowed (NACK replies reuse the sequence number).
//
// Not thread-safe: used on the owning transport's thread. Only this file includes libsrtp2.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "base/status.h"
#include "media/common/bytes.h"
#include "media/common/srtp_keys.h"

namespace media {

class SrtpSession {
 public:
  enum class Direction { kInbound, kOutbound };
  // Bytes protect may append (auth tag or GCM tag, MKI, SRTCP index): buffers given to
  // protect_* must have this much room after the packet.
  static constexpr size_t kMaxOverhead = 148;

  // `master` is key || salt of the length the profile needs (srtp_master_length()).
  static base::Result<std::unique_ptr<SrtpSession>> create(Direction direction, SrtpProfile profile,
                                                           ByteSpan master);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // Encrypts the RTP/RTCP packet in buffer[0, *len) in place; buffer.size() is its capacity
  // and must be at least *len + kMaxOverhead. On success *len is the protected length.
  base::Status protect_rtp(std::span<uint8_t> buffer, size_t* len);
  base::Status protect_rtcp(std::span<uint8_t> buffer, size_t* len);
  // Authenticates and decrypts buffer[0, *len) in place; *len becomes the plain length.
  // Fails on a bad tag, a replay or a malformed packet.
  base::Status unprotect_rtp(std::span<uint8_t> buffer, size_t* len);
  base::Status unprotect_rtcp(std::span<uint8_t> buffer, size_t* len);

 private:
  struct Impl;
  explicit SrtpSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;  // owns the libsrtp2 session
};

}  // namespace media
