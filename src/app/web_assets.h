// The browser client (web/), compiled into the binary.
#pragma once

#include <string_view>
#include <vector>

namespace app {

struct WebAsset {
  std::string_view path;  // "/teacher.html"
  std::string_view content_type;
  std::string_view body;
};

const std::vector<WebAsset>& web_assets();
// The default policies (policies/*.rego).
const std::vector<WebAsset>& embedded_policies();

}  // namespace app
