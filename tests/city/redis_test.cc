// city::Redis against a real redis-server: commands, pipelining, pub/sub, and what happens
// when Redis goes away, stops answering, and comes back empty.
#include "city/redis.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <optional>
#include <thread>

#include "redis_server.h"

namespace {

namespace asio = boost::asio;
using city::Reply;
using city_test::RedisServer;
using namespace std::chrono_literals;

// The city thread of a test: an io_context running on its own thread.
struct Loop {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
  ~Loop() {
    guard.reset();
    ioc.stop();
    thread.join();
  }
};

base::Result<Reply> run(city::Redis& r, std::vector<std::string> args) {
  std::promise<base::Result<Reply>> p;
  r.command(std::move(args), [&](base::Result<Reply> x) { p.set_value(std::move(x)); });
  return p.get_future().get();
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// Stops the Redis object on its own thread, then lets the Loop go.
void stop_on_loop(Loop& loop, city::Redis& r) {
  std::promise<void> done;
  asio::post(loop.ioc, [&] {
    r.stop();
    done.set_value();
  });
  done.get_future().get();
}

asio::awaitable<void> async_get(city::Redis& redis, std::optional<base::Result<Reply>>& out,
                                std::thread::id& ran_on) {
  // (GCC 12 cannot keep a braced list of string literals across co_await: build it first.)
  std::vector<std::string> args{"GET", "counter"};
  base::Result<Reply> r = co_await redis.async_command(std::move(args), asio::use_awaitable);
  ran_on = std::this_thread::get_id();
  out.emplace(std::move(r));
}

TEST(RedisUrlTest, ParsesEveryPart) {
  auto u = city::parse_redis_url("redis://alice:p%40ss@redis.local:6380/3");
  ASSERT_TRUE(u.is_ok()) << u.status().message();
  EXPECT_EQ(u->host, "redis.local");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "p@ss");
  EXPECT_EQ(u->db, 3);
  EXPECT_EQ(u->redacted(), "redis.local:6380/3");

  auto plain = city::parse_redis_url("redis://redis");
  ASSERT_TRUE(plain.is_ok());
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0);
  EXPECT_TRUE(plain->password.empty());

  auto pass_only = city::parse_redis_url("redis://secret@h:1/");
  ASSERT_TRUE(pass_only.is_ok());
  EXPECT_EQ(pass_only->password, "secret");
  EXPECT_TRUE(pass_only->user.empty());
}

TEST(RedisUrlTest, RejectsWhatItCannotUse) {
  EXPECT_FALSE(city::parse_redis_url("http://h:1").is_ok());
  EXPECT_FALSE(city::parse_redis_url("rediss://h:1").is_ok());
  EXPECT_FALSE(city::parse_redis_url("redis://h:0").is_ok());
  EXPECT_FALSE(city::parse_redis_url("redis://h:99999").is_ok());
  EXPECT_FALSE(city::parse_redis_url("redis://h:1/x").is_ok());
  EXPECT_FALSE(city::parse_redis_url("redis://:6379").is_ok());
  EXPECT_FALSE(city::parse_redis_url("redis://u:%zz@h").is_ok());
}

TEST(RedisTest, CommandsAndPipelinedOrder) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  ASSERT_TRUE(server.start());
  Loop loop;
  city::Redis redis(loop.ioc, *city::parse_redis_url(server.url()), {});
  redis.start();
  ASSERT_TRUE(eventually([&] { return redis.connected(); }));

  auto set = run(redis, {"SET", "k", std::string("a\0b", 3)});
  ASSERT_TRUE(set.is_ok());
  EXPECT_EQ(set->type, Reply::Type::kStatus);
  auto get = run(redis, {"GET", "k"});
  ASSERT_TRUE(get.is_ok());
  EXPECT_EQ(get->str, std::string("a\0b", 3));  // binary safe
  EXPECT_TRUE(run(redis, {"GET", "missing"})->is_nil());
  auto err = run(redis, {"INCR", "k"});
  ASSERT_TRUE(err.is_ok());
  EXPECT_TRUE(err->is_error());
  EXPECT_FALSE(city::reply_status(*err).is_ok());

  // 2,000 commands from another thread at once: one connection, replies in order.
  constexpr int kN = 2000;
  std::vector<int64_t> seen;
  std::promise<void> all;
  std::thread caller([&] {
    for (int i = 0; i < kN; ++i) {
      redis.command({"INCR", "counter"}, [&, i](base::Result<Reply> r) {
        seen.push_back(r.is_ok() ? r->integer : -1);  // the city thread only
        if (i == kN - 1) all.set_value();
      });
    }
  });
  caller.join();
  // async_command completes on the awaiting coroutine's executor (here: `caller_ctx`).
  asio::io_context caller_ctx;
  std::optional<base::Result<Reply>> awaited;
  std::thread::id ran_on;
  asio::co_spawn(caller_ctx, async_get(redis, awaited, ran_on), asio::detached);
  caller_ctx.run();
  ASSERT_TRUE(awaited.has_value());
  ASSERT_TRUE(awaited->is_ok());
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  all.get_future().get();
  ASSERT_EQ(seen.size(), size_t(kN));
  for (int i = 0; i < kN; ++i) ASSERT_EQ(seen[size_t(i)], i + 1);
  stop_on_loop(loop, redis);
}

