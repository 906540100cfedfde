// Helpers the media tests share: recorded SDP fixtures (tests/media/data, MEDIA_TEST_DATA)
// and editing them.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace media::testing {

inline std::string read_fixture(const std::string& name) {
  std::ifstream f(std::string(MEDIA_TEST_DATA) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace media::testing
