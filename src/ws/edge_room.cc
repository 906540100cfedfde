#include "ws/edge_room.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "base/log.h"
#include "classroom/live_join.h"
#include "classroom/room_protocol.h"
#include "ws/city_wire.h"
#include "ws/close_codes.h"

namespace ws {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {
// Connection ids are unique within this process; the replica id makes them unique in the city.
std::atomic<uint64_t> g_next_conn{1};
}  // namespace

EdgeRoom::EdgeRoom(asio::io_context& ioc, int thread_index, std::string session_id,
                   std::string home, CityLink& link, std::shared_ptr<CityLiveCounters> counters,
                   LiveTraffic& traffic, std::function<void()> on_idle,
                   const MediaSignalling* media, const std::vector<asio::io_context*>& spread_over)
    : ioc_(ioc),
      thread_index_(thread_index),
      session_id_(std::move(session_id)),
      home_(std::move(home)),
      link_(link),
      counters_(std::move(counters)),
      traffic_(traffic),
      on_idle_(std::move(on_idle)),
      media_(media && media->subscribe_relayed ? media : nullptr),
      connections_(ioc, thread_index, spread_over, &traffic) {
  counters_->edge_rooms.fetch_add(1, std::memory_order_relaxed);
}

EdgeRoom::~EdgeRoom() {
  counters_->edge_rooms.fetch_sub(1, std::memory_order_relaxed);
  counters_->edge_connections.fetch_sub(int64_t(connections_.size()), std::memory_order_relaxed);
}

void EdgeRoom::release_connections() {
  conns_.clear();
  conn_of_.clear();
  counters_->edge_connections.fetch_sub(int64_t(connections_.size()), std::memory_order_relaxed);
  connections_.release();
  sub_.reset();
}

// ---- the channel ----------------------------------------------------------------------------

void EdgeRoom::subscribe() {
  if (sub_) return;
  sub_epoch_ = link_.link_epoch();
  std::weak_ptr<EdgeRoom> weak = weak_from_this();
  sub_ = link_.subscribe(
      session_id_, executor(),
      [weak](std::string_view p) {
        if (auto self = weak.lock()) self->on_payload(p);
      },
      [weak](bool ok) {
        if (auto self = weak.lock()) self->on_ready(ok);
      },
      [weak] {
        if (auto self = weak.lock()) {
          self->cut("gap", base::unavailable("events of the class were lost between replicas; "
                                             "reconnect to resume",
                                             "city_unavailable"));
        }
      });
}

void EdgeRoom::on_ready(bool ok) {
  if (!ok) {
    sub_.reset();
    ready_ = false;
    cut("subscribe_failed",
        base::unavailable("the city is unavailable; try again shortly", "city_unavailable"));
    return;
  }
  ready_ = true;
  for (auto& [id, c] : conns_) {
    if (c.state == Conn::State::kWaiting && !c.up_join.empty()) {
      std::string up = std::move(c.up_join);
      c.up_join.clear();
      send_up(std::move(up), [weak = weak_from_this(), id = id](bool delivered) {
        auto self = weak.lock();
        if (!self || delivered) return;
        self->fail(id, base::unavailable("the course's home replica (" + self->home_ +
                                             ") is not reachable; try again shortly",
                                         "course_home_unavailable"));
      });
    }
  }
}

void EdgeRoom::send_up(std::string payload, std::function<void(bool)> done) {
  link_.send_to_home(home_, std::move(payload), executor(),
                     done ? std::move(done) : std::function<void(bool)>([](bool) {}));
}

void EdgeRoom::on_payload(std::string_view payload) {
  auto d = wire::parse_downstream(payload);
  if (!d) return;
  using K = wire::DownKind;
  if (d->kind == K::kEvent) {
    if (connections_.size() == 0 && welcomed_ == 0) return;
    // Framed once for every socket here it is addressed to, on every thread.
    auto text = std::make_shared<const std::string>(d->body);
    const classroom::Audience& a = d->audience;
    if (connections_.size() > 0) {
      connections_.broadcast(text_frame(*text), a, LiveTraffic::out_type(*text));
    }
    if (welcomed_ > 0) {
      for (auto& [id, c] : conns_) {
        if (c.state == Conn::State::kWelcomed && a.includes(c.who.role, c.who.user_id)) {
          c.held.push_back({0, a, text});
        }
      }
    }
    return;
  }
  auto it = conns_.find(d->conn);
  if (it == conns_.end()) return;  // another replica's connection, or one gone
  Conn& c = it->second;
  switch (d->kind) {
    case K::kWelcome:
      if (c.state != Conn::State::kWaiting) return;
      c.state = Conn::State::kWelcomed;
      c.welcome = std::string(d->body);
      c.since = Clock::now();
      ++welcomed_;
      if (auto done = std::move(c.done)) done(it->first);
      return;
    case K::kReply:
      if (c.state == Conn::State::kOpen) {
        reply(*c.session, d->body);
      } else if (c.state == Conn::State::kWelcomed) {
        c.held.push_back({0, classroom::Audience::only(c.who.user_id),
                          std::make_shared<const std::string>(d->body)});
      }
      return;
    case K::kClose:
      if (c.state == Conn::State::kWaiting) {
        fail(it->first, d->status);
      } else if (c.state == Conn::State::kWelcomed) {
        c.close_after = {d->close_code, d->status.message()};
      } else {
        connections_.close(*c.session, d->close_code, d->status.message());
      }
      return;
    case K::kEvent:
      return;
  }
}

// ---- joins ----------------------------------------------------------------------------------

void EdgeRoom::request_join(const classroom::Actor& actor,
                            const std::optional<classroom::ResumePoint>& resume,
                            std::function<void(base::Result<std::string>)> done) {
  if (closing_) {
    done(base::unavailable("the server is going away", "going_away"));
    return;
  }
  idle_ = false;
  std::string id = link_.replica_id() + "/" + std::to_string(g_next_conn.fetch_add(1));
  Conn& c = conns_[id];
  c.who = classroom::participant_of(actor);
  c.done = std::move(done);
  c.since = Clock::now();
  c.up_join = wire::up_join(session_id_, id, link_.replica_id(), actor, resume);
  subscribe();
  if (ready_) on_ready(true);  // sends the join now
  ensure_ticking();
}

void EdgeRoom::fail(const std::string& conn, const base::Status& why) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second.state != Conn::State::kWaiting) return;
  auto done = std::move(it->second.done);
  conns_.erase(it);
  if (done) done(why);
  maybe_idle();
}

