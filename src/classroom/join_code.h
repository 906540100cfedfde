// Class codes: what a teacher writes on the board or sends in an invite link, and a student
// types to join the course. Eight characters from an alphabet without look-alikes (no 0/O,
// 1/I/L; letters are upper case, lower case is accepted and folded), so a code read aloud or
// copied from a projector is typed right: 31^8 (about 8.5e11) codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/random.h"

namespace classroom {

inline constexpr std::string_view kJoinCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
inline constexpr size_t kJoinCodeLength = 8;

// A fresh random code (uniform over the alphabet, no modulo bias).
std::string new_join_code(base::Random& random);

// The canonical form of what a person typed: upper case, with spaces and dashes dropped
// ("abcd-efgh" -> "ABCDEFGH"); nullopt when it is not a well-formed code.
std::optional<std::string> normalize_join_code(std::string_view typed);

}  // namespace classroom
