// city::EventBus across two replicas on a real redis-server: order, resume from the capped
// stream, catch-up after a lost subscriber connection, and Redis coming back empty.
#include "city/event_bus.h"

#include <gtest/gtest.h>

#include <mutex>

#include "city_fixture.h"

namespace {

using city::BusEvent;
using namespace city_test;

// What one subscriber saw (written on its IoThread, read by the test).
struct Seen {
  std::mutex mu;
  std::vector<BusEvent> events;
  int gaps = 0;
  // Without the probes that waited for the subscription.
  size_t size() { return payloads().size(); }
  size_t probes() {
    std::lock_guard l(mu);
    size_t n = 0;
    for (auto& e : events) n += e.payload == "probe";
    return n;
  }
  std::vector<std::string> payloads() {
    std::lock_guard l(mu);
    std::vector<std::string> out;
    for (auto& e : events) {
      if (e.payload != "probe") out.push_back(e.payload);
    }
    return out;
  }
  auto on_event() {
    return [this](const BusEvent& e) {
      std::lock_guard l(mu);
      events.push_back(e);
    };
  }
  auto on_gap() {
    return [this] {
      std::lock_guard l(mu);
      ++gaps;
    };
  }
};

std::string publish_sync(city::EventBus& bus, const std::string& session, std::string payload) {
  std::promise<base::Result<std::string>> p;
  bus.publish(session, std::move(payload),
              [&](base::Result<std::string> id) { p.set_value(std::move(id)); });
  auto r = p.get_future().get();
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? *r : std::string();
}

class EventBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.available()) GTEST_SKIP() << "redis-server is not installed";
    ASSERT_TRUE(server_.start());
    a_ = make_city(server_, "a");
    b_ = make_city(server_, "b");
    ASSERT_TRUE(eventually([&] { return a_->connected() && b_->connected(); }));
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
  }
  RedisServer server_;
  std::unique_ptr<city::City> a_, b_;
  IoThread io_;
};

TEST_F(EventBusTest, EveryReplicaSeesOneOrderPerSession) {
  Seen on_a, on_b;
  auto sa = a_->bus().subscribe("s1", io_.ioc.get_executor(), on_a.on_event());
  auto sb = b_->bus().subscribe("s1", io_.ioc.get_executor(), on_b.on_event());
  ASSERT_TRUE(eventually([&] {
    // Subscribed once a probe event arrives on both.
    publish_sync(a_->bus(), "s1", "probe");
    return on_a.probes() > 0 && on_b.probes() > 0;
  }));
  constexpr int kEach = 300;
  std::thread ta([&] {
    for (int i = 0; i < kEach; ++i) a_->bus().publish("s1", "a" + std::to_string(i));
  });
  std::thread tb([&] {
    for (int i = 0; i < kEach; ++i) b_->bus().publish("s1", "b" + std::to_string(i));
  });
  ta.join();
  tb.join();
  ASSERT_TRUE(eventually([&] { return on_a.size() >= 2 * kEach && on_b.size() >= 2 * kEach; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(on_a.payloads(), on_b.payloads());  // the same total order on both replicas
  // Each publisher's own order is kept, and nothing is doubled.
  auto p = on_a.payloads();
  ASSERT_EQ(p.size(), size_t(2 * kEach));
  int next_a = 0, next_b = 0;
  for (const auto& x : p) {
    if (x[0] == 'a')
      EXPECT_EQ(x, "a" + std::to_string(next_a++));
    else
      EXPECT_EQ(x, "b" + std::to_string(next_b++));
  }
  // Other sessions are not mixed in.
  Seen other;
  auto so = b_->bus().subscribe("s2", io_.ioc.get_executor(), other.on_event());
  std::this_thread::sleep_for(100ms);
  publish_sync(a_->bus(), "s1", "not for s2");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(other.size(), 0u);
}

TEST_F(EventBusTest, ResumesAfterAnIdFromTheCappedHistory) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(publish_sync(a_->bus(), "s1", std::to_string(i)));
  Seen seen;
  auto sub = b_->bus().subscribe("s1", io_.ioc.get_executor(), seen.on_event(), ids[9]);
  ASSERT_TRUE(eventually([&] { return seen.size() == 10; }));
  publish_sync(a_->bus(), "s1", "20");
  ASSERT_TRUE(eventually([&] { return seen.size() == 11; }));
  auto p = seen.payloads();
  for (int i = 0; i < 11; ++i) EXPECT_EQ(p[size_t(i)], std::to_string(10 + i));

  // The stream keeps the last 4,096: older resume points report a gap.
  std::vector<std::vector<std::string>> batch;
  for (int i = 0; i < 4200; ++i) a_->bus().publish("s3", std::to_string(i));
  std::string last = publish_sync(a_->bus(), "s3", "end");
  std::promise<base::Result<city::History>> h;
  a_->bus().history("s3", "", [&](base::Result<city::History> r) { h.set_value(std::move(r)); });
  auto all = h.get_future().get();
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->events.size(), size_t(city::EventBus::kHistory));
  EXPECT_EQ(all->events.back().id, last);
  EXPECT_EQ(all->events.front().payload, std::to_string(4201 - 4096));
  std::promise<base::Result<city::History>> h2;
  a_->bus().history("s3", "1-0",
                    [&](base::Result<city::History> r) { h2.set_value(std::move(r)); });
  auto old = h2.get_future().get();
  ASSERT_TRUE(old.is_ok());
  EXPECT_TRUE(old->gap);
}

TEST_F(EventBusTest, CatchesUpWhatItMissedWhileItsConnectionWasDown) {
  Seen seen;
  auto sub = b_->bus().subscribe("s1", io_.ioc.get_executor(), seen.on_event(), "", seen.on_gap());
  ASSERT_TRUE(eventually([&] {
    publish_sync(a_->bus(), "s1", "probe");
    return seen.probes() > 0;
  }));
  size_t before = seen.size();
  // Cut every subscriber connection (b's), publish while it reconnects.
  ASSERT_TRUE(run(a_->commands(), {"CLIENT", "KILL", "TYPE", "pubsub"}).is_ok());
  for (int i = 0; i < 50; ++i) publish_sync(a_->bus(), "s1", "m" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return seen.size() == before + 50; }));
  auto p = seen.payloads();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(p[before + size_t(i)], "m" + std::to_string(i));
  EXPECT_EQ(seen.gaps, 0);
}