void EdgeRoom::bind(const std::string& conn, const std::shared_ptr<LiveSession>& s) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  it->second.bound = s;
  conn_of_[s.get()] = conn;
}

base::Result<classroom::JoinReply> EdgeRoom::join(const std::shared_ptr<LiveSession>& s,
                                                  const std::optional<classroom::ResumePoint>&) {
  auto ci = conn_of_.find(s.get());
  auto it = ci == conn_of_.end() ? conns_.end() : conns_.find(ci->second);
  if (it == conns_.end() || it->second.state != Conn::State::kWelcomed) {
    if (ci != conn_of_.end()) conn_of_.erase(ci);
    return base::unavailable("the connection to the course's home replica was lost; reconnect",
                             "city_unavailable");
  }
  Conn& c = it->second;
  classroom::JoinReply reply;
  reply.welcome = std::move(c.welcome);
  reply.replay = std::move(c.held);
  reply.resumed = true;
  c.state = Conn::State::kOpen;
  c.session = s;
  --welcomed_;
  connections_.add(s);
  counters_->edge_connections.fetch_add(1, std::memory_order_relaxed);
  if (c.close_after) {
    // Closed by the home between its welcome and the handshake: after the welcome (which the
    // caller queues, or posts to the session's shard, once this returns).
    asio::post(ioc_, [self = shared_from_this(), weak = std::weak_ptr<LiveSession>(s),
                      code = c.close_after->first, reason = c.close_after->second] {
      auto sess = weak.lock();
      if (sess && self->is_member(*sess)) self->connections_.close(*sess, code, reason);
    });
  }
  return reply;
}

void EdgeRoom::reply(LiveSession& s, std::string_view text) {
  traffic_.count_out(text);
  connections_.deliver(s, text_frame(text));
}

void EdgeRoom::leave(LiveSession& s) {
  auto ci = conn_of_.find(&s);
  if (ci == conn_of_.end()) return;
  std::string conn = std::move(ci->second);
  conn_of_.erase(ci);
  if (connections_.remove(s)) counters_->edge_connections.fetch_sub(1, std::memory_order_relaxed);
  std::string user = s.who().user_id;
  conns_.erase(conn);
  if (!closing_) send_up(wire::up_leave(session_id_, conn));  // else said in close_all()
  leave_media_if_last(user);
  maybe_idle();
}

void EdgeRoom::leave_media_if_last(const std::string& user_id) {
  if (!media_ || !media_->leave) return;
  for (const auto& [id, c] : conns_) {
    if (c.who.user_id == user_id) return;
  }
  media_->leave(session_id_, user_id);
}

