// ws::SendRing: a burst's sends to many sockets in one io_uring_enter, each result exactly
// what a non-blocking sendmsg on that socket would have returned.
#include "ws/send_ring.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace ws {
namespace {

struct Pair {
  int ours = -1;
  int theirs = -1;
};

Pair make_pair_or_die() {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0)
      << "socketpair: " << errno;
  return Pair{sv[0], sv[1]};
}

// Everything the peer can read now.
std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  return out;
}

std::shared_ptr<SendRing> ring_or_skip() {
  auto ring = SendRing::create(256);
  return ring;
}

TEST(SendRingTest, EverySocketGetsItsGatheredBytesAcrossSeveralSubmits) {
  auto ring = ring_or_skip();
  if (!ring)
    GTEST_SKIP() << "io_uring is not usable here (kernel or seccomp); the flush "
                    "list then writes each socket with its own sendmsg";
  // More sockets than one submit takes: the caller submits whenever the ring is full.
  const size_t n = ring->capacity() + 44;
  std::vector<Pair> pairs;
  std::vector<std::string> heads, bodies;
  for (size_t i = 0; i < n; ++i) {
    pairs.push_back(make_pair_or_die());
    heads.push_back("head-" + std::to_string(i) + "|");
    bodies.push_back(std::string(100 + i % 50, char('a' + i % 26)));
  }
  const std::string tail = "|end";
  std::map<uint64_t, int> results;
  size_t calls = 0;
  const auto done = [&](uint64_t tag, int res) {
    ++calls;
    EXPECT_FALSE(results.count(tag)) << "tag " << tag << " reported twice";
    results[tag] = res;
  };
  for (size_t i = 0; i < n; ++i) {
    iovec iov[3] = {{heads[i].data(), heads[i].size()},
                    {bodies[i].data(), bodies[i].size()},
                    {const_cast<char*>(tail.data()), tail.size()}};
    ring->add(pairs[i].ours, iov, 3, 1000 + i);
    if (ring->full()) ring->submit(done);
  }
  ring->submit(done);
  EXPECT_EQ(ring->pending(), 0u);
  ASSERT_EQ(calls, n);
  for (size_t i = 0; i < n; ++i) {
    const std::string want = heads[i] + bodies[i] + tail;
    EXPECT_EQ(results[1000 + i], int(want.size())) << "socket " << i;
    EXPECT_EQ(read_all(pairs[i].theirs), want) << "socket " << i;
    ::close(pairs[i].ours);
    ::close(pairs[i].theirs);
  }
}

