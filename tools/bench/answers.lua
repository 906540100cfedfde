-- wrk script: POST /api/v1/quizzes/{id}/answers, every request a different
-- (quiz, question, student), since each student may answer each question once.
--
-- BENCH_ANSWERS names a file written by tools/bench/setup.py:
--   line 1: "STUDENTS QUIZZES QUESTIONS"
--   then STUDENTS lines of tokens, then QUIZZES lines of quiz ids.
-- Item i (0-based) is student i % S, question (i / S) % Q, quiz i / (S * Q): consecutive
-- requests come from different students answering the same question, as in a live class.
-- Thread t of T takes items t, t + T, t + 2T, ... When a thread runs out it starts again
-- from its first item; for edgeclass those repeats are idempotent re-submissions (a cheaper
-- path), so the summary line reports "exhausted=N" (requests past the end of the list) and
-- scripts/bench.sh flags the result. BENCH_WRK_THREADS must equal wrk's -t.
package.path = (os.getenv("BENCH_LUA_DIR") or "tools/bench") .. "/?.lua;" .. package.path
local report = require("report")

local next_id = 0
local threads = {}

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(os.getenv("BENCH_ANSWERS"), "r"))
  S, NQUIZ, Q = f:read("*n", "*n", "*n")
  f:read("*l")
  tokens, quizzes = {}, {}
  for i = 1, S do tokens[i] = "Bearer " .. f:read("*l") end
  for i = 1, NQUIZ do quizzes[i] = f:read("*l") end
  f:close()
  total = S * Q * NQUIZ
  step = tonumber(os.getenv("BENCH_WRK_THREADS") or "1")
  i = id
  exhausted = 0
end

function request()
  if i >= total then
    i = id
    wrapped = true
  end
  if wrapped then exhausted = exhausted + 1 end
  local s = i % S
  local q = math.floor(i / S) % Q
  local n = math.floor(i / (S * Q))
  i = i + step
  return wrk.format("POST", "/api/v1/quizzes/" .. quizzes[n + 1] .. "/answers",
    {["Authorization"] = tokens[s + 1], ["Content-Type"] = "application/json"},
    '{"answers":[{"question":' .. q .. ',"choice":[' .. (s % 2) .. ']}]}')
end

function done(summary, latency, requests)
  local exhausted = 0
  for _, t in ipairs(threads) do exhausted = exhausted + (t:get("exhausted") or 0) end
  report.done(summary, latency, requests, {exhausted = exhausted})
end
