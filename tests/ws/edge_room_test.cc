// A live class across two replicas in one process: the course's home (the fixture's server,
// live_ws_fixture.h) and an edge replica with two I/O threads whose students' sockets stay on
// the threads that accepted them (ws::EdgeRoom spread through ws::RoomShard). The replicas
// are joined by MemoryCity, which relays as Redis does for app::CityLive: the session's
// channel in publishing order to every subscriber, and what an edge sends its home.
#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "live_ws_fixture.h"
#include "ws/city_link.h"

namespace ws {
namespace {

using live_test::LiveWsTest;
using live_test::read_chat;
using live_test::Received;
using live_test::texts;
using live_test::token;
using testing::Client;

// The city's relays in memory. Any thread (one mutex guards the subscriptions and hubs).
class MemoryCity {
 public:
  class Link : public CityLink {
   public:
    Link(MemoryCity& city, std::string id) : city_(city), id_(std::move(id)) {}
    const std::string& replica_id() const override { return id_; }
    bool connected() const override { return city_.connected_.load(); }
    uint64_t link_epoch() const override { return city_.epoch_.load(); }
    bool is_home(std::string_view session_id) const override {
      return city_.home_of(session_id) == id_;
    }
    void publish(const std::string& session_id, std::string payload) override {
      city_.publish(session_id, payload);
    }
    void presence(const std::string&, const std::string&, std::string) override {}
    void presence_reset(const std::string&,
                        std::vector<std::pair<std::string, std::string>>) override {}
    void find_home(std::string session_id, asio::any_io_executor ex,
                   std::function<void(base::Result<std::string>)> done) override {
      std::string home = city_.home_of(session_id);
      asio::post(ex, [done = std::move(done), home] {
        done(home.empty() ? base::Result<std::string>(base::not_found("unknown", "unknown_entity"))
                          : base::Result<std::string>(home));
      });
    }
    void send_to_home(const std::string& home, std::string payload, asio::any_io_executor ex,
                      std::function<void(bool)> done) override {
      const bool delivered = city_.send_up(home, payload);
      asio::post(ex, [done = std::move(done), delivered] { done(delivered); });
    }
    std::unique_ptr<Subscription> subscribe(const std::string& session_id, asio::any_io_executor ex,
                                            std::function<void(std::string_view)> on_payload,
                                            std::function<void(bool)> on_ready,
                                            std::function<void()> on_gap) override {
      return city_.subscribe(session_id, std::move(ex), std::move(on_payload), std::move(on_ready),
                             std::move(on_gap));
    }

   private:
    MemoryCity& city_;
    const std::string id_;
  };

  void set_home(const std::string& session_id, const std::string& replica) {
    std::lock_guard lock(mu_);
    homes_[session_id] = replica;
  }
  // `hub` gets what edges send `replica` (LiveHub::from_edge); null: nobody listens.
  void set_hub(const std::string& replica, LiveHub* hub) {
    std::lock_guard lock(mu_);
    hubs_[replica] = hub;
  }
  // Events of the session were lost between replicas: every subscriber is told.
  void gap(const std::string& session_id) {
    std::lock_guard lock(mu_);
    for (auto& [id, sub] : subs_) {
      if (sub.session == session_id) asio::post(sub.ex, sub.on_gap);
    }
  }
  // Redis is unreachable (a link epoch passes).
  void disconnect() {
    connected_ = false;
    ++epoch_;
  }

 private:
  struct Sub {
    std::string session;
    asio::any_io_executor ex;
    std::function<void(std::string_view)> on_payload;
    std::function<void()> on_gap;
  };
  struct Handle : CityLink::Subscription {
    Handle(MemoryCity& c, uint64_t i) : city(c), id(i) {}
    ~Handle() override {
      std::lock_guard lock(city.mu_);
      city.subs_.erase(id);
    }
    MemoryCity& city;
    uint64_t id;
  };