// `name`'s calls in INFO commandstats (0 when Redis has not run it).
int64_t calls_of(city::Redis& r, const std::string& name) {
  auto info = run(r, {"INFO", "commandstats"});
  if (!info.is_ok()) return -1;
  auto at = info->str.find("cmdstat_" + name + ":calls=");
  if (at == std::string::npos) return 0;
  return std::stoll(info->str.substr(at + 8 + name.size() + 7));
}

base::Result<Reply> run_eval(city::Redis& r, const city::Script& s, std::vector<std::string> args) {
  std::promise<base::Result<Reply>> p;
  r.eval(s, std::move(args), [&](base::Result<Reply> x) { p.set_value(std::move(x)); });
  return p.get_future().get();
}

constexpr city::Script kIncrByScript{"return redis.call('INCRBY', KEYS[1], ARGV[1])"};

TEST(RedisTest, ScriptsCrossOncePerConnectionAndSurviveAFlushAndARestart) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  ASSERT_TRUE(server.start());
  Loop loop;
  city::RedisOptions o;
  o.backoff_max = 200ms;
  city::Redis redis(loop.ioc, *city::parse_redis_url(server.url()), o);
  redis.start();
  ASSERT_TRUE(eventually([&] { return redis.connected(); }));

  // Five calls: one SCRIPT LOAD, then EVALSHA only, each answered with the script's result.
  for (int i = 1; i <= 5; ++i) {
    auto r = run_eval(redis, kIncrByScript, {"1", "n", "2"});
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_EQ(r->type, Reply::Type::kInteger) << r->str;
    EXPECT_EQ(r->integer, 2 * i);
  }
  EXPECT_EQ(calls_of(redis, "evalsha"), 5);
  EXPECT_EQ(calls_of(redis, "eval"), 0);
  EXPECT_EQ(calls_of(redis, "script|load"), 1);
  // A script error is the caller's to read, as with EVAL.
  auto bad = run_eval(redis, kIncrByScript, {"1", "n", "not a number"});
  ASSERT_TRUE(bad.is_ok());
  EXPECT_TRUE(bad->is_error());
  EXPECT_EQ(redis.scripts_reloaded(), 0u);

  // An operator flushes the scripts: the next call is answered all the same (sent again as
  // EVAL), counted once, and the one after it loads the body again.
  ASSERT_TRUE(run(redis, {"SCRIPT", "FLUSH"}).is_ok());
  auto again = run_eval(redis, kIncrByScript, {"1", "n", "1"});
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(again->integer, 11);
  EXPECT_EQ(redis.scripts_reloaded(), 1u);
  EXPECT_EQ(calls_of(redis, "eval"), 1);
  EXPECT_EQ(run_eval(redis, kIncrByScript, {"1", "n", "1"})->integer, 12);
  EXPECT_EQ(calls_of(redis, "script|load"), 2);
  EXPECT_EQ(redis.scripts_reloaded(), 1u);

  // Redis restarts empty: the new connection loads the script before its first EVALSHA, so
  // nothing needs a retry.
  server.stop();
  ASSERT_TRUE(eventually([&] { return !redis.connected(); }, 3s));
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(eventually([&] { return redis.connected(); }, 3s));
  EXPECT_EQ(run_eval(redis, kIncrByScript, {"1", "n", "5"})->integer, 5);
  EXPECT_EQ(redis.scripts_reloaded(), 1u);
  EXPECT_EQ(calls_of(redis, "evalsha"), 1);
  EXPECT_EQ(calls_of(redis, "eval"), 0);
  stop_on_loop(loop, redis);
}

