// Shared pieces of the edgeclass-loadtest verbs: tokens, one-shot REST calls, a room set up
// through the REST API (teacher, active course, enrolled students, a live session), bounded
// concurrency for coroutines, and small measurement helpers.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/jwt.h"

namespace loadtest {

namespace asio = boost::asio;
using asio::awaitable;
inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Where the server under test listens and the secret its tokens are signed with.
struct ServerAddress {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string secret;
};

int64_t now_ns();
// VmRSS of `pid` in KiB, -1 when unknown.
int64_t rss_kb(int pid);
// utime + stime of a process (or, with `tid`, one of its threads) in nanoseconds; -1 when
// unknown.
int64_t cpu_ns(int pid, int tid = 0);
// Time `pid`'s threads (all of them, now) have spent runnable but waiting for a CPU, in
// nanoseconds (the second field of /proc/<pid>/task/<tid>/schedstat); -1 when unknown. `pid`
// 0: this process.
int64_t runqueue_wait_ns(int pid);
// The id of `pid`'s first thread whose name is `name`, 0 when none.
int thread_named(int pid, const std::string& name);
// Raises RLIMIT_NOFILE to its hard limit (thousands of sockets).
void raise_fd_limit();

std::string token_for(const ServerAddress& s, const std::string& sub, base::Role role);

// One REST call on a fresh connection; the parsed body, or null on any failure (printed).
awaitable<boost::json::value> rest(const ServerAddress& s, boost::beast::http::verb verb,
                                   std::string target, const std::string& token, std::string body);

awaitable<void> sleep_ms(int ms);

// Runs `task(i)` for i in [0, n) with at most `width` in flight.
template <typename Task>
awaitable<void> for_each_limited(int n, int width, Task task) {
  auto next = std::make_shared<int>(0);
  auto done = std::make_shared<int>(0);
  auto ex = co_await asio::this_coro::executor;
  int workers = std::min(n, width);
  for (int w = 0; w < workers; ++w) {
    asio::co_spawn(
        ex,
        [next, done, n, task]() -> awaitable<void> {
          while (*next < n) co_await task((*next)++);
          ++*done;
        },
        asio::detached);
  }
  asio::steady_timer t(ex);
  while (*done < workers) {
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(kNoThrow);
  }
}

// A teacher, an active course with `students` enrolled students, a live session and (with
// `quiz`) one single-choice quiz in it.
struct Room {
  std::string teacher, teacher_token, course, session, quiz;
  std::vector<std::string> students;  // tokens
  std::vector<std::string> ids;
};
awaitable<bool> setup_room(const ServerAddress& s, Room& r, const std::string& tag, int students,
                           bool quiz);
// The live WebSocket's target for `token` in `r`'s session.
std::string live_target(const Room& r, const std::string& token);

// "what: n=… p50=… p90=… p99=… p999=… max=…" of nanosecond samples, in milliseconds.
void print_percentiles(const char* what, std::vector<int64_t> samples_ns);

}  // namespace loadtest
