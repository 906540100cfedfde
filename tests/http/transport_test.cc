// http::Transport's hand-over pieces: Detached (a connection between I/O threads) and the
// bytes read past a request that go with the connection (set_unread / take_unread).
#include "http/transport.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

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

}  // namespace
}  // namespace http
