// build_answer(): the server side of JSEP offer/answer for an ICE-lite SFU.
#include <algorithm>

#include "media/sdp/session_description.h"

namespace media::sdp {
namespace {

base::Status offer_error(std::string msg) {
  return base::invalid_argument("sdp answer: " + std::move(msg), "bad_offer");
}

// Picks the codec to answer with, or nullptr when this section cannot be served.
const Codec* choose_codec(const MediaSection& m, bool allow_h264) {
  if (m.kind == "audio") {
    const Codec* opus = m.find_codec("opus");
    return opus && opus->clock_rate == 48000 && opus->channels == 2 ? opus : nullptr;
  }
  if (m.kind != "video") return nullptr;
  if (const Codec* vp8 = m.find_codec("VP8")) return vp8;
  if (!allow_h264) return nullptr;
  // H.264: Constrained Baseline, packetization-mode=1, which every browser decodes.
  for (const auto& c : m.codecs) {
    if (c.name != "H264" && c.name != "h264") continue;
    if (c.fmtp.find("packetization-mode=1") == std::string::npos) continue;
    if (c.fmtp.find("profile-level-id=42e01f") != std::string::npos ||
        c.fmtp.find("profile-level-id=42001f") != std::string::npos) {
      return &c;
    }
  }
  return nullptr;
}

// The rtx codec the offer pairs with payload type `apt`, or nullptr.
const Codec* rtx_for(const MediaSection& m, uint8_t apt) {
  const std::string want = "apt=" + std::to_string(apt);
  for (const auto& c : m.codecs) {
    if ((c.name == "rtx" || c.name == "RTX") && c.clock_rate == 90000) {
      // fmtp "apt=96" (possibly among other parameters).
      for (std::string_view f = c.fmtp; !f.empty();) {
        size_t semi = f.find(';');
        std::string_view param = f.substr(0, semi);
        while (!param.empty() && param.front() == ' ') param.remove_prefix(1);
        if (param == want) return &c;
        f = semi == std::string_view::npos ? std::string_view() : f.substr(semi + 1);
      }
    }
  }
  return nullptr;
}

// The simulcast layers a sending section offers: a=simulcast:send order, keeping only RIDs
// that have an a=rid send line (all a=rid send lines when there is no a=simulcast).
std::vector<std::string> simulcast_layers(const MediaSection& m) {
  std::vector<std::string> out;
  if (m.kind != "video" || m.rids_send.size() < 2) return out;
  const auto& order = m.simulcast_send.empty() ? m.rids_send : m.simulcast_send;
  for (const auto& rid : order) {
    if (std::find(m.rids_send.begin(), m.rids_send.end(), rid) != m.rids_send.end() &&
        std::find(out.begin(), out.end(), rid) == out.end()) {
      out.push_back(rid);
    }
  }
  return out.size() >= 2 ? out : std::vector<std::string>{};
}

void line(std::string& out, std::string_view text) {
  out.append(text);
  out.append("\r\n");
}

}  // namespace

base::Result<Answer> build_answer(const SessionDescription& offer, const AnswerOptions& o) {
  Answer answer;
  const MediaSection* transport = nullptr;  // the section whose transport BUNDLE uses
  std::vector<const Codec*> chosen(offer.media.size(), nullptr);
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaSection& m = offer.media[i];
    if (m.port == 0 || m.protocol != "UDP/TLS/RTP/SAVPF" || m.mid.empty()) continue;
    chosen[i] = choose_codec(m, o.allow_h264);
    if (!chosen[i]) continue;
    if (std::find(offer.bundle_mids.begin(), offer.bundle_mids.end(), m.mid) ==
        offer.bundle_mids.end()) {
      return offer_error("media section '" + m.mid + "' is not in the BUNDLE group");
    }
    if (!m.rtcp_mux) return offer_error("media section '" + m.mid + "' does not offer rtcp-mux");
    if (!transport) transport = &m;
  }
  if (!transport) return offer_error("no media section with Opus or VP8 to accept");
  if (transport->ice_ufrag.empty() || transport->ice_pwd.empty()) {
    return offer_error("offer has no ICE credentials");
  }
  if (transport->fingerprint_algorithm != "sha-256" || transport->fingerprint.empty()) {
    return offer_error("offer has no sha-256 DTLS fingerprint");
  }
  if (transport->setup == "passive") return offer_error("offer wants to be DTLS server (setup:passive)");
  answer.remote_fingerprint = transport->fingerprint;
  answer.remote_ufrag = transport->ice_ufrag;
  answer.remote_pwd = transport->ice_pwd;

