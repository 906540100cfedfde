#include "http/start_gate.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "http/router.h"
#include "http/server.h"

namespace http {
namespace {

using namespace std::chrono_literals;

// A client connection that sent one request: its answer is read later.
class Client {
 public:
  Client(uint16_t port, const std::string& request) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
          ::send(fd_, request.data(), request.size(), 0) == ssize_t(request.size());
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }
  // The first bytes of the answer, waiting up to `wait`; empty when none came by then.
  std::string answer(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, int(wait.count())) != 1) return {};
    char buf[2048];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

Handler answer_with(std::string body) {
  return [body = std::move(body)](Ctx&) -> boost::asio::awaitable<Response> {
    Response r{beast_http::status::ok, 11};
    r.body() = body;
    co_return r;
  };
}

// One I/O thread serving /api/v1/decide behind a gate, and /healthz beside it.
struct Fixture {
  explicit Fixture(std::chrono::milliseconds limit)
      : gate(std::make_shared<StartGate>(
            limit, base::unavailable("still loading the policies", "policies_loading"))) {
    router.add(Verb::get, "/api/v1/decide", answer_with("decided"));
    router.add(Verb::get, "/healthz", answer_with("healthy"));
    gate_routes(router, gate,
                [](const Router::RouteInfo& r) { return r.pattern.starts_with("/api/"); });
    ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.access_log = false;
    o.drain_timeout = 2s;
    server = std::make_unique<Server>(o, router);
    server->set_upgrade_handler([this](Transport& s, Request&, int, ConnectionSlot) {
      upgraded = true;
      boost::system::error_code ec;
      s.close(ec);
      return true;
    });
    server->set_upgrade_gate(gate);
    EXPECT_TRUE(server->listen().is_ok());
    server->start();
  }
  ~Fixture() { server->stop(); }
  uint16_t port() const { return server->port(); }

  Router router;
  std::shared_ptr<StartGate> gate;
  std::unique_ptr<Server> server;
  std::atomic<bool> upgraded{false};
};

const std::string kDecide = "GET /api/v1/decide HTTP/1.1\r\nHost: a\r\n\r\n";
const std::string kHealth = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";

// The case: a request that needs a decision waits for the compile, and the only I/O
// thread answers another request meanwhile (it used to block in PolicyHolder::get).
TEST(StartGateTest, AnotherRequestIsAnsweredOnTheSameThreadWhileADecisionWaits) {
  Fixture f(30s);
  Client decide(f.port(), kDecide);
  ASSERT_TRUE(decide.ok());
  EXPECT_EQ(decide.answer(200ms), "") << "answered before the gate opened";
  Client health(f.port(), kHealth);
  ASSERT_TRUE(health.ok());
  const std::string h = health.answer(5s);
  EXPECT_EQ(h.rfind("HTTP/1.1 200", 0), 0u) << h;
  EXPECT_NE(h.find("healthy"), std::string::npos) << h;
  EXPECT_EQ(decide.answer(50ms), "") << "still waiting";
  f.gate->open();
  const std::string d = decide.answer(5s);
  EXPECT_EQ(d.rfind("HTTP/1.1 200", 0), 0u) << d;
  EXPECT_NE(d.find("decided"), std::string::npos) << d;
  // Once open, requests go straight through.
  Client later(f.port(), kDecide);
  EXPECT_NE(later.answer(5s).find("decided"), std::string::npos);
}

TEST(StartGateTest, AFailedGateAnswersItsWaitersAndLaterRequests503) {
  Fixture f(30s);
  Client decide(f.port(), kDecide);
  ASSERT_TRUE(decide.ok());
  EXPECT_EQ(decide.answer(200ms), "");
  f.gate->fail(base::unavailable("the policies could not be loaded", "policies_unavailable"));
  Client later(f.port(), kDecide);
  for (Client* c : {&decide, &later}) {
    const std::string d = c->answer(5s);
    EXPECT_EQ(d.rfind("HTTP/1.1 503", 0), 0u) << d;
    EXPECT_NE(d.find("Retry-After: 5"), std::string::npos) << d;
    EXPECT_NE(d.find("\"code\":\"policies_unavailable\""), std::string::npos) << d;
  }
}

TEST(StartGateTest, AWaitPastTheLimitIsAnswered503RetryAfter) {
  Fixture f(300ms);
  Client decide(f.port(), kDecide);
  ASSERT_TRUE(decide.ok());
  const std::string d = decide.answer(5s);
  EXPECT_EQ(d.rfind("HTTP/1.1 503", 0), 0u) << d;
  EXPECT_NE(d.find("Retry-After: 1"), std::string::npos) << d;
  EXPECT_NE(d.find("\"code\":\"policies_loading\""), std::string::npos) << d;
  EXPECT_FALSE(f.gate->is_open());
}

TEST(StartGateTest, AnUpgradeWaitsForTheGate) {
  Fixture f(30s);
  Client ws(f.port(),
            "GET /live HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_TRUE(ws.ok());
  Client health(f.port(), kHealth);
  EXPECT_EQ(health.answer(5s).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_FALSE(f.upgraded.load()) << "the upgrade's handler ran before the gate opened";
  f.gate->open();
  for (int i = 0; i < 500 && !f.upgraded.load(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(f.upgraded.load());
}

// A start far slower than usual (a big bundle, a starved idle-priority compile) meets a reconnect
// storm: every waiter times out at about the same moment. Each leaving waiter must cost O(1),
// not a scan of everyone still waiting under the gate's mutex (20,000 waiters were 2e8 weak
// pointer locks, seconds of a stalled I/O thread).
TEST(StartGateTest, ManyWaitersPastTheLimitLeaveInLinearTime) {
  constexpr int kWaiters = 20000;
  StartGate gate(50ms, base::unavailable("still loading the policies", "policies_loading"));
  boost::asio::io_context io;
  int refused = 0;
  for (int i = 0; i < kWaiters; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          base::Status st = co_await gate.wait();
          if (st.reason() == "policies_loading") ++refused;
        },
        boost::asio::detached);
  }
  const auto start = std::chrono::steady_clock::now();
  io.run();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(refused, kWaiters);
  // Linear: well under 100 ms of work past the 50 ms limit even under sanitizers; quadratic:
  // several seconds.
  EXPECT_LT(took, 1500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  // The gate still works afterwards, and wakes a later waiter at once when opened.
  gate.open();
  bool passed = false;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { passed = (co_await gate.wait()).is_ok(); },
      boost::asio::detached);
  io.restart();
  io.run();
  EXPECT_TRUE(passed);
}

}  // namespace
}  // namespace http
