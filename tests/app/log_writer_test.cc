#include "app/log_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>

#include "base/sanitizers.h"

namespace app {
namespace {

// Reads the non-blocking `fd` until `want` was seen (and the data ends with a whole line)
// or 15 s have passed (a loaded machine can hold the writer thread up for seconds).
std::string read_until(int fd, const std::string& want) {
  std::string out;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, size_t(n));
      if (out.find(want) != std::string::npos && out.back() == '\n') break;
    } else {
      ::usleep(5000);
    }
  }
  return out;
}

TEST(LogWriter, ANonDrainingOutputDropsAndCountsLinesAndNeverBlocksTheCaller) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  const std::string line(100, 'x');
  uint64_t before = log_lines_dropped_total();
  {
    LogWriter w(fds[1], 16 * 1024);
    auto t0 = std::chrono::steady_clock::now();
    // The reader is gone for good: far more than the pipe and the queue hold.
    for (int i = 0; i < 5000; ++i) w.write(line + "\n");
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::seconds(2));  // memory appends only; a stall would be 1 s+
    EXPECT_GT(log_lines_dropped_total(), before);

    // The output drains again: the lines go on, the first after the loss naming it.
    w.write("{\"msg\":\"after\"}\n");
    std::string out = read_until(fds[0], "{\"msg\":\"after\"}");
    size_t note = out.find("\"msg\":\"log.lines_dropped\"");
    ASSERT_NE(note, std::string::npos) << out.size() << " bytes read";
    EXPECT_LT(note, out.find("{\"msg\":\"after\"}"));
    size_t at = 0, lines = 0;  // whole lines only
    while (at < out.size()) {
      size_t nl = out.find('\n', at);
      ASSERT_NE(nl, std::string::npos);
      std::string_view l(out.data() + at, nl - at);
      EXPECT_TRUE(l == line || l == "{\"msg\":\"after\"}" ||
                  l.find("\"msg\":\"log.lines_dropped\"") != std::string_view::npos)
          << l.substr(0, 120);
      at = nl + 1;
      ++lines;
    }
    EXPECT_GT(lines, 2u);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(LogWriter, LinesQueuedBeforeStartGoOutFirstOnceStarted) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  {
    LogWriter w(fds[1], 1 << 20, /*start_writer=*/false);
    w.write("{\"msg\":\"early\"}\n");
    ::usleep(20000);
    char buf[64];
    EXPECT_EQ(::read(fds[0], buf, sizeof buf), -1);  // not started: nothing written yet
    EXPECT_EQ(errno, EAGAIN);
    w.start();
    w.start();  // once
    w.write("{\"msg\":\"late\"}\n");
    EXPECT_EQ(read_until(fds[0], "{\"msg\":\"late\"}"),
              "{\"msg\":\"early\"}\n{\"msg\":\"late\"}\n");
    w.write("{\"msg\":\"last\"}\n");
  }
  // The destructor of a started writer waits for what is queued.
  char buf[64];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  EXPECT_EQ(std::string(buf, size_t(std::max<ssize_t>(n, 0))), "{\"msg\":\"last\"}\n");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(LogWriter, WritesWholeLinesInOrderAndFlushesOnClose) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    LogWriter w(fds[1]);
    for (int i = 0; i < 100; ++i) w.write("line " + std::to_string(i) + "\n");
  }  // the destructor waits for the queue to drain
  ::close(fds[1]);
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) all.append(buf, size_t(n));
  ::close(fds[0]);
  std::string want;
  for (int i = 0; i < 100; ++i) want += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(all, want);
}

}  // namespace
}  // namespace app

namespace app {
namespace {

TEST(LogWriterDeathTest, ACrashWritesTheLinesStillQueued) {
#ifdef EDGECLASS_UNDER_ASAN
  GTEST_SKIP() << "under AddressSanitizer, whose own SIGSEGV handler runs instead of ours";
#endif
  // A writer thread that never got the CPU before the crash: the lines leading to it are
  // written by the fatal-signal handler, then the signal takes its default action.
  EXPECT_EXIT(
      {
        LogWriter w(STDERR_FILENO, 1 << 20, /*start_writer=*/false);
        w.write("{\"msg\":\"the line before the crash\"}\n");
        std::raise(SIGSEGV);
      },
      testing::KilledBySignal(SIGSEGV), "the line before the crash");
}

}  // namespace
}  // namespace app
