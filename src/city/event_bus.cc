#include "city/event_bus.h"

#include <boost/asio/post.hpp>
#include <chrono>
#include <deque>

#include "base/strings.h"

namespace city {

namespace asio = boost::asio;

namespace {

// Appends to the capped stream and publishes "<id>\n<payload>" in one step, so the order of
// the stream and of the channel are the same.
constexpr Script kPublishScript{R"lua(
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 'e', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', KEYS[2], id .. '\n' .. ARGV[1])
return id
)lua"};

// {length, oldest id or '', entries after ARGV[1]}.
constexpr Script kRangeScript{R"lua(
local len = redis.call('XLEN', KEYS[1])
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local f = ''
if first[1] then f = first[1][1] end
return {len, f, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')}
)lua"};

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto operator<=>(const StreamId&) const = default;
};

StreamId parse_id(std::string_view s) {
  StreamId id;
  size_t dash = s.find('-');
  auto ms = base::parse_int(s.substr(0, dash));
  if (ms && *ms >= 0) id.ms = uint64_t(*ms);
  if (dash != std::string_view::npos) {
    auto seq = base::parse_int(s.substr(dash + 1));
    if (seq && *seq >= 0) id.seq = uint64_t(*seq);
  }
  return id;
}

std::string format_id(StreamId id) { return std::to_string(id.ms) + "-" + std::to_string(id.seq); }

base::Result<History> parse_range(const base::Result<Reply>& r, StreamId after) {
  if (!r.is_ok()) return r.status();
  EC_RETURN_IF_ERROR(reply_status(*r));
  if (r->type != Reply::Type::kArray || r->elements.size() != 3) {
    return base::internal_error("unexpected reply to the stream range script");
  }
  History h;
  int64_t len = r->elements[0].integer;
  const std::string& first = r->elements[1].str;
  for (const Reply& e : r->elements[2].elements) {
    if (e.elements.size() != 2 || e.elements[1].elements.size() < 2) continue;
    h.events.push_back({e.elements[0].str, e.elements[1].elements[1].str});
  }
  // Events after `after` may be missing when the oldest kept one is newer and the stream has
  // been trimmed, or when the stream is gone although `after` says events existed.
  if (after.ms != 0 || after.seq != 0) {
    if (len == 0)
      h.gap = true;
    else if (parse_id(first) > after && len >= EventBus::kHistory)
      h.gap = true;
  }
  return h;
}

// The newest id in the stream ('0-0' when empty): where a fresh subscriber starts.
constexpr Script kTailScript{R"lua(
local t = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if t[1] then return t[1][1] end
return '0-0'
)lua"};

}  // namespace

// One subscriber. Fields below `cancelled` belong to the city thread.
struct BusSubscription::State : std::enable_shared_from_this<BusSubscription::State> {
  std::string session;
  asio::any_io_executor ex;
  std::function<void(const BusEvent&)> on_event;
  std::function<void()> on_gap;
  std::atomic<bool> cancelled{false};

  StreamId last;             // the newest id delivered (or the resume point)
  bool resume = false;       // `last` is meaningful: catch up from it after (re)subscribing
  bool catching_up = false;  // a range read is in flight: live messages wait in `held`
  std::deque<BusEvent> held;

  // Posts `e` to the subscriber unless it is not newer than what it has seen.
  void deliver(BusEvent e) {
    StreamId id = parse_id(e.id);
    if (resume && !(last < id)) return;
    last = id;
    resume = true;
    asio::post(ex, [st = shared_from_this(), e = std::move(e)] {
      if (!st->cancelled.load()) st->on_event(e);
    });
  }

