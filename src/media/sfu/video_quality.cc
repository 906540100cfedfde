#include "media/sfu/video_quality.h"

#include <cctype>
#include <string>

namespace media {

base::Result<uint64_t> video_bitrate_cap(std::string_view quality) {
  std::string q;
  for (char c : quality) q += char(std::tolower(uint8_t(c)));
  if (q == "360p") return uint64_t(600'000);
  if (q == "480p") return uint64_t(1'000'000);
  if (q == "720p") return uint64_t(2'500'000);
  if (q == "1080p") return uint64_t(4'500'000);
  return base::invalid_argument(
      "VIDEO_QUALITY must be 360p, 480p, 720p or 1080p, got '" + std::string(quality) + "'",
      "bad_video_quality");
}

}  // namespace media
