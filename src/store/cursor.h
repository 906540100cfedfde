// Opaque keyset-pagination cursors (store-internal; callers only pass them through).
//
// A cursor names the last row of a page by its sort key (an integer time and a text id).
// It is encoded as unpadded base64url of "v1.<time>.<id>" so clients treat it as opaque.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace store {

struct CursorKey {
  int64_t time = 0;
  std::string id;
};

std::string encode_cursor(const CursorKey& key);

// InvalidArgument ("invalid_cursor") for anything encode_cursor did not produce.
base::Result<CursorKey> decode_cursor(std::string_view cursor);

// InvalidArgument unless 1 <= limit <= kMaxPageLimit.
base::Status check_limit(int limit);

}  // namespace store
