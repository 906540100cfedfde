#include "ws/live_hub.h"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include "base/jwt.h"
#include "base/log.h"
#include "base/strings.h"
#include "classroom/live_join.h"
#include "classroom/reader.h"
#include "http/message.h"
#include "ws/city_wire.h"
#include "ws/close_codes.h"

namespace ws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;

std::string live_session_id(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  constexpr std::string_view kPrefix = "/api/v1/sessions/";
  constexpr std::string_view kSuffix = "/live";
  if (!base::starts_with(path, kPrefix) || path.size() <= kPrefix.size() + kSuffix.size() ||
      path.substr(path.size() - kSuffix.size()) != kSuffix) {
    return {};
  }
  std::string_view id = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  if (id.find('/') != std::string_view::npos) return {};
  return std::string(id);
}

LiveHub::LiveHub(LiveDeps deps)
    : deps_(std::move(deps)), quota_(std::make_shared<SocketQuota>(deps_.max_sockets_per_user)) {
  if (!deps_.clock) deps_.clock = &base::SystemClock::instance();
  if (!deps_.random) deps_.random = &base::SystemRandom::instance();
}

bool LiveHub::set_media(MediaSignalling media) {
  std::lock_guard lock(mu_);  // rooms read deps_.media when they are made, under mu_
  if (!rooms_.empty() || !edges_.empty()) return false;
  deps_.media = std::move(media);
  return true;
}

int LiveHub::owner_thread(std::string_view session_id) const {
  return int(std::hash<std::string_view>()(session_id) % size_t(std::max(1, deps_.threads)));
}

std::shared_ptr<RoomHost> LiveHub::find(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto it = rooms_.find(session_id);
  return it == rooms_.end() ? nullptr : it->second;
}

std::shared_ptr<RoomHost> LiveHub::find_or_create(const store::Session& session,
                                                  const store::Course& course) {
  std::lock_guard lock(mu_);
  auto it = rooms_.find(session.id);
  if (it != rooms_.end()) return it->second;
  int t = owner_thread(session.id);
  classroom::RoomConfig cfg =
      classroom::room_config(session, course, deps_.resume_max_events, deps_.authorizer);
  RoomDeps rd{deps_.service,
              deps_.writer,
              deps_.readers.at(size_t(t)),
              deps_.clock,
              deps_.random,
              deps_.authorizer,
              deps_.media.publish ? &deps_.media : nullptr,
              &traffic_,
              city_,
              city_counters_,
              {}};
  if (deps_.threads > 1 && course.capacity > 0 &&
      size_t(course.capacity) > deps_.spread_above_capacity) {
    for (int i = 0; i < deps_.threads; ++i) rd.spread_over.push_back(&deps_.context(i));
  }
  auto host = std::make_shared<RoomHost>(deps_.context(t), t, std::move(cfg), session.teacher_id,
                                         rd, [this, id = session.id] {
                                           std::lock_guard l(mu_);
                                           rooms_.erase(id);
                                           counters_.rooms = int64_t(rooms_.size());
                                         });
  rooms_.emplace(session.id, host);
  counters_.rooms = int64_t(rooms_.size());
  return host;
}

LiveHub::~LiveHub() {
  std::vector<std::shared_ptr<RoomHost>> hosts;
  std::vector<std::shared_ptr<EdgeRoom>> edges;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, h] : rooms_) hosts.push_back(h);
    for (auto& [id, e] : edges_) edges.push_back(e);
  }
  for (auto& h : hosts) h->release_connections();
  for (auto& e : edges) e->release_connections();
}

std::shared_ptr<EdgeRoom> LiveHub::find_or_create_edge(const std::string& session_id,
                                                       const std::string& home) {
  std::lock_guard lock(mu_);
  auto it = edges_.find(session_id);
  if (it != edges_.end()) return it->second;
  int t = owner_thread(session_id);
  auto edge = std::make_shared<EdgeRoom>(
      deps_.context(t), t, session_id, home, *city_, city_counters_, traffic_,
      [this, session_id] {
        std::lock_guard l(mu_);
        edges_.erase(session_id);
      },
      deps_.media.subscribe_relayed ? &deps_.media : nullptr, edge_spread_over());
  edges_.emplace(session_id, edge);
  return edge;
}