TEST(SendRingTest, AFullSocketAnswersAtOnceAndPartialCountsAreExact) {
  auto ring = ring_or_skip();
  if (!ring) GTEST_SKIP() << "io_uring is not usable here";
  Pair slow = make_pair_or_die();  // nobody reads it until the end
  Pair fast = make_pair_or_die();
  int small = 4096;
  ASSERT_EQ(::setsockopt(slow.ours, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  std::string chunk(16 * 1024, 0);
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = char('A' + i % 23);

  // Offer the slow socket 16 KiB per submit (beside a fast one) until it takes nothing: it
  // must say so (-EAGAIN) in the same call, not park the send until it drains.
  std::string expect_slow;
  bool saw_eagain = false;
  const auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < 1000 && !saw_eagain; ++round) {
    iovec iov{chunk.data(), chunk.size()};
    ring->add(slow.ours, &iov, 1, 1);
    iovec small_iov{chunk.data(), 10};
    ring->add(fast.ours, &small_iov, 1, 2);
    int slow_res = 0, fast_res = 0;
    size_t calls = 0;
    ring->submit([&](uint64_t tag, int res) {
      ++calls;
      (tag == 1 ? slow_res : fast_res) = res;
    });
    ASSERT_EQ(calls, 2u);
    EXPECT_EQ(fast_res, 10) << "round " << round;
    EXPECT_EQ(read_all(fast.theirs), chunk.substr(0, 10));
    if (slow_res == -EAGAIN) {
      saw_eagain = true;
    } else {
      ASSERT_GT(slow_res, 0) << "round " << round << ": " << slow_res;
      ASSERT_LE(slow_res, int(chunk.size()));
      expect_slow.append(chunk, 0, size_t(slow_res));  // what it says it took, exactly
    }
  }
  EXPECT_TRUE(saw_eagain) << "the slow socket never filled up after " << expect_slow.size()
                          << " bytes";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_FALSE(expect_slow.empty());
  EXPECT_EQ(read_all(slow.theirs), expect_slow);
  for (int fd : {slow.ours, slow.theirs, fast.ours, fast.theirs}) ::close(fd);
}

TEST(SendRingTest, AFailedSocketFailsOnlyItsOwnSend) {
  auto ring = ring_or_skip();
  if (!ring) GTEST_SKIP() << "io_uring is not usable here";
  Pair a = make_pair_or_die(), gone = make_pair_or_die(), b = make_pair_or_die();
  ::close(gone.theirs);  // the peer went away: EPIPE (no SIGPIPE: MSG_NOSIGNAL)
  int closed_fd = ::dup(a.ours);
  ::close(closed_fd);  // not a descriptor any more: EBADF
  std::string msg = "hello";
  iovec iov{msg.data(), msg.size()};
  ring->add(a.ours, &iov, 1, 1);
  ring->add(gone.ours, &iov, 1, 2);
  ring->add(closed_fd, &iov, 1, 3);
  ring->add(b.ours, &iov, 1, 4);
  std::map<uint64_t, int> results;
  ring->submit([&](uint64_t tag, int res) { results[tag] = res; });
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[1], 5);
  EXPECT_EQ(results[2], -EPIPE);
  EXPECT_EQ(results[3], -EBADF);
  EXPECT_EQ(results[4], 5);
  EXPECT_EQ(read_all(a.theirs), msg);
  EXPECT_EQ(read_all(b.theirs), msg);
  // The ring still works after failed sends.
  ring->add(b.ours, &iov, 1, 5);
  int again = 0;
  ring->submit([&](uint64_t, int res) { again = res; });
  EXPECT_EQ(again, 5);
  for (int fd : {a.ours, a.theirs, gone.ours, b.ours, b.theirs}) ::close(fd);
}

TEST(SendRingTest, ARegisteredSocketSendsTheSameAndClosesOnceUnregistered) {
  auto ring = ring_or_skip();
  if (!ring) GTEST_SKIP() << "io_uring is not usable here";
  Pair a = make_pair_or_die(), b = make_pair_or_die();
  if (!ring->register_fd(a.ours))
    GTEST_SKIP() << "no sparse file table here (Linux 5.19) or the descriptor is beyond it";
  std::string msg = "registered";
  iovec iov[2] = {{msg.data(), 4}, {msg.data() + 4, msg.size() - 4}};
  std::map<uint64_t, int> results;
  const auto done = [&](uint64_t tag, int res) { results[tag] = res; };
  ring->add(a.ours, iov, 1, 1, true);  // a plain send
  ring->add(b.ours, iov, 1, 2);        // unregistered, beside it
  ring->add(a.ours, iov, 2, 3, true);  // a gathering one
  ring->submit(done);
  EXPECT_EQ(results[1], 4);
  EXPECT_EQ(results[2], 4);
  EXPECT_EQ(results[3], int(msg.size()));
  EXPECT_EQ(read_all(a.theirs), msg.substr(0, 4) + msg);
  EXPECT_EQ(read_all(b.theirs), msg.substr(0, 4));

  // Unregistered, then closed: the peer sees the end at once (the ring no longer holds it).
  ring->unregister_fd(a.ours);
  ::close(a.ours);
  char c;
  EXPECT_EQ(::recv(a.theirs, &c, 1, MSG_DONTWAIT), 0) << "errno " << errno;
  // Its slot is empty now: a registered send there fails on its own.
  ring->add(a.ours, iov, 1, 4, true);
  ring->add(b.ours, iov, 1, 5);
  results.clear();
  ring->submit(done);
  EXPECT_EQ(results[4], -EBADF);
  EXPECT_EQ(results[5], 4);
  for (int fd : {a.theirs, b.ours, b.theirs}) ::close(fd);
}

}  // namespace
}  // namespace ws
