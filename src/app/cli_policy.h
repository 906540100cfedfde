// `edgeclass policy eval|test|verify`: the policy engine from the command line, like
// `opa eval`, `opa test` and `gator verify`.
#pragma once

#include <string>
#include <vector>

namespace app {

// Returns the process exit code (0 ok, 1 failures, 2 usage errors).
int cmd_policy(const std::vector<std::string>& args);

}  // namespace app
