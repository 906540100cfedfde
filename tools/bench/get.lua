-- wrk script: GET one path with a bearer token (BENCH_TOKEN), report P50..P999.
--   BENCH_TOKEN=... wrk -s tools/bench/get.lua http://127.0.0.1:PORT/api/v1/courses/ID
package.path = (os.getenv("BENCH_LUA_DIR") or "tools/bench") .. "/?.lua;" .. package.path
local report = require("report")

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")

done = report.done
