// SDP (RFC 8866) as WebRTC uses it (JSEP, RFC 8829): parse a browser's offer into the few
// things an SFU needs, and build the answer of an ICE-lite, DTLS-passive, BUNDLE-only,
// rtcp-mux-only server.
//
// Parsing is lenient about lines it does not need (they are skipped) and strict about the
// ones it uses (a malformed a=rtpmap or a=extmap fails the parse). Line endings may be CRLF
// or LF. Pure functions; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace media::sdp {

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
const char* to_string(Direction d);

struct Codec {
  uint8_t payload_type = 0;
  std::string name;  // as written, e.g. "opus", "VP8", "H264", "rtx"
  uint32_t clock_rate = 0;
  uint8_t channels = 0;              // 0 when not given
  std::string fmtp;                  // the parameters after "a=fmtp:<pt> ", verbatim
  std::vector<std::string> rtcp_fb;  // e.g. "nack", "nack pli", "ccm fir", "goog-remb"
};

struct Extmap {
  uint8_t id = 0;
  std::string uri;
};

struct MediaSection {
  std::string kind;  // "audio", "video", "application", ...
  uint16_t port = 0;
  std::string protocol;              // e.g. "UDP/TLS/RTP/SAVPF"
  std::vector<std::string> formats;  // the m-line's format list, in preference order
  std::string mid;
  Direction direction = Direction::kSendRecv;
  std::vector<Codec> codecs;  // in the m-line's order
  std::vector<Extmap> extmaps;
  std::string ice_ufrag, ice_pwd;
  std::string fingerprint_algorithm, fingerprint;  // e.g. "sha-256", "AB:CD:..."
  std::string setup;                               // "actpass", "active", "passive"
  bool rtcp_mux = false;
  bool rtcp_rsize = false;
  std::vector<uint32_t> ssrcs;                       // every a=ssrc id, first seen first
  std::optional<std::pair<uint32_t, uint32_t>> fid;  // a=ssrc-group:FID primary rtx
  std::string cname;
  std::string msid;  // "<stream id> <track id>"
  // RID-based simulcast (RFC 8851, RFC 8853): the RIDs of a=rid lines with direction send,
  // and the layers a=simulcast:send lists (the first alternative of each, pause marks
  // removed), in the order written.
  std::vector<std::string> rids_send;
  std::vector<std::string> simulcast_send;

  const Codec* find_codec(std::string_view name) const;  // case-insensitive, first match
  std::optional<uint8_t> extmap_id(std::string_view uri) const;
};

struct SessionDescription {
  std::vector<std::string> bundle_mids;  // a=group:BUNDLE
  bool extmap_allow_mixed = false;
  std::vector<MediaSection> media;
};

// Parses an SDP. Session-level ice-ufrag/ice-pwd/fingerprint/setup are copied into every
// media section that does not set its own. Fails when there is no v= line first, an m= line
// is malformed, or an attribute this module uses is malformed.
base::Result<SessionDescription> parse(std::string_view text);

// Header extension URIs the SFU forwards or uses.
inline constexpr std::string_view kExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kExtAbsSendTime =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kExtRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kExtTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

// What the server puts in its answer for one offered media section.
struct AnswerMedia {
  // For a section the browser offered recvonly (a subscriber), what we send on it: SSRC and
  // msid of the forwarded track. Ignored for sections we receive on.
  uint32_t send_ssrc = 0;
  std::string send_msid;  // "<stream id> <track id>"
  // The SSRC of the RTX stream (RFC 4588) for that section, used when the offer has an rtx
  // codec for the chosen one; 0: no RTX.
  uint32_t send_rtx_ssrc = 0;
};

struct AnswerOptions {
  std::string ice_ufrag;
  std::string ice_pwd;
  std::string fingerprint_sha256;  // "AB:CD:..." of the server's DTLS certificate
  std::string candidate_ip;        // the announced address (EDGECLASS_PUBLIC_IP), also in c=
  // Further host candidates on the same port (every interface address when no public IP is
  // set), at decreasing priority after candidate_ip.
  std::vector<std::string> extra_candidate_ips;
  uint16_t candidate_port = 0;  // the one UDP port (EDGECLASS_MEDIA_PORT)
  std::string cname = "edgeclass";
  uint64_t session_id = 1;
  bool allow_h264 = true;  // offer H.264 (packetization-mode=1) when VP8 is absent
  // One entry per offered media section, same order; missing entries mean defaults.
  std::vector<AnswerMedia> media;
};

// The negotiated result for one media section, for the transport to configure forwarding.
struct NegotiatedMedia {
  std::string mid;
  std::string kind;
  bool accepted = false;
  Direction our_direction = Direction::kInactive;  // as written in the answer
  Codec codec;                                     // the chosen codec (payload type as offered)
  std::optional<uint8_t> ext_mid, ext_abs_send_time, ext_audio_level, ext_rid;
  std::vector<uint32_t> remote_ssrcs;  // what the browser will send (publishers)
  // Simulcast the browser will send (publishers): the layers' RIDs, in a=simulcast order
  // (lowest first, as the pages list them). Their SSRCs are not signalled: the RID header
  // extension (ext_rid) names each stream.
  std::vector<std::string> rids;
  // RTX negotiated for what we send (subscribers): its payload type, 0 when none.
  uint8_t rtx_payload_type = 0;
};

struct Answer {
  std::string sdp;
  std::vector<NegotiatedMedia> media;
  std::string remote_fingerprint;  // sha-256 of the browser's certificate, "AB:CD:..."
  std::string remote_ufrag;
  std::string remote_pwd;
};

// Builds the answer to `offer`. Accepts audio with Opus and video with VP8 (or H.264
// packetization-mode=1 when VP8 is not offered and allow_h264); rejects other sections with
// port 0. A video section the browser sends with RID simulcast is answered with the same
// layers (a=rid recv, a=simulcast:recv) and the RID extension; one the browser receives gets
// RTX (rtx codec with apt, a=ssrc-group:FID) when offered and AnswerMedia::send_rtx_ssrc is
// set. Echoes payload types and extmap ids from the offer; answers sendrecv/sendonly
// with recvonly and recvonly with sendonly. Fails when the offer lacks ICE credentials, a
// sha-256 fingerprint, rtcp-mux or BUNDLE over the accepted sections, or has setup:passive.
base::Result<Answer> build_answer(const SessionDescription& offer, const AnswerOptions& options);

}  // namespace media::sdp
