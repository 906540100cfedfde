// SyntheticPeer: the browser's side of one PeerConnection, built from the same units as the
// server (STUN, DTLS in client mode, SRTP), for load tests and benchmarks: it makes a
// Chromium-like offer (Opus + VP8, BUNDLE, rtcp-mux), takes the SFU's answer, runs the ICE
// check with USE-CANDIDATE and consent checks, the DTLS handshake, and then sends or
// receives SRTP. Datagrams go out through a Sender so the caller owns the socket.
//
// Not thread-safe: one peer is driven by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "media/dtls/dtls_transport.h"
#include "media/rtp/rtp_packet.h"
#include "media/srtp/srtp_session.h"

namespace media {

class SyntheticPeer final : public DtlsTransport::Listener {
 public:
  class Sender {
   public:
    virtual ~Sender() = default;
    // A datagram for the SFU (the peer only ever talks to the SFU's one address).
    virtual void send_to_sfu(ByteSpan data) = 0;
  };

  // `publisher` offers sendonly audio and video with SSRCs; otherwise recvonly.
  static base::Result<std::unique_ptr<SyntheticPeer>> create(Sender* sender,
                                                             const base::Clock* clock,
                                                             base::Random& random, bool publisher);
  ~SyntheticPeer() override;

  std::string offer() const;
  // Reads ICE credentials and the certificate fingerprint from the SFU's answer.
  base::Status set_answer(std::string_view answer_sdp);
  // Sends the nominating ICE check and starts the DTLS handshake.
  void start();
  // One datagram from the SFU.
  void receive(std::span<uint8_t> data);
  // Consent checks every 2 s and DTLS retransmissions; call every 100 ms or so.
  void on_timer();

  bool connected() const { return srtp_out_ != nullptr; }
  // Protects and sends a plain RTP/RTCP packet. Fails before connected().
  base::Status send_rtp(std::vector<uint8_t> plain);
  base::Status send_rtcp(std::vector<uint8_t> plain);

  // Called with every decrypted RTP packet received.
  std::function<void(const RtpPacket&)> on_rtp;

  uint32_t audio_ssrc() const { return audio_ssrc_; }
  uint32_t video_ssrc() const { return video_ssrc_; }
  uint64_t packets_received() const { return packets_received_; }
  uint64_t srtp_failures() const { return srtp_failures_; }

  // DtlsTransport::Listener
  void OnDtlsTransportSendData(const DtlsTransport*, ByteSpan data) override;
  void OnDtlsTransportConnected(const DtlsTransport*, const SrtpKeys& keys) override;
  void OnDtlsTransportFailed(const DtlsTransport*, std::string_view reason) override;
  void OnDtlsTransportClosed(const DtlsTransport*) override {}

 private:
  SyntheticPeer(Sender* sender, const base::Clock* clock, bool publisher);
  void send_check(bool nominate);

  Sender* sender_;                  // not owned
  const base::Clock* clock_;        // not owned
  base::Random* random_ = nullptr;  // not owned; transaction ids
  bool publisher_;
  std::shared_ptr<const DtlsCertificate> certificate_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_in_, srtp_out_;
  std::string ufrag_, pwd_;
  std::string remote_ufrag_, remote_pwd_;
  uint32_t audio_ssrc_ = 0, video_ssrc_ = 0;
  int64_t last_check_ns_ = 0;
  uint64_t packets_received_ = 0;
  uint64_t srtp_failures_ = 0;
};

}  // namespace media
