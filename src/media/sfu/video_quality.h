// VIDEO_QUALITY (the Deployment's setting) to the bitrate cap the SFU announces to
// publishers with REMB. The caps are what a VP8 camera stream at 30 fps needs for a clean
// picture at that height; the publisher's encoder never exceeds them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace media {

// "360p", "480p", "720p", "1080p" (case-insensitive) to bits per second.
base::Result<uint64_t> video_bitrate_cap(std::string_view quality);

// One layer of the simulcast a publishing page sends (RID-based; docs/live-protocol.md,
// "media.config"): the top layer at VIDEO_QUALITY's height, then half and a quarter of it.
// The bitrates add up to about video_bitrate_cap(): the top layer takes what the two below
// leave.
struct SimulcastLayer {
  const char* rid;           // "q", "h", "f": quarter, half, full
  int height;                // pixels (16:9)
  uint64_t max_bitrate_bps;  // the page's maxBitrate for the encoding
};
// Lowest first, as the page lists them in sendEncodings and a=simulcast.
base::Result<std::vector<SimulcastLayer>> simulcast_layers(std::string_view quality);

}  // namespace media
