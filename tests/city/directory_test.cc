// city::Directory on a real redis-server: homes found from another replica, and the city
// made whole again after Redis comes back empty.
#include "city/directory.h"

#include <gtest/gtest.h>

#include "city_fixture.h"

namespace {

using namespace city_test;

base::Result<city::Home> lookup(city::City& c, const std::string& id) {
  std::promise<base::Result<city::Home>> p;
  c.directory()->lookup(id, [&](base::Result<city::Home> h) { p.set_value(std::move(h)); });
  return p.get_future().get();
}

std::unique_ptr<city::City> make_with_directory(const RedisServer& server, std::string replica,
                                                std::vector<city::Owned> owned) {
  city::CityOptions o;
  o.redis = *city::parse_redis_url(server.url());
  o.replica_id = replica;
  o.advertise_url = "http://127.0.0.1:9/" + replica;
  o.connection.backoff_max = std::chrono::milliseconds(200);
  auto c = std::make_unique<city::City>(std::move(o));
  c->enable_directory([owned] { return owned; });
  c->start();
  return c;
}

TEST(DirectoryTest, FindsHomesAndRegistersAgainWhenRedisComesBackEmpty) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  ASSERT_TRUE(server.start());
  auto a = make_with_directory(server, "a", {{"c1", "c1"}, {"s1", "c1"}});
  auto b = make_with_directory(server, "b", {{"c2", "c2"}});
  ASSERT_TRUE(eventually([&] {
    return a->directory()->registrations() >= 1 && b->directory()->registrations() >= 1;
  }));

  EXPECT_EQ(a->directory()->owner("s1"), "c1");
  EXPECT_FALSE(a->directory()->owner("c2").has_value());
  auto h = lookup(*b, "s1");
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  EXPECT_EQ(h->course_id, "c1");
  EXPECT_EQ(h->replica_id, "a");
  EXPECT_EQ(h->url, "http://127.0.0.1:9/a");
  auto none = lookup(*b, "nope");
  ASSERT_FALSE(none.is_ok());
  EXPECT_EQ(none.status().reason(), "unknown_entity");

  // Something created later is found at once.
  a->directory()->register_owned({"q1", "c1"});
  ASSERT_TRUE(eventually([&] { return lookup(*b, "q1").is_ok(); }, 2s));
  EXPECT_EQ(lookup(*b, "q1")->course_id, "c1");

  // A replica whose key expired is known but not reachable.
  ASSERT_TRUE(run(b->commands(), {"DEL", city::Directory::replica_key("a")}).is_ok());
  auto gone = lookup(*b, "c1");
  ASSERT_TRUE(gone.is_ok());
  EXPECT_EQ(gone->url, "");
  // ...and its next heartbeat brings it back with everything it owns.
  ASSERT_TRUE(eventually(
      [&] {
        auto x = lookup(*b, "c1");
        return x.is_ok() && !x->url.empty();
      },
      4s));

  // Redis restarts empty: within 10 s both replicas have registered everything again.
  server.stop();
  ASSERT_TRUE(eventually([&] { return !a->connected() && !b->connected(); }));
  auto down = lookup(*b, "s1");
  ASSERT_FALSE(down.is_ok());
  EXPECT_EQ(down.status().reason(), "city_unavailable");
  ASSERT_TRUE(server.start());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually(
      [&] {
        auto x = lookup(*b, "q1");
        auto y = lookup(*a, "c2");
        return x.is_ok() && !x->url.empty() && y.is_ok() && !y->url.empty();
      },
      10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

}  // namespace
