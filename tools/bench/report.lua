-- wrk helper: prints one machine-readable summary line that scripts/bench.sh parses,
--   BENCH requests=N duration_us=D rps=R p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=..
--         non2xx=N errors=N
-- wrk's own --latency table stops at P99; P99.9 comes from here.
local M = {}

-- `extra`: optional table of more key=value pairs for the line.
function M.done(summary, latency, requests, extra)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d " ..
    "max_us=%d non2xx=%d errors=%d",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.status, errors))
  for k, v in pairs(extra or {}) do io.write(string.format(" %s=%s", k, tostring(v))) end
  io.write("\n")
end

return M