  std::string home_of(std::string_view session_id) {
    std::lock_guard lock(mu_);
    auto it = homes_.find(std::string(session_id));
    return it == homes_.end() ? "" : it->second;
  }
  void publish(const std::string& session_id, const std::string& payload) {
    if (!connected_) return;
    std::lock_guard lock(mu_);
    for (auto& [id, sub] : subs_) {
      if (sub.session != session_id) continue;
      asio::post(sub.ex, [fn = sub.on_payload, payload] { fn(payload); });
    }
  }
  bool send_up(const std::string& home, const std::string& payload) {
    LiveHub* hub = nullptr;
    {
      std::lock_guard lock(mu_);
      if (auto it = hubs_.find(home); it != hubs_.end()) hub = it->second;
    }
    if (!connected_ || !hub) return false;
    hub->from_edge(payload);
    return true;
  }
  std::unique_ptr<CityLink::Subscription> subscribe(
      const std::string& session_id, asio::any_io_executor ex,
      std::function<void(std::string_view)> on_payload, std::function<void(bool)> on_ready,
      std::function<void()> on_gap) {
    std::lock_guard lock(mu_);
    const uint64_t id = next_id_++;
    subs_[id] = Sub{session_id, ex, std::move(on_payload), std::move(on_gap)};
    const bool ok = connected_;
    asio::post(ex, [on_ready = std::move(on_ready), ok] { on_ready(ok); });
    return std::make_unique<Handle>(*this, id);
  }

  std::atomic<bool> connected_{true};
  std::atomic<uint64_t> epoch_{1};
  std::mutex mu_;
  std::map<std::string, std::string> homes_;  // session -> home replica
  std::map<std::string, LiveHub*> hubs_;      // replica -> its hub
  std::map<uint64_t, Sub> subs_;              // by id
  uint64_t next_id_ = 1;
};

// A large class homed on the fixture's server ("home"), its students on replica "edge" (two
// I/O threads): the edge room is spread, each socket served on the thread that accepted it.
class LiveWsEdgeSpreadTest : public LiveWsTest {
 protected:
  void SetUp() override {
    capacity_ = 200;
    extra_students_ = 24;
    city_ = &home_link_;
    LiveWsTest::SetUp();
    if (HasFatalFailure()) return;
    city_memory_.set_home(session_id_, "home");
    city_memory_.set_hub("home", hub_.get());

    http::ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    edge_server_ = std::make_unique<http::Server>(opts, edge_router_);
    LiveDeps deps = live_deps(*edge_server_, edge_readers_);
    ASSERT_EQ(edge_readers_.size(), size_t(edge_server_->thread_count()));
    edge_hub_ = std::make_unique<LiveHub>(std::move(deps));
    edge_hub_->set_city(&edge_link_);
    edge_server_->set_upgrade_handler(
        [this](http::Transport& s, http::Request& req, int t, http::ConnectionSlot slot) {
          return edge_hub_->handle_upgrade(s, req, t, std::move(slot));
        });
    ASSERT_TRUE(edge_server_->listen().is_ok());
    edge_server_->start();
  }

  void TearDown() override {
    if (edge_hub_) edge_hub_->shutdown();
    if (edge_server_) edge_server_->stop();
    edge_hub_.reset();  // after its I/O threads stopped
    edge_server_.reset();
    LiveWsTest::TearDown();
  }

  std::unique_ptr<Client> edge_join(const std::string& sub, const std::string& extra = "") {
    auto c = std::make_unique<Client>();
    EXPECT_TRUE(
        c->connect(edge_server_->port(), target(token(sub, sub, base::Role::kStudent), extra)));
    return c;
  }

  // The students usr_s0.. join on the edge; each one's first frame must be its welcome.
  // Returns the welcomes' seqs (empty on a failure, which is recorded).
  std::vector<int64_t> students_join(std::vector<std::unique_ptr<Client>>& s) {
    std::vector<int64_t> seqs;
    for (int i = 0; i < extra_students_; ++i) {
      s.push_back(edge_join("usr_s" + std::to_string(i)));
      auto w = s.back()->read(5s);
      EXPECT_TRUE(w && w->at("type") == "welcome") << "student " << i;
      if (!w || w->at("type") != "welcome") return {};
      seqs.push_back(w->at("seq").as_int64());
    }
    // Both of the edge's threads serve the class (the kernel spreads accepts over the two
    // SO_REUSEPORT listeners): some sockets are on the thread that is not the room's.
    const LiveCounters c = edge_hub_->counters();
    EXPECT_GT(c.spread_connections, 0);
    EXPECT_LT(c.spread_connections, extra_students_);
    EXPECT_EQ(edge_hub_->city_counters().edge_connections.load(), extra_students_);
    return seqs;
  }

