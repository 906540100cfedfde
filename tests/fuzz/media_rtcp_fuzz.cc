// Fuzzes the RTCP compound parser. Property: what parses serializes into bytes that parse
// into the same packets (Unknown packets are not re-serialized, so they are skipped).
#include <cstdlib>
#include <variant>

#include "media/rtcp/rtcp_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = media::rtcp::parse_compound(media::ByteSpan(data, size));
  if (!r.is_ok()) return 0;
  std::vector<media::rtcp::Packet> known;
  for (auto& p : *r) {
    if (std::holds_alternative<media::rtcp::Unknown>(p)) continue;
    // Counts above 31 cannot be written in the 5-bit field; NACK lists are re-packed.
    if (auto* n = std::get_if<media::rtcp::Nack>(&p)) {
      if (n->lost.size() > 300) continue;
    }
    if (auto* f = std::get_if<media::rtcp::Fir>(&p)) {
      if (f->entries.size() > 100) continue;
    }
    known.push_back(p);
  }
  if (known.empty()) return 0;
  auto bytes = media::rtcp::serialize(known);
  auto again = media::rtcp::parse_compound(bytes);
  if (!again.is_ok() || again->size() != known.size()) std::abort();
  for (size_t i = 0; i < known.size(); ++i) {
    // NACK lists may be re-packed in a different order; compare everything else exactly.
    if (std::holds_alternative<media::rtcp::Nack>(known[i])) continue;
    if (!((*again)[i] == known[i])) std::abort();
  }
  return 0;
}
