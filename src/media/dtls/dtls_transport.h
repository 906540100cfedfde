// DTLS 1.2 for WebRTC (RFC 5763, RFC 5764): the handshake that authenticates the browser by
// the certificate fingerprint from its SDP and exports the SRTP keys.
//
// OpenSSL runs over memory BIOs: the transport feeds received datagrams in with
// process_data() and gets datagrams to send from the Listener, so the DTLS state machine is
// driven by the caller's event loop and testable without sockets. Retransmission timers are
// the caller's too: after any call, next_timeout_ms() says when to call on_timer().
//
// This header keeps OpenSSL types out (pimpl), so only media/dtls includes OpenSSL.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "media/common/bytes.h"
#include "media/common/srtp_keys.h"

namespace media {

// The server's identity: a self-signed ECDSA P-256 certificate generated at start-up and
// shared (read-only) by every transport. Thread-safe after creation.
class DtlsCertificate {
 public:
  // Generates a fresh key pair and a certificate valid from a day ago for 30 days.
  static base::Result<std::shared_ptr<const DtlsCertificate>> generate();
  ~DtlsCertificate();

  // SHA-256 fingerprint of the DER certificate, uppercase hex pairs joined by ':' (SDP form).
  const std::string& fingerprint_sha256() const { return fingerprint_; }

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit DtlsCertificate(std::unique_ptr<Impl> impl, std::string fingerprint);
  std::unique_ptr<Impl> impl_;  // owns the OpenSSL key and certificate
  std::string fingerprint_;
};

// True when `data` is a DTLS record by RFC 7983's first-byte rule (20..63).
inline bool looks_like_dtls(ByteSpan data) {
  return data.size() >= 13 && data[0] >= 20 && data[0] <= 63;
}

class DtlsTransport {
 public:
  enum class Role { kServer, kClient };
  enum class State { kNew, kConnecting, kConnected, kFailed, kClosed };

  class Listener {
   public:
    virtual ~Listener() = default;
    // A datagram to send to the peer.
    virtual void OnDtlsTransportSendData(const DtlsTransport* dtls, ByteSpan data) = 0;
    // The handshake completed, the peer's fingerprint matched and SRTP keys are ready.
    virtual void OnDtlsTransportConnected(const DtlsTransport* dtls, const SrtpKeys& keys) = 0;
    // The handshake failed or the fingerprint did not match; the transport is unusable.
    virtual void OnDtlsTransportFailed(const DtlsTransport* dtls, std::string_view reason) = 0;
    // The peer sent close_notify.
    virtual void OnDtlsTransportClosed(const DtlsTransport* dtls) = 0;
  };

  // `listener` must outlive the transport. The certificate is shared.
  static base::Result<std::unique_ptr<DtlsTransport>> create(
      Listener* listener, std::shared_ptr<const DtlsCertificate> certificate, Role role);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // The browser's certificate fingerprint from its SDP ("sha-256" only), checked after the
  // handshake. Must be set before the handshake completes, or the connection fails.
  void set_remote_fingerprint(std::string sha256_fingerprint);

  // Starts the handshake: a client sends its ClientHello, a server waits for one.
  void start();
  // Feeds one received DTLS datagram.
  void process_data(ByteSpan data);
  // Milliseconds until on_timer() must be called, or nullopt when no timer is pending.
  std::optional<int64_t> next_timeout_ms() const;
  // Retransmits the last flight if its timer expired.
  void on_timer();
  // Sends close_notify (once) and moves to kClosed.
  void close();

  State state() const { return state_; }
  Role role() const { return role_; }

 private:
  struct Impl;
  DtlsTransport(Listener* listener, Role role, std::unique_ptr<Impl> impl);
  void flush_output();
  void after_io(int ret);
  void on_handshake_done();
  void fail(std::string reason);

  Listener* listener_;  // not owned
  Role role_;
  State state_ = State::kNew;
  std::string remote_fingerprint_;
  std::unique_ptr<Impl> impl_;  // owns SSL_CTX, SSL and its BIOs
};

}  // namespace media
