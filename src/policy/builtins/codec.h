// Byte encodings with the exact acceptance rules and messages of Go's encoding/base64,
// encoding/hex and net/url (QueryEscape / QueryUnescape), which OPA's builtins use.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace policy::builtins::codec {

// `url` selects the URL-safe alphabet, `pad` the '=' padding.
std::string base64_encode(std::string_view data, bool url, bool pad);
// Strict decoding as Go: "illegal base64 data at input byte N". '\r' and '\n' are ignored.
base::Result<std::string> base64_decode(std::string_view text, bool url, bool pad);

std::string hex_encode(std::string_view data);
// "encoding/hex: invalid byte: U+0067 'g'" / "encoding/hex: odd length hex string".
base::Result<std::string> hex_decode(std::string_view text);

// url.QueryEscape / url.QueryUnescape ('+' is a space).
std::string query_escape(std::string_view s);
base::Result<std::string> query_unescape(std::string_view s);
// url.PathUnescape-like: %XX decoded, '+' kept.
base::Result<std::string> path_unescape(std::string_view s);

}  // namespace policy::builtins::codec
