// The relay's wire (POST /internal/v1/media/relay, app/media_relay.h): media::RelayOffer and
// media::RelayAnswer as JSON, keys in base64url, addresses as "1.2.3.4:5000" / "[::1]:5000".
// The decoders take bytes from another replica: anything malformed is an InvalidArgument
// "bad_relay_offer" (or "bad_relay_answer"), never an exception.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "media/sfu/relay.h"

namespace app {

std::string encode_relay_offer(const media::RelayOffer& offer);
base::Result<media::RelayOffer> decode_relay_offer(std::string_view body);
std::string encode_relay_answer(const media::RelayAnswer& answer);
base::Result<media::RelayAnswer> decode_relay_answer(std::string_view body);

}  // namespace app
