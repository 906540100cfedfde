// WebRtcTransport: one browser PeerConnection's transport on the shared UDP port. Ties the
// protocol units together through their Listener interfaces:
//
//   UDP datagram -> receive() -> demultiplex by first byte (RFC 7983)
//     STUN  -> IceServer (ICE-lite: answer checks, learn tuples, nomination, consent)
//     DTLS  -> DtlsTransport (server; started when ICE has a tuple) -> SRTP keys
//     SRTP  -> SrtpSession inbound -> OnTransportRtp / OnTransportRtcp (plain packets)
//   send_rtp()/send_rtcp() -> SrtpSession outbound -> selected tuple
//
// Media is accepted only from addresses that passed an ICE check, and only after DTLS
// completed with the fingerprint from the browser's SDP. Sockets are not here: datagrams
// leave through the Listener, so the transport is tested in memory.
// Not thread-safe: owned by the Sfu on its thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "media/common/bytes.h"
#include "media/common/socket_address.h"
#include "media/dtls/dtls_transport.h"
#include "media/ice/ice_server.h"
#include "media/srtp/srtp_session.h"

namespace media {

class WebRtcTransport final : public IceServer::Listener, public DtlsTransport::Listener {
 public:
  // Why a transport closed, when it failed (for metrics and logs).
  enum class Failure {
    kNone,            // closed by the peer, or not closed
    kIceTimeout,      // no valid connectivity check within kIceTimeoutMs of creation
    kConsentExpired,  // ICE consent freshness lost on the selected tuple
    kDtls,            // the DTLS handshake failed (alert, fingerprint, timeout) or SRTP setup
  };
  // A browser that has sent no valid Binding request this long after the answer has given up
  // (Chromium fails ICE after about 30 s without a working pair). The default of
  // set_ice_timeout_ms.
  static constexpr int64_t kIceTimeoutMs = 30'000;

  class Listener {
   public:
    virtual ~Listener() = default;
    // A datagram for the shared UDP socket.
    virtual void OnTransportSendPacket(const WebRtcTransport* t, ByteSpan data,
                                       const SocketAddress& to) = 0;
    // `remote` may now send to this transport (route it here), or may no longer.
    virtual void OnTransportTupleAdded(const WebRtcTransport* t, const SocketAddress& remote) = 0;
    virtual void OnTransportTupleRemoved(const WebRtcTransport* t, const SocketAddress& remote) = 0;
    // DTLS is up and SRTP is keyed: media flows from now on.
    virtual void OnTransportConnected(const WebRtcTransport* t) = 0;
    // ICE failed or its consent expired, DTLS failed or the peer closed (failure() says
    // which). The owner should destroy the transport, but not from inside this callback (it
    // is on the transport's stack).
    virtual void OnTransportClosed(const WebRtcTransport* t, std::string_view reason) = 0;
    // A decrypted RTP packet (mutable: the consumer may forward it in place).
    virtual void OnTransportRtp(const WebRtcTransport* t, std::span<uint8_t> packet,
                                int64_t arrival_ns) = 0;
    // A decrypted RTCP compound packet.
    virtual void OnTransportRtcp(const WebRtcTransport* t, ByteSpan packet) = 0;
  };

  // Generates ICE credentials from `random`. `listener`, `clock` outlive the transport.
  static base::Result<std::unique_ptr<WebRtcTransport>> create(
      std::string id, Listener* listener, const base::Clock* clock, base::Random& random,
      std::shared_ptr<const DtlsCertificate> certificate);
  ~WebRtcTransport() override;

  // How long after creation the transport waits for a valid ICE check before it fails.
  void set_ice_timeout_ms(int64_t ms) { ice_timeout_ms_ = ms; }

  // From the browser's SDP: its ICE ufrag and its certificate's sha-256 fingerprint.
  void set_remote_parameters(std::string remote_ufrag, std::string remote_fingerprint);

  // One datagram from `from`, routed here by ICE ufrag or by known tuple.
  void receive(std::span<uint8_t> data, const SocketAddress& from, int64_t arrival_ns);

  // Protects buffer[0, len) in place and sends it to the selected tuple. buffer.size() must
  // leave SrtpSession::kMaxOverhead bytes after the packet. Fails when not connected.
  base::Status send_rtp(std::span<uint8_t> buffer, size_t len);
  base::Status send_rtcp(std::span<uint8_t> buffer, size_t len);
  // send_rtp() without the send: protects in place, returns the protected length and sets
  // `to`. Uses only the outbound SRTP session and reads the selected tuple, so the SFU's
  // fan-out workers may call it for different transports at once (FanoutPool).
  base::Result<size_t> protect_rtp(std::span<uint8_t> buffer, size_t len, SocketAddress* to);

  // ICE consent freshness and DTLS retransmission; call every 100 ms or so.
  void on_timer();

  const std::string& id() const { return id_; }
  const std::string& local_ufrag() const { return ice_.local_ufrag(); }
  const std::string& local_password() const { return ice_.local_password(); }
  bool connected() const { return srtp_in_ != nullptr; }
  uint64_t srtp_failures() const { return srtp_failures_; }
  // Set before OnTransportClosed when the transport failed.
  Failure failure() const { return failure_; }

 private:
  WebRtcTransport(std::string id, Listener* listener, const base::Clock* clock, std::string ufrag,
                  std::string password);

  // IceServer::Listener
  void OnIceServerSendStunPacket(const IceServer*, ByteSpan packet,
                                 const SocketAddress& to) override;
  void OnIceServerSelectedTuple(const IceServer*, const SocketAddress& remote) override;
  void OnIceServerStateChanged(const IceServer*, IceServer::State state) override;
  void OnIceServerTupleAdded(const IceServer*, const SocketAddress& remote) override;
  void OnIceServerTupleRemoved(const IceServer*, const SocketAddress& remote) override;
  // DtlsTransport::Listener
  void OnDtlsTransportSendData(const DtlsTransport*, ByteSpan data) override;
  void OnDtlsTransportConnected(const DtlsTransport*, const SrtpKeys& keys) override;
  void OnDtlsTransportFailed(const DtlsTransport*, std::string_view reason) override;
  void OnDtlsTransportClosed(const DtlsTransport*) override;

  void close(std::string_view reason, Failure failure = Failure::kNone);
  bool have_destination() const;
  const SocketAddress& destination() const;

  std::string id_;
  Listener* listener_;        // not owned
  const base::Clock* clock_;  // not owned
  int64_t created_ns_ = 0;    // monotonic; the ICE timeout counts from here
  int64_t ice_timeout_ms_ = kIceTimeoutMs;
  IceServer ice_;
  std::unique_ptr<DtlsTransport> dtls_;    // owned; created in create()
  std::unique_ptr<SrtpSession> srtp_in_;   // owned; set when DTLS connects
  std::unique_ptr<SrtpSession> srtp_out_;  // owned; set when DTLS connects
  SocketAddress dtls_peer_;                // where DTLS came from, until ICE nominates a tuple
  bool have_dtls_peer_ = false;
  bool closed_ = false;
  Failure failure_ = Failure::kNone;
  uint64_t srtp_failures_ = 0;  // packets that failed authentication or replay checks
};

// "ice_timeout", "consent_expired", "dtls" or "none".
const char* to_string(WebRtcTransport::Failure failure);

}  // namespace media
