#define OPENSSL_SUPPRESS_DEPRECATED  // SHA1(): the low-level call, no provider needed
#include "city/redis.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include "base/log.h"
#include "city/hiredis_asio.h"

namespace city {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

base::Status reply_status(const Reply& r) {
  if (r.type == Reply::Type::kError) {
    return base::internal_error("Redis answered: " + r.str, "redis_error");
  }
  return base::Status::ok();
}

namespace {

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      break;
    default:
      out.type = Reply::Type::kNil;
      break;
  }
  if (r->str) out.str.assign(r->str, r->len);
  out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  }
  return out;
}

base::Status down(std::string why) {
  return base::unavailable("Redis is not reachable (" + why + ")", "city_unavailable");
}

// The script's name in EVALSHA: the SHA-1 of its body, in lowercase hex.
std::string script_sha1(std::string_view body) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

Redis::Redis(asio::io_context& ioc, RedisUrl url, RedisOptions options)
    : ioc_(ioc),
      url_(std::move(url)),
      options_(std::move(options)),
      reconnect_timer_(ioc),
      sweep_timer_(ioc) {}

Redis::~Redis() {
  if (ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    redisAsyncFree(ac);
  }
}

void Redis::start() {
  asio::post(ioc_, [this] {
    if (started_ || stopped_) return;
    started_ = true;
    down_since_ = Clock::now();
    start_sweep();
    connect();
  });
}

void Redis::stop() {
  stopped_ = true;
  reconnect_timer_.cancel();
  sweep_timer_.cancel();
  teardown("stopping");
  for (auto& [id, p] : pending_) p.done(down("stopping"));
  pending_.clear();
}

void Redis::connect() {
  if (stopped_ || ac_) return;
  redisAsyncContext* ac = redisAsyncConnect(url_.host.c_str(), url_.port);
  if (!ac || ac->err) {
    std::string err = ac ? ac->errstr : "out of memory";
    if (ac) redisAsyncFree(ac);
    lost(err, false);
    return;
  }
  ac->data = this;
  if (auto s = attach_hiredis_to_asio(ac, ioc_); !s.is_ok()) {
    redisAsyncFree(ac);
    lost(s.message(), false);
    return;
  }
  redisAsyncSetConnectCallback(ac, &Redis::on_connect);
  redisAsyncSetDisconnectCallback(ac, &Redis::on_disconnect);
  ac_ = ac;
  connect_started_ = Clock::now();
  // The handshake is pipelined: AUTH, SELECT and a PING go out in the first write; the
  // connection is ready when the PING answers and nothing before it failed.
  auto failed = std::make_shared<std::string>();
  auto check = [failed](base::Result<Reply> r) {
    if (!failed->empty()) return;
    if (!r.is_ok())
      *failed = r.status().message();
    else if (r->is_error())
      *failed = r->str;
  };
  if (!url_.password.empty()) {
    if (url_.user.empty())
      send({"AUTH", url_.password}, check);
    else
      send({"AUTH", url_.user, url_.password}, check);
  }
  if (url_.db != 0) send({"SELECT", std::to_string(url_.db)}, check);
  redisAsyncContext* this_ac = ac;
  send({"PING"}, [this, failed, this_ac, check](base::Result<Reply> r) {
    check(std::move(r));
    if (ac_ != this_ac) return;
    if (!failed->empty()) {
      base::log::error("city.redis_handshake_failed")
          .kv("connection", options_.name)
          .kv("redis", url_.redacted())
          .kv("error", *failed)
          .kv("note", "check the credentials and database in EDGECLASS_REDIS_URL");
      asio::post(ioc_, [this, this_ac, f = *failed] {
        if (ac_ == this_ac) teardown("handshake failed: " + f);
      });
      return;
    }
    ready();
  });
}

void Redis::ready() {
  ready_ = true;
  ++connection_;  // eval()'s scripts are loaded again on this connection
  connected_.store(true, std::memory_order_relaxed);
  base::log::Line line = base::log::info("city.redis_connected");
  line.kv("connection", options_.name).kv("redis", url_.redacted());
  if (ever_connected_ || reported_down_) line.kv("down_ms", ms_since(down_since_));
  ever_connected_ = true;
  reported_down_ = false;
  attempt_ = 0;
  for (const auto& [channel, sub] : subs_) send_subscribe(channel);
  tell_state(true);
}

