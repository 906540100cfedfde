#include "media/sfu/video_quality.h"

#include <cctype>
#include <string>

namespace media {

namespace {

std::string lower(std::string_view s) {
  std::string q;
  for (char c : s) q += char(std::tolower(uint8_t(c)));
  return q;
}

}  // namespace

base::Result<std::vector<SimulcastLayer>> simulcast_layers(std::string_view quality) {
  EC_ASSIGN_OR_RETURN(uint64_t cap, video_bitrate_cap(quality));
  std::string q = lower(quality);
  int top = q == "360p" ? 360 : q == "480p" ? 480 : q == "720p" ? 720 : 1080;
  // The two lower layers at about what a VP8 camera needs at 30 fps for their size; a
  // quarter-height layer must fit a thin link (a few hundred kbit/s) with audio beside it.
  uint64_t low = top <= 360 ? 60'000 : top <= 480 ? 100'000 : top <= 720 ? 150'000 : 300'000;
  uint64_t mid = top <= 360 ? 150'000 : top <= 480 ? 250'000 : top <= 720 ? 450'000 : 900'000;
  uint64_t full = cap > low + mid ? cap - low - mid : mid;
  return std::vector<SimulcastLayer>{{"q", top / 4, low}, {"h", top / 2, mid}, {"f", top, full}};
}

base::Result<uint64_t> video_bitrate_cap(std::string_view quality) {
  std::string q = lower(quality);
  if (q == "360p") return uint64_t(600'000);
  if (q == "480p") return uint64_t(1'000'000);
  if (q == "720p") return uint64_t(2'500'000);
  if (q == "1080p") return uint64_t(4'500'000);
  return base::invalid_argument(
      "VIDEO_QUALITY must be 360p, 480p, 720p or 1080p, got '" + std::string(quality) + "'",
      "bad_video_quality");
}

}  // namespace media
