// edgeclass-httpload: an open-loop HTTP/1.1 load generator at a fixed rate, for the
// fixed-rate part of `make bench-http` (scripts/bench-http.sh; method in docs/operations.md).
//
//   edgeclass-httpload --url http://127.0.0.1:8080/api/v1/courses/ID --rate 50000
//       [--duration 5] [--connections 100] [--threads 1 | --cpus 1,...]
//       [--header "Authorization: Bearer ..."]... [--slack-us 50] [--spin-us 0]
//
// Request i is due at start + i / rate whatever the server does (with T threads, thread k
// carries requests k, k + T, ...). A due request goes out on an idle keep-alive connection of
// its thread (the one idle longest) or waits in line for one, and its latency runs from the
// time it was due, not from when it went out: a stall in the server counts against every
// request it holds up (no coordinated omission, unlike a client that times from its own send).
// The client's own lateness (sent minus due) is reported apart as the send lag: when that
// grows, the client, not the server, is the limit.
//
// Prints a summary and one line for scripts:
//   HTTPLOAD rate=.. achieved=.. requests=.. completed=.. non2xx=.. errors=.. p50_us=..
//            p99_us=.. p999_us=.. max_us=.. sent_p50_us=.. sent_p99_us=.. sent_p999_us=..
//            lag_p99_us=.. lag_max_us=.. cpu_us_per_req=.. runq_wait_ms=..
// p*_us from the scheduled send, sent_p*_us from the actual send, lag = sent minus due, all
// rounded up to whole µs; runq_wait_ms: how long the client's threads were runnable but
// waited for a CPU (another task had it).
// achieved = completed / max(duration, time from the start to the last answer); errors are
// failed sends, connections the server closed or broke with a request on them, answers we
// cannot frame, and requests unanswered 2 s after the schedule ends. cpu_us_per_req is this
// process's user + system CPU (threads and the kernel work done on their behalf, loopback
// delivery included) per completed request. Exits 1 on bad arguments or a failed connect.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/log_histogram.h"

namespace {

constexpr int64_t kDrainNs = 2'000'000'000;  // how long late answers are awaited after the schedule

// The calling thread's time spent waiting on a run queue so far (schedstat), 0 when unknown.
int64_t thread_runqueue_wait_ns() {
  FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
  if (f == nullptr) return 0;
  long long run = 0, wait = 0;
  int got = std::fscanf(f, "%lld %lld", &run, &wait);
  std::fclose(f);
  return got == 2 ? wait : 0;
}

int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct Options {
  std::string host, port = "80", path = "/";
  std::vector<std::string> headers;
  double rate = 0, duration_s = 5;
  int connections = 100, threads = 1;
  long slack_us = 50;     // how late a sleeping thread may wake for a due request (timer slack)
  long spin_us = 0;       // poll without sleeping while the next request is due within this
  std::vector<int> cpus;  // one thread pinned to each; empty: `threads` threads, not pinned
};

// What one thread measured.
struct Totals {
  base::LogHistogram latency_ns;  // answer minus due: what a user of the service waits
  base::LogHistogram service_ns;  // answer minus sent: what a client timing its own send sees
  base::LogHistogram lag_ns;      // sent minus due: the client's own lateness
  uint64_t requests = 0, completed = 0, non2xx = 0, errors = 0;
  int64_t last_answer_ns = 0;
  int64_t runqueue_wait_ns = 0;  // runnable but not running (another task had the CPU)
};

// One keep-alive connection with at most one request on it (no pipelining).
struct Connection {
  int fd = -1;
  int64_t due_ns = 0;     // when the request on it was due; 0 while idle
  int64_t sent_ns = 0;    // when it went out
  size_t out_sent = 0;    // bytes of that request written so far
  bool want_out = false;  // waiting for EPOLLOUT to write the rest
  std::string in;         // bytes of the answer received so far
};

// A complete answer at the front of `in`: its length and status. length 0: incomplete;
// length -1: framing we do not read (we need Content-Length, which both peers send).
struct Answer {
  long length = 0;
  int status = 0;
};
Answer parse_answer(const std::string& in) {
  size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return {};
  std::string_view head(in.data(), head_end);
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return {-1, 0};
  int status = std::atoi(head.data() + 9);
  constexpr std::string_view kName = "content-length:";
  auto same = [](char lower, char c) {
    return lower == std::tolower(static_cast<unsigned char>(c));
  };
  for (size_t at = head.find("\r\n"); at != std::string_view::npos;
       at = head.find("\r\n", at + 2)) {
    std::string_view line = head.substr(at + 2);
    if (line.size() > kName.size() && std::equal(kName.begin(), kName.end(), line.begin(), same)) {
      size_t body = std::strtoul(line.data() + kName.size(), nullptr, 10);
      size_t end = head_end + 4 + body;
      return {in.size() >= end ? static_cast<long>(end) : 0, status};
    }
  }
  return {-1, status};
}

int connect_to(const Options& o) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(o.host.c_str(), o.port.c_str(), &hints, &res) != 0 || res == nullptr) return -1;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Non-blocking from here on (the connect above blocked: a few µs on loopback).
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One thread's share: its connections, its epoll set, its slice of the schedule.
class Worker {
 public:
  // Requests k, k + stride, ... of the whole schedule (rate/s from the start for duration).
  Worker(const Options& o, const std::string& request, int connections, int k, int stride)
      : options_(o), request_(request), conns_(connections), first_(k), stride_(stride) {
    auto total = static_cast<int64_t>(o.rate * o.duration_s + 0.5);
    count_ = total > k ? (total - k + stride - 1) / stride : 0;
  }
  ~Worker() {
    for (auto& c : conns_)
      if (c.fd >= 0) close(c.fd);
    if (epoll_ >= 0) close(epoll_);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens every connection; false (and a message) when one fails.
  bool connect_all() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return false;
    for (auto& c : conns_) {
      if (!open(c)) {
        std::fprintf(stderr, "httpload: cannot connect to %s:%s: %s\n", options_.host.c_str(),
                     options_.port.c_str(), std::strerror(errno));
        return false;
      }
    }
    return true;
  }

