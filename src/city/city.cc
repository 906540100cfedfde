#include "city/city.h"

#include <boost/asio/post.hpp>
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
  commands_.set_state_callback([this](bool up) {
    if (!up) return;
    for (auto& fn : on_connected_) fn();
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
    pthread_setname_np(pthread_self(), "city");
    ioc_.run();
  });
  if (directory_) directory_->start();
}

void City::stop() {
  if (!thread_.joinable()) return;
  std::promise<void> done;
  boost::asio::post(ioc_, [this, &done] {
    subscriber_.stop();
    commands_.stop();
    done.set_value();
  });
  done.get_future().wait();
  work_.reset();
  ioc_.stop();
  thread_.join();
}

}  // namespace city
