// UTF-8 helpers: builtins count positions in code points, as Go's []rune does.
#pragma once

#include <string>
#include <string_view>

namespace policy::builtins {

// Decodes UTF-8 into code points; invalid bytes become U+FFFD (as Go does when ranging).
std::u32string utf8_decode(std::string_view s);
// Encodes one code point as UTF-8 and appends it.
void utf8_append(std::string& out, char32_t c);
// Encodes code points as UTF-8.
std::string utf8_encode(std::u32string_view s);

}  // namespace policy::builtins
