// Fuzzes the SFU's reaction to subscribers' feedback and publishers' simulcast: a Room with a
// three-layer simulcast producer (RIDs q/h/f learnt from extension 10) and two subscribers
// (one with RTX), driven by records from the input:
//   [0][len:2][RTP packet]   from the publisher
//   [1|2][len:2][RTCP]       from subscriber 1 or 2 (REMB, receiver reports, NACK, PLI/FIR,
//                            transport-cc feedback: every parser of rtcp_packet.cc)
//   [3][ms:1]                the clock advances, the room's timer runs (layer selection,
//                            deferred key frame requests, reports)
// Properties: every RTP packet the room sends parses, carries the subscriber's SSRC (or its
// RTX SSRC), and a subscriber's sequence numbers on its main SSRC never repeat within a run
// of 100 (the rewriter keeps one continuous stream across layer switches); every RTCP packet
// it sends parses. (Subscriber 2 has no RTX: its retransmissions repeat sequence numbers on
// purpose, so the property is checked for subscriber 1.)
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtp/rtp_packet.h"
#include "media/sfu/room.h"

namespace {

struct Sink final : media::Room::Listener {
  std::map<std::string, std::vector<uint16_t>> seqs;
  bool OnRoomSendRtp(const std::string& who, std::span<uint8_t> buf, size_t len) override {
    std::vector<uint8_t> copy(buf.begin(), buf.begin() + len);
    auto p = media::RtpPacket::parse(copy);
    if (!p.is_ok()) std::abort();
    uint32_t main = who == "s1" ? 0xA1 : 0xA2;
    uint32_t rtx = who == "s1" ? 0xB1 : 0;
    if (p->ssrc() != main && (rtx == 0 || p->ssrc() != rtx)) std::abort();
    if (p->ssrc() == main) seqs[who].push_back(p->sequence_number());
    return true;
  }
  void OnRoomSendRtcp(const std::string&, std::span<uint8_t> buf, size_t len) override {
    if (!media::rtcp::parse_compound(media::ByteSpan(buf.data(), len)).is_ok()) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  base::log::set_level(base::log::Level::kOff);  // media.layer lines
  base::FakeClock clock;
  Sink sink;
  media::Room room(&sink, &clock, 2'500'000);
  media::ProducerParams p;
  p.participant_id = "teacher";
  p.kind = media::MediaKind::kVideo;
  p.payload_type = 96;
  p.rids = {"q", "h", "f"};
  p.ext_rid_id = 10;
  if (!room.set_producer("main", p).is_ok()) std::abort();
  for (int i = 1; i <= 2; ++i) {
    media::ConsumerParams c;
    c.participant_id = "s" + std::to_string(i);
    c.ssrc = i == 1 ? 0xA1 : 0xA2;
    c.payload_type = 100;
    c.ext_mid_id = 9;
    c.mid = "1";
    if (i == 1) c.rtx_ssrc = 0xB1, c.rtx_payload_type = 101;
    if (!room.add_consumer("main", media::MediaKind::kVideo, c).is_ok()) std::abort();
  }
  size_t at = 0;
  while (at < size) {
    uint8_t kind = data[at++] % 4;
    if (kind == 3) {
      if (at >= size) break;
      clock.advance_ms(data[at++]);
      room.on_timer();
      continue;
    }
    if (size - at < 2) break;
    size_t len = size_t(data[at]) << 8 | data[at + 1];
    at += 2;
    len = std::min(len, size - at);
    std::vector<uint8_t> bytes(data + at, data + at + len);
    at += len;
    if (kind == 0) {
      room.on_rtp("teacher", bytes, clock.now_mono_ns());
    } else {
      room.on_rtcp(kind == 1 ? "s1" : "s2", bytes);
    }
  }
  for (const auto& [who, s] : sink.seqs) {
    if (who != "s1") continue;
    for (size_t i = 0; i < s.size(); ++i) {
      for (size_t j = i + 1; j < s.size() && j < i + 100; ++j) {
        if (s[i] == s[j]) std::abort();
      }
    }
  }
  return 0;
}
