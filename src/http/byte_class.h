// http::alnum_and — a byte class as a 256-entry table: ASCII letters and digits plus the
// bytes of `punctuation`. For the checks that run on every request (a field name's token
// characters, a Host value), where a table look-up per byte beats a search per byte.
#pragma once

#include <array>
#include <string_view>

namespace http {

constexpr std::array<bool, 256> alnum_and(std::string_view punctuation) {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[size_t(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[size_t(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[size_t(c)] = true;
  for (char c : punctuation) t[static_cast<unsigned char>(c)] = true;
  return t;
}

}  // namespace http
