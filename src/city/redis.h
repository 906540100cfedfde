// city::Redis — one asynchronous connection to Redis on an Asio loop (hiredis's async API
// through hiredis_asio.h), with pipelining, reconnects with backoff and per-command deadlines.
//
//   city::Redis redis(ioc, url, {.name = "command"});
//   redis.start();
//   redis.command({"SET", "k", "v"}, [](base::Result<city::Reply> r) { ... });   // any thread
//   auto r = co_await redis.async_command({"GET", "k"}, asio::use_awaitable);       // coroutine
//
// Threading: the object lives on one io_context (`ioc`, the city thread); command(),
// async_command(), subscribe() and start() may be called from any thread (they post).
// Callbacks given to command()/subscribe()/on_state() run on the city thread;
// async_command() completes on the caller's associated executor (e.g. the I/O thread whose
// coroutine awaits it). Nothing here blocks the caller: hiredis resolves the host name and
// connects on the city thread.
//
// Commands are written as they come; hiredis sends everything queued before the socket is
// writable in one write, so commands from many callers are pipelined on one connection, and
// replies come back in order.
//
// While the connection is down, commands fail at once with Status unavailable (reason
// "city_unavailable"); nothing is queued for later. Commands in flight when it drops fail the
// same way. A command with no reply within `command_timeout` fails, and the connection is
// torn down and rebuilt (a Redis that stopped answering is treated as gone).
#pragma once

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "city/redis_url.h"

struct redisAsyncContext;

namespace city {

// A Redis reply, copied out of hiredis.
struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;              // kString, kStatus, kError
  int64_t integer = 0;          // kInteger
  std::vector<Reply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

// An error reply as a Status (internal, reason "redis_error"); OK otherwise.
base::Status reply_status(const Reply& r);

using ReplyCallback = std::function<void(base::Result<Reply>)>;

// A Lua script the city runs (what EVAL takes), naming a body that outlives every call (a
// string literal): Redis::eval() sends the body once per connection and then its SHA-1 only.
class Script {
 public:
  explicit constexpr Script(std::string_view body) : body_(body) {}
  std::string_view body() const { return body_; }

 private:
  std::string_view body_;
};
// A pub/sub message: the channel and the payload.
using MessageCallback = std::function<void(const std::string& channel, const std::string& payload)>;

struct RedisOptions {
  std::string name = "redis";  // in log lines ("command", "subscriber")
  std::chrono::milliseconds command_timeout{2000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds backoff_min{100};  // first retry; doubles up to backoff_max
  std::chrono::milliseconds backoff_max{2000};
};

class Redis {
 public:
  Redis(boost::asio::io_context& ioc, RedisUrl url, RedisOptions options);
  // Call stop() and let the io_context run (or stop) first.
  ~Redis();
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;

  // Called on the city thread with true once (re)connected and authenticated, false when the
  // connection is lost; several may be added, they run in order. Before start().
  void add_state_callback(std::function<void(bool connected)> fn) {
    on_state_.push_back(std::move(fn));
  }

  // Starts connecting (and reconnecting for as long as it lives). Any thread.
  void start();
  // Closes the connection and stops reconnecting; pending commands fail. City thread only
  // (or after the io_context stopped).
  void stop();

  // True while connected and authenticated. Any thread.
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  // Commands sent and not answered yet. City thread.
  size_t in_flight() const { return pending_.size(); }

  // Sends one command (argv form: binary-safe). Any thread; `done` runs on the city thread.
  void command(std::vector<std::string> args, ReplyCallback done);

  // Runs `script` as EVAL would, with `args` EVAL's after the body (numkeys, the keys, the
  // other arguments). Any thread; `done` runs on the city thread. On each connection the body
  // crosses once, in a SCRIPT LOAD pipelined just before the script's first EVALSHA, so later
  // calls send 40 hex digits instead of the script. Should Redis answer NOSCRIPT all the same
  // (an operator's SCRIPT FLUSH), that call is sent again as EVAL (so, unlike every other
  // command, it runs after commands sent behind it), logged (city.redis_script_reloaded) and
  // counted (scripts_reloaded()), and the next call loads the body again.
  void eval(const Script& script, std::vector<std::string> args, ReplyCallback done);
  // NOSCRIPT answers eval() retried as EVAL. Any thread.
  uint64_t scripts_reloaded() const { return scripts_reloaded_.load(std::memory_order_relaxed); }

  // command() for coroutines and other completion tokens: completes with base::Result<Reply>
  // on the token's associated executor.
  template <typename Token>
  auto async_command(std::vector<std::string> args, Token&& token) {
    return boost::asio::async_initiate<Token, void(base::Result<Reply>)>(
        [this](auto handler, std::vector<std::string> a) {
          auto ex = boost::asio::get_associated_executor(handler, ioc_.get_executor());
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          command(std::move(a), [h, ex](base::Result<Reply> r) {
            boost::asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
          });
        },
        token, std::move(args));
  }

  // Subscribes to `channel` (this connection becomes a subscriber connection: use a separate
  // Redis object for ordinary commands). The subscription is renewed after every reconnect;
  // messages published while disconnected are lost (pub/sub is at-most-once). `on_message`
  // runs on the city thread; `on_subscribed` (optional) each time Redis confirms the
  // subscription, including after a reconnect. Any thread.
  void subscribe(std::string channel, MessageCallback on_message,
                 std::function<void()> on_subscribed = nullptr);
  void unsubscribe(std::string channel);

  boost::asio::io_context& context() { return ioc_; }
  const RedisUrl& url() const { return url_; }

 private:
  struct Pending {
    std::chrono::steady_clock::time_point deadline;
    ReplyCallback done;
  };
  struct Subscription {
    MessageCallback on_message;
    std::function<void()> on_subscribed;
  };

  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_pubsub(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);

  void connect();
  void send(const std::vector<std::string>& args, ReplyCallback done);
  void send_eval(const Script& script, std::vector<std::string> args, ReplyCallback done);
  void send_subscribe(const std::string& channel);
  void ready();
  // The connection is gone (or never came): report, tell on_state_, retry with backoff.
  void lost(const std::string& why, bool was_ready);
  void teardown(const std::string& why);
  void schedule_reconnect();
  void start_sweep();
  void sweep();

  boost::asio::io_context& ioc_;
  const RedisUrl url_;
  const RedisOptions options_;
  std::vector<std::function<void(bool)>> on_state_;
  void tell_state(bool up) {
    for (auto& fn : on_state_) fn(up);
  }

  // City thread only, below.
  redisAsyncContext* ac_ = nullptr;  // null while disconnected
  bool ready_ = false;               // AUTH/SELECT done: commands may be sent
  bool stopped_ = false;
  bool started_ = false;
  bool ever_connected_ = false;
  bool reported_down_ = false;  // "unreachable" logged for this outage
  int attempt_ = 0;             // reconnect attempts since the last success
  std::chrono::steady_clock::time_point connect_started_;
  std::chrono::steady_clock::time_point down_since_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Pending> pending_;  // by id, the hiredis privdata
  std::map<std::string, Subscription> subs_;
  // eval()'s scripts, by the address of their body: the SHA-1 (hex), and the connection on
  // which the body was last loaded (connection_ counts the connections made ready).
  struct ScriptState {
    std::string sha1;
    uint64_t loaded_on = 0;
  };
  std::unordered_map<const char*, ScriptState> scripts_;
  uint64_t connection_ = 0;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer sweep_timer_;

  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> scripts_reloaded_{0};
};

}  // namespace city
