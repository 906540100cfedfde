// Standard process_* metrics (the names Prometheus client libraries use), read at scrape time
// from /proc and getrusage on Linux.
#pragma once

#include <cstdint>
#include <optional>

#include "metrics/registry.h"

namespace metrics {

// Registers process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_start_time_seconds, process_open_fds and
// process_max_fds on `registry`. Call once per registry. On a platform without /proc the
// samples that need it are omitted (their callbacks return NaN).
void register_process_metrics(Registry& registry);

// Resident set size in bytes (from /proc/self/statm), or nullopt where unavailable.
std::optional<uint64_t> resident_memory_bytes();

}  // namespace metrics