  void gap() {
    if (!on_gap) return;
    asio::post(ex, [st = shared_from_this()] {
      if (!st->cancelled.load()) st->on_gap();
    });
  }
};

void BusSubscription::cancel() {
  if (!state_ || state_->cancelled.exchange(true)) return;
  bus_->remove(state_);
}

std::string EventBus::channel_key(std::string_view session) {
  return "ec:live:" + std::string(session);
}
std::string EventBus::stream_key(std::string_view session) {
  return "ec:livelog:" + std::string(session);
}

EventBus::EventBus(Redis& commands, Redis& subscriber)
    : commands_(commands), subscriber_(subscriber) {}

EventBus::~EventBus() = default;

void EventBus::publish(std::string session, std::string payload,
                       std::function<void(base::Result<std::string>)> done) {
  commands_.eval(kPublishScript,
                 {"2", stream_key(session), channel_key(session), std::move(payload),
                  std::to_string(kHistory), std::to_string(kIdleExpiry)},
                 [done = std::move(done)](base::Result<Reply> r) {
                   if (!done) return;
                   if (!r.is_ok()) return done(r.status());
                   if (auto s = reply_status(*r); !s.is_ok()) return done(s);
                   done(r->str);
                 });
}

void EventBus::history(std::string session, std::string after_id,
                       std::function<void(base::Result<History>)> done) {
  StreamId after = parse_id(after_id.empty() ? "0-0" : after_id);
  commands_.eval(
      kRangeScript, {"1", stream_key(session), format_id(after)},
      [after, done = std::move(done)](base::Result<Reply> r) { done(parse_range(r, after)); });
}

void EventBus::tail(std::string session, std::function<void(base::Result<std::string>)> done) {
  commands_.eval(kTailScript, {"1", stream_key(session)},
                 [done = std::move(done)](base::Result<Reply> r) {
                   if (!r.is_ok()) return done(r.status());
                   if (auto s = reply_status(*r); !s.is_ok()) return done(s);
                   done(r->str);
                 });
}

std::unique_ptr<BusSubscription> EventBus::subscribe(std::string session, asio::any_io_executor ex,
                                                     std::function<void(const BusEvent&)> on_event,
                                                     std::string after_id,
                                                     std::function<void()> on_gap) {
  auto s = std::make_shared<BusSubscription::State>();
  s->session = std::move(session);
  s->ex = std::move(ex);
  s->on_event = std::move(on_event);
  s->on_gap = std::move(on_gap);
  if (!after_id.empty()) {
    s->last = parse_id(after_id);
    s->resume = true;
  }
  asio::post(subscriber_.context(), [this, s] { add(s); });
  return std::unique_ptr<BusSubscription>(new BusSubscription(this, s));
}

void EventBus::add(std::shared_ptr<BusSubscription::State> s) {
  if (s->cancelled.load()) return;
  auto& subs = channels_[s->session];
  bool first = subs.empty();
  subs.push_back(s);
  if (first) {
    std::string session = s->session;
    subscriber_.subscribe(
        channel_key(session),
        [this, session](const std::string&, const std::string& m) { on_message(session, m); },
        [this, session] { on_subscribed(session); });
  } else if (subscriber_.connected()) {
    // The channel is already live here: only this subscriber needs its history.
    catch_up(s);
  }
}

void EventBus::remove(const std::shared_ptr<BusSubscription::State>& s) {
  asio::post(subscriber_.context(), [this, s] {
    auto it = channels_.find(s->session);
    if (it == channels_.end()) return;
    std::erase(it->second, s);
    if (it->second.empty()) {
      channels_.erase(it);
      subscriber_.unsubscribe(channel_key(s->session));
    }
  });
}

void EventBus::on_subscribed(const std::string& session) {
  auto it = channels_.find(session);
  if (it == channels_.end()) return;
  for (const auto& s : it->second) catch_up(s);
}

// Reads the stream after s->last, delivers it, then what arrived live meanwhile. A fresh
// subscriber (no resume point yet) only learns the stream's newest id: it starts there, so
// that a later reconnect catches up from the right place (ids are Redis's clock, not ours).
void EventBus::catch_up(const std::shared_ptr<BusSubscription::State>& s) {
  s->catching_up = true;
  if (!s->resume) {
    commands_.eval(kTailScript, {"1", stream_key(s->session)}, [s](base::Result<Reply> r) {
      s->catching_up = false;
      if (s->cancelled.load()) return;
      if (r.is_ok() && !r->is_error() && !s->resume) {
        s->last = parse_id(r->str);
        s->resume = true;
      }
      while (!s->held.empty()) {
        s->deliver(std::move(s->held.front()));
        s->held.pop_front();
      }
    });
    return;
  }
  StreamId after = s->last;
  commands_.eval(kRangeScript, {"1", stream_key(s->session), format_id(after)},
                 [s, after](base::Result<Reply> r) {
                   base::Result<History> h = parse_range(r, after);
                   s->catching_up = false;
                   if (s->cancelled.load()) return;
                   if (h.is_ok()) {
                     if (h->gap) s->gap();
                     for (auto& e : h->events) s->deliver(std::move(e));
                   } else {
                     s->gap();  // could not read what was missed
                   }
                   while (!s->held.empty()) {
                     s->deliver(std::move(s->held.front()));
                     s->held.pop_front();
                   }
                 });
}

void EventBus::on_message(const std::string& session, const std::string& message) {
  auto it = channels_.find(session);
  if (it == channels_.end()) return;
  size_t nl = message.find('\n');
  if (nl == std::string::npos) return;
  BusEvent e{message.substr(0, nl), message.substr(nl + 1)};
  for (const auto& s : it->second) {
    if (s->catching_up)
      s->held.push_back(e);
    else
      s->deliver(e);
  }
}

}  // namespace city