  std::string& s = answer.sdp;
  std::string ip_kind = o.candidate_ip.find(':') == std::string::npos ? "IP4" : "IP6";
  line(s, "v=0");
  line(s, "o=- " + std::to_string(o.session_id) + " 2 IN IP4 127.0.0.1");
  line(s, "s=-");
  line(s, "t=0 0");
  line(s, "a=ice-lite");
  std::string group = "a=group:BUNDLE";
  for (size_t i = 0; i < offer.media.size(); ++i) {
    if (chosen[i]) group += " " + offer.media[i].mid;
  }
  line(s, group);
  if (offer.extmap_allow_mixed) line(s, "a=extmap-allow-mixed");
  line(s, "a=msid-semantic: WMS *");

  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaSection& m = offer.media[i];
    NegotiatedMedia neg;
    neg.mid = m.mid;
    neg.kind = m.kind;
    const Codec* c = chosen[i];
    if (!c) {
      // Rejected: port 0, the first offered format, and the mid so the browser can match.
      line(s, "m=" + m.kind + " 0 " + m.protocol + " " +
                  (m.formats.empty() ? std::string("0") : m.formats[0]));
      line(s, "c=IN IP4 0.0.0.0");
      if (!m.mid.empty()) line(s, "a=mid:" + m.mid);
      line(s, "a=inactive");
      answer.media.push_back(std::move(neg));
      continue;
    }
    neg.accepted = true;
    neg.codec = *c;
    AnswerMedia am = i < o.media.size() ? o.media[i] : AnswerMedia{};
    Direction dir = Direction::kInactive;
    if (m.direction == Direction::kSendRecv || m.direction == Direction::kSendOnly) {
      dir = Direction::kRecvOnly;
      neg.rids = simulcast_layers(m);
      if (!neg.rids.empty() && !m.extmap_id(kExtRid)) neg.rids.clear();  // cannot tell them apart
      if (!neg.rids.empty()) {
        // SSRCs are learnt from the RID extension.
      } else if (m.fid) {
        neg.remote_ssrcs.push_back(m.fid->first);
      } else {
        neg.remote_ssrcs = m.ssrcs;
      }
    } else if (m.direction == Direction::kRecvOnly && am.send_ssrc != 0) {
      dir = Direction::kSendOnly;
    }
    neg.our_direction = dir;
    const Codec* rtx = nullptr;
    if (dir == Direction::kSendOnly && am.send_rtx_ssrc != 0 && m.kind == "video" &&
        std::find(c->rtcp_fb.begin(), c->rtcp_fb.end(), "nack") != c->rtcp_fb.end()) {
      rtx = rtx_for(m, c->payload_type);
    }
    if (rtx) neg.rtx_payload_type = rtx->payload_type;

