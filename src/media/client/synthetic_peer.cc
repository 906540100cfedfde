#include "media/client/synthetic_peer.h"

#include "base/log.h"
#include "media/sdp/session_description.h"
#include "media/stun/stun_packet.h"

namespace media {
namespace {

std::string random_chars(base::Random& random, size_t n) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s(n, ' ');
  for (auto& c : s) c = kChars[random.next_u64() % 62];
  return s;
}

constexpr int64_t kConsentIntervalNs = 2'000'000'000;

}  // namespace

SyntheticPeer::SyntheticPeer(Sender* sender, const base::Clock* clock, bool publisher)
    : sender_(sender), clock_(clock), publisher_(publisher) {}
SyntheticPeer::~SyntheticPeer() = default;

base::Result<std::unique_ptr<SyntheticPeer>> SyntheticPeer::create(Sender* sender,
                                                                   const base::Clock* clock,
                                                                   base::Random& random,
                                                                   bool publisher) {
  std::unique_ptr<SyntheticPeer> p(new SyntheticPeer(sender, clock, publisher));
  p->random_ = &random;
  EC_ASSIGN_OR_RETURN(p->certificate_, DtlsCertificate::generate());
  EC_ASSIGN_OR_RETURN(
      p->dtls_, DtlsTransport::create(p.get(), p->certificate_, DtlsTransport::Role::kClient));
  p->ufrag_ = random_chars(random, 8);
  p->pwd_ = random_chars(random, 24);
  if (publisher) {
    p->audio_ssrc_ = uint32_t(random.next_u64() | 1);
    p->video_ssrc_ = uint32_t(random.next_u64() | 2);
  }
  return p;
}

std::string SyntheticPeer::offer() const {
  std::string dir = publisher_ ? "sendonly" : "recvonly";
  std::string s =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
      "a=msid-semantic: WMS *\r\n";
  auto section = [&](const std::string& kind, const std::string& mid, const std::string& pt,
                     const std::string& rtpmap, uint32_t ssrc, const std::string& fb) {
    s += "m=" + kind + " 9 UDP/TLS/RTP/SAVPF " + pt + "\r\nc=IN IP4 0.0.0.0\r\n";
    s += "a=ice-ufrag:" + ufrag_ + "\r\na=ice-pwd:" + pwd_ + "\r\n";
    s += "a=fingerprint:sha-256 " + certificate_->fingerprint_sha256() + "\r\n";
    s += "a=setup:actpass\r\na=mid:" + mid + "\r\n";
    s += "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n";
    s += "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n";
    s += "a=" + dir + "\r\na=rtcp-mux\r\na=rtcp-rsize\r\n";
    s += "a=rtpmap:" + pt + " " + rtpmap + "\r\n" + fb;
    if (ssrc) {
      s += "a=msid:synthetic " + kind + "\r\n";
      s += "a=ssrc:" + std::to_string(ssrc) + " cname:synthetic\r\n";
    }
  };
  section("audio", "0", "111", "opus/48000/2", audio_ssrc_,
          "a=fmtp:111 minptime=10;useinbandfec=1\r\n");
  section("video", "1", "96", "VP8/90000", video_ssrc_,
          "a=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\n"
          "a=rtcp-fb:96 nack pli\r\n");
  return s;
}

base::Status SyntheticPeer::set_answer(std::string_view answer_sdp) {
  EC_ASSIGN_OR_RETURN(sdp::SessionDescription a, sdp::parse(answer_sdp));
  if (a.media.empty() || a.media[0].ice_ufrag.empty() || a.media[0].fingerprint.empty()) {
    return base::invalid_argument("answer lacks ICE credentials or a fingerprint");
  }
  remote_ufrag_ = a.media[0].ice_ufrag;
  remote_pwd_ = a.media[0].ice_pwd;
  dtls_->set_remote_fingerprint(a.media[0].fingerprint);
  return base::Status::ok();
}

void SyntheticPeer::send_check(bool nominate) {
  stun::StunMessage m;
  random_->fill(m.transaction_id.data(), m.transaction_id.size());
  m.username = remote_ufrag_ + ":" + ufrag_;
  m.priority = 2130706431;
  m.ice_controlling = 0x5eed;
  m.use_candidate = nominate;
  sender_->send_to_sfu(stun::serialize(m, remote_pwd_, true));
  last_check_ns_ = clock_->now_mono_ns();
}

void SyntheticPeer::start() {
  send_check(true);
  dtls_->start();
}

void SyntheticPeer::receive(std::span<uint8_t> data) {
  if (data.empty()) return;
  if (stun::is_stun(data)) return;  // check responses: consent is the server's concern
  if (looks_like_dtls(data)) {
    dtls_->process_data(data);
    return;
  }
  if (!srtp_in_ || !looks_like_rtp_or_rtcp(data)) return;
  size_t len = data.size();
  if (looks_like_rtcp(data)) {
    if (!srtp_in_->unprotect_rtcp(data, &len).is_ok()) ++srtp_failures_;
    return;
  }
  if (!srtp_in_->unprotect_rtp(data, &len).is_ok()) {
    ++srtp_failures_;
    return;
  }
  ++packets_received_;
  auto p = RtpPacket::parse(data.first(len));
  if (p.is_ok() && on_rtp) on_rtp(*p);
}

void SyntheticPeer::on_timer() {
  if (!remote_ufrag_.empty() && clock_->now_mono_ns() - last_check_ns_ > kConsentIntervalNs) {
    send_check(false);
  }
  auto due = dtls_->next_timeout_ms();
  if (due && *due == 0) dtls_->on_timer();
}

base::Status SyntheticPeer::send_rtp(std::vector<uint8_t> plain) {
  if (!srtp_out_) return base::failed_precondition("not connected");
  size_t len = plain.size();
  plain.resize(len + SrtpSession::kMaxOverhead);
  EC_RETURN_IF_ERROR(srtp_out_->protect_rtp(plain, &len));
  sender_->send_to_sfu(std::span<const uint8_t>(plain.data(), len));
  return base::Status::ok();
}

base::Status SyntheticPeer::send_rtcp(std::vector<uint8_t> plain) {
  if (!srtp_out_) return base::failed_precondition("not connected");
  size_t len = plain.size();
  plain.resize(len + SrtpSession::kMaxOverhead);
  EC_RETURN_IF_ERROR(srtp_out_->protect_rtcp(plain, &len));
  sender_->send_to_sfu(std::span<const uint8_t>(plain.data(), len));
  return base::Status::ok();
}

void SyntheticPeer::OnDtlsTransportSendData(const DtlsTransport*, ByteSpan data) {
  sender_->send_to_sfu(data);
}

void SyntheticPeer::OnDtlsTransportConnected(const DtlsTransport*, const SrtpKeys& keys) {
  auto in = SrtpSession::create(SrtpSession::Direction::kInbound, keys.profile, keys.remote_master);
  auto out =
      SrtpSession::create(SrtpSession::Direction::kOutbound, keys.profile, keys.local_master);
  if (!in.is_ok() || !out.is_ok()) return;
  srtp_in_ = std::move(in).value();
  srtp_out_ = std::move(out).value();
}

void SyntheticPeer::OnDtlsTransportFailed(const DtlsTransport*, std::string_view reason) {
  base::log::warn("synthetic peer DTLS failed").kv("reason", reason);
}

}  // namespace media
