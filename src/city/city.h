// city::City — what one replica holds of the city: the city thread (an io_context of its
// own, so that hiredis's name resolution and connect never run on an I/O thread), the
// command and subscriber connections to Redis, and on top of them the event bus
// (event_bus.h), the directory (directory.h) and the read cache (read_cache.h).
//
// Without EDGECLASS_REDIS_URL there is no City at all: the server is a single node.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "city/directory.h"
#include "city/event_bus.h"
#include "city/redis.h"
#include "city/redis_url.h"

namespace city {

struct CityOptions {
  RedisUrl redis;
  std::string replica_id;     // EDGECLASS_REPLICA_ID (default: the host name)
  std::string advertise_url;  // EDGECLASS_ADVERTISE_URL: how the other replicas reach us
  RedisOptions connection;    // timeouts and backoff of both connections
};

class City {
 public:
  explicit City(CityOptions options);
  // Stops (if still running) and joins the city thread.
  ~City();

  // Creates the directory (directory.h) over this replica's owner list. Before start().
  void enable_directory(std::function<std::vector<Owned>()> all_owned);

  // `fn` runs on the city thread each time the command connection is (re)established.
  // Any thread; takes effect for the next connection.
  void on_connected(std::function<void()> fn);

  // Starts the city thread and both connections (which keep retrying until Redis answers:
  // a replica starts without Redis and joins the city when it comes).
  void start();
  // Says goodbye (the directory's key goes), waits up to kStopFlush for the answers to the
  // commands already sent, closes the connections and joins the city thread. Any thread but
  // the city thread.
  void stop();
  static constexpr std::chrono::milliseconds kStopFlush{1000};

  // Both connections up. Any thread.
  bool connected() const { return commands_.connected() && subscriber_.connected(); }
  // Counts the times both connections came up (again): it changes across every outage of
  // either, however short. Any thread.
  uint64_t link_epoch() const { return link_epoch_.load(std::memory_order_acquire); }

  const CityOptions& options() const { return options_; }
  Redis& commands() { return commands_; }
  Redis& subscriber() { return subscriber_; }
  boost::asio::io_context& context() { return ioc_; }
  EventBus& bus() { return bus_; }
  Directory* directory() { return directory_.get(); }  // null without enable_directory

 private:
  boost::asio::awaitable<void> close_gracefully(std::promise<void>& done);

  CityOptions options_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  Redis commands_;    // ordinary commands, pipelined
  Redis subscriber_;  // SUBSCRIBE only (a subscribed connection takes no other commands)
  EventBus bus_;
  std::unique_ptr<Directory> directory_;
  std::vector<std::function<void()>> on_connected_;  // city thread
  std::atomic<uint64_t> link_epoch_{0};
  std::thread thread_;
};

}  // namespace city
