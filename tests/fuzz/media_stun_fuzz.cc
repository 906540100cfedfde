// Fuzzes the STUN parser, integrity check and the ICE-lite server's request handling.
// Property: whatever parses re-serializes into something that parses again.
#include <cstdlib>

#include "base/clock.h"
#include "media/ice/ice_server.h"
#include "media/stun/stun_packet.h"

namespace {
class NullListener : public media::IceServer::Listener {
 public:
  void OnIceServerSendStunPacket(const media::IceServer*, media::ByteSpan packet,
                                 const media::SocketAddress&) override {
    if (!media::stun::parse(packet).is_ok()) std::abort();  // our responses must be valid
  }
  void OnIceServerSelectedTuple(const media::IceServer*, const media::SocketAddress&) override {}
  void OnIceServerStateChanged(const media::IceServer*, media::IceServer::State) override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  media::ByteSpan in(data, size);
  auto msg = media::stun::parse(in);
  if (!msg.is_ok()) return 0;
  (void)media::stun::verify_integrity(in, *msg, "VOkJxbRl1RmTxUk/WvJxBt");
  auto out = media::stun::serialize(*msg, "key", true);
  auto again = media::stun::parse(out);
  if (!again.is_ok() || !media::stun::verify_integrity(out, *again, "key")) std::abort();

  static base::FakeClock clock;
  static NullListener listener;
  media::IceServer ice(&listener, &clock, "evtj", "h6vY");
  ice.process_stun(in, *msg, media::SocketAddress::ipv4(127, 0, 0, 1, 5000));
  return 0;
}