    line(s, "m=" + m.kind + " " + std::to_string(o.candidate_port) + " " + m.protocol + " " +
                std::to_string(c->payload_type) +
                (rtx ? " " + std::to_string(rtx->payload_type) : std::string()));
    line(s, "c=IN " + ip_kind + " " + o.candidate_ip);
    line(s, "a=ice-ufrag:" + o.ice_ufrag);
    line(s, "a=ice-pwd:" + o.ice_pwd);
    line(s, "a=fingerprint:sha-256 " + o.fingerprint_sha256);
    line(s, "a=setup:passive");
    line(s, "a=mid:" + m.mid);
    // Header extensions the SFU reads or that receivers use; ids echoed from the offer.
    // transport-cc is not echoed: this server does not send transport-wide feedback, and
    // without it Chromium uses REMB and loss for bandwidth estimation.
    for (const Extmap& e : m.extmaps) {
      bool keep = e.uri == kExtMid || e.uri == kExtAbsSendTime ||
                  (m.kind == "audio" && e.uri == kExtAudioLevel) ||
                  (e.uri == kExtRid && !neg.rids.empty());
      if (!keep) continue;
      line(s, "a=extmap:" + std::to_string(e.id) + " " + e.uri);
      if (e.uri == kExtMid) neg.ext_mid = e.id;
      if (e.uri == kExtRid) neg.ext_rid = e.id;
      if (e.uri == kExtAbsSendTime) neg.ext_abs_send_time = e.id;
      if (e.uri == kExtAudioLevel) neg.ext_audio_level = e.id;
    }
    line(s, std::string("a=") + to_string(dir));
    if (dir == Direction::kSendOnly && !am.send_msid.empty()) line(s, "a=msid:" + am.send_msid);
    line(s, "a=rtcp-mux");
    if (m.rtcp_rsize) line(s, "a=rtcp-rsize");
    std::string pt = std::to_string(c->payload_type);
    std::string rtpmap = "a=rtpmap:" + pt + " " + c->name + "/" + std::to_string(c->clock_rate);
    if (c->channels) rtpmap += "/" + std::to_string(c->channels);
    line(s, rtpmap);
    if (m.kind == "video") {
      for (std::string_view fb : {"goog-remb", "ccm fir", "nack", "nack pli"}) {
        if (std::find(c->rtcp_fb.begin(), c->rtcp_fb.end(), fb) != c->rtcp_fb.end()) {
          line(s, "a=rtcp-fb:" + pt + " " + std::string(fb));
        }
      }
    }
    if (!c->fmtp.empty()) line(s, "a=fmtp:" + pt + " " + c->fmtp);
    if (rtx) {
      std::string rpt = std::to_string(rtx->payload_type);
      line(s, "a=rtpmap:" + rpt + " rtx/90000");
      line(s, "a=fmtp:" + rpt + " apt=" + pt);
    }
    if (!neg.rids.empty()) {
      std::string layers;
      for (const auto& rid : neg.rids) {
        line(s, "a=rid:" + rid + " recv");
        layers += (layers.empty() ? "" : ";") + rid;
      }
      line(s, "a=simulcast:recv " + layers);
    }
    if (dir == Direction::kSendOnly) {
      if (rtx) {
        line(s, "a=ssrc-group:FID " + std::to_string(am.send_ssrc) + " " +
                    std::to_string(am.send_rtx_ssrc));
      }
      std::vector<uint32_t> ours = {am.send_ssrc};
      if (rtx) ours.push_back(am.send_rtx_ssrc);
      for (uint32_t ssrc : ours) {
        line(s, "a=ssrc:" + std::to_string(ssrc) + " cname:" + o.cname);
        if (!am.send_msid.empty())
          line(s, "a=ssrc:" + std::to_string(ssrc) + " msid:" + am.send_msid);
      }
    }
    line(s, "a=candidate:1 1 udp 2130706431 " + o.candidate_ip + " " +
                std::to_string(o.candidate_port) + " typ host");
    for (size_t i = 0; i < o.extra_candidate_ips.size(); ++i) {
      // RFC 8445 5.1.2: local preference decreases with the order; one foundation each.
      line(s, "a=candidate:" + std::to_string(i + 2) + " 1 udp " +
                  std::to_string(2130706431u - 256u * uint32_t(i + 1)) + " " +
                  o.extra_candidate_ips[i] + " " + std::to_string(o.candidate_port) + " typ host");
    }
    line(s, "a=end-of-candidates");
    answer.media.push_back(std::move(neg));
  }
  return answer;
}

}  // namespace media::sdp
