// SyntheticPeer: the browser's side of one PeerConnection, built from the same units as the
// server (STUN, DTLS in client mode, SRTP), for load tests and benchmarks. Two modes:
//
// - Offerer (our SFU, which is ICE-lite): it makes a Chromium-like offer (Opus + VP8,
//   BUNDLE, rtcp-mux), takes the SFU's answer, runs the ICE check with USE-CANDIDATE and
//   consent checks, the DTLS handshake, and then sends or receives SRTP.
// - Answerer (a server that offers and runs full ICE, e.g. Janus's streaming plugin): it
//   takes the server's offer, answers recvonly with a=ice-lite and setup:active, answers the
//   server's connectivity checks (the server is controlling) and starts the DTLS handshake
//   as client once the server nominates the pair; then it receives SRTP.
//
// Datagrams go out through a Sender so the caller owns the socket.
//
// Not thread-safe: one peer is driven by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "media/common/socket_address.h"
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

  // Offerer mode.
  std::string offer() const;
  // Reads ICE credentials and the certificate fingerprint from the SFU's answer.
  base::Status set_answer(std::string_view answer_sdp);
  // Sends the nominating ICE check and starts the DTLS handshake.
  void start();

  // Answerer mode (a `publisher == false` peer only). Reads the offer's ICE credentials,
  // sha-256 fingerprint, audio/video sections (each needs Opus or VP8 and rtcp-mux) and its
  // first IPv4 UDP host candidate of component 1; fails when any is missing or the offer
  // has setup:active/passive. After this the peer is in answerer mode: it never sends
  // checks, and start() must not be called.
  base::Status set_offer(std::string_view offer_sdp);
  // The candidate set_offer() will choose from `offer_sdp`: its first IPv4 UDP host
  // candidate of component 1 (for binding the socket before the peer exists).
  static std::optional<SocketAddress> offer_host_candidate(std::string_view offer_sdp);
  // The candidate chosen from the offer: where to send datagrams (valid after set_offer()).
  // The peer assumes every datagram it receives comes from there (a connected socket).
  const SocketAddress& remote_candidate() const { return remote_candidate_; }
  // The answer to the offer: one recvonly section per offered section (Opus or VP8 with the
  // offered payload type, rtcp-fb and the mid/abs-send-time extensions echoed; others
  // rejected with port 0), a=ice-lite, setup:active, rtcp-mux, BUNDLE, and one host
  // candidate `local` (the caller's socket address, reachable from remote_candidate()).
  // Requires set_offer().
  std::string answer(const SocketAddress& local) const;
  // Answerer mode: the server sent a valid check with USE-CANDIDATE.
  bool nominated() const { return nominated_; }
  // One datagram from the SFU.
  void receive(std::span<uint8_t> data);
  // Consent checks every 2 s (offerer mode), the delayed DTLS start (answerer mode) and
  // DTLS retransmissions; call every 100 ms or so.
  void on_timer();

  bool connected() const { return srtp_out_ != nullptr; }
  // Protects and sends a plain RTP/RTCP packet. Fails before connected().
  base::Status send_rtp(std::vector<uint8_t> plain);
  base::Status send_rtcp(std::vector<uint8_t> plain);

  // Called with every decrypted RTP packet received.
  std::function<void(const RtpPacket&)> on_rtp;
  // Called with every decrypted RTCP compound packet received (e.g. a publisher's PLIs).
  std::function<void(ByteSpan)> on_rtcp;

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
  // Answerer mode: answers one STUN request from the offerer (the remote candidate).
  void answer_check(std::span<uint8_t> data);
  void start_dtls();

  struct OfferedMedia {
    std::string kind, mid, protocol;
    bool accepted = false;
    std::string codec_lines;  // a=rtpmap/fmtp/rtcp-fb of the chosen codec, CRLF-terminated
    std::string extmap_lines;
    uint8_t payload_type = 0;
  };

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
  // Answerer mode.
  bool answerer_ = false;
  std::vector<OfferedMedia> offered_;
  SocketAddress remote_candidate_;
  bool nominated_ = false;
  bool dtls_started_ = false;
  bool checked_ = false;        // a valid check was answered
  int64_t first_check_ns_ = 0;  // when the first one was
  int64_t nominated_ns_ = 0;
  uint64_t packets_received_ = 0;
  uint64_t srtp_failures_ = 0;
};

}  // namespace media
