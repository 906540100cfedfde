#include "city/city.h"

#include <pthread.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>

#include "base/log.h"

namespace city {

namespace {
RedisOptions named(RedisOptions o, const char* name) {
  o.name = name;
  return o;
}
}  // namespace

City::City(CityOptions options)
    : options_(std::move(options)),
      work_(ioc_.get_executor()),
      commands_(ioc_, options_.redis, named(options_.connection, "command")),
      subscriber_(ioc_, options_.redis, named(options_.connection, "subscriber")),
      bus_(commands_, subscriber_) {
  // Both state callbacks run on the city thread, each after its own connection's flag is
  // set: the second one up sees both and counts the epoch once.
  commands_.add_state_callback([this](bool up) {
    if (!up) return;
    if (subscriber_.connected()) link_epoch_.fetch_add(1, std::memory_order_acq_rel);
    for (auto& fn : on_connected_) fn();
  });
  subscriber_.add_state_callback([this](bool up) {
    if (up && commands_.connected()) link_epoch_.fetch_add(1, std::memory_order_acq_rel);
  });
}

void City::enable_directory(std::function<std::vector<Owned>()> all_owned) {
  directory_ = std::make_unique<Directory>(*this, std::move(all_owned));
}

void City::on_connected(std::function<void()> fn) {
  boost::asio::post(
      ioc_, [this, fn = std::move(fn)]() mutable { on_connected_.push_back(std::move(fn)); });
}

City::~City() { stop(); }

void City::start() {
  if (thread_.joinable()) return;
  base::log::info("city.starting")
      .kv("replica", options_.replica_id)
      .kv("advertise_url", options_.advertise_url)
      .kv("redis", options_.redis.redacted());
  commands_.start();
  subscriber_.start();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ec-city-redis");  // top -H, perf
    ioc_.run();
  });
  if (directory_) directory_->start();
}

void City::stop() {
  if (!thread_.joinable()) return;
  std::promise<void> done;
  boost::asio::co_spawn(ioc_, close_gracefully(done), boost::asio::detached);
  done.get_future().wait();
  work_.reset();
  ioc_.stop();
  thread_.join();
}

}  // namespace city

namespace city {

// What was sent before the stop (the live rooms' goodbyes, presence, the directory's) gets
// its answer first, so it was written: commands queued on the city thread before this ran
// are in flight by now. Bounded: a Redis that does not answer is not waited for.
boost::asio::awaitable<void> City::close_gracefully(std::promise<void>& done) {
  if (directory_) directory_->goodbye();
  // The goodbye's commands are posted: let them go out before counting what is in flight.
  co_await boost::asio::post(ioc_, boost::asio::use_awaitable);
  boost::asio::steady_timer timer(ioc_);
  const auto deadline = std::chrono::steady_clock::now() + kStopFlush;
  while (commands_.in_flight() > 0 && commands_.connected() &&
         std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(2));
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  if (commands_.in_flight() > 0) {
    base::log::warn("city.stop_unflushed").kv("commands", uint64_t(commands_.in_flight()));
  }
  subscriber_.stop();
  commands_.stop();
  done.set_value();
}

}  // namespace city
