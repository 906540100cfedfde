#include "app/media_relay_wire.h"

#include <boost/json.hpp>
#include <utility>

#include "base/strings.h"

namespace app {

namespace json = boost::json;

namespace {

std::string base64url(const std::vector<uint8_t>& bytes) {
  return base::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// "1.2.3.4:5000" or "[::1]:5000".
bool parse_relay_address(std::string_view text, media::SocketAddress* out) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto port = base::parse_int(text.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535) return false;
  if (!media::SocketAddress::parse_ip(host, out)) return false;
  out->port = uint16_t(*port);
  return true;
}

// A JSON integer 0 .. 2^32-1 (an SSRC), without the exception boost::json's to_number throws
// for a negative, fractional or huge number.
bool ssrc_of(const json::value* v, uint32_t* out) {
  if (!v) return false;
  if (v->is_int64()) {
    int64_t n = v->get_int64();
    if (n < 0 || n > 0xFFFFFFFFll) return false;
    *out = uint32_t(n);
    return true;
  }
  if (v->is_uint64()) {
    uint64_t n = v->get_uint64();
    if (n > 0xFFFFFFFFull) return false;
    *out = uint32_t(n);
    return true;
  }
  return false;
}

}  // namespace

std::string encode_relay_offer(const media::RelayOffer& o) {
  json::object j;
  j["room"] = o.room_id;
  j["edge"] = o.edge;
  j["edge_address"] = o.edge_address.to_string();
  j["down_key"] = base64url(o.down_key);
  j["up_key"] = base64url(o.up_key);
  j["up_ssrc"] = o.up_ssrc;
  json::array streams;
  for (const auto& st : o.streams) {
    json::object s;
    s["feed"] = st.feed;
    s["kind"] = media::to_string(st.kind);
    s["layer"] = st.layer;
    s["ssrc"] = st.ssrc;
    streams.push_back(std::move(s));
  }
  j["streams"] = std::move(streams);
  return json::serialize(j);
}

base::Result<media::RelayOffer> decode_relay_offer(std::string_view body) {
  auto bad = [](std::string what) { return base::invalid_argument(what, "bad_relay_offer"); };
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return bad("a relay offer is a JSON object");
  const json::object& j = v.as_object();
  media::RelayOffer o;
  auto str = [&](const char* k) -> std::string {
    const json::value* f = j.if_contains(k);
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  o.room_id = str("room");
  o.edge = str("edge");
  if (!parse_relay_address(str("edge_address"), &o.edge_address)) return bad("bad edge_address");
  for (auto [key, out] : {std::pair{"down_key", &o.down_key}, std::pair{"up_key", &o.up_key}}) {
    auto raw = base::base64url_decode(str(key));
    if (!raw) return bad(std::string(key) + " is not base64url");
    out->assign(raw->begin(), raw->end());
  }
  if (!ssrc_of(j.if_contains("up_ssrc"), &o.up_ssrc)) return bad("up_ssrc is a 32-bit SSRC");
  const json::value* streams = j.if_contains("streams");
  if (!streams || !streams->is_array()) return bad("streams is an array");
  for (const json::value& sv : streams->as_array()) {
    if (!sv.is_object()) return bad("a stream is an object");
    const json::object& s = sv.as_object();
    media::RelayStream st;
    const json::value* feed = s.if_contains("feed");
    const json::value* kind = s.if_contains("kind");
    const json::value* layer = s.if_contains("layer");
    if (!feed || !feed->is_string() || !kind || !kind->is_string() || !layer ||
        !layer->is_int64() || !ssrc_of(s.if_contains("ssrc"), &st.ssrc)) {
      return bad("a stream has feed, kind, layer and a 32-bit ssrc");
    }
    if (layer->get_int64() < 0 || layer->get_int64() >= media::kRelayVideoLayers) {
      return bad("a stream's layer is 0 to " + std::to_string(media::kRelayVideoLayers - 1));
    }
    st.feed = std::string(feed->as_string());
    if (kind->as_string() != "audio" && kind->as_string() != "video") return bad("bad kind");
    st.kind = kind->as_string() == "audio" ? media::MediaKind::kAudio : media::MediaKind::kVideo;
    st.layer = int(layer->get_int64());
    o.streams.push_back(std::move(st));
  }
  return o;
}

std::string encode_relay_answer(const media::RelayAnswer& a) {
  json::object j;
  j["home_address"] = a.home_address.to_string();
  return json::serialize(j);
}

base::Result<media::RelayAnswer> decode_relay_answer(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  media::RelayAnswer a;
  const json::value* addr =
      !ec && v.is_object() ? v.as_object().if_contains("home_address") : nullptr;
  if (!addr || !addr->is_string() ||
      !parse_relay_address(std::string(addr->as_string()), &a.home_address)) {
    return base::invalid_argument("the home's relay answer has no home_address",
                                  "bad_relay_answer");
  }
  return a;
}

}  // namespace app
