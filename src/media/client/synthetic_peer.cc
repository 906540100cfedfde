#include "media/client/synthetic_peer.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "base/log.h"
#include "base/strings.h"
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
// Answerer mode: start DTLS this long after the first answered check even without a
// nomination (an offerer that nominates late, or whose USE-CANDIDATE check was lost).
constexpr int64_t kNominationWaitNs = 1'000'000'000;
// Answerer mode: the offerer (libnice in Janus) selects the pair and creates its DTLS
// endpoint only after our answer to its nominating check; a ClientHello sent right away
// can arrive before that, be dropped, and cost a 1 s DTLS retransmission. So wait a bit.
constexpr int64_t kDtlsStartDelayNs = 50'000'000;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y));
         });
}

}  // namespace

// The first "a=candidate:<foundation> 1 udp <prio> <IPv4> <port> typ host" of `sdp`.
std::optional<SocketAddress> SyntheticPeer::offer_host_candidate(std::string_view sdp) {
  for (std::string_view line : base::split(sdp, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    constexpr std::string_view kPrefix = "a=candidate:";
    if (line.substr(0, kPrefix.size()) != kPrefix) continue;
    auto f = base::split(line.substr(kPrefix.size()), ' ');
    if (f.size() < 8 || f[1] != "1" || !iequals(f[2], "udp") || f[6] != "typ" || f[7] != "host")
      continue;
    SocketAddress a;
    auto port = base::parse_int(f[5]);
    if (!SocketAddress::parse_ip(std::string(f[4]), &a) || a.v6 || !port || *port <= 0 ||
        *port > 65535)
      continue;
    a.port = uint16_t(*port);
    return a;
  }
  return std::nullopt;
}

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

base::Status SyntheticPeer::set_offer(std::string_view offer_sdp) {
  if (publisher_) return base::failed_precondition("answerer mode is for subscribers only");
  EC_ASSIGN_OR_RETURN(sdp::SessionDescription o, sdp::parse(offer_sdp));
  if (o.media.empty() || o.media[0].ice_ufrag.empty() || o.media[0].ice_pwd.empty())
    return base::invalid_argument("offer lacks ICE credentials");
  if (o.media[0].fingerprint_algorithm != "sha-256" || o.media[0].fingerprint.empty())
    return base::invalid_argument("offer lacks a sha-256 fingerprint");
  auto candidate = offer_host_candidate(offer_sdp);
  if (!candidate) return base::invalid_argument("offer has no IPv4 UDP host candidate");
  std::vector<OfferedMedia> offered;
  bool any = false;
  for (const auto& m : o.media) {
    OfferedMedia om;
    om.kind = m.kind;
    om.mid = m.mid;
    om.protocol = m.protocol;
    const char* want = m.kind == "audio" ? "opus" : m.kind == "video" ? "VP8" : nullptr;
    const sdp::Codec* c = want ? m.find_codec(want) : nullptr;
    if (c && m.port != 0 && m.direction != sdp::Direction::kRecvOnly &&
        m.direction != sdp::Direction::kInactive) {
      if (!m.rtcp_mux) return base::invalid_argument("offer section " + m.mid + " lacks rtcp-mux");
      if (m.setup != "actpass" && m.setup != "passive")
        return base::invalid_argument("offer section " + m.mid + " has setup:" + m.setup +
                                      " (we are the DTLS client)");
      std::string pt = std::to_string(c->payload_type);
      om.accepted = any = true;
      om.payload_type = c->payload_type;
      om.codec_lines = "a=rtpmap:" + pt + " " + c->name + "/" + std::to_string(c->clock_rate) +
                       (c->channels ? "/" + std::to_string(c->channels) : "") + "\r\n";
      if (!c->fmtp.empty()) om.codec_lines += "a=fmtp:" + pt + " " + c->fmtp + "\r\n";
      for (const auto& fb : c->rtcp_fb) {
        if (fb != "transport-cc") om.codec_lines += "a=rtcp-fb:" + pt + " " + fb + "\r\n";
      }
      for (std::string_view uri : {sdp::kExtMid, sdp::kExtAbsSendTime}) {
        if (auto id = m.extmap_id(uri))
          om.extmap_lines += "a=extmap:" + std::to_string(*id) + " " + std::string(uri) + "\r\n";
      }
    }
    offered.push_back(std::move(om));
  }
  if (!any) return base::invalid_argument("offer has no sendable Opus or VP8 section");
  answerer_ = true;
  offered_ = std::move(offered);
  remote_candidate_ = *candidate;
  remote_ufrag_ = o.media[0].ice_ufrag;
  remote_pwd_ = o.media[0].ice_pwd;
  dtls_->set_remote_fingerprint(o.media[0].fingerprint);
  return base::Status::ok();
}

std::string SyntheticPeer::answer(const SocketAddress& local) const {
  std::string ip = local.ip_string(), port = std::to_string(local.port);
  std::string bundle;
  for (const auto& m : offered_) {
    if (m.accepted) bundle += " " + m.mid;
  }
  std::string s = "v=0\r\no=- 1 2 IN IP4 " + ip + "\r\ns=-\r\nt=0 0\r\n";
  s += "a=group:BUNDLE" + bundle + "\r\na=ice-lite\r\na=msid-semantic: WMS *\r\n";
  bool first = true;
  for (const auto& m : offered_) {
    if (!m.accepted) {
      s += "m=" + m.kind + " 0 " + m.protocol + " 0\r\nc=IN IP4 0.0.0.0\r\n";
      s += "a=inactive\r\na=mid:" + m.mid + "\r\n";
      continue;
    }
    s += "m=" + m.kind + " " + port + " " + m.protocol + " " + std::to_string(m.payload_type) +
         "\r\nc=IN IP4 " + ip + "\r\n";
    s += "a=mid:" + m.mid + "\r\na=recvonly\r\n";
    s += "a=ice-ufrag:" + ufrag_ + "\r\na=ice-pwd:" + pwd_ + "\r\n";
    s += "a=fingerprint:sha-256 " + certificate_->fingerprint_sha256() + "\r\n";
    s += "a=setup:active\r\na=rtcp-mux\r\n" + m.extmap_lines + m.codec_lines;
    if (first) {  // BUNDLE: the candidates go in the first accepted section
      s += "a=candidate:1 1 udp 2130706431 " + ip + " " + port + " typ host\r\n";
      s += "a=end-of-candidates\r\n";
      first = false;
    }
  }
  return s;
}

void SyntheticPeer::answer_check(std::span<uint8_t> data) {
  auto req = stun::parse(data);
  if (!req.is_ok() || req->cls != stun::Class::kRequest || req->method != stun::kMethodBinding)
    return;  // indications (keepalives) and stray responses need no answer
  if (!req->username || *req->username != ufrag_ + ":" + remote_ufrag_ ||
      !stun::verify_integrity(data, *req, pwd_)) {
    return;  // not for us; a full agent simply retries or fails that pair
  }
  stun::StunMessage resp;
  resp.cls = stun::Class::kSuccessResponse;
  resp.transaction_id = req->transaction_id;
  resp.xor_mapped_address = remote_candidate_;
  sender_->send_to_sfu(stun::serialize(resp, pwd_, true));
  if (!checked_) {
    checked_ = true;
    first_check_ns_ = clock_->now_mono_ns();
  }
  if (req->use_candidate && !nominated_) {
    nominated_ = true;
    nominated_ns_ = clock_->now_mono_ns();
  }
}

void SyntheticPeer::start_dtls() {
  if (dtls_started_) return;
  dtls_started_ = true;
  dtls_->start();
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
  start_dtls();
}

void SyntheticPeer::receive(std::span<uint8_t> data) {
  if (data.empty()) return;
  if (stun::is_stun(data)) {
    // Offerer mode: check responses (consent is the server's concern). Answerer mode: the
    // server's checks.
    if (answerer_) answer_check(data);
    return;
  }
  if (looks_like_dtls(data)) {
    dtls_->process_data(data);
    return;
  }
  if (!srtp_in_ || !looks_like_rtp_or_rtcp(data)) return;
  size_t len = data.size();
  if (looks_like_rtcp(data)) {
    if (!srtp_in_->unprotect_rtcp(data, &len).is_ok()) {
      ++srtp_failures_;
    } else if (on_rtcp) {
      on_rtcp(ByteSpan(data.data(), len));
    }
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
  int64_t now = clock_->now_mono_ns();
  if (answerer_) {
    if ((nominated_ && now - nominated_ns_ >= kDtlsStartDelayNs) ||
        (checked_ && now - first_check_ns_ > kNominationWaitNs)) {
      start_dtls();
    }
  } else if (!remote_ufrag_.empty() && now - last_check_ns_ > kConsentIntervalNs) {
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
