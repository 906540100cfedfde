// Fuzzes the relay's HTTP wire (app/media_relay_wire.h): the body of POST
// /internal/v1/media/relay as the home decodes it, and the answer as the edge decodes it. A
// decoded offer must encode and decode to the same offer; a decoder never throws.
#include <cstdlib>
#include <string_view>

#include "app/media_relay_wire.h"

namespace {

bool same(const media::RelayOffer& a, const media::RelayOffer& b) {
  if (a.room_id != b.room_id || a.edge != b.edge || !(a.edge_address == b.edge_address) ||
      a.down_key != b.down_key || a.up_key != b.up_key || a.up_ssrc != b.up_ssrc ||
      a.streams.size() != b.streams.size()) {
    return false;
  }
  for (size_t i = 0; i < a.streams.size(); ++i) {
    const auto &x = a.streams[i], &y = b.streams[i];
    if (x.feed != y.feed || x.kind != y.kind || x.layer != y.layer || x.ssrc != y.ssrc) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto offer = app::decode_relay_offer(body);
  if (offer.is_ok()) {
    auto again = app::decode_relay_offer(app::encode_relay_offer(*offer));
    if (!again.is_ok() || !same(*offer, *again)) std::abort();
  } else if (offer.status().reason() != "bad_relay_offer") {
    std::abort();
  }
  auto answer = app::decode_relay_answer(body);
  if (answer.is_ok()) {
    auto again = app::decode_relay_answer(app::encode_relay_answer(*answer));
    if (!again.is_ok() || !(again->home_address == answer->home_address)) std::abort();
  }
  return 0;
}