  // Runs the schedule from start_ns (CLOCK_MONOTONIC), then waits for the last answers.
  void run(int64_t start_ns) {
    start_ns_ = start_ns;
    int64_t runqueue_before = thread_runqueue_wait_ns();
    int64_t end_ns = due(count_) + kDrainNs;
    epoll_event events[64];
    int64_t next = 0;  // the next request to fall due
    for (;;) {
      int64_t now = mono_ns();
      for (; next < count_ && due(next) <= now; ++next) waiting_.push_back(due(next));
      while (!waiting_.empty() && !idle_.empty()) {
        Connection* c = idle_.front();
        idle_.pop_front();
        send(*c, waiting_.front());
        waiting_.pop_front();
      }
      if (next == count_ && waiting_.empty() && in_flight_ == 0) break;
      if (now >= end_ns) {  // unanswered or never sent: the schedule is over
        totals_.errors += waiting_.size() + in_flight_;
        break;
      }
      int64_t wait = std::max<int64_t>(0, (next < count_ ? due(next) : end_ns) - now);
      if (wait <= options_.spin_us * 1000) wait = 0;
      timespec timeout{static_cast<time_t>(wait / 1'000'000'000),
                       static_cast<long>(wait % 1'000'000'000)};
      int n = epoll_pwait2(epoll_, events, 64, &timeout, nullptr);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Connection*>(events[i].data.ptr);
        if (events[i].events & EPOLLOUT) write_request(*c);
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read_answers(*c);
      }
    }
    totals_.requests = static_cast<uint64_t>(count_);
    totals_.runqueue_wait_ns = thread_runqueue_wait_ns() - runqueue_before;
  }

  const Totals& totals() const { return totals_; }

 private:
  int64_t due(int64_t i) const {
    return start_ns_ +
           static_cast<int64_t>(static_cast<double>(first_ + i * stride_) * 1e9 / options_.rate);
  }

  bool open(Connection& c) {
    c = Connection{};
    c.fd = connect_to(options_);
    if (c.fd < 0) return false;
    epoll_event ev{EPOLLIN, {.ptr = &c}};
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      close(c.fd);
      c.fd = -1;
      return false;
    }
    idle_.push_back(&c);
    return true;
  }

  void send(Connection& c, int64_t due_ns) {
    c.due_ns = due_ns;
    c.out_sent = 0;
    ++in_flight_;
    c.sent_ns = mono_ns();
    totals_.lag_ns.record(static_cast<uint64_t>(std::max<int64_t>(0, c.sent_ns - due_ns)));
    write_request(c);
  }

  void write_request(Connection& c) {
    while (c.out_sent < request_.size()) {
      ssize_t n =
          ::send(c.fd, request_.data() + c.out_sent, request_.size() - c.out_sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        watch_out(c, true);
        return;
      } else {
        fail(c);
        return;
      }
    }
    watch_out(c, false);
  }

  void watch_out(Connection& c, bool on) {
    if (c.want_out == on) return;
    c.want_out = on;
    epoll_event ev{static_cast<uint32_t>(on ? EPOLLIN | EPOLLOUT : EPOLLIN), {.ptr = &c}};
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void read_answers(Connection& c) {
    char buf[16384];
    for (;;) {
      ssize_t n = read(c.fd, buf, sizeof buf);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof buf) break;  // drained (level-triggered: more wakes us)
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        break;
      } else {
        fail(c);  // closed by the server or broken
        return;
      }
    }
    while (!c.in.empty()) {
      Answer a = parse_answer(c.in);
      if (a.length == 0) return;
      if (a.length < 0 || c.due_ns == 0) {  // unreadable, or an answer to nothing we asked
        fail(c);
        return;
      }
      int64_t now = mono_ns();
      totals_.latency_ns.record(static_cast<uint64_t>(now - c.due_ns));
      totals_.service_ns.record(static_cast<uint64_t>(now - c.sent_ns));
      totals_.last_answer_ns = now;
      ++totals_.completed;
      if (a.status / 100 != 2) ++totals_.non2xx;
      c.in.erase(0, static_cast<size_t>(a.length));
      c.due_ns = 0;
      --in_flight_;
      idle_.push_back(&c);
    }
  }

