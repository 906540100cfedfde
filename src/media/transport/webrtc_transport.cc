#include "media/transport/webrtc_transport.h"

#include "media/rtp/rtp_packet.h"
#include "media/stun/stun_packet.h"

namespace media {
namespace {

// ICE credentials: ufrag 8 and password 24 characters from the ice-char set (RFC 8839),
// which is above the minimum 4 and 22.
std::string random_ice_string(base::Random& random, size_t n) {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s(n, ' ');
  for (auto& c : s) c = kChars[random.next_u64() % 64];
  return s;
}

}  // namespace

WebRtcTransport::WebRtcTransport(std::string id, Listener* listener, const base::Clock* clock,
                                 std::string ufrag, std::string password)
    : id_(std::move(id)),
      listener_(listener),
      clock_(clock),
      created_ns_(clock->now_mono_ns()),
      ice_(this, clock, std::move(ufrag), std::move(password)) {}

WebRtcTransport::~WebRtcTransport() = default;

base::Result<std::unique_ptr<WebRtcTransport>> WebRtcTransport::create(
    std::string id, Listener* listener, const base::Clock* clock, base::Random& random,
    std::shared_ptr<const DtlsCertificate> certificate) {
  std::unique_ptr<WebRtcTransport> t(new WebRtcTransport(
      std::move(id), listener, clock, random_ice_string(random, 8), random_ice_string(random, 24)));
  EC_ASSIGN_OR_RETURN(t->dtls_, DtlsTransport::create(t.get(), std::move(certificate),
                                                      DtlsTransport::Role::kServer));
  return t;
}

void WebRtcTransport::set_remote_parameters(std::string remote_ufrag,
                                            std::string remote_fingerprint) {
  ice_.set_remote_ufrag(std::move(remote_ufrag));
  dtls_->set_remote_fingerprint(std::move(remote_fingerprint));
}

void WebRtcTransport::receive(std::span<uint8_t> data, const SocketAddress& from,
                              int64_t arrival_ns) {
  if (closed_ || data.empty()) return;
  uint8_t b = data[0];
  if (b < 4) {
    auto msg = stun::parse(data);
    if (msg.is_ok()) ice_.process_stun(data, *msg, from);
    return;
  }
  // Everything else only from addresses that passed an ICE check.
  if (!ice_.has_tuple(from)) return;
  if (looks_like_dtls(data)) {
    if (!have_dtls_peer_) {
      dtls_peer_ = from;
      have_dtls_peer_ = true;
    }
    dtls_->process_data(data);
    return;
  }
  if (!looks_like_rtp_or_rtcp(data) || !srtp_in_) return;
  size_t len = data.size();
  if (looks_like_rtcp(data)) {
    if (!srtp_in_->unprotect_rtcp(data, &len).is_ok()) {
      ++srtp_failures_;
      return;
    }
    listener_->OnTransportRtcp(this, data.first(len));
  } else {
    if (!srtp_in_->unprotect_rtp(data, &len).is_ok()) {
      ++srtp_failures_;
      return;
    }
    listener_->OnTransportRtp(this, data.first(len), arrival_ns);
  }
}

base::Status WebRtcTransport::send_rtp(std::span<uint8_t> buffer, size_t len) {
  SocketAddress to;
  EC_ASSIGN_OR_RETURN(len, protect_rtp(buffer, len, &to));
  listener_->OnTransportSendPacket(this, buffer.first(len), to);
  return base::Status::ok();
}

base::Result<size_t> WebRtcTransport::protect_rtp(std::span<uint8_t> buffer, size_t len,
                                                  SocketAddress* to) {
  if (!srtp_out_ || !have_destination())
    return base::failed_precondition("transport not connected");
  EC_RETURN_IF_ERROR(srtp_out_->protect_rtp(buffer, &len));
  *to = destination();
  return len;
}

base::Status WebRtcTransport::send_rtcp(std::span<uint8_t> buffer, size_t len) {
  if (!srtp_out_ || !have_destination())
    return base::failed_precondition("transport not connected");
  EC_RETURN_IF_ERROR(srtp_out_->protect_rtcp(buffer, &len));
  listener_->OnTransportSendPacket(this, buffer.first(len), destination());
  return base::Status::ok();
}

void WebRtcTransport::on_timer() {
  if (closed_) return;
  if (ice_.state() == IceServer::State::kNew &&
      clock_->now_mono_ns() - created_ns_ >= ice_timeout_ms_ * 1'000'000) {
    close(
        "ICE failed: no valid connectivity check within " + std::to_string(ice_timeout_ms_) + " ms",
        Failure::kIceTimeout);
    return;
  }
  ice_.on_timer();
  if (closed_) return;
  auto due = dtls_->next_timeout_ms();
  if (due && *due == 0) dtls_->on_timer();
}

bool WebRtcTransport::have_destination() const {
  return ice_.has_selected_tuple() || have_dtls_peer_;
}

const SocketAddress& WebRtcTransport::destination() const {
  return ice_.has_selected_tuple() ? ice_.selected_tuple() : dtls_peer_;
}

void WebRtcTransport::close(std::string_view reason, Failure failure) {
  if (closed_) return;
  closed_ = true;
  failure_ = failure;
  listener_->OnTransportClosed(this, reason);
}

void WebRtcTransport::OnIceServerSendStunPacket(const IceServer*, ByteSpan packet,
                                                const SocketAddress& to) {
  listener_->OnTransportSendPacket(this, packet, to);
}

void WebRtcTransport::OnIceServerSelectedTuple(const IceServer*, const SocketAddress&) {}

void WebRtcTransport::OnIceServerStateChanged(const IceServer*, IceServer::State state) {
  if (state == IceServer::State::kConnected || state == IceServer::State::kCompleted) {
    // DTLS server: wait for the browser's ClientHello (it is setup:active).
    if (dtls_->state() == DtlsTransport::State::kNew) dtls_->start();
  } else if (state == IceServer::State::kDisconnected) {
    close("ICE consent expired", Failure::kConsentExpired);
  }
}

void WebRtcTransport::OnIceServerTupleAdded(const IceServer*, const SocketAddress& remote) {
  listener_->OnTransportTupleAdded(this, remote);
}

void WebRtcTransport::OnIceServerTupleRemoved(const IceServer*, const SocketAddress& remote) {
  listener_->OnTransportTupleRemoved(this, remote);
}

void WebRtcTransport::OnDtlsTransportSendData(const DtlsTransport*, ByteSpan data) {
  if (have_destination()) listener_->OnTransportSendPacket(this, data, destination());
}

void WebRtcTransport::OnDtlsTransportConnected(const DtlsTransport*, const SrtpKeys& keys) {
  auto in = SrtpSession::create(SrtpSession::Direction::kInbound, keys.profile, keys.remote_master);
  auto out =
      SrtpSession::create(SrtpSession::Direction::kOutbound, keys.profile, keys.local_master);
  if (!in.is_ok() || !out.is_ok()) {
    close("SRTP setup failed: " + (in.is_ok() ? out.status() : in.status()).message(),
          Failure::kDtls);
    return;
  }
  srtp_in_ = std::move(*in);
  srtp_out_ = std::move(*out);
  listener_->OnTransportConnected(this);
}

void WebRtcTransport::OnDtlsTransportFailed(const DtlsTransport*, std::string_view reason) {
  close(reason, Failure::kDtls);
}

void WebRtcTransport::OnDtlsTransportClosed(const DtlsTransport*) { close("DTLS closed by peer"); }

const char* to_string(WebRtcTransport::Failure failure) {
  switch (failure) {
    case WebRtcTransport::Failure::kNone:
      return "none";
    case WebRtcTransport::Failure::kIceTimeout:
      return "ice_timeout";
    case WebRtcTransport::Failure::kConsentExpired:
      return "consent_expired";
    case WebRtcTransport::Failure::kDtls:
      return "dtls";
  }
  return "none";
}

}  // namespace media