void LiveHub::refuse(http::Transport& stream, HttpRequest& req, const base::Status& why,
                     ConnectionSlot slot) {
  {
    std::lock_guard lock(mu_);
    ++counters_.connections_refused;
  }
  // One line per second at most: refusals are what a flood of bad upgrades produces.
  static base::log::Every log_every(1'000'000'000);
  if (uint64_t n; log_every.due(base::SystemClock::instance().now_mono_ns(), &n)) {
    base::log::info("live.refused")
        .kv("reason", why.reason())
        .kv("message", why.message())
        .kv("suppressed", n);
  }
  if (req.find(beast::http::field::origin) == req.end()) {
    // Not a browser (a browser's WebSocket request always carries Origin): answer before the
    // upgrade with the HTTP status and JSON error a REST call would get.
    refuse_http(stream, req, why, std::move(slot));
    return;
  }
  auto ex = stream.get_executor();
  // A browser cannot read an HTTP error on a failed WebSocket: accept and close with a code.
  asio::co_spawn(
      ex,
      LiveSession::refuse(std::move(stream), std::move(req), close_code_for(why), why.message()),
      [slot = std::move(slot)](std::exception_ptr) {});
}

namespace {

// Writes `res` and closes the connection: stop sending, then discard what the client still
// sends for a bounded time, so that our answer is not lost to a reset.
asio::awaitable<void> answer_and_close(http::Transport stream,
                                       beast::http::response<beast::http::string_body> res) {
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  // 5 s to write, 2 s more to discard: then the watchdog closes the socket.
  asio::steady_timer watchdog(stream.get_executor(), std::chrono::seconds(7));
  watchdog.async_wait([&stream](beast::error_code ec) {
    if (!ec) stream.close(ec);
  });
  auto [wec, n] = co_await beast::http::async_write(stream, res, kNoThrow);
  if (!wec) {
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    char sink[1024];
    for (size_t total = 0; total < (1u << 20);) {
      auto [rec, got] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
      if (rec) break;
      total += got;
    }
  }
  watchdog.cancel();
  beast::error_code ec;
  stream.close(ec);
}

}  // namespace

void LiveHub::refuse_http(http::Transport& stream, HttpRequest& req, const base::Status& why,
                          ConnectionSlot slot) {
  http::Response res = http::error_response(why, req.version());
  res.keep_alive(false);
  res.prepare_payload();
  auto ex = stream.get_executor();
  asio::co_spawn(ex, answer_and_close(std::move(stream), std::move(res)),
                 [slot = std::move(slot)](std::exception_ptr) {});
}

namespace {

// What a live upgrade request says besides its path: the token (the Authorization header wins
// over ?token=, which browsers use), and where a resuming client left off.
struct UpgradeQuery {
  std::string token;
  std::string epoch;
  std::optional<int64_t> last_seq;
};

UpgradeQuery read_upgrade_query(const HttpRequest& req) {
  UpgradeQuery q;
  if (auto u = boost::urls::parse_origin_form(req.target()); u) {
    for (auto p : u->params()) {
      if (p.key == "token")
        q.token = p.value;
      else if (p.key == "epoch")
        q.epoch = p.value;
      else if (p.key == "last_seq")
        q.last_seq = base::parse_int(p.value);
    }
  }
  if (auto h = req.find(beast::http::field::authorization); h != req.end()) {
    q.token = std::string(h->value());
  }
  return q;
}

}  // namespace

bool LiveHub::handle_upgrade(http::Transport& stream, HttpRequest& req, int thread_index,
                             ConnectionSlot slot) {
  std::string session_id = live_session_id(req.target());
  if (session_id.empty()) return false;

  UpgradeQuery q = read_upgrade_query(req);
  std::string& token = q.token;
  if (token.empty()) {
    refuse(stream, req, base::unauthenticated("a token is required", "token_missing"), slot);
    return true;
  }
  auto claims = base::verify_token(token, deps_.jwt_secret, deps_.clock->now_unix_ms() / 1000);
  if (!claims.is_ok()) {
    refuse(stream, req, claims.status(), slot);
    return true;
  }
  classroom::Actor actor{claims->sub, claims->name, claims->role};
  // Per-user limit, before any database work: the hold goes with the socket.
  std::shared_ptr<void> quota_hold = quota_->acquire(actor.id);
  if (!quota_hold) {
    static base::log::Every log_every(10'000'000'000);
    if (uint64_t n; log_every.due(base::SystemClock::instance().now_mono_ns(), &n)) {
      base::log::warn("live.too_many_sockets")
          .kv("user", actor.id)
          .kv("max_per_user", uint64_t(quota_->max_per_user()))
          .kv("suppressed", n);
    }
    {
      std::lock_guard lock(mu_);
      ++counters_.too_many_sockets;  // refuse() counts it in connections_refused
    }
    refuse(stream, req, classroom::too_many_live_sockets(quota_->max_per_user()), slot);
    return true;
  }

  std::optional<classroom::ResumePoint> resume;
  if (!q.epoch.empty() && q.last_seq && *q.last_seq >= 0) {
    resume = classroom::ResumePoint{q.epoch, uint64_t(*q.last_seq)};
  }
  if (city_ && !city_->is_home(session_id)) {
    // Perhaps another replica's: the city says where its room is (docs/design.md, "One live
    // class across replicas").
    auto p = std::make_shared<Upgrade>(Upgrade{std::move(stream), std::move(req), std::move(slot),
                                               std::move(quota_hold), actor, session_id, resume,
                                               thread_index});
    city_->find_home(session_id, p->stream.get_executor(),
                     [this, p](base::Result<std::string> home) {
                       if (!home.is_ok() && home.status().code() != base::Code::kNotFound) {
                         refuse(p->stream, p->req, home.status(), std::move(p->slot));
                       } else if (!home.is_ok() || *home == city_->replica_id()) {
                         // Unknown to the city (a 404 here, as on one node), or ours.
                         admit_here(*p);
                       } else {
                         join_through_edge(p, *home);
                       }
                     });
    return true;
  }
  Upgrade u{std::move(stream), std::move(req), std::move(slot), std::move(quota_hold), actor,
            session_id,        resume,         thread_index};
  admit_here(u);
  return true;
}

void LiveHub::admit_here(Upgrade& u) {
  // The classroom decides (session, course, enrollment, policy); the hub only answers.
  classroom::DbReader reader(*deps_.readers.at(size_t(u.thread_index)));
  auto admitted = classroom::admit_live(reader, *deps_.authorizer(), u.actor, u.session_id);
  if (!admitted.is_ok()) {
    refuse(u.stream, u.req, admitted.status(), std::move(u.slot));
    return;
  }
  std::shared_ptr<RoomHost> host = find_or_create(admitted->session, admitted->course);
  classroom::Participant who = std::move(admitted->who);
  auto resume = u.resume;
  auto slot = std::move(u.slot);
  auto quota_hold = std::move(u.quota_hold);
  auto& stream = u.stream;
  auto& req = u.req;
  const int thread_index = u.thread_index;
  // A spread room's connection stays on this thread (served through the room's shard here).
  std::shared_ptr<RoomShard> shard = host->shard(thread_index);
  {
    std::lock_guard lock(mu_);
    ++counters_.connections_accepted;
    if (shard) ++counters_.spread_connections;
  }

  // `slot` and `quota_hold` stay with the session until its coroutine ends.
  auto start = [this, host, who = std::move(who), resume, slot = std::move(slot),
                quota_hold = std::move(quota_hold)](http::Transport s, HttpRequest r,
                                                    std::shared_ptr<RoomShard> shard) mutable {
    auto ex = s.get_executor();
    auto session = std::make_shared<LiveSession>(std::move(s), host, std::move(shard),
                                                 std::move(who), resume, deps_.limits);
    asio::co_spawn(
        ex, session->run(std::make_unique<HttpRequest>(std::move(r))),
        [slot = std::move(slot), quota_hold = std::move(quota_hold)](std::exception_ptr) {});
  };
  if (host->thread_index() == thread_index || shard) {
    start(std::move(stream), std::move(req), std::move(shard));
    return;
  }
  // Move the connection to the room's thread: release the descriptor (and the TLS session)
  // from this thread's io_context and adopt it in the room's.
  beast::error_code ec;
  http::Transport::Detached detached = stream.detach(ec);
  if (ec) {
    stream.close(ec);
    return;
  }
  asio::post(host->executor(), [d = std::move(detached), host, start = std::move(start),
                                req = std::move(req)]() mutable {
    beast::error_code aec;
    http::Transport moved = http::Transport::adopt(std::move(d), host->executor(), aec);
    if (aec) return;
    start(std::move(moved), std::move(req), nullptr);
  });
}

std::vector<asio::io_context*> LiveHub::edge_spread_over() const {
  std::vector<asio::io_context*> all;
  if (deps_.threads > 1 && deps_.spread_above_capacity != SIZE_MAX) {
    for (int i = 0; i < deps_.threads; ++i) all.push_back(&deps_.context(i));
  }
  return all;
}

// The home admits (or refuses) through the edge room, before the upgrade, so that a refusal
// is answered exactly as the home would answer it. The edge room is found (or made) and asked
// on its own thread, where it may also go idle. A spread room's socket stays on the thread
// that accepted it: only the answer comes back there; otherwise the socket is moved to the
// room's thread first.
void LiveHub::join_through_edge(std::shared_ptr<Upgrade> p, std::string home) {
  const int t = owner_thread(p->session_id);
  if (t != p->thread_index && !edge_spread_over().empty()) {
    asio::post(deps_.context(t), [this, p, home = std::move(home)] {
      std::shared_ptr<EdgeRoom> edge = find_or_create_edge(p->session_id, home);
      edge->request_join(p->actor, p->resume, [this, p, edge](base::Result<std::string> conn) {
        // Back to the socket's thread (the room's answer is given on the room's).
        asio::post(p->stream.get_executor(), [this, p, edge, conn = std::move(conn)] {
          if (!conn.is_ok()) {
            refuse(p->stream, p->req, conn.status(), std::move(p->slot));
            return;
          }
          std::shared_ptr<RoomShard> shard = edge->shard(p->thread_index);
          {
            std::lock_guard lock(mu_);
            ++counters_.connections_accepted;
            ++counters_.spread_connections;
          }
          auto session = std::make_shared<LiveSession>(std::move(p->stream), edge, shard,
                                                       classroom::participant_of(p->actor),
                                                       std::nullopt, deps_.limits);
          // Before the session's join, which it posts from this thread once upgraded.
          asio::post(edge->executor(), [edge, session, c = *conn] { edge->bind(c, session); });
          asio::co_spawn(
              session->executor(), session->run(std::make_unique<HttpRequest>(std::move(p->req))),
              [slot = std::move(p->slot), hold = std::move(p->quota_hold)](std::exception_ptr) {});
        });
      });
    });
    return;
  }
  auto go = [this, p, home = std::move(home)] {
    std::shared_ptr<EdgeRoom> edge = find_or_create_edge(p->session_id, home);
    edge->request_join(p->actor, p->resume, [this, p, edge](base::Result<std::string> conn) {
      if (!conn.is_ok()) {
        refuse(p->stream, p->req, conn.status(), std::move(p->slot));
        return;
      }
      {
        std::lock_guard lock(mu_);
        ++counters_.connections_accepted;
      }
      auto session = std::make_shared<LiveSession>(std::move(p->stream), edge, nullptr,
                                                   classroom::participant_of(p->actor),
                                                   std::nullopt, deps_.limits);
      edge->bind(*conn, session);
      asio::co_spawn(
          edge->executor(), session->run(std::make_unique<HttpRequest>(std::move(p->req))),
          [slot = std::move(p->slot), hold = std::move(p->quota_hold)](std::exception_ptr) {});
    });
  };
  if (t == p->thread_index) {
    go();
    return;
  }
  beast::error_code ec;
  http::Transport::Detached detached = p->stream.detach(ec);
  if (ec) {
    p->stream.close(ec);
    return;
  }
  asio::post(deps_.context(t), [this, d = std::move(detached), p, t, go = std::move(go)]() mutable {
    beast::error_code aec;
    p->stream = http::Transport::adopt(std::move(d), deps_.context(t).get_executor(), aec);
    if (aec) return;
    p->thread_index = t;
    go();
  });
}

void LiveHub::from_edge(std::string_view payload) {
  auto up = wire::parse_upstream(payload);
  if (!up.is_ok()) {
    base::log::warn("live.edge_message_invalid").kv("error", up.status().message());
    return;
  }
  const int t = owner_thread(up->session);
  asio::post(deps_.context(t), [this, t, u = std::move(up).value()]() mutable {
    std::shared_ptr<RoomHost> host = find(u.session);
    switch (u.op) {
      case wire::UpOp::kJoin: {
        // The door, as for a socket here: session, course, enrollment, policy.
        classroom::DbReader reader(*deps_.readers.at(size_t(t)));
        auto admitted = classroom::admit_live(reader, *deps_.authorizer(), u.actor, u.session);
        if (!admitted.is_ok()) {
          base::Status st = admitted.status();
          city_->publish(u.session, wire::down_close(u.conn, close_code_for(st), st));
          return;
        }
        if (!host) host = find_or_create(admitted->session, admitted->course);
        {
          std::lock_guard lock(mu_);
          ++counters_.connections_accepted;
        }
        host->remote_join(u.edge, u.conn, admitted->who, u.resume);
        return;
      }
      case wire::UpOp::kMessage:
        if (host) {
          host->remote_message(u.conn, u.text);
        } else {
          city_->publish(
              u.session,
              wire::down_close(u.conn, kCloseGoingAway,
                               base::unavailable("the room is not open; reconnect", "going_away")));
        }
        return;
      case wire::UpOp::kLeave:
        if (host) host->remote_leave(u.conn);
        return;
      case wire::UpOp::kAlive:
        if (host) {
          host->remote_alive(u.edge, u.conns);
        } else {
          for (const auto& c : u.conns) {
            city_->publish(u.session,
                           wire::down_close(
                               c, kCloseGoingAway,
                               base::unavailable("the room is not open; reconnect", "going_away")));
          }
        }
        return;
    }
  });
}

std::vector<std::shared_ptr<RoomHost>> LiveHub::rooms_of_course(std::string_view course_id) {
  std::vector<std::shared_ptr<RoomHost>> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, h] : rooms_) {
    if (h->course_id() == course_id) out.push_back(h);
  }
  return out;
}

