// UTF-8: checking, counting and repairing text that comes from outside (request paths, JSON
// strings, chat). One decoder serves all three, so "valid" means the same everywhere: the
// shortest form only, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace base {

// Length in bytes of the well-formed sequence starting at s[i] (1..4), or 0 when s[i] does not
// start one (a stray continuation byte, a truncated, overlong or surrogate sequence, or a
// code point past U+10FFFF). `i` must be < s.size().
size_t utf8_sequence_length(std::string_view s, size_t i);

// Appends code point `c` (at most U+10FFFF) encoded as UTF-8.
void append_utf8(std::string& out, char32_t c);

// True when all of `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);
// Number of code points in `s`, which must be valid UTF-8.
size_t utf8_length(std::string_view s);
// `s` with every byte that does not start a well-formed sequence replaced by U+FFFD (one
// replacement per byte). Valid text comes back unchanged. For quoting what a client sent in
// JSON: Boost.JSON writes strings byte for byte.
std::string valid_utf8(std::string_view s);

}  // namespace base
