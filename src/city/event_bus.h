// city::EventBus — one channel per live session across the replicas of a city, with a capped
// history for resume. The primitive the live class across replicas is built on.
//
//   auto sub = bus.subscribe(session_id, io_executor,
//                            [](const city::BusEvent& e) { /* e.id, e.payload */ },
//                            /*after_id=*/"", /*on_gap=*/[] { /* rebuild from the store */ });
//   bus.publish(session_id, payload, [](base::Result<std::string> id) { ... });
//   bus.history(session_id, after_id, [](base::Result<city::History> h) { ... });
//
// In Redis: the stream `ec:livelog:<session>` keeps the last kHistory (4,096) events (exact
// MAXLEN trim; it expires kIdleExpiry after its last event), and the pub/sub channel
// `ec:live:<session>` carries each event as "<id>\n<payload>". publish() runs one Lua script
// that appends to the stream and publishes the same event with the stream's id, atomically.
//
// Guarantees:
// - Order: one total order per session, the stream's id order (Redis runs the scripts one at
//   a time). Every subscriber, on every replica, sees a session's events in that order, and
//   events published from one replica keep that replica's publish order (one connection,
//   pipelined in order).
// - Delivery: each subscriber gets each event at most once (ids it has passed are dropped).
//   Pub/sub alone is at-most-once; the bus closes the gaps it can: after every (re)subscribe
//   it reads the stream after the last id the subscriber saw and delivers what it missed
//   before the live messages (buffered meanwhile). So while Redis keeps its data, delivery is
//   exactly-once and in order, also across a lost connection. Events can still be lost when
//   Redis loses them (restart without persistence, failover) or when more than 4,096 came
//   while the subscriber was away: then `on_gap` is called (and delivery goes on with newer
//   events), and the subscriber should rebuild its state from the home replica's store.
// - publish() completes with the event's id once Redis has it; when Redis is unreachable it
//   fails with unavailable/"city_unavailable" and nothing is sent (no retry: the caller
//   decides). An event whose reply was lost may or may not have been published.
// - A replica subscribed to a session receives its own publishes too.
//
// Threading: any thread may call publish/subscribe/history and cancel a subscription.
// Callbacks run on the executor given (subscribe) or on the city thread (publish/history
// `done`); a subscriber's callbacks are posted in order to its executor.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "city/redis.h"

namespace city {

struct BusEvent {
  std::string id;  // the stream id, "<ms>-<seq>": increasing within a session
  std::string payload;
};

struct History {
  std::vector<BusEvent> events;  // after the id asked for, oldest first
  bool gap = false;              // events after that id may have been trimmed or lost
};

class EventBus;

// Keeps a subscription alive; cancel() (or destruction) ends it. After cancel() returns no
// new callback is posted (one already posted may still run).
class BusSubscription {
 public:
  ~BusSubscription() { cancel(); }
  void cancel();

 private:
  friend class EventBus;
  struct State;
  BusSubscription(EventBus* bus, std::shared_ptr<State> s) : bus_(bus), state_(std::move(s)) {}
  EventBus* bus_;
  std::shared_ptr<State> state_;
};

class EventBus {
 public:
  static constexpr int64_t kHistory = 4096;                // events kept per session
  static constexpr int64_t kIdleExpiry = 6 * 3600 * 1000;  // ms after the last event

  // `commands` for publish/history, `subscriber` for SUBSCRIBE; both on the city thread.
  EventBus(Redis& commands, Redis& subscriber);
  ~EventBus();

  void publish(std::string session, std::string payload,
               std::function<void(base::Result<std::string> id)> done = nullptr);

  // Events of `session` from now on (or, with `after_id`, first every kept event after it),
  // each posted to `ex`. `on_gap` (optional, posted to `ex`) when events may have been lost.
  std::unique_ptr<BusSubscription> subscribe(std::string session, boost::asio::any_io_executor ex,
                                             std::function<void(const BusEvent&)> on_event,
                                             std::string after_id = {},
                                             std::function<void()> on_gap = nullptr);

  // The newest id in the session's stream ("0-0" when empty): subscribing after it misses
  // nothing published from now on. `done` runs on the city thread.
  void tail(std::string session, std::function<void(base::Result<std::string>)> done);

  // Kept events after `after_id` ("" or "0-0": all kept). `done` runs on the city thread.
  void history(std::string session, std::string after_id,
               std::function<void(base::Result<History>)> done);

  static std::string channel_key(std::string_view session);
  static std::string stream_key(std::string_view session);

 private:
  friend class BusSubscription;
  struct Channel;
  void add(std::shared_ptr<BusSubscription::State> s);
  void remove(const std::shared_ptr<BusSubscription::State>& s);
  void on_message(const std::string& session, const std::string& message);
  void on_subscribed(const std::string& session);
  void catch_up(const std::shared_ptr<BusSubscription::State>& s);

  Redis& commands_;
  Redis& subscriber_;
  // City thread only: the local subscribers of each session.
  std::map<std::string, std::vector<std::shared_ptr<BusSubscription::State>>> channels_;
};

}  // namespace city
