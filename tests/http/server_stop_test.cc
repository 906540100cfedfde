#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "http/router.h"
#include "http/server.h"

namespace http {
namespace {

// One request over a fresh connection; what came back (empty when nothing did).
std::string ask(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, request.data(), request.size(), 0) == ssize_t(request.size())) {
    char buf[1024];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) got.assign(buf, size_t(n));
  }
  ::close(fd);
  return got;
}

// A server on a free port of loopback with `threads` I/O threads and no access log.
ServerOptions loopback_options(int threads) {
  ServerOptions o;
  o.port = 0;
  o.threads = threads;
  o.access_log = false;
  return o;
}

// A port another server already listens on is refused, also when that server is another
// edgeclass (its sockets are in an SO_REUSEPORT group the second one could otherwise join and
// take half of the port's connections from).
TEST(ServerListenTest, APortAnotherServerListensOnIsRefused) {
  Router router;
  ServerOptions o = loopback_options(2);
  Server first(o, router);
  ASSERT_TRUE(first.listen().is_ok());
  o.port = first.port();
  Server second(o, router);
  base::Status refused = second.listen();
  ASSERT_FALSE(refused.is_ok()) << "a second server bound port " << o.port << " beside the first";
  EXPECT_NE(refused.message().find("in use"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find(std::to_string(o.port)), std::string::npos) << refused.message();
}

// A port that was listened on and is free again (its last connection may linger in
// TIME_WAIT) is taken.
TEST(ServerListenTest, AFreedPortIsTakenAgain) {
  Router router;
  ServerOptions o = loopback_options(1);
  uint16_t port = 0;
  {
    Server first(o, router);
    ASSERT_TRUE(first.listen().is_ok());
    first.start();
    port = first.port();
    ASSERT_EQ(ask(port, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
    first.stop();
  }
  o.port = port;
  Server again(o, router);
  base::Status s = again.listen();
  EXPECT_TRUE(s.is_ok()) << s.message();
}

// A cold start's order (app serve): I/O thread 0 serves on the caller's thread from right
// after listen(); the other threads' io_contexts exist from the start (work may be posted to
// them) but make their reactors and listen only once start_other_workers() starts their
// threads, which then serve the port too.
TEST(ServerListenTest, TheFirstWorkerServesBeforeTheOthersStart) {
  Router router;
  Server server(loopback_options(2), router);
  ASSERT_TRUE(server.listen().is_ok());
  std::atomic<bool> window_passed{false};
  std::thread first([&] {
    server.run_first_worker(std::chrono::microseconds(1000), [&] { window_passed = true; });
  });
  const std::string req = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
  for (int i = 0; i < 8; ++i) {  // every connection to thread 0, the only one listening
    ASSERT_EQ(ask(server.port(), req).rfind("HTTP/1.1 404", 0), 0u) << i;
  }
  std::atomic<bool> ran{false};
  boost::asio::post(server.context(1), [&] { ran = true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(ran.load()) << "thread 1 ran before start_other_workers()";
  server.start_other_workers();
  for (int i = 0; i < 500 && !ran.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(ran.load()) << "work posted to thread 1 before it started never ran";
  // A timer on thread 1's context made after its thread runs (what the readers' warm-up does).
  std::atomic<bool> fired{false};
  boost::asio::steady_timer timer(server.context(1), std::chrono::milliseconds(1));
  timer.async_wait([&](const boost::system::error_code& ec) { fired = !ec; });
  for (int i = 0; i < 32; ++i) {
    ASSERT_EQ(ask(server.port(), req).rfind("HTTP/1.1 404", 0), 0u) << i;
  }
  for (int i = 0; i < 500 && !fired.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(fired.load());
  EXPECT_TRUE(window_passed.load());
  server.stop();
  first.join();
}

// A stop does not wait for anything periodic on the I/O threads: with the deadline sweep set
// to a minute, a server that waited for its next sweep would sit out the whole drain timeout
// (it used to wait up to its 500 ms interval, so an idle pod's SIGTERM cost up to a second
// with the admin listener's).
TEST(ServerStopTest, StopDoesNotWaitForTheNextDeadlineSweep) {
  Router router;
  ServerOptions o = loopback_options(1);
  o.sweep_interval = std::chrono::minutes(1);
  o.drain_timeout = std::chrono::seconds(30);  // past it stop() cuts the thread off anyway
  Server server(o, router);
  ASSERT_TRUE(server.listen().is_ok());
  server.start();
  // An answer means the thread has run: its sweep (started before any connection) is waiting.
  const std::string answer = ask(server.port(), "GET /nothing-here HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 404", 0), 0u) << "answer: " << answer;
  const auto start = std::chrono::steady_clock::now();
  server.stop();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(10))
      << "stop took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms: it waited for the sweep timer";
}

}  // namespace
}  // namespace http
