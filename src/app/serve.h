// `edgeclass serve`: wires every module together and runs until SIGTERM/SIGINT.
#pragma once

#include "app/config.h"

namespace app {

// Returns the process exit code: 0 after a graceful stop, 1 when start-up failed.
int serve(const Config& config);

}  // namespace app
