#include "media/sdp/session_description.h"

#include <algorithm>
#include <cctype>

#include "base/strings.h"

namespace media::sdp {
namespace {

base::Status sdp_error(std::string msg) { return base::invalid_argument("sdp: " + std::move(msg)); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y));
         });
}

std::optional<int64_t> to_int(std::string_view s, int64_t max) {
  auto v = base::parse_int(s);
  if (!v || *v < 0 || *v > max) return std::nullopt;
  return v;
}

// Splits "key:value" attributes; value is empty for flags like "rtcp-mux".
void split_attr(std::string_view line, std::string_view* key, std::string_view* value) {
  size_t colon = line.find(':');
  *key = line.substr(0, colon);
  *value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
}

std::string_view first_token(std::string_view s, std::string_view* rest) {
  size_t sp = s.find(' ');
  std::string_view tok = s.substr(0, sp);
  *rest = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  return tok;
}

Codec* codec_by_pt(MediaSection& m, int64_t pt) {
  for (auto& c : m.codecs) {
    if (c.payload_type == pt) return &c;
  }
  return nullptr;
}

base::Status parse_media_attr(MediaSection& m, std::string_view key, std::string_view value) {
  std::string_view rest;
  if (key == "mid") {
    m.mid = std::string(value);
  } else if (key == "sendrecv") {
    m.direction = Direction::kSendRecv;
  } else if (key == "sendonly") {
    m.direction = Direction::kSendOnly;
  } else if (key == "recvonly") {
    m.direction = Direction::kRecvOnly;
  } else if (key == "inactive") {
    m.direction = Direction::kInactive;
  } else if (key == "rtcp-mux") {
    m.rtcp_mux = true;
  } else if (key == "rtcp-rsize") {
    m.rtcp_rsize = true;
  } else if (key == "rtpmap") {
    auto pt = to_int(first_token(value, &rest), 127);
    if (!pt) return sdp_error("bad a=rtpmap payload type");
    auto parts = base::split(rest, '/');
    if (parts.size() < 2 || parts[0].empty()) return sdp_error("bad a=rtpmap encoding");
    auto rate = to_int(parts[1], 10'000'000);
    if (!rate) return sdp_error("bad a=rtpmap clock rate");
    Codec* c = codec_by_pt(m, *pt);
    if (!c) return sdp_error("a=rtpmap for a payload type not on the m-line");
    c->name = std::string(parts[0]);
    c->clock_rate = uint32_t(*rate);
    if (parts.size() > 2) {
      auto ch = to_int(parts[2], 255);
      if (!ch) return sdp_error("bad a=rtpmap channels");
      c->channels = uint8_t(*ch);
    }
  } else if (key == "fmtp") {
    auto pt = to_int(first_token(value, &rest), 127);
    if (!pt) return sdp_error("bad a=fmtp payload type");
    if (Codec* c = codec_by_pt(m, *pt)) c->fmtp = std::string(rest);
  } else if (key == "rtcp-fb") {
    std::string_view pt_text = first_token(value, &rest);
    if (pt_text == "*") {
      for (auto& c : m.codecs) c.rtcp_fb.emplace_back(rest);
    } else if (auto pt = to_int(pt_text, 127)) {
      if (Codec* c = codec_by_pt(m, *pt)) c->rtcp_fb.emplace_back(rest);
    } else {
      return sdp_error("bad a=rtcp-fb payload type");
    }
  } else if (key == "extmap") {
    std::string_view id_text = first_token(value, &rest);
    id_text = id_text.substr(0, id_text.find('/'));  // "id/direction"
    auto id = to_int(id_text, 255);
    if (!id || *id == 0) return sdp_error("bad a=extmap id");
    std::string_view uri = first_token(rest, &rest);
    if (uri.empty()) return sdp_error("a=extmap without a URI");
    m.extmaps.push_back({uint8_t(*id), std::string(uri)});
  } else if (key == "ssrc") {
    auto ssrc = to_int(first_token(value, &rest), 0xFFFFFFFFll);
    if (!ssrc) return sdp_error("bad a=ssrc");
    if (std::find(m.ssrcs.begin(), m.ssrcs.end(), uint32_t(*ssrc)) == m.ssrcs.end()) {
      m.ssrcs.push_back(uint32_t(*ssrc));
    }
    if (base::starts_with(rest, "cname:") && m.cname.empty()) m.cname = rest.substr(6);
  } else if (key == "ssrc-group") {
    std::string_view sem = first_token(value, &rest);
    if (sem == "FID") {
      std::string_view second;
      auto a = to_int(first_token(rest, &second), 0xFFFFFFFFll);
      auto b = to_int(first_token(second, &second), 0xFFFFFFFFll);
      if (!a || !b) return sdp_error("bad a=ssrc-group:FID");
      m.fid = {uint32_t(*a), uint32_t(*b)};
    }
  } else if (key == "msid") {
    m.msid = std::string(value);
  } else if (key == "rid") {
    std::string_view id = first_token(value, &rest);
    std::string_view dir = first_token(rest, &rest);
    if (id.empty() || (dir != "send" && dir != "recv")) return sdp_error("bad a=rid");
    if (dir == "send" && m.rids_send.size() < 8) m.rids_send.emplace_back(id);
  } else if (key == "simulcast") {
    std::string_view dir = first_token(value, &rest);
    if (dir == "send") {
      std::string_view list = first_token(rest, &rest);
      m.simulcast_send.clear();
      for (std::string_view stream : base::split(list, ';')) {
        std::string_view first = stream.substr(0, stream.find(','));
        if (!first.empty() && first[0] == '~') first.remove_prefix(1);
        if (first.empty()) return sdp_error("bad a=simulcast");
        if (m.simulcast_send.size() < 8) m.simulcast_send.emplace_back(first);
      }
    }
  }
  return base::Status::ok();
}

}  // namespace

