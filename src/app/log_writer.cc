#include "app/log_writer.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/strings.h"

namespace app {

namespace {

std::atomic<uint64_t> g_lines_dropped{0};

// Writes all of `data` to `fd`, waiting as long as it takes while the output is full (only
// the writer thread waits); false when the fd fails (closed: the batch is lost).
bool write_all(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w > 0) {
      done += size_t(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};  // a non-blocking output (O_NONBLOCK set by someone else)
      ::poll(&p, 1, -1);
    } else {
      return false;
    }
  }
  return true;
}

std::string dropped_line(uint64_t lines) {
  // In the format of base::log's lines.
  std::string s = "{\"ts\":\"";
  s += base::format_utc_ms(base::SystemClock::instance().now_unix_ms());
  s += "\",\"level\":\"warn\",\"msg\":\"log.lines_dropped\",\"lines\":";
  s += std::to_string(lines);
  s += ",\"reason\":\"the log output did not keep up (a full pipe or disk)\"}\n";
  return s;
}

}  // namespace

struct LogWriter::State {
  int fd;
  size_t max_bytes;
  std::mutex mu;
  std::condition_variable wake;     // the writer: lines queued, or stopping
  std::condition_variable drained;  // the destructor: the writer finished
  std::string queued;               // guarded by mu
  uint64_t dropped = 0;             // guarded by mu: lines dropped since the last report
  bool stopping = false;            // guarded by mu
  bool started = false;             // guarded by mu: the writer thread was started
  bool finished = false;            // guarded by mu

  void run() {
    std::string batch;
    std::unique_lock lock(mu);
    for (;;) {
      wake.wait(lock, [&] { return stopping || !queued.empty(); });
      if (queued.empty()) break;  // stopping, all written
      batch.clear();
      batch.swap(queued);
      uint64_t lost = dropped;
      dropped = 0;
      lock.unlock();
      if (lost > 0) batch.insert(0, dropped_line(lost));
      write_all(fd, batch);  // blocks while the pipe is full: only this thread waits
      lock.lock();
    }
    finished = true;
    drained.notify_all();
  }
};

namespace {

std::atomic<LogWriter::State*> g_fatal_state{nullptr};
constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

}  // namespace

// The process is dying: write what is queued without the lock (its holder may be the thread
// that crashed) and without waiting (O_NONBLOCK: a full pipe must not turn a crash into a
// hang), then let the signal take its default action (SA_RESETHAND).
void LogWriter::flush_on_fatal_signal(int sig) {
  if (State* s = g_fatal_state.load()) {
    int flags = ::fcntl(s->fd, F_GETFL);
    if (flags >= 0) ::fcntl(s->fd, F_SETFL, flags | O_NONBLOCK);
    const char* p = s->queued.data();
    size_t n = s->queued.size();
    while (n > 0) {
      ssize_t w = ::write(s->fd, p, n);
      if (w <= 0) break;
      p += w;
      n -= size_t(w);
    }
  }
  ::raise(sig);
}

uint64_t log_lines_dropped_total() { return g_lines_dropped.load(std::memory_order_relaxed); }

LogWriter::LogWriter(int fd, size_t max_bytes, bool start_writer)
    : state_(std::make_shared<State>()) {
  state_->fd = fd;
  state_->max_bytes = max_bytes;
  if (!kSanitized) {
    g_fatal_state.store(state_.get());
    struct sigaction sa {};
    sa.sa_handler = &LogWriter::flush_on_fatal_signal;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int sig : kFatalSignals) ::sigaction(sig, &sa, nullptr);
  }
  if (start_writer) {
    start();
  } else {
    state_->finished = true;  // nothing to wait for at close, unless started later
  }
}

void LogWriter::start() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->started) return;
    state_->started = true;
    state_->finished = false;
  }
  std::thread([s = state_] {
    pthread_setname_np(pthread_self(), "ec-log");  // top -H, perf
    s->run();
  }).detach();
}

LogWriter::~LogWriter() {
  if (g_fatal_state.load() == state_.get()) {
    for (int sig : kFatalSignals) ::signal(sig, SIG_DFL);
    g_fatal_state.store(nullptr);
  }
  std::unique_lock lock(state_->mu);
  state_->stopping = true;
  state_->wake.notify_one();
  state_->drained.wait_for(lock, kCloseDeadline, [&] { return state_->finished; });
}

void LogWriter::write(std::string_view line) {
  State& s = *state_;
  bool was_empty;
  {
    std::lock_guard lock(s.mu);
    if (s.queued.size() + line.size() > s.max_bytes) {
      ++s.dropped;
      g_lines_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = s.queued.empty();
    s.queued.append(line);
  }
  if (was_empty) s.wake.notify_one();
}

}  // namespace app