void Redis::lost(const std::string& why, bool was_ready) {
  ready_ = false;
  connected_.store(false, std::memory_order_relaxed);
  if (stopped_) {
    if (was_ready) base::log::info("city.redis_closed").kv("connection", options_.name);
    if (was_ready) tell_state(false);
    return;
  }
  if (was_ready) {
    down_since_ = Clock::now();
    reported_down_ = true;
    base::log::warn("city.redis_lost")
        .kv("connection", options_.name)
        .kv("redis", url_.redacted())
        .kv("error", why)
        .kv("note", "requests that need the city answer 503 city_unavailable until it is back");
    tell_state(false);
  } else if (!reported_down_ && !stopped_) {
    reported_down_ = true;
    base::log::warn("city.redis_unreachable")
        .kv("connection", options_.name)
        .kv("redis", url_.redacted())
        .kv("error", why)
        .kv("note", "retrying with backoff");
  }
  schedule_reconnect();
}

void Redis::teardown(const std::string& why) {
  if (!ac_) return;
  redisAsyncContext* ac = ac_;
  bool was_ready = ready_;
  ac_ = nullptr;  // the callbacks hiredis makes while freeing see a context that is not ours
  ready_ = false;
  connected_.store(false, std::memory_order_relaxed);
  redisAsyncFree(ac);  // fails every pending command through on_reply(nullptr)
  lost(why, was_ready);
}

void Redis::schedule_reconnect() {
  if (stopped_) return;
  auto delay = options_.backoff_min * (1 << std::min(attempt_, 10));
  if (delay > options_.backoff_max) delay = options_.backoff_max;
  ++attempt_;
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) connect();
  });
}

void Redis::start_sweep() {
  sweep_timer_.expires_after(std::chrono::milliseconds(200));
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    sweep();
    start_sweep();
  });
}

// Deadlines: a connect that does not finish, and commands without a reply. Either means the
// connection is of no use; it is rebuilt.
void Redis::sweep() {
  Clock::time_point now = Clock::now();
  if (ac_ && !ready_ && now - connect_started_ > options_.connect_timeout) {
    teardown("no connection within " + std::to_string(options_.connect_timeout.count()) + " ms");
    return;
  }
  std::vector<ReplyCallback> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline < now) {
      expired.push_back(std::move(it->second.done));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  if (expired.empty()) return;
  std::string why = "no reply within " + std::to_string(options_.command_timeout.count()) + " ms";
  teardown(why);  // first: the callers see connected() == false
  for (auto& done : expired) done(down(why));
}

void Redis::command(std::vector<std::string> args, ReplyCallback done) {
  asio::post(ioc_, [this, args = std::move(args), done = std::move(done)]() mutable {
    if (!ready_ || !ac_) {
      done(down(stopped_ ? "stopping" : "not connected"));
      return;
    }
    send(args, std::move(done));
  });
}

void Redis::eval(const Script& script, std::vector<std::string> args, ReplyCallback done) {
  asio::post(ioc_, [this, &script, args = std::move(args), done = std::move(done)]() mutable {
    if (!ready_ || !ac_) {
      done(down(stopped_ ? "stopping" : "not connected"));
      return;
    }
    send_eval(script, std::move(args), std::move(done));
  });
}

void Redis::send_eval(const Script& script, std::vector<std::string> args, ReplyCallback done) {
  ScriptState& st = scripts_[script.body().data()];
  if (st.sha1.empty()) st.sha1 = script_sha1(script.body());
  if (st.loaded_on != connection_) {
    // Pipelined just before the EVALSHA: Redis runs them in order. A failed load shows as
    // that EVALSHA's NOSCRIPT, handled below.
    send({"SCRIPT", "LOAD", std::string(script.body())}, [](base::Result<Reply>) {});
    st.loaded_on = connection_;
  }
  args.insert(args.begin(), {"EVALSHA", st.sha1});
  auto call = std::make_shared<std::vector<std::string>>(std::move(args));
  send(*call, [this, &script, call, done = std::move(done)](base::Result<Reply> r) mutable {
    if (!r.is_ok() || !r->is_error() || !r->str.starts_with("NOSCRIPT")) {
      done(std::move(r));
      return;
    }
    scripts_reloaded_.fetch_add(1, std::memory_order_relaxed);
    scripts_[script.body().data()].loaded_on = 0;
    base::log::warn("city.redis_script_reloaded")
        .kv("connection", options_.name)
        .kv("sha1", (*call)[1])
        .kv("note", "Redis had lost the script (SCRIPT FLUSH?); this call is sent as EVAL");
    if (!ready_ || !ac_) {
      done(down("not connected"));
      return;
    }
    (*call)[0] = "EVAL";
    (*call)[1] = std::string(script.body());
    send(*call, std::move(done));
  });
}