TEST_F(EventBusTest, SubscribersOfOneSessionComeAndGoIndependently) {
  Seen first, second;
  auto s1 = b_->bus().subscribe("s1", io_.ioc.get_executor(), first.on_event());
  ASSERT_TRUE(eventually([&] {
    publish_sync(a_->bus(), "s1", "probe");
    return first.probes() > 0;
  }));
  std::string before = publish_sync(a_->bus(), "s1", "one");
  // A second subscriber on the same replica, resuming after "one": it gets what follows.
  auto s2 = b_->bus().subscribe("s1", io_.ioc.get_executor(), second.on_event(), before);
  publish_sync(a_->bus(), "s1", "two");
  ASSERT_TRUE(eventually([&] { return first.size() == 2 && second.size() == 1; }));
  EXPECT_EQ(second.payloads(), std::vector<std::string>{"two"});
  // Cancelling one leaves the other subscribed; cancelling both and subscribing again works.
  s1.reset();
  publish_sync(a_->bus(), "s1", "three");
  ASSERT_TRUE(eventually([&] { return second.size() == 2; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(first.size(), 2u);
  s2.reset();
  Seen third;
  auto s3 = b_->bus().subscribe("s1", io_.ioc.get_executor(), third.on_event());
  ASSERT_TRUE(eventually([&] {
    publish_sync(a_->bus(), "s1", "probe");
    return third.probes() > 0;
  }));
  publish_sync(a_->bus(), "s1", "four");
  ASSERT_TRUE(eventually([&] { return third.size() == 1; }));
  EXPECT_EQ(third.payloads(), std::vector<std::string>{"four"});
}

TEST_F(EventBusTest, RedisBackEmptyReportsAGapAndDeliveryGoesOn) {
  Seen seen;
  auto sub = b_->bus().subscribe("s1", io_.ioc.get_executor(), seen.on_event(), "", seen.on_gap());
  ASSERT_TRUE(eventually([&] {
    publish_sync(a_->bus(), "s1", "probe");
    return seen.probes() > 0;
  }));
  server_.stop();
  ASSERT_TRUE(eventually([&] { return !a_->connected() && !b_->connected(); }));
  // Publishing while Redis is down fails at once, visibly.
  std::promise<base::Result<std::string>> p;
  a_->bus().publish("s1", "lost", [&](base::Result<std::string> r) { p.set_value(r); });
  auto r = p.get_future().get();
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().reason(), "city_unavailable");
  ASSERT_TRUE(server_.start());
  ASSERT_TRUE(eventually([&] { return a_->connected() && b_->connected(); }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard l(seen.mu);
    return seen.gaps == 1;
  }));
  size_t before = seen.size();
  ASSERT_TRUE(eventually([&] {
    publish_sync(a_->bus(), "s1", "after");
    return seen.size() > before;
  }));
  EXPECT_EQ(seen.payloads().back(), "after");
}

}  // namespace
