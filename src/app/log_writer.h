// Log lines leave the process through a bounded queue and one writer thread, so that a log
// pipe nobody drains (a stuck collector, containerd's log file on a full disk) never stalls
// a request or a live room: the threads that log only append to memory. Past `max_bytes`
// queued, lines are dropped and counted (edgeclass_log_lines_dropped_total); once the pipe
// moves again, one `log.lines_dropped` line says how many were lost. Lines queued together
// leave in one write(2).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace app {

class LogWriter {
 public:
  // Writes to `fd` (not owned, left as it is: blocking or not). Starts the writer thread
  // (`start_writer` false: lines stay queued until start(), as with a writer that never got
  // the CPU; without start() the destructor drops them).
  // A fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) writes what is still queued,
  // without waiting on a full output, then takes its default action: a crash keeps the
  // lines that led to it. Not installed under AddressSanitizer, which reports those itself.
  explicit LogWriter(int fd, size_t max_bytes = size_t(4) << 20, bool start_writer = true);
  // Waits at most kCloseDeadline for what is queued to be written, then returns: a pipe that
  // never drains must not keep the process from exiting (the thread is then left behind).
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Starts the writer thread of a LogWriter made with `start_writer` false, once; the lines
  // queued until then go out first. A cold start makes its writer so and starts it once the
  // listener serves: one thread fewer to start before the first answer (app/serve.cc).
  void start();

  // Queues one whole line (with its newline); drops it when the queue is full.
  void write(std::string_view line);

  static constexpr std::chrono::milliseconds kCloseDeadline{1000};

  struct State;

 private:
  static void flush_on_fatal_signal(int sig);
  std::shared_ptr<State> state_;  // shared with the writer thread, which may outlive us
};

// Lines dropped by every LogWriter of this process (for the metric).
uint64_t log_lines_dropped_total();

}  // namespace app
