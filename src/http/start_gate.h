// http::StartGate — requests that need something the server prepares after it began to listen
// (the policies, compiled at idle priority once the listener serves: app/serve.cc) wait here
// without holding their I/O thread.
//
// A request that reaches a closed gate suspends its coroutine on a timer of its own thread;
// open() or fail(), from any thread, posts each waiter's wake-up to that waiter's thread. So
// while a decision waits for the compile, the same thread goes on answering everything that
// does not need one (/healthz, /metrics, the pages, other connections' reads). The wait is
// bounded: past the gate's limit, or once the gate failed, the request is answered 503 with a
// JSON error and Retry-After (refusal()). An open gate costs a request one atomic load.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "http/message.h"
#include "http/router.h"

namespace http {

class StartGate {
 public:
  // `limit`: the longest a request waits; `timed_out`: what it is answered past that (an
  // unavailable Status with the error code clients see).
  StartGate(std::chrono::milliseconds limit, base::Status timed_out);
  StartGate(const StartGate&) = delete;
  StartGate& operator=(const StartGate&) = delete;

  // Any thread.
  bool is_open() const { return state_.load(std::memory_order_acquire) == kOpen; }
  // Lets every waiting and later request through. Any thread; only the first open() or fail()
  // counts.
  void open();
  // Refuses every waiting and later request with `why` (an unavailable Status). Any thread.
  void fail(base::Status why);

  // Waits until the gate is open (OK), failed or the limit passed (the Status to answer with).
  // Must run on an I/O thread's io_context, which one thread runs (the wake-up is posted to
  // it). Does not block the thread.
  boost::asio::awaitable<base::Status> wait();

  // A refused request's answer: the Status as a JSON error (503 for unavailable) with
  // Retry-After (1 s while the gate is still closed, 5 s once it failed).
  Response refusal(const base::Status& why, unsigned version) const;

 private:
  struct Waiter;
  enum State : int { kClosed, kOpen, kFailed };
  // Sets the final state and wakes the waiters (each on its own thread).
  void settle(State s, base::Status why);
  base::Status result() const;

  const std::chrono::milliseconds limit_;
  const base::Status timed_out_;
  std::atomic<int> state_{kClosed};
  mutable std::mutex mu_;  // guards failed_, waiters_, prune_at_
  base::Status failed_;    // fail()'s, once state_ is kFailed
  // Requests waiting now; expired: gone, dropped when the list reaches prune_at_.
  std::vector<std::weak_ptr<Waiter>> waiters_;
  static constexpr size_t kMinPruneAt = 64;
  size_t prune_at_ = kMinPruneAt;  // guarded by mu_
};

// Makes each route for which `gated(route)` is true wait at `gate` while it is closed (through
// Router::wrap, so call it before serving). Once the gate is open a gated route's handler is
// called as before, with no coroutine frame of its own: one atomic load per request.
void gate_routes(Router& router, std::shared_ptr<StartGate> gate,
                 const std::function<bool(const Router::RouteInfo&)>& gated);

}  // namespace http