bool EdgeRoom::subscribe_here(LiveSession& s, std::string_view text) {
  if (!media_ || text.find("media.subscribe") == std::string_view::npos) return false;
  std::string ref;
  auto msg = classroom::parse_client_message(text, &ref);
  if (!msg.is_ok() || msg->type != classroom::ClientType::kMediaSubscribe) return false;
  // Anyone in the room may watch: the subscription is this replica's SFU's, its streams
  // relayed once from the home's SFU for every student here (docs/design.md, "A class relayed
  // between replicas"). Publishing stays with the home, which decides who may.
  // Answered on the socket's own thread.
  auto done = [weak = s.weak_from_this(), ex = s.executor(),
               ref = msg->ref](base::Result<std::string> r) {
    asio::post(ex, [weak, ref, r = std::move(r)] {
      auto sess = weak.lock();
      if (!sess) return;
      if (!r.is_ok()) {
        sess->send(classroom::error_reply(
            ref, base::invalid_argument(r.status().message(), "media_rejected")));
        return;
      }
      boost::json::object o;
      o["type"] = "media.answer";
      if (!ref.empty()) o["ref"] = ref;
      o["kind"] = "subscribe";
      o["sdp"] = *r;
      sess->send(boost::json::serialize(o));
    });
  };
  media_->subscribe_relayed(session_id_, s.who().user_id, home_, std::move(msg->sdp),
                            std::move(done));
  return true;
}

void EdgeRoom::media_event(const MediaEvent& e) {
  // Publishing transports are on the home, which tells the user's sockets here itself.
  if (e.connection != "subscribe") return;
  if (e.type == MediaEvent::Type::kFailed) {
    base::log::warn(e.failure == "dtls" ? "media.dtls_failed" : "media.ice_failed")
        .kv("session", session_id_)
        .kv("user", e.participant)
        .kv("connection", e.connection)
        .kv("failure", e.failure)
        .kv("reason", e.reason)
        .kv("on", "edge");
    return;
  }
  if (e.type != MediaEvent::Type::kDisconnected) return;
  base::log::info("live.media_disconnected")
      .kv("session", session_id_)
      .kv("user", e.participant)
      .kv("connection", e.connection)
      .kv("reason", e.reason)
      .kv("on", "edge");
  boost::json::object o;
  o["type"] = "media.disconnected";
  o["connection"] = e.connection;
  o["reason"] = e.reason;
  const std::string text = boost::json::serialize(o);
  Frame frame = text_frame(text);
  uint64_t receivers = 0;
  connections_.for_each([&](LiveSession& s) {
    if (s.who().user_id != e.participant) return;
    connections_.deliver(s, frame);
    ++receivers;
  });
  if (receivers > 0) traffic_.count_out(text, receivers);
}

void EdgeRoom::on_message(LiveSession& s, std::string_view text) {
  auto ci = conn_of_.find(&s);
  if (ci == conn_of_.end()) return;
  if (subscribe_here(s, text)) return;
  // The home parses, decides and answers (its replies come back on the channel).
  send_up(wire::up_message(session_id_, ci->second, text),
          [self = shared_from_this(), weak = s.weak_from_this()](bool delivered) {
            if (delivered) return;
            auto sess = weak.lock();
            if (!sess || !self->is_member(*sess)) return;
            self->reply(*sess, classroom::error_reply(
                                   "", base::unavailable("the message did not reach the course's "
                                                         "home replica; try again shortly",
                                                         "city_unavailable")));
          });
}

// ---- failures and liveness ------------------------------------------------------------------

void EdgeRoom::cut(std::string_view why, const base::Status& status) {
  size_t n = connections_.size();
  std::vector<std::string> waiting;
  for (auto& [id, c] : conns_) {
    if (c.state == Conn::State::kWaiting) waiting.push_back(id);
    if (c.state == Conn::State::kWelcomed) c.close_after = {kCloseGoingAway, status.message()};
  }
  for (const auto& id : waiting) fail(id, status);
  connections_.close_all(kCloseGoingAway, status.message());
  if (n + waiting.size() > 0) {
    counters_->edge_cut.fetch_add(n, std::memory_order_relaxed);
    base::log::warn("live.edge_cut")
        .kv("session", session_id_)
        .kv("home", home_)
        .kv("why", why)
        .kv("connections", uint64_t(n))
        .kv("joins_failed", uint64_t(waiting.size()))
        .kv("message", status.message());
  }
  // A fresh subscription (and catch-up point) for whoever joins next.
  sub_.reset();
  ready_ = false;
}