const char* to_string(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "inactive";
}

const Codec* MediaSection::find_codec(std::string_view name) const {
  for (const auto& c : codecs) {
    if (iequals(c.name, name)) return &c;
  }
  return nullptr;
}

std::optional<uint8_t> MediaSection::extmap_id(std::string_view uri) const {
  for (const auto& e : extmaps) {
    if (e.uri == uri) return e.id;
  }
  return std::nullopt;
}

base::Result<SessionDescription> parse(std::string_view text) {
  SessionDescription s;
  // Session-level values inherited by media sections.
  std::string ufrag, pwd, fp_alg, fp, setup;
  bool first = true;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') return sdp_error("line without type=value");
    char type = line[0];
    std::string_view value = line.substr(2);
    if (first) {
      if (type != 'v' || value != "0") return sdp_error("must start with v=0");
      first = false;
      continue;
    }
    if (type == 'm') {
      MediaSection m;
      std::string_view rest;
      m.kind = std::string(first_token(value, &rest));
      auto port = to_int(first_token(rest, &rest), 65535);
      if (m.kind.empty() || !port) return sdp_error("malformed m= line");
      m.port = uint16_t(*port);
      m.protocol = std::string(first_token(rest, &rest));
      if (m.protocol.empty()) return sdp_error("m= line without a protocol");
      while (!rest.empty()) {
        std::string_view f = first_token(rest, &rest);
        if (f.empty()) continue;
        m.formats.emplace_back(f);
        if (auto pt = to_int(f, 127)) {
          Codec c;
          c.payload_type = uint8_t(*pt);
          m.codecs.push_back(std::move(c));
        }
      }
      m.ice_ufrag = ufrag, m.ice_pwd = pwd;
      m.fingerprint_algorithm = fp_alg, m.fingerprint = fp, m.setup = setup;
      if (s.media.size() >= 64) return sdp_error("too many media sections");
      s.media.push_back(std::move(m));
      continue;
    }
    if (type != 'a') continue;
    std::string_view key, val;
    split_attr(value, &key, &val);
    // Transport attributes: session level sets defaults, media level overrides.
    std::string* t_ufrag = s.media.empty() ? &ufrag : &s.media.back().ice_ufrag;
    std::string* t_pwd = s.media.empty() ? &pwd : &s.media.back().ice_pwd;
    std::string* t_setup = s.media.empty() ? &setup : &s.media.back().setup;
    if (key == "ice-ufrag") {
      *t_ufrag = std::string(val);
    } else if (key == "ice-pwd") {
      *t_pwd = std::string(val);
    } else if (key == "setup") {
      *t_setup = std::string(val);
    } else if (key == "fingerprint") {
      std::string_view rest;
      std::string_view alg = first_token(val, &rest);
      if (alg.empty() || rest.empty()) return sdp_error("malformed a=fingerprint");
      std::string a(alg);
      std::transform(a.begin(), a.end(), a.begin(), [](char c) { return char(std::tolower(c)); });
      if (s.media.empty()) {
        fp_alg = a, fp = std::string(rest);
      } else {
        s.media.back().fingerprint_algorithm = a;
        s.media.back().fingerprint = std::string(rest);
      }
    } else if (s.media.empty()) {
      if (key == "group") {
        std::string_view rest;
        if (first_token(val, &rest) == "BUNDLE") {
          s.bundle_mids.clear();
          while (!rest.empty()) {
            std::string_view mid = first_token(rest, &rest);
            if (!mid.empty()) s.bundle_mids.emplace_back(mid);
          }
        }
      } else if (key == "extmap-allow-mixed") {
        s.extmap_allow_mixed = true;
      }
    } else {
      EC_RETURN_IF_ERROR(parse_media_attr(s.media.back(), key, val));
    }
  }
  if (first) return sdp_error("empty description");
  return s;
}

}  // namespace media::sdp
