#include "http/start_gate.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace http {

namespace asio = boost::asio;

// One waiting request: its timer, on its own I/O thread. Shared with the wake-up posted to
// that thread, so that a wake-up that arrives after the request gave up finds a live timer.
struct StartGate::Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;  // the waiting request's thread only
};

StartGate::StartGate(std::chrono::milliseconds limit, base::Status timed_out)
    : limit_(limit), timed_out_(std::move(timed_out)) {}

void StartGate::open() { settle(kOpen, base::Status::ok()); }

void StartGate::fail(base::Status why) { settle(kFailed, std::move(why)); }

void StartGate::settle(State s, base::Status why) {
  std::vector<std::weak_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(mu_);
    if (state_.load(std::memory_order_relaxed) != kClosed) return;
    failed_ = std::move(why);
    state_.store(s, std::memory_order_release);
    waiters.swap(waiters_);
  }
  // Each timer is cancelled on its own thread (a timer is not thread-safe); the waiter then
  // reads the state set above.
  for (auto& weak : waiters) {
    if (std::shared_ptr<Waiter> w = weak.lock()) {
      asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }
  }
}

base::Status StartGate::result() const {
  switch (state_.load(std::memory_order_acquire)) {
    case kOpen:
      return base::Status::ok();
    case kFailed: {
      std::lock_guard lock(mu_);
      return failed_;
    }
    default:
      return timed_out_;
  }
}

asio::awaitable<base::Status> StartGate::wait() {
  if (state_.load(std::memory_order_acquire) != kClosed) co_return result();
  auto w = std::make_shared<Waiter>(co_await asio::this_coro::executor);
  w->timer.expires_after(limit_);
  bool waiting = false;
  {
    std::lock_guard lock(mu_);
    waiting = state_.load(std::memory_order_relaxed) == kClosed;
    if (waiting) {
      // A waiter that is gone leaves its entry behind (expired); they are dropped here once
      // they may make up half the list, so a waiter costs O(1) amortized and the list holds at
      // most twice those waiting. (Each leaving waiter erasing its own entry was a scan of the
      // list: quadratic when thousands time out together.)
      if (waiters_.size() >= prune_at_) {
        std::erase_if(waiters_, [](const std::weak_ptr<Waiter>& x) { return x.expired(); });
        prune_at_ = std::max<size_t>(kMinPruneAt, 2 * waiters_.size());
      }
      waiters_.push_back(w);
    }
  }
  if (!waiting) co_return result();  // settled meanwhile
  // Woken by the posted cancel (open or failed) or at the limit. The cancel cannot come before
  // this wait starts: it is posted to this thread, which is running this coroutine now.
  co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return result();
}

Response StartGate::refusal(const base::Status& why, unsigned version) const {
  Response r = error_response(why, version);
  r.set(beast_http::field::retry_after,
        state_.load(std::memory_order_acquire) == kFailed ? "5" : "1");
  return r;
}

namespace {

// A gated route's handler while its gate is closed: the wait, then the route's own handler.
asio::awaitable<Response> wait_then_handle(std::shared_ptr<StartGate> gate,
                                           std::shared_ptr<const Handler> inner, Ctx& ctx) {
  base::Status st = co_await gate->wait();
  if (!st.is_ok()) co_return gate->refusal(st, ctx.req.version());
  co_return co_await (*inner)(ctx);
}

}  // namespace

void gate_routes(Router& router, std::shared_ptr<StartGate> gate,
                 const std::function<bool(const Router::RouteInfo&)>& gated) {
  router.wrap([&](const Router::RouteInfo& route, const Handler& inner) -> Handler {
    if (!gated(route)) return {};  // left as it is
    return [gate, inner = std::make_shared<const Handler>(inner)](
               Ctx& ctx) -> asio::awaitable<Response> {
      // Not a coroutine itself: once open, the route's own coroutine is all a request makes.
      if (gate->is_open()) return (*inner)(ctx);
      return wait_then_handle(gate, inner, ctx);
    };
  });
}

}  // namespace http
