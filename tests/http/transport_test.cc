// http::Transport's hand-over pieces: Detached (a connection between I/O threads) and the
// bytes read past a request that go with the connection (set_unread / take_unread); and its
// reads through Asio's reactor (http/reactor_read.h), which must never miss bytes.
#include "http/transport.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>

namespace http {
namespace {

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(TransportDetached, MoveAssignOntoAHeldConnectionReleasesItOnce) {
  auto ctx_a = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  auto ctx_b = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  int pair_a[2], pair_b[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair_a), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair_b), 0);
  {
    Transport::Detached a;
    a.fd = pair_a[0];
    a.ctx = ctx_a;
    Transport::Detached b;
    b.fd = pair_b[0];
    b.ctx = ctx_b;
    EXPECT_EQ(ctx_a.use_count(), 2);
    a = std::move(b);  // a's connection is closed and its context released, once
    EXPECT_FALSE(fd_open(pair_a[0]));
    EXPECT_EQ(a.fd, pair_b[0]);
    EXPECT_EQ(b.fd, -1);
    EXPECT_EQ(ctx_a.use_count(), 1);
    EXPECT_EQ(ctx_b.use_count(), 2);
    EXPECT_EQ(b.ctx, nullptr);
  }
  EXPECT_FALSE(fd_open(pair_b[0]));
  EXPECT_EQ(ctx_b.use_count(), 1);
  ::close(pair_a[1]);
  ::close(pair_b[1]);
}

TEST(TransportUnread, BytesGoWithMovesAndAcrossDetachAndAdopt) {
  boost::asio::io_context one, two;
  boost::asio::ip::tcp::acceptor acceptor(one, {boost::asio::ip::address_v4::loopback(), 0});
  boost::asio::ip::tcp::socket client(one);
  client.connect(acceptor.local_endpoint());
  Transport t(acceptor.accept());
  EXPECT_EQ(t.take_unread(), "");
  t.set_unread("\x81\x85pipelined", 11);
  Transport moved(std::move(t));
  boost::system::error_code ec;
  Transport::Detached d = moved.detach(ec);
  ASSERT_FALSE(ec) << ec.message();
  Transport adopted = Transport::adopt(std::move(d), two.get_executor(), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(adopted.socket().is_open());
  EXPECT_EQ(adopted.take_unread(), std::string("\x81\x85pipelined", 11));
  EXPECT_EQ(adopted.take_unread(), "");  // taken once
}

// Reads through the reactor (http/reactor_read.h): after a read that drained the socket the
// next one waits for readability without trying a recv first. Whenever the next bytes come
// (before the next read starts, with or without an event taken meanwhile, after it is queued,
// or behind others), the read must see them: a keep-alive client must never hang.
class TransportReadTest : public ::testing::Test {
 protected:
  using tcp = boost::asio::ip::tcp;
  void SetUp() override {
    tcp::acceptor acceptor(ioc_, {boost::asio::ip::address_v4::loopback(), 0});
    client_.connect(acceptor.local_endpoint());
    client_.set_option(tcp::no_delay(true));
    server_ = std::make_unique<Transport>(acceptor.accept());
    server_->socket().set_option(tcp::no_delay(true));
  }
  void send(std::string_view bytes) { boost::asio::write(client_, boost::asio::buffer(bytes)); }
  // Starts one read of up to `size` bytes; the result lands in `got` (`done` set).
  void start_read(size_t size) {
    done_ = false;
    server_->async_read_some(boost::asio::buffer(buf_, size),
                             [this](boost::system::error_code ec, size_t n) {
                               done_ = true;
                               ec_ = ec;
                               got_.assign(buf_, n);
                             });
  }
  // Runs the io_context until the read started last completes, or fails after 3 s (a hang).
  std::string finish_read() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      ioc_.restart();
      ioc_.run_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(done_) << "the read never completed: a readiness edge was lost";
    EXPECT_FALSE(ec_) << ec_.message();
    return done_ ? got_ : std::string("<hung>");
  }
  std::string read(size_t size) {
    start_read(size);
    return finish_read();
  }
  // Lets the reactor run (epoll_wait) for `ms` with no read pending: it takes any event that
  // is due, with no operation to perform.
  void turn_reactor(int ms) {
    boost::asio::steady_timer t(ioc_, std::chrono::milliseconds(ms));
    bool fired = false;
    t.async_wait([&](boost::system::error_code) { fired = true; });
    ioc_.restart();
    while (!fired) ioc_.run_one();
  }

  boost::asio::io_context ioc_;
  tcp::socket client_{ioc_};
  std::unique_ptr<Transport> server_;
  char buf_[256];
  bool done_ = false;
  boost::system::error_code ec_;
  std::string got_;
};