void LiveHub::course_changed(const store::Course& course) {
  for (auto& host : rooms_of_course(course.id)) {
    asio::post(host->executor(), [host, course] { host->course_changed(course); });
  }
}

void LiveHub::student_removed(std::string_view course_id, std::string_view student_id,
                              std::string_view by) {
  for (auto& host : rooms_of_course(course_id)) {
    asio::post(host->executor(), [host, student = std::string(student_id), by = std::string(by)] {
      host->student_removed(student, by);
    });
  }
}

void LiveHub::session_ended(const store::Session& session) {
  auto host = find(session.id);
  if (!host) return;
  asio::post(host->executor(), [host] { host->end("teacher_ended", kCloseNormal); });
}

void LiveHub::quiz_changed(const store::Quiz& quiz) {
  auto host = find(quiz.session_id);
  if (!host) return;
  asio::post(host->executor(), [host, quiz] { host->quiz_changed(quiz); });
}

void LiveHub::answers_committed(const classroom::PreparedAnswers& prepared) {
  if (prepared.answers.empty()) return;
  auto host = find(prepared.quiz.session_id);
  if (!host) return;
  asio::post(host->executor(), [host, p = prepared] {
    host->answers_committed(p.answers.front().student_id, p.quiz, p.answers);
  });
}