void Redis::send(const std::vector<std::string>& args, ReplyCallback done) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  uint64_t id = next_id_++;
  pending_.emplace(id, Pending{Clock::now() + options_.command_timeout, std::move(done)});
  int rc = redisAsyncCommandArgv(ac_, &Redis::on_reply, reinterpret_cast<void*>(uintptr_t(id)),
                                 int(argv.size()), argv.data(), lens.data());
  if (rc != REDIS_OK) {
    auto it = pending_.find(id);
    if (it != pending_.end()) {
      ReplyCallback d = std::move(it->second.done);
      pending_.erase(it);
      d(down("hiredis refused the command"));
    }
  }
}

void Redis::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* self = static_cast<Redis*>(ac->data);
  auto it = self->pending_.find(uint64_t(reinterpret_cast<uintptr_t>(privdata)));
  if (it == self->pending_.end()) return;  // timed out already
  ReplyCallback done = std::move(it->second.done);
  self->pending_.erase(it);
  if (!reply) {
    done(down("connection lost"));
    return;
  }
  done(convert(static_cast<redisReply*>(reply)));
}

void Redis::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Redis*>(ac->data);
  if (status == REDIS_OK || self->ac_ != ac) return;
  // hiredis frees the context after this returns.
  self->ac_ = nullptr;
  self->lost(ac->errstr ? ac->errstr : "connect failed", false);
}

void Redis::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Redis*>(ac->data);
  if (self->ac_ != ac) return;  // our own teardown
  bool was_ready = self->ready_;
  self->ac_ = nullptr;
  self->lost(status == REDIS_OK ? "closed" : (ac->errstr ? ac->errstr : "error"), was_ready);
}

void Redis::subscribe(std::string channel, MessageCallback on_message,
                      std::function<void()> on_subscribed) {
  asio::post(ioc_, [this, channel = std::move(channel), m = std::move(on_message),
                    s = std::move(on_subscribed)]() mutable {
    bool fresh = subs_.find(channel) == subs_.end();
    subs_[channel] = Subscription{std::move(m), std::move(s)};
    if (fresh && ready_ && ac_) send_subscribe(channel);
  });
}

void Redis::unsubscribe(std::string channel) {
  asio::post(ioc_, [this, channel = std::move(channel)] {
    if (subs_.erase(channel) == 0) return;
    if (ready_ && ac_) {
      const char* argv[] = {"UNSUBSCRIBE", channel.data()};
      size_t lens[] = {11, channel.size()};
      redisAsyncCommandArgv(ac_, &Redis::on_pubsub, nullptr, 2, argv, lens);
    }
  });
}

void Redis::send_subscribe(const std::string& channel) {
  const char* argv[] = {"SUBSCRIBE", channel.data()};
  size_t lens[] = {9, channel.size()};
  redisAsyncCommandArgv(ac_, &Redis::on_pubsub, nullptr, 2, argv, lens);
}

void Redis::on_pubsub(redisAsyncContext* ac, void* reply, void*) {
  auto* self = static_cast<Redis*>(ac->data);
  auto* r = static_cast<redisReply*>(reply);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
  std::string_view kind(r->element[0]->str ? r->element[0]->str : "", r->element[0]->len);
  std::string channel(r->element[1]->str ? r->element[1]->str : "", r->element[1]->len);
  auto it = self->subs_.find(channel);
  if (it == self->subs_.end()) return;
  if (kind == "message") {
    std::string payload(r->element[2]->str ? r->element[2]->str : "", r->element[2]->len);
    if (it->second.on_message) it->second.on_message(channel, payload);
  } else if (kind == "subscribe") {
    if (it->second.on_subscribed) it->second.on_subscribed();
  }
}

}  // namespace city
