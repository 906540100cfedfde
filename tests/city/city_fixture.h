// Replicas' City objects on one real redis-server, for the city tests.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "city/city.h"
#include "redis_server.h"

namespace city_test {

using namespace std::chrono_literals;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(15000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// An io_context on a thread of its own: stands in for an I/O thread of a replica.
struct IoThread {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{
      ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
  ~IoThread() {
    guard.reset();
    ioc.stop();
    thread.join();
  }
};

inline std::unique_ptr<city::City> make_city(const RedisServer& server, std::string replica) {
  city::CityOptions o;
  o.redis = *city::parse_redis_url(server.url());
  o.replica_id = std::move(replica);
  o.advertise_url = "http://127.0.0.1:1";
  o.connection.backoff_max = std::chrono::milliseconds(200);
  auto c = std::make_unique<city::City>(std::move(o));
  c->start();
  return c;
}

inline base::Result<city::Reply> run(city::Redis& r, std::vector<std::string> args) {
  std::promise<base::Result<city::Reply>> p;
  r.command(std::move(args), [&](base::Result<city::Reply> x) { p.set_value(std::move(x)); });
  return p.get_future().get();
}

}  // namespace city_test