void LiveHub::media_event(MediaEvent event) {
  if (auto host = find(event.room)) {
    asio::post(host->executor(), [host, e = std::move(event)] { host->media_event(e); });
    return;
  }
  // An edge: its students' subscriptions are on this replica's SFU (subscribe_relayed).
  std::shared_ptr<EdgeRoom> edge;
  {
    std::lock_guard lock(mu_);
    if (auto it = edges_.find(event.room); it != edges_.end()) edge = it->second;
  }
  if (!edge) return;
  asio::post(edge->executor(), [edge, e = std::move(event)] { edge->media_event(e); });
}

void LiveHub::shutdown() {
  std::vector<std::shared_ptr<RoomHost>> hosts;
  std::vector<std::shared_ptr<EdgeRoom>> edges;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, h] : rooms_) hosts.push_back(h);
    for (auto& [id, e] : edges_) edges.push_back(e);
  }
  // In a city another replica can take the socket at once: 1012 tells the page to reconnect
  // now rather than after its backoff; a single node is going away (1001) until it is back.
  const uint16_t code = city_ ? kCloseServiceRestart : kCloseGoingAway;
  const char* reason = city_ ? "this replica is restarting; reconnect" : "server going away";
  for (auto& h : hosts) {
    asio::post(h->executor(), [h, code, reason] { h->close_all(code, reason); });
  }
  for (auto& e : edges) {
    asio::post(e->executor(), [e, code, reason] { e->close_all(code, reason); });
  }
}

void LiveHub::republish_presence() {
  if (!city_) return;
  std::vector<std::shared_ptr<RoomHost>> hosts;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, h] : rooms_) hosts.push_back(h);
  }
  if (hosts.empty()) return;
  base::log::info("live.presence_rewritten").kv("rooms", uint64_t(hosts.size()));
  for (auto& h : hosts) asio::post(h->executor(), [h] { h->republish_presence(); });
}

LiveCounters LiveHub::counters() const {
  std::lock_guard lock(mu_);
  LiveCounters c = counters_;
  for (const auto& [id, host] : rooms_) {
    c.students += int64_t(host->present_students());
    c.teachers += int64_t(host->present_teachers());
  }
  return c;
}

}  // namespace ws
