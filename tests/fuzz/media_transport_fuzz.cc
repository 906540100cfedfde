// Fuzzes the datagram path of the whole media plane: Sfu demultiplexing (ufrag, address),
// ICE-lite on fuzzed STUN, DTLS records into OpenSSL, SRTP/SRTCP unprotect, from an address
// that passed an ICE check and from one that did not. Each input is split into datagrams:
// [1 byte: which sender][2 bytes: length][datagram] ...
#include <cstdlib>
#include <cstring>
#include <string>

#include "media/sfu/sfu.h"
#include "media/stun/stun_packet.h"
#include "media_sfu_null_peer.h"

namespace {

const char kOffer[] =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:brwz\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\n"
    "a=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n"
    "a=ssrc:1234 cname:x\r\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto cert = media::DtlsCertificate::generate().value();
  static NullSfuPeer null;
  base::FakeClock clock;
  base::SeededRandom random(1);
  media::Sfu sfu(media::SfuConfig{}, &null, &null, &clock, &random, cert);
  auto answer = sfu.publish("r", "p", "main", kOffer);
  if (!answer.is_ok()) std::abort();
  auto parsed = media::sdp::parse(*answer);
  const auto& m = parsed->media[0];

  // One sender passes ICE first, so that DTLS and SRTP from it reach the transport.
  const media::SocketAddress checked = media::SocketAddress::ipv4(10, 0, 0, 1, 1000);
  const media::SocketAddress other = media::SocketAddress::ipv4(10, 0, 0, 2, 2000);
  media::stun::StunMessage req;
  req.username = m.ice_ufrag + ":brwz";
  req.priority = 1;
  req.ice_controlling = 1;
  req.use_candidate = true;
  auto check = media::stun::serialize(req, m.ice_pwd, true);
  sfu.on_udp_packet(check, checked, 0);

  size_t i = 0;
  std::vector<uint8_t> dgram;
  while (i + 3 <= size) {
    uint8_t who = data[i];
    size_t len = size_t(data[i + 1]) << 8 | data[i + 2];
    i += 3;
    len = std::min(len, size - i);
    dgram.assign(data + i, data + i + len);
    i += len;
    sfu.on_udp_packet(dgram, (who & 1) ? other : checked, 0);
    if (who & 0x80) {
      clock.advance_ms(200);
      sfu.on_timer();
    }
  }
  return 0;
}