// The replica stops. Its connections leave the home's room now, one leave each on the
// ordered upstream (after their joins), so the class sees them go at once rather than when
// the home notices the silence (kEdgeSilent); the sockets' own leaves later say nothing more.
void EdgeRoom::close_all(uint16_t code, std::string_view reason) {
  if (closing_) return;
  closing_ = true;
  std::vector<std::string> waiting;
  size_t said = 0;
  for (auto& [id, c] : conns_) {
    if (c.state == Conn::State::kWaiting) waiting.push_back(id);
    if (c.state == Conn::State::kWelcomed) c.close_after = {code, std::string(reason)};
    // A join still held back (the channel not ready) never reached the home.
    if (c.state != Conn::State::kWaiting || c.up_join.empty()) {
      send_up(wire::up_leave(session_id_, id));
      ++said;
    }
  }
  const base::Status going = base::unavailable(std::string(reason), "going_away");
  for (const auto& id : waiting) fail(id, going);
  connections_.close_all(code, reason);
  base::log::info("live.edge_goodbye")
      .kv("session", session_id_)
      .kv("home", home_)
      .kv("connections", uint64_t(said));
}

void EdgeRoom::forget(const std::string& conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  if (it->second.state == Conn::State::kWelcomed) --welcomed_;
  conns_.erase(it);
  if (!closing_) send_up(wire::up_leave(session_id_, conn));
}

void EdgeRoom::maybe_idle() {
  if (!conns_.empty() || idle_) return;
  idle_ = true;
  sub_.reset();
  ready_ = false;
  if (on_idle_) on_idle_();
}

void EdgeRoom::ensure_ticking() {
  if (ticking_) return;
  ticking_ = true;
  asio::co_spawn(ioc_, tick_loop(), asio::detached);
}

asio::awaitable<void> EdgeRoom::tick_loop() {
  auto self = shared_from_this();
  asio::steady_timer timer(ioc_);
  last_beat_ = Clock::now();
  // Shutdown ends it too: the home was told (close_all) and the thread must drain.
  while (!conns_.empty() && !closing_) {
    timer.expires_after(std::chrono::milliseconds(500));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    tick();
  }
  ticking_ = false;
}

void EdgeRoom::tick() {
  const auto now = Clock::now();
  // Lost, or lost and back since the subscription was made (events and leaves may have been
  // lost with it, however short the outage).
  if (!link_.connected() || (sub_ && link_.link_epoch() != sub_epoch_)) {
    cut("redis_lost",
        base::unavailable("the city is unavailable (Redis); reconnect", "city_unavailable"));
    return;
  }
  std::vector<std::string> late, unbound;
  for (auto& [id, c] : conns_) {
    if (c.state == Conn::State::kWaiting && now - c.since > kJoinTimeout) late.push_back(id);
    // Welcomed, but its socket never finished the handshake.
    if (c.state == Conn::State::kWelcomed && now - c.since > std::chrono::seconds(15) &&
        c.bound.expired()) {
      unbound.push_back(id);
    }
  }
  for (const auto& id : late) {
    counters_->join_timeouts.fetch_add(1, std::memory_order_relaxed);
    base::log::warn("live.edge_join_timeout").kv("session", session_id_).kv("home", home_);
    fail(id, base::unavailable(
                 "the course's home replica (" + home_ + ") did not answer; try again shortly",
                 "course_home_unavailable"));
  }
  for (const auto& id : unbound) forget(id);
  if (now - last_beat_ >= kBeat && ready_) {
    last_beat_ = now;
    // Every connection whose join has gone up: the home, which gets this after the joins
    // (one ordered channel), drops the ones of this edge that are not listed. (Listing only
    // welcomed ones would drop a join the home admitted after this list was made.)
    std::vector<std::string> ids;
    for (const auto& [id, c] : conns_) {
      if (c.state != Conn::State::kWaiting || c.up_join.empty()) ids.push_back(id);
    }
    if (!ids.empty()) {
      send_up(wire::up_alive(session_id_, link_.replica_id(), ids),
              [weak = weak_from_this()](bool delivered) {
                auto self = weak.lock();
                if (!self) return;
                self->silent_beats_ = delivered ? 0 : self->silent_beats_ + 1;
                if (self->silent_beats_ >= kHomeSilent) {
                  self->silent_beats_ = 0;
                  self->cut("home_unreachable",
                            base::unavailable("the course's home replica is unavailable; "
                                              "reconnect to resume",
                                              "course_home_unavailable"));
                }
              });
    }
  }
  maybe_idle();
}

}  // namespace ws