  // Counts the request on `c` (if any) as an error and replaces the connection.
  void fail(Connection& c) {
    ++totals_.errors;  // the connection itself, when idle; its request otherwise
    if (c.due_ns != 0) --in_flight_;
    std::erase(idle_, &c);
    close(c.fd);              // also leaves the epoll set
    if (!open(c)) c.fd = -1;  // stays out of idle_: one connection fewer from now on
  }

  const Options& options_;
  const std::string& request_;
  std::vector<Connection> conns_;  // fixed size: idle_ and epoll hold pointers into it
  int64_t first_, stride_, count_ = 0, start_ns_ = 0;
  int epoll_ = -1;
  std::deque<Connection*> idle_;  // longest idle first
  std::deque<int64_t> waiting_;   // due times of requests waiting for an idle connection
  int64_t in_flight_ = 0;
  Totals totals_;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(
      stderr,
      "httpload: %s\nusage: edgeclass-httpload --url http://HOST:PORT/PATH --rate N "
      "[--duration S] [--connections N] [--threads N | --cpus A,B,...] [--header 'K: V']...\n",
      why);
  std::exit(1);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) usage("every option takes a value");
    const char* value = argv[++i];
    if (flag == "--url") {
      std::string_view url = value;
      if (!url.starts_with("http://")) usage("--url must start with http://");
      url.remove_prefix(7);
      size_t slash = url.find('/');
      std::string_view authority = url.substr(0, slash);
      if (slash != std::string_view::npos) o.path = url.substr(slash);
      size_t colon = authority.rfind(':');
      o.host = authority.substr(0, colon);
      if (colon != std::string_view::npos) o.port = authority.substr(colon + 1);
    } else if (flag == "--rate") {
      o.rate = std::atof(value);
    } else if (flag == "--duration") {
      o.duration_s = std::atof(value);
    } else if (flag == "--connections") {
      o.connections = std::atoi(value);
    } else if (flag == "--threads") {
      o.threads = std::atoi(value);
    } else if (flag == "--cpus") {
      for (const char* p = value; *p;) {
        char* end;
        o.cpus.push_back(static_cast<int>(std::strtol(p, &end, 10)));
        if (end == p) usage("--cpus is a comma-separated list of CPU numbers");
        p = *end == ',' ? end + 1 : end;
      }
      o.threads = static_cast<int>(o.cpus.size());
    } else if (flag == "--slack-us") {
      o.slack_us = std::atol(value);
    } else if (flag == "--spin-us") {
      o.spin_us = std::atol(value);
    } else if (flag == "--header") {
      o.headers.emplace_back(value);
    } else {
      usage(("unknown option " + std::string(flag)).c_str());
    }
  }
  if (o.host.empty()) usage("--url is required");
  if (!(o.rate > 0) || !(o.duration_s > 0)) usage("--rate and --duration must be positive");
  if (o.threads < 1 || o.connections < o.threads) usage("need at least one connection per thread");
  return o;
}

