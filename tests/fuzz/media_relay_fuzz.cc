// Fuzzes a class relayed between replicas (media/sfu/relay.h) where it reads bytes from another
// replica: the datagrams of a relay leg, routed by SSRC on the shared media port, on both the
// home's and the edge's Sfu. The leg is real (the edge's offer served by the home), so the
// fuzzer can also send packets protected with the leg's keys: what a (buggy or hostile) peer
// replica holding the keys could send, down to the Room (key frame requests, NACKs, BYE, the
// feed owners) and the edge's fan-out. Each input is split into datagrams:
//   [flags][2 bytes: length][datagram] ...
//   flags bit 0: to the edge (else to the home); bit 1: SRTP-protect with the leg's key of
//   that direction; bit 2: overwrite the SSRC (RTP) / sender SSRC (RTCP) with one the leg
//   routes, the n-th (bits 3-6) of the edge's; bit 7: advance the clock 200 ms and run timers.
// The datagrams come from the other replica's address; the parsers of the leg itself
// (parse_relay_owners, relay_route) see every datagram too.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "media/common/bytes.h"
#include "media/sfu/relay.h"
#include "media/sfu/sfu.h"
#include "media/srtp/srtp_session.h"
#include "media_sfu_null_peer.h"

namespace {

std::string subscribe_offer() {
  std::ifstream in(std::string(EDGECLASS_SOURCE_DIR) +
                   "/tests/media/data/chromium_subscribe_offer.sdp");
  std::string sdp((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (sdp.empty()) std::abort();
  return sdp;
}

media::SfuConfig replica(const char* ip) {
  media::SfuConfig c;
  c.public_ip = ip;
  c.port = 7882;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto cert = media::DtlsCertificate::generate().value();
  static const std::string offer_sdp = subscribe_offer();
  static NullSfuPeer null;
  const media::SocketAddress home_addr = media::SocketAddress::ipv4(10, 0, 1, 1, 7882);
  const media::SocketAddress edge_addr = media::SocketAddress::ipv4(10, 0, 2, 1, 7882);
  base::FakeClock clock;
  base::SeededRandom home_random(1), edge_random(2);
  media::Sfu home(replica("10.0.1.1"), &null, &null, &clock, &home_random, cert);
  media::Sfu edge(replica("10.0.2.1"), &null, &null, &clock, &edge_random, cert);
  media::RelayOffer offer;
  uint64_t offer_id = 0;
  edge.set_relay_requester([&](const std::string&, uint64_t id, const media::RelayOffer& o) {
    offer = o;
    offer_id = id;
  });
  if (!edge.subscribe_relayed("r", "student", "home", offer_sdp).is_ok()) std::abort();
  offer.edge = "edge";
  auto answer = home.relay_serve(offer);
  if (!answer.is_ok()) std::abort();
  edge.relay_answered("r", offer_id, *answer);
  if (edge.relay_counters().legs_in != 1 || home.relay_counters().legs_out != 1) std::abort();

  using media::SrtpSession;
  auto to_edge = SrtpSession::create(SrtpSession::Direction::kOutbound,
                                     media::SrtpProfile::kAeadAes128Gcm, offer.down_key);
  auto to_home = SrtpSession::create(SrtpSession::Direction::kOutbound,
                                     media::SrtpProfile::kAeadAes128Gcm, offer.up_key);
  if (!to_edge.is_ok() || !to_home.is_ok()) std::abort();
  std::vector<uint32_t> edge_routes;  // what the edge routes: every stream the home sends
  for (const auto& st : offer.streams) edge_routes.push_back(st.ssrc);

  size_t i = 0;
  std::vector<uint8_t> dgram;
  while (i + 3 <= size) {
    uint8_t flags = data[i];
    size_t len = size_t(data[i + 1]) << 8 | data[i + 2];
    i += 3;
    len = std::min(len, size - i);
    dgram.assign(data + i, data + i + len);
    i += len;
    const bool at_edge = flags & 1;
    (void)media::parse_relay_owners(dgram);
    auto route = media::relay_route(dgram);
    if ((flags & 4) && route) {
      uint32_t ssrc =
          at_edge ? edge_routes[size_t(flags >> 3 & 0x0F) % edge_routes.size()] : offer.up_ssrc;
      media::set_u32(dgram.data() + (route->rtcp ? 4 : 8), ssrc);
    }
    if ((flags & 2) && route) {
      size_t n = dgram.size();
      dgram.resize(n + SrtpSession::kMaxOverhead);
      SrtpSession& s = at_edge ? **to_edge : **to_home;
      base::Status st = route->rtcp ? s.protect_rtcp(dgram, &n) : s.protect_rtp(dgram, &n);
      dgram.resize(st.is_ok() ? n : 0);
    }
    if (at_edge) {
      edge.on_udp_packet(dgram, home_addr, clock.now_mono_ns());
    } else {
      home.on_udp_packet(dgram, edge_addr, clock.now_mono_ns());
    }
    if (flags & 0x80) {
      clock.advance_ms(200);
      home.on_timer();
      edge.on_timer();
    }
  }
  return 0;
}
