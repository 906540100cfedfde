#include "classroom/join_code.h"

namespace classroom {

std::string new_join_code(base::Random& random) {
  constexpr size_t n = kJoinCodeAlphabet.size();
  // Reject bytes past the largest multiple of n, so every character is equally likely.
  constexpr unsigned kLimit = 256 - 256 % n;
  std::string code;
  while (code.size() < kJoinCodeLength) {
    unsigned char bytes[16];
    random.fill(bytes, sizeof bytes);
    for (unsigned char b : bytes) {
      if (b >= kLimit || code.size() == kJoinCodeLength) continue;
      code.push_back(kJoinCodeAlphabet[b % n]);
    }
  }
  return code;
}

std::optional<std::string> normalize_join_code(std::string_view typed) {
  std::string out;
  for (char ch : typed) {
    if (ch == ' ' || ch == '-') continue;
    if (ch >= 'a' && ch <= 'z') ch = char(ch - 'a' + 'A');
    if (kJoinCodeAlphabet.find(ch) == std::string_view::npos) return std::nullopt;
    out.push_back(ch);
    if (out.size() > kJoinCodeLength) return std::nullopt;
  }
  if (out.size() != kJoinCodeLength) return std::nullopt;
  return out;
}

}  // namespace classroom