int64_t cpu_ns() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  auto ns = [](const timeval& t) {
    return int64_t{t.tv_sec} * 1'000'000'000 + int64_t{t.tv_usec} * 1000;
  };
  return ns(r.ru_utime) + ns(r.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  std::string request = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + o.port + "\r\n";
  for (const auto& h : o.headers) request += h + "\r\n";
  request += "\r\n";

  std::vector<std::unique_ptr<Worker>> workers;
  for (int k = 0; k < o.threads; ++k) {
    int conns = o.connections / o.threads + (k < o.connections % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, request, conns, k, o.threads));
    if (!workers.back()->connect_all()) return 1;
  }
  int64_t cpu_before = cpu_ns();
  int64_t start_ns = mono_ns() + 20'000'000;  // every thread up and waiting by then
  std::vector<std::thread> threads;
  for (int k = 0; k < o.threads; ++k) {
    threads.emplace_back([&, k] {
      prctl(PR_SET_TIMERSLACK, std::max(1L, o.slack_us * 1000));
      if (!o.cpus.empty()) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o.cpus[static_cast<size_t>(k)], &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
          std::fprintf(stderr, "httpload: cannot pin a thread to CPU %d\n",
                       o.cpus[static_cast<size_t>(k)]);
      }
      workers[static_cast<size_t>(k)]->run(start_ns);
    });
  }
  for (auto& t : threads) t.join();
  int64_t cpu = cpu_ns() - cpu_before;

  Totals all;
  for (const auto& w : workers) {
    const Totals& t = w->totals();
    all.latency_ns.merge(t.latency_ns);
    all.service_ns.merge(t.service_ns);
    all.lag_ns.merge(t.lag_ns);
    all.requests += t.requests;
    all.completed += t.completed;
    all.non2xx += t.non2xx;
    all.errors += t.errors;
    all.last_answer_ns = std::max(all.last_answer_ns, t.last_answer_ns);
    all.runqueue_wait_ns += t.runqueue_wait_ns;
  }
  double span_s = std::max(o.duration_s, static_cast<double>(all.last_answer_ns - start_ns) / 1e9);
  double achieved = static_cast<double>(all.completed) / span_s;
  auto us = [](uint64_t ns) { return (ns + 999) / 1000; };  // rounded up, as the buckets are
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  const auto &lat = all.latency_ns, &svc = all.service_ns, &lag = all.lag_ns;
  double cpu_us_per_req =
      all.completed > 0 ? static_cast<double>(cpu) / 1e3 / static_cast<double>(all.completed) : 0;
  std::printf(
      "httpload: %.0f req/s scheduled for %.1f s over %d connections, %d thread(s)%s: %.0f req/s "
      "answered, %" PRIu64 " non-2xx, %" PRIu64
      " errors\n"
      "  from the scheduled send  P50 %.2f P99 %.2f P99.9 %.2f max %.2f ms\n"
      "  from the actual send     P50 %.2f P99 %.2f P99.9 %.2f max %.2f ms\n"
      "  send lag (client late)   P50 %.2f P99 %.2f P99.9 %.2f max %.2f ms\n"
      "  client CPU %.2f us per request; its threads waited %.0f ms for a CPU\n",
      o.rate, o.duration_s, o.connections, o.threads, o.cpus.empty() ? "" : " (pinned)", achieved,
      all.non2xx, all.errors, ms(lat.percentile(0.5)), ms(lat.percentile(0.99)),
      ms(lat.percentile(0.999)), ms(lat.max()), ms(svc.percentile(0.5)), ms(svc.percentile(0.99)),
      ms(svc.percentile(0.999)), ms(svc.max()), ms(lag.percentile(0.5)), ms(lag.percentile(0.99)),
      ms(lag.percentile(0.999)), ms(lag.max()), cpu_us_per_req,
      static_cast<double>(all.runqueue_wait_ns) / 1e6);
  std::printf("HTTPLOAD rate=%.0f achieved=%.0f requests=%" PRIu64 " completed=%" PRIu64
              " non2xx=%" PRIu64 " errors=%" PRIu64 " p50_us=%" PRIu64 " p99_us=%" PRIu64
              " p999_us=%" PRIu64 " max_us=%" PRIu64 " sent_p50_us=%" PRIu64 " sent_p99_us=%" PRIu64
              " sent_p999_us=%" PRIu64 " lag_p99_us=%" PRIu64 " lag_max_us=%" PRIu64
              " cpu_us_per_req=%.2f runq_wait_ms=%.0f\n",
              o.rate, achieved, all.requests, all.completed, all.non2xx, all.errors,
              us(lat.percentile(0.5)), us(lat.percentile(0.99)), us(lat.percentile(0.999)),
              us(lat.max()), us(svc.percentile(0.5)), us(svc.percentile(0.99)),
              us(svc.percentile(0.999)), us(lag.percentile(0.99)), us(lag.max()), cpu_us_per_req,
              static_cast<double>(all.runqueue_wait_ns) / 1e6);
  return 0;
}
