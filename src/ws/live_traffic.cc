#include "ws/live_traffic.h"

namespace ws {

bool is_plain_code(std::string_view code) {
  if (code.empty() || code.size() > 40) return false;
  for (char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string_view LiveTraffic::type_of(std::string_view json) {
  constexpr std::string_view kPrefix = "{\"type\":\"";
  if (json.substr(0, kPrefix.size()) != kPrefix) return {};
  json.remove_prefix(kPrefix.size());
  size_t end = json.find('"');
  return end == std::string_view::npos ? std::string_view{} : json.substr(0, end);
}

void LiveTraffic::count_error(std::string_view code) {
  if (!is_plain_code(code)) code = "other";
  std::lock_guard lock(mu_);
  auto it = errors_.find(code);
  if (it == errors_.end()) {
    if (errors_.size() >= kMaxErrorCodes)
      it = errors_.try_emplace("other", 0).first;
    else
      it = errors_.emplace(std::string(code), 0).first;
  }
  ++it->second;
}

std::vector<std::pair<std::string, uint64_t>> LiveTraffic::errors() const {
  std::lock_guard lock(mu_);
  return {errors_.begin(), errors_.end()};
}

}  // namespace ws