TEST_F(TransportReadTest, BytesSentBeforeTheNextReadStartsAreRead) {
  send("a");
  EXPECT_EQ(read(64), "a");  // fewer than asked: the socket is drained
  send("b");                 // its event is still ahead when the read starts
  EXPECT_EQ(read(64), "b");
}

TEST_F(TransportReadTest, BytesWhoseEventWasTakenWithNoReadPendingAreRead) {
  send("a");
  EXPECT_EQ(read(64), "a");
  send("b");
  turn_reactor(30);  // the event for "b" is taken while no read is pending
  EXPECT_EQ(read(64), "b");
}

TEST_F(TransportReadTest, BytesSentAfterTheReadIsQueuedAreRead) {
  send("a");
  EXPECT_EQ(read(64), "a");
  start_read(64);
  turn_reactor(20);  // the read waits (no bytes yet)
  EXPECT_FALSE(done_);
  send("b");
  EXPECT_EQ(finish_read(), "b");
}

TEST_F(TransportReadTest, BytesSentFromTheCompletionBeforeTheNextReadAreRead) {
  // As a server that answers inside the read's completion and reads again at once, with the
  // client's next request already sent in between (no turn of the event loop).
  send("a");
  std::string second;
  bool second_done = false;
  server_->async_read_some(boost::asio::buffer(buf_, 64), [&](boost::system::error_code ec,
                                                              size_t n) {
    ASSERT_FALSE(ec);
    EXPECT_EQ(std::string(buf_, n), "a");
    send("b");
    server_->async_read_some(boost::asio::buffer(buf_, 64),
                             [&](boost::system::error_code ec2, size_t n2) {
                               EXPECT_FALSE(ec2);
                               second.assign(buf_, n2);
                               second_done = true;
                             });
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!second_done && std::chrono::steady_clock::now() < deadline) {
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(second_done) << "the second read never completed";
  EXPECT_EQ(second, "b");
}

TEST_F(TransportReadTest, PipelinedBytesAndExactSizeReadsAreAllRead) {
  send("abcdefgh");
  EXPECT_EQ(read(4), "abcd");  // as many as asked: not known to be drained
  EXPECT_EQ(read(4), "efgh");
  start_read(4);
  turn_reactor(20);
  EXPECT_FALSE(done_);
  send("ij");
  EXPECT_EQ(finish_read(), "ij");
  send("k");
  turn_reactor(10);
  send("l");
  EXPECT_EQ(read(64), "kl");
}

TEST_F(TransportReadTest, EndOfStreamAfterADrainedReadIsSeen) {
  send("a");
  EXPECT_EQ(read(64), "a");
  client_.shutdown(tcp::socket::shutdown_send);
  start_read(64);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!done_ && std::chrono::steady_clock::now() < deadline) {
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(done_);
  EXPECT_EQ(ec_, boost::asio::error::eof);
}

// async_read_append (the live session's read): the bytes go onto the string as they are read,
// behind what it holds. Two connections of one thread read through the same scratch buffer,
// and each read that finds bytes at once is performed at its start with its completion posted:
// the first connection's bytes must not be the second's when its completion runs.
TEST_F(TransportReadTest, AppendReadsOfTwoConnectionsOnOneThreadKeepTheirOwnBytes) {
  tcp::acceptor acceptor(ioc_, {boost::asio::ip::address_v4::loopback(), 0});
  tcp::socket client2(ioc_);
  client2.connect(acceptor.local_endpoint());
  Transport server2(acceptor.accept());
  send("first");
  boost::asio::write(client2, boost::asio::buffer(std::string_view("second")));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // both sockets readable
  std::string in1 = "kept:", in2;
  size_t n1 = 0, n2 = 0;
  int done = 0;
  server_->async_read_append(in1, 64, [&](boost::system::error_code ec, size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    n1 = n;
    ++done;
  });
  server2.async_read_append(in2, 64, [&](boost::system::error_code ec, size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    n2 = n;
    ++done;
  });
  EXPECT_EQ(done, 0) << "a read that finds bytes at once completes through the queue";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (done < 2 && std::chrono::steady_clock::now() < deadline) {
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(done, 2);
  EXPECT_EQ(in1, "kept:first");
  EXPECT_EQ(n1, 5u);
  EXPECT_EQ(in2, "second");
  EXPECT_EQ(n2, 6u);
  // A drained append read waits for the next bytes as async_read_some's does.
  bool third = false;
  server2.async_read_append(in2, 64, [&](boost::system::error_code ec, size_t) {
    EXPECT_FALSE(ec) << ec.message();
    third = true;
  });
  turn_reactor(20);
  EXPECT_FALSE(third);
  boost::asio::write(client2, boost::asio::buffer(std::string_view("+more")));
  const auto deadline2 = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!third && std::chrono::steady_clock::now() < deadline2) {
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(third);
  EXPECT_EQ(in2, "second+more");
}

TEST_F(TransportReadTest, AClosedLoopClientWithRandomTimingIsNeverLeftWaiting) {
  // A client thread sends messages of random sizes, sometimes two at once, sometimes the next
  // one before it has read the echo, with random pauses; the server echoes what it reads with
  // one read per completion. Every byte must come back.
  std::atomic<bool> client_ok{false};
  std::thread client([this, &client_ok] {
    std::mt19937 rng(17);
    std::string pending;
    size_t expected = 0, echoed = 0;
    char in[4096];
    for (int round = 0; round < 1500; ++round) {
      const size_t n = 1 + rng() % 300;
      std::string msg(n, char('a' + round % 26));
      boost::asio::write(client_, boost::asio::buffer(msg));
      expected += n;
      switch (rng() % 4) {
        case 0:
          break;  // the next one at once (pipelined behind this)
        case 1:
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
          [[fallthrough]];
        default:
          while (echoed < expected) {  // read the echo first (closed loop)
            boost::system::error_code ec;
            size_t got = client_.read_some(boost::asio::buffer(in), ec);
            if (ec) return;
            echoed += got;
          }
      }
    }
    while (echoed < expected) {
      boost::system::error_code ec;
      size_t got = client_.read_some(boost::asio::buffer(in), ec);
      if (ec) return;
      echoed += got;
    }
    client_ok = true;
    client_.shutdown(tcp::socket::shutdown_send);
  });
  std::function<void()> echo_loop = [&] {
    server_->async_read_some(boost::asio::buffer(buf_, sizeof buf_),
                             [&](boost::system::error_code ec, size_t n) {
                               if (ec) return;
                               boost::asio::write(server_->socket(), boost::asio::buffer(buf_, n));
                               echo_loop();
                             });
  };
  echo_loop();
  // A hang shows as the io_context still running at the deadline.
  ioc_.restart();
  ioc_.run_for(std::chrono::seconds(20));
  if (!client_ok) {
    boost::system::error_code ec;
    client_.shutdown(tcp::socket::shutdown_both, ec);
  }
  client.join();
  EXPECT_TRUE(client_ok) << "the echo stopped: a read was left waiting";
}

}  // namespace
}  // namespace http
