// An Sfu listener and packet sender that ignore everything: what the SFU fuzz targets hand it
// when only its parsing and state changes are under test.
#pragma once

#include <string>
#include <string_view>

#include "media/sfu/sfu.h"

class NullSfuPeer : public media::Sfu::Listener, public media::Sfu::PacketSender {
 public:
  void OnSfuTrackAdded(const std::string&, const std::string&, const std::string&,
                       media::MediaKind) override {}
  void OnSfuTrackRemoved(const std::string&, const std::string&, const std::string&,
                         media::MediaKind) override {}
  void OnSfuParticipantDisconnected(const std::string&, const std::string&, bool,
                                    const std::string&, std::string_view) override {}
  void send_udp(media::ByteSpan, const media::SocketAddress&) override {}
};
