// Fuzzes the RTP view: parse, read every extension id, rewrite the header in place, VP8 and
// H.264 key frame detection. Property: rewriting keeps the packet parseable with the same layout.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "media/rtp/rtp_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  (void)media::looks_like_rtcp(buf);
  auto p = media::RtpPacket::parse(buf);
  if (!p.is_ok()) return 0;
  size_t total = 0;
  for (int id = 0; id < 256; ++id) total += p->extension(uint8_t(id)).size();
  (void)media::is_keyframe("VP8", p->payload());
  (void)media::is_keyframe("h264", p->payload());
  size_t payload = p->payload().size();
  p->set_ssrc(~p->ssrc());
  p->set_sequence_number(uint16_t(p->sequence_number() + 1));
  p->set_timestamp(p->timestamp() + 3000);
  p->set_payload_type(96);
  p->set_marker(!p->marker());
  auto q = media::RtpPacket::parse(buf);
  if (!q.is_ok() || q->payload().size() != payload) std::abort();
  size_t total2 = 0;
  for (int id = 0; id < 256; ++id) total2 += q->extension(uint8_t(id)).size();
  if (total != total2) std::abort();
  return 0;
}