  MemoryCity city_memory_;
  MemoryCity::Link home_link_{city_memory_, "home"};
  MemoryCity::Link edge_link_{city_memory_, "edge"};
  http::Router edge_router_;
  std::unique_ptr<http::Server> edge_server_;
  std::vector<std::unique_ptr<store::Db>> edge_readers_;
  std::unique_ptr<LiveHub> edge_hub_;
};

TEST_F(LiveWsEdgeSpreadTest, EveryStudentOnTheEdgeGetsEveryEventInRoomOrderAcrossThreads) {
  auto t = join("usr_t", base::Role::kTeacher);  // on the home
  ASSERT_TRUE(t->expect("welcome"));
  const int n = extra_students_;
  std::vector<std::unique_ptr<Client>> s;
  std::vector<int64_t> seqs = students_join(s);
  ASSERT_EQ(seqs.size(), size_t(n));
  std::vector<Received> got(size_t(n), Received{});
  for (int i = 0; i < n; ++i) got[size_t(i)].last_seq = seqs[size_t(i)];

  const LiveTraffic& traffic = edge_hub_->traffic();
  const size_t chat_type = LiveTraffic::out_type(R"({"type":"chat_message")");
  const size_t error_type = LiveTraffic::out_type(R"({"type":"error")");
  const uint64_t chats_before = traffic.out(chat_type);
  const uint64_t errors_before = traffic.out(error_type);

  // A burst from the teacher on the home, then a message from a student on the edge: every
  // student gets all of them, in the room's order, on both of the edge's threads.
  for (int i = 0; i < 40; ++i) t->send({{"type", "chat"}, {"text", "m" + std::to_string(i)}});
  Received teacher;
  read_chat(*t, teacher, 40);
  ASSERT_EQ(teacher.chat, texts(0, 40));
  s[3]->send({{"type", "chat"}, {"text", "m40"}});
  expect_every_chat(s, got, 41);
  // Counted once per receiving socket on the edge, wherever it runs (a shard counts right
  // after queuing, so the count may trail the last read by a moment).
  const uint64_t want_chats = chats_before + 41 * uint64_t(n);
  for (int i = 0; i < 1000 && traffic.out(chat_type) < want_chats; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(traffic.out(chat_type), want_chats);

  // The home's replies to one connection come back to its socket, on whichever thread.
  for (int i = 0; i < n; ++i) {
    s[size_t(i)]->send({{"type", "no_such_type"}});
    ASSERT_TRUE(s[size_t(i)]->expect("error")) << "student " << i;
  }
  for (int i = 0; i < 1000 && traffic.out(error_type) < errors_before + uint64_t(n); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(traffic.out(error_type), errors_before + uint64_t(n));

  // Eight students drop; the teacher sends while they come back to the edge with resume, one
  // by one (each landing on either thread): each gets its welcome, then exactly what it
  // missed and what followed, in order.
  int next = 41;
  ASSERT_NO_FATAL_FAILURE(drop_and_resume(
      *t, s, got, 8, next,
      [&](const std::string& user, const std::string& query) { return edge_join(user, query); }));

  // Events of the class lost between replicas (a gap): the edge closes every socket it holds
  // with 1001, on both threads, and the clients resume elsewhere.
  const uint64_t cut_before = edge_hub_->city_counters().edge_cut.load();
  city_memory_.gap(session_id_);
  for (int i = 0; i < n; ++i) EXPECT_EQ(s[size_t(i)]->closed(5s), 1001) << "student " << i;
  EXPECT_GE(edge_hub_->city_counters().edge_cut.load(), cut_before + uint64_t(n));
}

TEST_F(LiveWsEdgeSpreadTest, LosingRedisClosesTheEdgesSocketsOnEveryThread) {
  auto t = join("usr_t", base::Role::kTeacher);
  ASSERT_TRUE(t->expect("welcome"));
  std::vector<std::unique_ptr<Client>> s;
  ASSERT_EQ(students_join(s).size(), size_t(extra_students_));
  t->send({{"type", "chat"}, {"text", "before"}});
  for (auto& c : s) ASSERT_TRUE(c->expect("chat_message"));
  // The edge notices within its tick (0.5 s) and cuts: 1001 everywhere.
  city_memory_.disconnect();
  for (int i = 0; i < extra_students_; ++i)
    EXPECT_EQ(s[size_t(i)]->closed(5s), 1001) << "student " << i;
  // The home's own socket stays (its room does not depend on Redis).
  t->send({{"type", "chat"}, {"text", "after"}});
  EXPECT_TRUE(t->expect("chat_message"));
}

}  // namespace
}  // namespace ws
