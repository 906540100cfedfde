// `edgeclass cert`: certificate helpers for running HTTPS without a platform in front.
#pragma once

#include <string>
#include <vector>

namespace app {

// `edgeclass cert --self-signed --host <ip|name> [--host ...] [--out DIR] [--days N] [--force]`.
// Returns the process exit code.
int cmd_cert(const std::vector<std::string>& args);

}  // namespace app