TEST(RedisTest, FailsFastWhileDownAndReconnectsWhenBack) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  Loop loop;
  std::atomic<int> ups{0}, downs{0};
  city::RedisOptions o;
  o.backoff_max = 200ms;
  city::Redis redis(loop.ioc, *city::parse_redis_url(server.url()), o);
  redis.add_state_callback([&](bool up) { (up ? ups : downs)++; });
  redis.start();

  // No server yet: commands fail at once with city_unavailable, nothing hangs.
  auto t0 = std::chrono::steady_clock::now();
  auto r = run(redis, {"PING"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().reason(), "city_unavailable");

  ASSERT_TRUE(server.start());
  ASSERT_TRUE(eventually([&] { return redis.connected(); }));
  EXPECT_TRUE(eventually([&] { return ups.load() == 1; }));
  ASSERT_TRUE(run(redis, {"SET", "x", "1"}).is_ok());

  // Killed: the loss is noticed, commands fail, and it comes back (empty) on its own.
  server.stop();
  ASSERT_TRUE(eventually([&] { return !redis.connected(); }));
  EXPECT_TRUE(eventually([&] { return downs.load() == 1; }));
  EXPECT_FALSE(run(redis, {"PING"}).is_ok());
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(eventually([&] { return redis.connected(); }));
  EXPECT_TRUE(eventually([&] { return ups.load() == 2; }));
  EXPECT_TRUE(run(redis, {"GET", "x"})->is_nil());  // it came back empty
  stop_on_loop(loop, redis);
}

TEST(RedisTest, ARedisThatStopsAnsweringIsDroppedAfterTheDeadline) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  ASSERT_TRUE(server.start());
  Loop loop;
  city::RedisOptions o;
  o.command_timeout = 300ms;
  o.connect_timeout = 300ms;
  o.backoff_max = 100ms;
  city::Redis redis(loop.ioc, *city::parse_redis_url(server.url()), o);
  redis.start();
  ASSERT_TRUE(eventually([&] { return redis.connected(); }));
  server.pause();
  auto t0 = std::chrono::steady_clock::now();
  auto r = run(redis, {"PING"});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(r.is_ok());
  EXPECT_LT(took, 1500ms);
  EXPECT_FALSE(redis.connected());
  server.resume();
  // Back once it answers again (connections opened while it was stopped may be dropped first).
  EXPECT_TRUE(eventually([&] { return redis.connected() && run(redis, {"PING"}).is_ok(); }));
  stop_on_loop(loop, redis);
}

TEST(RedisTest, SubscriptionsSurviveARestart) {
  RedisServer server;
  CITY_NEED_REDIS(server);
  ASSERT_TRUE(server.start());
  Loop loop;
  city::RedisOptions o;
  o.backoff_max = 200ms;
  city::Redis cmd(loop.ioc, *city::parse_redis_url(server.url()), o);
  o.name = "subscriber";
  city::Redis sub(loop.ioc, *city::parse_redis_url(server.url()), o);
  std::mutex mu;
  std::vector<std::string> got;
  std::atomic<int> confirmed{0};
  sub.subscribe(
      "ch",
      [&](const std::string& channel, const std::string& payload) {
        std::lock_guard lock(mu);
        got.push_back(channel + "=" + payload);
      },
      [&] { confirmed++; });
  cmd.start();
  sub.start();
  ASSERT_TRUE(eventually([&] { return confirmed.load() == 1 && cmd.connected(); }));
  ASSERT_TRUE(run(cmd, {"PUBLISH", "ch", "one"}).is_ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard l(mu);
    return got.size() == 1;
  }));

  server.stop();
  ASSERT_TRUE(server.start());
  ASSERT_TRUE(eventually([&] { return confirmed.load() == 2 && cmd.connected(); }));
  ASSERT_TRUE(run(cmd, {"PUBLISH", "ch", "two"}).is_ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard l(mu);
    return got.size() == 2;
  }));
  std::lock_guard l(mu);
  EXPECT_EQ(got[0], "ch=one");
  EXPECT_EQ(got[1], "ch=two");
  stop_on_loop(loop, sub);
  stop_on_loop(loop, cmd);
}

}  // namespace
