// Fuzzes the SDP parser and the answer builder. Property: an answer we build parses.
#include <cstdlib>
#include <string_view>

#include "media/sdp/session_description.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto offer = media::sdp::parse(text);
  if (!offer.is_ok()) return 0;
  media::sdp::AnswerOptions o;
  o.ice_ufrag = "u";
  o.ice_pwd = "p";
  o.fingerprint_sha256 = "AA";
  o.candidate_ip = "127.0.0.1";
  o.candidate_port = 7882;
  o.media.resize(offer->media.size(), {1234, "s t"});
  auto answer = media::sdp::build_answer(*offer, o);
  if (!answer.is_ok()) return 0;
  if (!media::sdp::parse(answer->sdp).is_ok()) std::abort();
  return 0;
}
