// VIDEO_QUALITY (the Deployment's setting) to the bitrate cap the SFU announces to
// publishers with REMB. The caps are what a VP8 camera stream at 30 fps needs for a clean
// picture at that height; the publisher's encoder never exceeds them.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace media {

// "360p", "480p", "720p", "1080p" (case-insensitive) to bits per second.
base::Result<uint64_t> video_bitrate_cap(std::string_view quality);

}  // namespace media
