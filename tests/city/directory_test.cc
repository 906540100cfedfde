// city::Directory on a real redis-server: homes found from another replica, the city made
// whole again after Redis comes back empty, class codes that follow rotation, and the
// member list the city-wide course list is asked of.
#include "city/directory.h"

#include <gtest/gtest.h>

#include <map>

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
  ASSERT_TRUE(eventually([&] { return lookup(*b, "q1").is_ok(); }));
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

using Members = base::Result<std::vector<city::Directory::Member>>;
Members members(city::City& c) {
  std::promise<Members> p;
  c.directory()->members(city::Directory::kMemberForget,
                         [&](Members m) { p.set_value(std::move(m)); });
  return p.get_future().get();
}

TEST(DirectoryTest, ClassCodesFollowRotationAndComeBackWithTheRest) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  ASSERT_TRUE(server.start());
  // "a" starts owning c1 with its code (as its store lists it).
  auto a = make_with_directory(server, "a", {{"c1", "c1"}, {"code:AAAA2222", "c1"}});
  auto b = make_with_directory(server, "b", {});
  ASSERT_TRUE(eventually([&] { return a->directory()->registrations() >= 1; }));
  EXPECT_EQ(a->directory()->owner("code:AAAA2222"), "c1");
  auto h = lookup(*b, city::Directory::code_id("AAAA2222"));
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  EXPECT_EQ(h->course_id, "c1");
  EXPECT_EQ(h->replica_id, "a");

  // Rotated: the new code is found, the old one is no longer anyone's.
  a->directory()->set_code("c1", "BBBB3333");
  EXPECT_FALSE(a->directory()->owner("code:AAAA2222").has_value());
  EXPECT_EQ(a->directory()->owner("code:BBBB3333"), "c1");
  ASSERT_TRUE(eventually([&] { return lookup(*b, "code:BBBB3333").is_ok(); }));
  ASSERT_TRUE(eventually(
      [&] {
        auto x = lookup(*b, "code:AAAA2222");
        return !x.is_ok() && x.status().reason() == "unknown_entity";
      },
      15s));
  // The same code again is a no-op. A code another home took after us (a collision between
  // two homes' random codes: the last write wins) is not deleted by our rotation away.
  a->directory()->set_code("c1", "BBBB3333");
  a->directory()->set_code("c1", "CCCC4444");
  ASSERT_TRUE(eventually([&] { return lookup(*b, "code:CCCC4444").is_ok(); }));
  ASSERT_TRUE(
      run(a->commands(), {"SET", city::Directory::home_key("code:CCCC4444"), "c9 b"}).is_ok());
  a->directory()->set_code("c1", "DDDD5555");
  ASSERT_TRUE(eventually([&] { return lookup(*b, "code:DDDD5555").is_ok(); }));
  EXPECT_FALSE(lookup(*b, "code:BBBB3333").is_ok());
  auto other = run(a->commands(), {"GET", city::Directory::home_key("code:CCCC4444")});
  ASSERT_TRUE(other.is_ok());
  EXPECT_EQ(other->str, "c9 b");

  // Redis back empty: the current code is registered again with everything else.
  server.stop();
  ASSERT_TRUE(eventually([&] { return !a->connected(); }));
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(eventually(
      [&] {
        auto x = lookup(*b, "code:DDDD5555");
        return x.is_ok() && x->course_id == "c1" && !x->url.empty();
      },
      10s));
}

TEST(DirectoryTest, MembersAreTheReplicasThatHeartbeat) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  ASSERT_TRUE(server.start());
  auto a = make_with_directory(server, "a", {});
  auto b = make_with_directory(server, "b", {});
  ASSERT_TRUE(eventually([&] {
    auto m = members(*a);
    return m.is_ok() && m->size() == 2;
  }));
  auto m = members(*a);
  std::map<std::string, std::string> got;
  for (const auto& x : *m) got[x.replica_id] = x.url;
  EXPECT_EQ(got["a"], "http://127.0.0.1:9/a");
  EXPECT_EQ(got["b"], "http://127.0.0.1:9/b");
  // b stops: still a member (it may come back), but without a URL once its key is gone.
  b.reset();
  ASSERT_TRUE(run(a->commands(), {"DEL", city::Directory::replica_key("b")}).is_ok());
  m = members(*a);
  ASSERT_TRUE(m.is_ok());
  got.clear();
  for (const auto& x : *m) got[x.replica_id] = x.url;
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["b"], "");
  // A member silent for longer than kMemberForget is dropped.
  ASSERT_TRUE(run(a->commands(), {"ZADD", city::Directory::kReplicasKey, "1", "b"}).is_ok());
  m = members(*a);
  ASSERT_TRUE(m.is_ok());
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].replica_id, "a");
  // Without Redis: city_unavailable.
  server.stop();
  ASSERT_TRUE(eventually([&] { return !a->connected(); }));
  EXPECT_EQ(members(*a).status().reason(), "city_unavailable");
}

// Redis comes back empty and the home of "x" has not written its entries again (here it is
// gone): a replica that noticed the loss answers a miss with "try again", not "not found",
// which a client would take as final.
TEST(DirectoryTest, AMissWhileTheDirectoryIsRebuiltIsTryAgain) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  ASSERT_TRUE(server.start());
  auto a = make_with_directory(server, "a", {{"x", "x"}});
  auto b = make_with_directory(server, "b", {});
  ASSERT_TRUE(eventually([&] {
    return a->directory()->registrations() >= 1 && b->directory()->registrations() >= 1;
  }));
  EXPECT_EQ(lookup(*b, "nope").status().reason(), "unknown_entity");
  a.reset();  // the home is away (its entries stay)
  ASSERT_TRUE(run(b->commands(), {"FLUSHALL"}).is_ok());
  // b's next heartbeat finds its own key gone and writes its entries again.
  ASSERT_TRUE(eventually([&] { return b->directory()->registrations() >= 2; }));
  auto miss = lookup(*b, "x");
  ASSERT_FALSE(miss.is_ok());
  EXPECT_EQ(miss.status().reason(), "city_unavailable") << miss.status().message();
  EXPECT_EQ(lookup(*b, "nope").status().reason(), "city_unavailable");
}

}  // namespace
