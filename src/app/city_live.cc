#include "app/city_live.h"

#include <boost/asio/post.hpp>
#include <mutex>

#include "base/log.h"
#include "city/event_bus.h"

namespace app {

namespace asio = boost::asio;

namespace {
constexpr const char* kPresenceExpiryMs = "21600000";  // 6 h, as the session's stream

// KEYS[1] the presence hash; ARGV[1] its expiry (ms), then user id, entry, ... (in chunks:
// Lua's unpack() has a stack limit).
constexpr city::Script kPresenceResetScript{R"lua(
redis.call('DEL', KEYS[1])
local n = #ARGV
if n < 3 then return 0 end
local i = 2
while i <= n do
  local j = math.min(n, i + 999)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return (n - 1) / 2
)lua"};
}  // namespace

CityLive::CityLive(city::City& city) : city_(city) {}

void CityLive::start(std::function<void(std::string_view)> on_upstream) {
  city_.subscriber().subscribe(
      upstream_channel(replica_id()),
      [fn = std::move(on_upstream)](const std::string&, const std::string& payload) {
        fn(payload);
      });
}

bool CityLive::is_home(std::string_view session_id) const {
  const city::Directory* d = city_.directory();
  return d && d->owner(session_id).has_value();
}

void CityLive::publish(const std::string& session_id, std::string payload) {
  city_.bus().publish(session_id, std::move(payload));
}

void CityLive::presence(const std::string& session_id, const std::string& user_id,
                        std::string entry) {
  const std::string key = presence_key(session_id);
  if (entry.empty()) {
    city_.commands().command({"HDEL", key, user_id}, [](base::Result<city::Reply>) {});
    return;
  }
  city_.commands().command({"HSET", key, user_id, std::move(entry)},
                           [](base::Result<city::Reply>) {});
  city_.commands().command({"PEXPIRE", key, kPresenceExpiryMs}, [](base::Result<city::Reply>) {});
}

void CityLive::presence_reset(const std::string& session_id,
                              std::vector<std::pair<std::string, std::string>> entries) {
  // One script, so a reader never sees the hash half written (and no MULTI: the command
  // connection is shared by every thread's commands).
  std::vector<std::string> args{"1", presence_key(session_id), kPresenceExpiryMs};
  args.reserve(args.size() + 2 * entries.size());
  for (auto& [user, entry] : entries) {
    args.push_back(user);
    args.push_back(std::move(entry));
  }
  city_.commands().eval(kPresenceResetScript, std::move(args), [](base::Result<city::Reply> r) {
    if (!r.is_ok() || r->is_error()) {
      // Best effort, as every presence write: the next re-registration writes it again.
      base::log::warn("live.presence_reset_failed")
          .kv("error", r.is_ok() ? r->str : r.status().message());
    }
  });
}

void CityLive::find_home(std::string session_id, asio::any_io_executor ex,
                         std::function<void(base::Result<std::string>)> done) {
  city::Directory* d = city_.directory();
  auto answer = [ex, done = std::move(done)](base::Result<std::string> r) mutable {
    asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  };
  if (!d) return answer(base::not_found("no directory", "unknown_entity"));
  if (auto home = d->cached_home(session_id); home && !home->url.empty()) {
    return answer(home->replica_id);
  }
  d->lookup(std::move(session_id), [answer](base::Result<city::Home> h) mutable {
    if (!h.is_ok()) return answer(h.status());
    if (h->url.empty()) {
      return answer(base::unavailable(
          "the course's home replica (" + h->replica_id + ") is not alive; try again shortly",
          "course_home_unavailable"));
    }
    answer(h->replica_id);
  });
}

void CityLive::send_to_home(const std::string& home, std::string payload, asio::any_io_executor ex,
                            std::function<void(bool)> done) {
  // PUBLISH answers how many subscribers got it: 0 when the home is not listening.
  city_.commands().command(
      {"PUBLISH", upstream_channel(home), std::move(payload)},
      [ex, done = std::move(done)](base::Result<city::Reply> r) mutable {
        bool delivered = r.is_ok() && r->type == city::Reply::Type::kInteger && r->integer > 0;
        asio::post(ex, [done = std::move(done), delivered] { done(delivered); });
      });
}

namespace {

// The bus subscription is made on the city thread once the stream's tail is known; the
// edge may drop its handle first.
struct LiveSubscription : ws::CityLink::Subscription {
  struct State {
    std::mutex mu;
    bool cancelled = false;                      // guarded by mu
    std::unique_ptr<city::BusSubscription> sub;  // guarded by mu
  };
  std::shared_ptr<State> state = std::make_shared<State>();
  ~LiveSubscription() override {
    std::unique_ptr<city::BusSubscription> sub;
    {
      std::lock_guard lock(state->mu);
      state->cancelled = true;
      sub = std::move(state->sub);
    }
    if (sub) sub->cancel();
  }
};

}  // namespace

std::unique_ptr<ws::CityLink::Subscription> CityLive::subscribe(
    const std::string& session_id, asio::any_io_executor ex,
    std::function<void(std::string_view)> on_payload, std::function<void(bool)> on_ready,
    std::function<void()> on_gap) {
  auto handle = std::make_unique<LiveSubscription>();
  std::weak_ptr<LiveSubscription::State> weak = handle->state;
  city::EventBus& bus = city_.bus();
  // From the stream's tail as it is now: whatever the home publishes after this point (the
  // welcome of a join sent once on_ready ran, and every event after it) is delivered, even
  // if Redis confirms the SUBSCRIBE later than the home publishes.
  bus.tail(session_id, [&bus, weak, session_id, ex, on_payload = std::move(on_payload),
                        on_ready = std::move(on_ready),
                        on_gap = std::move(on_gap)](base::Result<std::string> tail) mutable {
    auto state = weak.lock();
    if (!state) return;
    if (!tail.is_ok()) {
      asio::post(ex, [on_ready] { on_ready(false); });
      return;
    }
    auto sub = bus.subscribe(
        session_id, ex,
        [on_payload = std::move(on_payload)](const city::BusEvent& e) { on_payload(e.payload); },
        *tail, std::move(on_gap));
    {
      std::lock_guard lock(state->mu);
      if (state->cancelled) return;  // `sub` cancels itself as it goes
      state->sub = std::move(sub);
    }
    asio::post(ex, [on_ready] { on_ready(true); });
  });
  return handle;
}

}  // namespace app
