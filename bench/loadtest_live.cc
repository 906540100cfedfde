// edgeclass-loadtest live — WebSocket load on the live classroom of a running edgeclass (one
// node, or a city of replicas).
//
// Sets up M rooms through the REST API (a teacher, a course, N enrolled students and a live
// session each), connects N students per room, then measures:
//   - connection set-up rate (upgrade + policy + join + welcome, `--concurrency` at a time);
//   - server memory per idle connection (VmRSS of --pid before and after connecting);
//   - delivery of teacher chat messages to every student: each message carries its number
//     and its send time (CLOCK_MONOTONIC of this process, taken just before the write); each
//     student records receive time - send time as soon as the read completes, and every
//     (student, message) is checked: delivered once, in order (missing, duplicates and
//     reordering are counted and printed). P50/P90/P99/P999/max, msgs/s;
//   - a quiz published over the socket: publish -> each student's quiz_published, every
//     student answers at once, publish -> each answer_accepted (sent after the group
//     commit), and publish -> the teacher's quiz_results counting every student;
//   - with --slow S: S students that never read, in a separate room with a chat flood: they
//     must be dropped (4008) while the other students receive everything.
// A city (--ws-urls host:port,host:port,...): student i's socket goes to the i-th address
// modulo their count, each teacher's to the first (or to --teacher-url host:port: students
// all on an edge replica, their teacher on the course's home); REST goes to --host/--port (the
// course's home). --pid may list several pids (comma-separated): RSS and CPU are their sums.
// --server-cpus 0 (a list or range): the cores the server is pinned to; their busy time during
// the chat from /proc/stat (the server's process plus what else ran there, such as receive
// softirq while the core was otherwise idle) is reported beside the process's own CPU. Every
// run also reports each CPU's NET_RX softirqs (/proc/softirqs) and the receive backlog drops
// (/proc/net/softnet_stat) during the chat.
// --threads T spreads the students' sockets over T client threads (each a loadtest::WsLoop:
// raw sockets on one epoll set, loadtest_ws.h); the teachers have a thread of their own, so a
// busy reader does not delay a send. --rate R sends R chat messages per second per teacher (on a
// fixed schedule; the lag behind it is reported), instead of --interval-ms. --json FILE writes the
// figures. Client and server share the machine: latencies include the client's own scheduling.
// --target peer [--path /live]: the same measurement against bench/fanout/fanout-peer.mjs (a
// plain Node `ws` broadcast server), so one client drives both targets of `make bench-live`: no
// REST set-up and no tokens; student i connects to ws://host:port/live?id=…&role=student, the
// teacher sends {"type":"chat","text":"lt:<k>:<send ns>"} and the peer broadcasts it to every
// connection as {"type":"chat",…,"text":…}, checked and timed as edgeclass's chat_message. One
// room, no quiz, no slow-consumer room (the peer has neither).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "loadtest_common.h"
#include "loadtest_ws.h"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using loadtest::kNoThrow;
using loadtest::now_ns;
using loadtest::Room;
using loadtest::rss_kb;
using loadtest::sleep_ms;

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

struct Options : loadtest::ServerAddress {
  int rooms = 1;
  int students = 100;     // per room
  int events = 50;        // teacher chat messages for the latency measurement
  int interval_ms = 100;  // between teacher messages
  double rate = 0;        // messages/s per teacher; overrides interval_ms when > 0
  int slow = 0;           // slow consumers (separate room)
  int flood = 6000;       // chat messages of 1000 chars in the slow-consumer room
  int concurrency = 200;  // connections being set up at once
  std::vector<int> pids;  // server pids for RSS and CPU (summed)
  std::vector<int>
      server_cpus;  // the server's cores (--server-cpus): their busy time from /proc/stat
  bool quiz = true;
  int threads = 1;                   // client threads for the students' sockets
  int drain_s = 10;                  // how long to wait for the last deliveries
  std::vector<Endpoint> ws;          // where the sockets go; empty: host:port
  std::vector<Endpoint> teacher_ws;  // where the teachers' go (--teacher-url); empty: ws[0]
  std::string json_path, label;
  bool peer = false;           // --target peer: fanout-peer.mjs, not edgeclass
  std::string path = "/live";  // the peer's WebSocket path
};

enum class Phase { kSetup, kChat, kQuiz, kCleanup };
std::atomic<Phase> g_phase{Phase::kSetup};
std::atomic<int64_t> g_quiz_t0{0};      // the publish's send time (now_ns)
std::atomic<int64_t> g_quiz_want{0};    // answers the teacher's results must count
std::atomic<int64_t> g_results_all{0};  // when a teacher's quiz_results counted them all
std::atomic<int64_t> g_results_events{0};

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kSetup:
      return "setup";
    case Phase::kChat:
      return "chat";
    case Phase::kQuiz:
      return "quiz";
    case Phase::kCleanup:
      return "cleanup";
  }
  return "?";
}

std::string_view field(std::string_view text, std::string_view key) {
  auto p = text.find(key);
  if (p == std::string_view::npos) return {};
  p += key.size();
  auto e = text.find('"', p);
  return text.substr(p, e == std::string_view::npos ? 0 : e - p);
}

// A non-negative decimal at the start of `s`, which moves past it; -1 when there is none.
int64_t leading_int(std::string_view& s) {
  int64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + (s[i] - '0');
  if (i == 0) return -1;
  s.remove_prefix(i);
  return v;
}

// What one client thread's connections saw. Written on that thread only; the counters are
// atomic so the control flow can poll them, the rest is read on the thread (on_each()).
struct Worker {
  explicit Worker(int events) : events(events) {}
  int events;
  std::vector<int64_t> latency_ns;               // teacher message -> student, per delivery
  std::vector<std::vector<int64_t>> by_address;  // the same, by the socket's address (--ws-urls)
  std::vector<int64_t> first_ns, last_ns;        // per message: its earliest and latest delivery
  std::vector<int64_t> opened_ns, acked_ns;  // quiz: publish -> quiz_published / answer_accepted
  int64_t dups = 0, disorder = 0, strangers = 0, errors = 0;
  std::map<std::string, int> closes;  // "code@phase" while measuring
  std::atomic<int64_t> delivered{0}, messages{0}, opened{0}, acked{0};
  std::atomic<int> connected{0}, failed{0};
  // The slow-consumer room (on the teachers' thread only).
  int64_t flood_received = 0, closed_4008 = 0;
  std::vector<std::string> left;
  loadtest::WsLoop loop;  // last: its thread stops before the rest goes
};

std::atomic<int> g_in_flight{0};  // connections being set up

struct Conn : loadtest::WsConn {
  explicit Conn(Worker& w) : w(w) {}
  Worker& w;
  std::string user, quiz;
  bool teacher = false;
  bool slow_room = false;
  bool read_on = true;  // false: a slow consumer, which stops reading once upgraded
  bool welcomed = false;
  bool settled = false;  // counted as connected or failed
  int close_code = 0;
  // Chat checks (students): which messages arrived, the last one's number, how many.
  std::vector<uint8_t> seen;
  int last_k = -1;
  int got = 0;
  size_t address = 0;  // index in --ws-urls
  bool opened = false, acked = false;

  void settle(bool ok) {
    if (settled) return;
    settled = true;
    (ok ? w.connected : w.failed).fetch_add(1);
    g_in_flight.fetch_sub(1);
  }
  void on_open() override {
    if (read_on) return;
    stop_reading();
    settle(true);
  }
  void on_failed(int status) override {
    close_code = status;
    settle(false);
  }
  void on_closed(int code) override {
    close_code = code;
    if (!welcomed && read_on) {
      settle(false);
      return;
    }
    if (code == 4008) ++w.closed_4008;
    Phase p = g_phase.load();
    if (p != Phase::kSetup && p != Phase::kCleanup && !slow_room)
      ++w.closes[std::to_string(code) + "@" + phase_name(p)];
  }
  void on_text(std::string_view t, int64_t now) override;
  void on_chat(std::string_view t, int64_t now);
};

// A student's chat message "lt:<k>:<send ns>": checked and timed against `now`.
void Conn::on_chat(std::string_view t, int64_t now) {
  auto p = t.find("\"text\":\"lt:");
  if (p == std::string_view::npos) return;  // not ours (the room's own messages)
  std::string_view rest = t.substr(p + 11);
  int64_t k = leading_int(rest);
  int64_t sent = -1;
  if (!rest.empty() && rest[0] == ':') {
    rest.remove_prefix(1);
    sent = leading_int(rest);
  }
  if (k < 0 || k >= w.events || sent < 0) {
    ++w.strangers;
    return;
  }
  if (seen[size_t(k)]) {
    ++w.dups;
    return;
  }
  seen[size_t(k)] = 1;
  if (k < last_k)
    ++w.disorder;
  else
    last_k = int(k);
  ++got;
  const int64_t d = now - sent;
  w.latency_ns.push_back(d);
  w.by_address[address].push_back(d);
  auto& first = w.first_ns[size_t(k)];
  auto& last = w.last_ns[size_t(k)];
  if (first == 0 || d < first) first = d;
  if (d > last) last = d;
  w.delivered.fetch_add(1, std::memory_order_relaxed);
}

void Conn::on_text(std::string_view t, int64_t now) {
  if (!welcomed) {
    // The first message: the welcome, or the join failed.
    welcomed = t.find("\"type\":\"welcome\"") != std::string_view::npos;
    settle(welcomed);
    return;
  }
  w.messages.fetch_add(1, std::memory_order_relaxed);
  // edgeclass's chat_message, or the peer's chat (a distinct match: "chat" then a quote).
  if (t.find("\"type\":\"chat_message\"") != std::string_view::npos ||
      t.find("\"type\":\"chat\"") != std::string_view::npos) {
    if (slow_room) {
      if (!teacher) ++w.flood_received;
      return;
    }
    if (!teacher) on_chat(t, now);
  } else if (t.find("\"type\":\"quiz_published\"") != std::string_view::npos) {
    if (teacher || slow_room || opened) return;
    opened = true;
    w.opened_ns.push_back(now - g_quiz_t0.load());
    w.opened.fetch_add(1, std::memory_order_relaxed);
    send_text(R"({"type":"answer","quiz_id":")" + quiz +
              R"(","answers":[{"question":0,"choice":[1]}]})");
  } else if (t.find("\"type\":\"answer_accepted\"") != std::string_view::npos) {
    if (acked) return;
    acked = true;
    w.acked_ns.push_back(now - g_quiz_t0.load());
    w.acked.fetch_add(1, std::memory_order_relaxed);
  } else if (t.find("\"type\":\"quiz_results\"") != std::string_view::npos) {
    if (!teacher) return;
    g_results_events.fetch_add(1);
    auto p = t.find("\"answered\":");
    if (p == std::string_view::npos) return;
    std::string_view rest = t.substr(p + 11);
    int64_t n = leading_int(rest);
    int64_t zero = 0;
    if (g_quiz_want.load() > 0 && n >= g_quiz_want.load())
      g_results_all.compare_exchange_strong(zero, now - g_quiz_t0.load());
  } else if (t.find("\"type\":\"error\"") != std::string_view::npos) {
    ++w.errors;
  } else if (teacher && slow_room &&
             t.find("\"type\":\"participant_left\"") != std::string_view::npos) {
    w.left.emplace_back(field(t, "\"user_id\":\""));
  }
}

// Opens `c` on its worker's thread; the caller waits for w.connected / w.failed.
void start_connect(const std::shared_ptr<Conn>& c, const Endpoint& ep, std::string target,
                   int rcvbuf = 0) {
  g_in_flight.fetch_add(1);
  c->w.loop.post([c, ep, target = std::move(target), rcvbuf] {
    c->w.loop.connect(c, loadtest::WsEndpoint{ep.host, ep.port}, target, rcvbuf);
  });
}

// Waits until no connection is being set up (at most `s` seconds).
awaitable<void> settle_all(int s = 30) {
  int64_t end = now_ns() + int64_t(s) * 1'000'000'000;
  while (g_in_flight.load() > 0 && now_ns() < end) co_await sleep_ms(2);
}

// Runs `fn(w)` on each worker's thread, one worker after the other (so `fn` may add to the
// caller's variables), and waits: the control thread blocks meanwhile (it has nothing else to
// do: the teachers have their own thread).
template <typename Fn>
void on_each(std::vector<std::unique_ptr<Worker>>& workers, Fn fn) {
  for (auto& w : workers) {
    std::promise<void> done;
    w->loop.post([&done, &fn, wp = w.get()] {
      fn(*wp);
      done.set_value();
    });
    done.get_future().wait();
  }
}

struct Pct {
  size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;  // ms
};
Pct percentiles(std::vector<int64_t> v) {
  Pct r;
  r.n = v.size();
  if (v.empty()) return r;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest sample with at least p of all at or below it.
  auto at = [&](double p) {
    size_t rank = size_t(std::max(1.0, std::ceil(p * double(v.size()))));
    return double(v[std::min(v.size(), rank) - 1]) / 1e6;
  };
  r.p50 = at(0.5);
  r.p90 = at(0.9);
  r.p99 = at(0.99);
  r.p999 = at(0.999);
  r.max = double(v.back()) / 1e6;
  double sum = 0;
  for (int64_t x : v) sum += double(x);
  r.mean = sum / double(v.size()) / 1e6;
  return r;
}

int64_t servers_cpu_ns(const Options& o) {
  if (o.pids.empty()) return -1;
  int64_t total = 0;
  for (int pid : o.pids) {
    int64_t v = loadtest::cpu_ns(pid);
    if (v < 0) return -1;
    total += v;
  }
  return total;
}
int64_t servers_rss_kb(const Options& o) {
  if (o.pids.empty()) return -1;
  int64_t total = 0;
  for (int pid : o.pids) {
    int64_t v = rss_kb(pid);
    if (v < 0) return -1;
    total += v;
  }
  return total;
}
// Summed over the server pids (-1 when one is unknown).
int64_t servers_wait_ns(const Options& o) {
  if (o.pids.empty()) return -1;
  int64_t total = 0;
  for (int pid : o.pids) {
    int64_t v = loadtest::runqueue_wait_ns(pid);
    if (v < 0) return -1;
    total += v;
  }
  return total;
}
int64_t own_cpu_ns() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (int64_t(u.ru_utime.tv_sec) + int64_t(u.ru_stime.tv_sec)) * 1'000'000'000 +
         (int64_t(u.ru_utime.tv_usec) + int64_t(u.ru_stime.tv_usec)) * 1000;
}
// One core's counters from /proc/stat (in ticks of USER_HZ): busy is user + nice + system +
// irq + softirq (steal and guest left out: neither is work done on this core by this guest).
struct CoreTicks {
  int64_t busy = 0, softirq = 0, idle = 0;
};
// Summed over `cpus`; all zero when a line is missing.
CoreTicks core_ticks(const std::vector<int>& cpus) {
  CoreTicks t;
  std::ifstream f("/proc/stat");
  std::string line;
  while (std::getline(f, line)) {
    if (line.size() < 4 || line.compare(0, 3, "cpu") != 0 || line[3] == ' ') continue;
    std::istringstream in(line.substr(3));
    int cpu = -1;
    int64_t user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
    if (!(in >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq)) continue;
    if (std::find(cpus.begin(), cpus.end(), cpu) == cpus.end()) continue;
    t.busy += user + nice + sys + irq + softirq;
    t.softirq += softirq;
    t.idle += idle + iowait;
  }
  return t;
}
// A row of /proc/softirqs ("NET_RX:", "NET_TX:"), one count per CPU.
std::vector<int64_t> softirq_row(std::string_view name) {
  std::ifstream f("/proc/softirqs");
  std::string line;
  std::vector<int64_t> out;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string head;
    in >> head;
    if (head != name) continue;
    int64_t v = 0;
    while (in >> v) out.push_back(v);
  }
  return out;
}
// Packets dropped because a CPU's receive backlog was full (/proc/net/softnet_stat, second
// column, hexadecimal), summed over the CPUs: a receive path that cannot keep up loses packets
// there, and TCP retransmits them much later.
int64_t backlog_drops() {
  std::ifstream f("/proc/net/softnet_stat");
  std::string processed, dropped, rest;
  int64_t total = 0;
  while (f >> processed >> dropped && std::getline(f, rest))
    total += std::stoll(dropped, nullptr, 16);
  return total;
}
json::array row_delta(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  json::array out;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) out.push_back(b[i] - a[i]);
  return out;
}
std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

awaitable<int> run(Options o, std::vector<std::unique_ptr<Worker>>& workers, Worker& control) {
  json::object R;
  R["label"] = o.label;
  R["students"] = o.rooms * o.students;
  R["rooms"] = o.rooms;
  R["messages"] = o.events;
  R["client"] = "edgeclass-loadtest live";
  R["client_threads"] = o.threads;
  R["target"] = o.peer ? "peer" : "edgeclass";
  R["load_start"] = loadavg();
  if (o.ws.empty()) o.ws.push_back({o.host, o.port});
  if (o.teacher_ws.empty()) o.teacher_ws.push_back(o.ws[0]);
  std::vector<Room> rooms(size_t(o.rooms));
  int64_t t0 = now_ns();
  std::function<std::string(const Room&, const std::string&)> target = loadtest::live_target;
  if (o.peer) {
    // No accounts: a "token" is the identity on the peer's URL (?id=…&role=…).
    Room& r = rooms[0];
    r.teacher_token = "id=lt_t&name=Teacher&role=teacher";
    for (int i = 0; i < o.students; ++i) {
      r.ids.push_back("lt_s" + std::to_string(i));
      r.students.push_back("id=lt_s" + std::to_string(i) + "&name=S" + std::to_string(i) +
                           "&role=student");
    }
    target = [path = o.path](const Room&, const std::string& q) { return path + "?" + q; };
  } else {
    for (int r = 0; r < o.rooms; ++r) {
      if (!co_await loadtest::setup_room(o, rooms[size_t(r)], std::to_string(r), o.students,
                                         o.quiz)) {
        std::fprintf(stderr, "setup of room %d failed\n", r);
        co_return 1;
      }
    }
    std::printf("setup: %d rooms x %d students enrolled in %.1fs\n", o.rooms, o.students,
                double(now_ns() - t0) / 1e9);
  }
  std::fflush(stdout);

  // Teachers first (they receive every join), then all students.
  std::vector<std::shared_ptr<Conn>> teachers, students;
  for (auto& r : rooms) {
    auto c = std::make_shared<Conn>(control);
    c->teacher = true;
    start_connect(c, o.teacher_ws[0], target(r, r.teacher_token));
    teachers.push_back(c);
  }
  co_await settle_all();
  if (control.failed.load() > 0 || control.connected.load() < o.rooms) {
    std::fprintf(stderr, "a teacher could not connect (close/status %d)\n",
                 teachers[0]->close_code);
    co_return 1;
  }
  int64_t rss0 = servers_rss_kb(o);
  int total = o.rooms * o.students;
  students.resize(size_t(total));
  auto count = [&](auto member) {
    int64_t n = 0;
    for (auto& w : workers) n += ((*w).*member).load();
    return n;
  };
  // Two halves: the RSS growth over the second half is the marginal cost of an idle
  // connection, without the one-time growth (page caches, allocator arenas) of the first.
  int half = total / 2;
  int64_t rss_half = 0;
  double secs = 0;
  for (int phase = 0; phase < 2; ++phase) {
    int from = phase == 0 ? 0 : half, to = phase == 0 ? half : total;
    int64_t c0 = now_ns();
    for (int i = from; i < to; ++i) {
      while (g_in_flight.load() >= o.concurrency) co_await sleep_ms(1);
      const Room& r = rooms[size_t(i / o.students)];
      Worker& w = *workers[size_t(i) % workers.size()];
      auto c = std::make_shared<Conn>(w);
      c->user = r.ids[size_t(i % o.students)];
      c->quiz = r.quiz;
      c->seen.assign(size_t(o.events), 0);
      c->address = size_t(i) % o.ws.size();
      students[size_t(i)] = c;
      start_connect(c, o.ws[c->address], target(r, r.students[size_t(i % o.students)]));
    }
    co_await settle_all();
    secs += double(now_ns() - c0) / 1e9;
    co_await sleep_ms(1500);  // presence events settle
    if (phase == 0) rss_half = servers_rss_kb(o);
  }
  const int failed = int(count(&Worker::failed));
  const int connected = int(count(&Worker::connected));
  std::printf(
      "connect: %d students in %.2fs = %.0f connections/s (%d failed, %d still "
      "pending) over %zu address(es), %d client thread(s)\n",
      total, secs, double(total) / secs, failed, total - failed - connected, o.ws.size(),
      o.threads);
  R["connected"] = connected;
  R["connect_failures"] = total - connected;
  R["connect_s"] = secs;
  int64_t rss1 = servers_rss_kb(o);
  if (rss0 > 0) {
    std::printf(
        "server RSS: %.1f MB before, %.1f MB with %d connections: %.2f KB/connection "
        "overall, %.2f KB/connection marginal (second half)\n",
        double(rss0) / 1024, double(rss1) / 1024, total + o.rooms,
        double(rss1 - rss0) / double(total), double(rss1 - rss_half) / double(total - half));
    R["kb_per_conn"] = double(rss1 - rss0) / double(total);
  }
  std::fflush(stdout);
  if (connected == 0) co_return 1;

  // Latency: every teacher sends `events` chat messages on a fixed schedule, from the
  // teachers' thread; the send time in the text is taken there, just before the write.
  on_each(workers, [&](Worker& w) {
    w.latency_ns.reserve(size_t(total) * size_t(o.events));
    w.by_address.resize(o.ws.size());
    w.first_ns.assign(size_t(o.events), 0);
    w.last_ns.assign(size_t(o.events), 0);
  });
  g_phase = Phase::kChat;
  R["load_chat"] = loadavg();
  const int64_t interval_ns =
      o.rate > 0 ? int64_t(1e9 / o.rate) : int64_t(o.interval_ms) * 1'000'000;
  int64_t m0 = count(&Worker::messages);
  int64_t cpu0 = servers_cpu_ns(o), own0 = own_cpu_ns();
  int64_t swait0 = servers_wait_ns(o), cwait0 = loadtest::runqueue_wait_ns(0);
  CoreTicks core0 = core_ticks(o.server_cpus);
  auto rx0 = softirq_row("NET_RX:"), tx0 = softirq_row("NET_TX:");
  int64_t drops0 = backlog_drops();
  int64_t l0 = now_ns();
  auto max_lag = std::make_shared<std::atomic<int64_t>>(0);
  auto last_send = std::make_shared<std::atomic<int64_t>>(l0);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int k = 0; k < o.events; ++k) {
    int64_t due = l0 + int64_t(k) * interval_ns;
    int64_t now = now_ns();
    if (due > now) {
      timer.expires_after(std::chrono::nanoseconds(due - now));
      co_await timer.async_wait(kNoThrow);
    }
    control.loop.post([&teachers, k, due, max_lag, last_send] {
      for (auto& t : teachers) {
        int64_t sent = now_ns();
        if (sent - due > max_lag->load()) max_lag->store(sent - due);
        last_send->store(sent);
        t->send_text(R"({"type":"chat","text":"lt:)" + std::to_string(k) + ":" +
                     std::to_string(sent) + "\"}");
      }
    });
  }
  const int64_t want = int64_t(connected) * o.events;
  int64_t drain_end = now_ns() + int64_t(o.drain_s) * 1'000'000'000;
  while (count(&Worker::delivered) < want && now_ns() < drain_end) co_await sleep_ms(2);
  int64_t l1 = now_ns();
  int64_t cpu1 = servers_cpu_ns(o), own1 = own_cpu_ns();
  int64_t swait1 = servers_wait_ns(o), cwait1 = loadtest::runqueue_wait_ns(0);
  CoreTicks core1 = core_ticks(o.server_cpus);
  auto rx1 = softirq_row("NET_RX:"), tx1 = softirq_row("NET_TX:");
  int64_t drops1 = backlog_drops();
  R["load_end"] = loadavg();
  double lsecs = double(l1 - l0) / 1e9;

  // Gather every thread's samples and checks.
  std::vector<int64_t> lat;
  lat.reserve(size_t(want));
  int64_t dups = 0, disorder = 0, strangers = 0, short_receivers = 0;
  std::vector<std::vector<int64_t>> by_address(o.ws.size());
  std::vector<int64_t> first(size_t(o.events), 0), last(size_t(o.events), 0);
  on_each(workers, [&](Worker& w) {
    lat.insert(lat.end(), w.latency_ns.begin(), w.latency_ns.end());
    for (size_t a = 0; a < o.ws.size(); ++a)
      by_address[a].insert(by_address[a].end(), w.by_address[a].begin(), w.by_address[a].end());
    for (size_t k = 0; k < first.size(); ++k) {
      if (w.first_ns[k] > 0 && (first[k] == 0 || w.first_ns[k] < first[k]))
        first[k] = w.first_ns[k];
      last[k] = std::max(last[k], w.last_ns[k]);
    }
    dups += w.dups;
    disorder += w.disorder;
    strangers += w.strangers;
    for (auto& c : students)
      if (c && &c->w == &w && c->welcomed && c->got < o.events) ++short_receivers;
  });
  Pct p = percentiles(lat);
  std::printf(
      "teacher message -> student: n=%zu p50=%.2fms p90=%.2fms p99=%.2fms p999=%.2fms "
      "max=%.2fms mean=%.2fms\n",
      p.n, p.p50, p.p90, p.p99, p.p999, p.max, p.mean);
  std::printf(
      "delivered %zu of %lld (%lld receivers short), duplicates %lld, out of order "
      "%lld, unreadable %lld; %.0f msgs/s received; sends at most %.1f ms behind "
      "schedule\n",
      lat.size(), (long long)want, (long long)short_receivers, (long long)dups, (long long)disorder,
      (long long)strangers, double(count(&Worker::messages) - m0) / lsecs,
      double(max_lag->load()) / 1e6);
  // Where the time goes: each address's share, and how long one message's fan-out takes
  // (its first and its last receiver).
  json::array addr_json;
  for (size_t a = 0; a < o.ws.size(); ++a) {
    Pct pa = percentiles(by_address[a]);
    std::printf("  via %s:%u: n=%zu p50=%.2fms p99=%.2fms max=%.2fms\n", o.ws[a].host.c_str(),
                o.ws[a].port, pa.n, pa.p50, pa.p99, pa.max);
    addr_json.push_back(json::object{{"address", o.ws[a].host + ":" + std::to_string(o.ws[a].port)},
                                     {"n", pa.n},
                                     {"p50_ms", pa.p50},
                                     {"p99_ms", pa.p99},
                                     {"max_ms", pa.max}});
  }
  R["by_address"] = std::move(addr_json);
  Pct pf = percentiles(first), pl = percentiles(last);
  std::printf(
      "  per message: first receiver p50=%.2fms p99=%.2fms, last receiver p50=%.2fms "
      "p99=%.2fms\n",
      pf.p50, pf.p99, pl.p50, pl.p99);
  R["first_receiver_p50_ms"] = pf.p50;
  R["last_receiver_p50_ms"] = pl.p50;
  R["last_receiver_p99_ms"] = pl.p99;
  R["expected"] = want;
  R["delivered"] = int64_t(lat.size());
  R["short_receivers"] = short_receivers;
  R["dups"] = dups;
  R["disorder"] = disorder;
  R["unreadable"] = strangers;
  R["p50_ms"] = p.p50;
  R["p90_ms"] = p.p90;
  R["p99_ms"] = p.p99;
  R["p999_ms"] = p.p999;
  R["max_ms"] = p.max;
  R["mean_ms"] = p.mean;
  R["chat_wall_ms"] = double(l1 - l0) / 1e6;
  R["send_max_lag_ms"] = double(max_lag->load()) / 1e6;
  R["last_delivery_after_last_send_ms"] = double(l1 - last_send->load()) / 1e6;
  R["client_cpu_chat_ms"] = double(own1 - own0) / 1e6;
  if (!lat.empty()) R["client_us_per_delivery"] = double(own1 - own0) / 1e3 / double(lat.size());
  std::printf("CPU during the chat (%.0f ms wall): client %.0f ms (%.1f %%)", double(l1 - l0) / 1e6,
              double(own1 - own0) / 1e6, 100.0 * double(own1 - own0) / double(l1 - l0));
  if (cpu0 >= 0 && cpu1 >= 0) {
    R["server_cpu_chat_ms"] = double(cpu1 - cpu0) / 1e6;
    if (!lat.empty()) R["server_us_per_delivery"] = double(cpu1 - cpu0) / 1e3 / double(lat.size());
    std::printf(", servers %.0f ms (%.2f us per delivery)", double(cpu1 - cpu0) / 1e6,
                lat.empty() ? 0.0 : double(cpu1 - cpu0) / 1e3 / double(lat.size()));
  }
  std::printf("; load %s\n", loadavg().c_str());
  // The server's cores as a whole: its process plus whatever else ran there, including
  // receive processing (softirq) that ran while the core was otherwise idle, which no
  // process is charged for. The honest figure when the server is alone on its cores.
  if (!o.server_cpus.empty()) {
    const double tick_ms = 1000.0 / double(sysconf(_SC_CLK_TCK));
    const double busy_ms = double(core1.busy - core0.busy) * tick_ms;
    const double wall_ms = double(l1 - l0) / 1e6 * double(o.server_cpus.size());
    R["server_core_busy_ms"] = busy_ms;
    R["server_core_softirq_ms"] = double(core1.softirq - core0.softirq) * tick_ms;
    R["server_core_idle_ms"] = double(core1.idle - core0.idle) * tick_ms;
    R["server_core_busy_pct"] = 100.0 * busy_ms / wall_ms;
    if (!lat.empty()) R["server_core_us_per_delivery"] = busy_ms * 1e3 / double(lat.size());
    std::printf(
        "server core(s) during the chat: busy %.0f ms of %.0f (%.1f %%; softirq %.0f ms): %.2f "
        "us per delivery\n",
        busy_ms, wall_ms, 100.0 * busy_ms / wall_ms,
        double(core1.softirq - core0.softirq) * tick_ms,
        lat.empty() ? 0.0 : busy_ms * 1e3 / double(lat.size()));
  }
  R["net_rx_softirqs"] = row_delta(rx0, rx1);
  R["net_tx_softirqs"] = row_delta(tx0, tx1);
  R["backlog_drops"] = drops1 - drops0;
  std::printf("NET_RX softirqs per CPU during the chat: %s; receive backlog drops %lld\n",
              json::serialize(R["net_rx_softirqs"]).c_str(), (long long)(drops1 - drops0));
  // Runnable but not running (all threads summed): the time a loaded box took from us.
  if (swait0 >= 0 && swait1 >= 0 && cwait0 >= 0 && cwait1 >= 0) {
    R["server_runqueue_wait_ms"] = double(swait1 - swait0) / 1e6;
    R["client_runqueue_wait_ms"] = double(cwait1 - cwait0) / 1e6;
    std::printf(
        "waiting for a CPU during the chat: servers %.0f ms, client %.0f ms (summed over "
        "threads)\n",
        double(swait1 - swait0) / 1e6, double(cwait1 - cwait0) / 1e6);
  }
  std::fflush(stdout);

  if (o.quiz) {
    g_phase = Phase::kQuiz;
    co_await sleep_ms(500);
    g_quiz_want = connected;
    control.loop.post([&teachers, &rooms] {
      g_quiz_t0 = now_ns();
      for (size_t r = 0; r < rooms.size(); ++r) {
        teachers[r]->send_text(R"({"type":"quiz_publish","quiz_id":")" + rooms[r].quiz +
                               R"(","time_limit_s":300})");
      }
    });
    int64_t quiz_end = now_ns() + int64_t(o.drain_s) * 1'000'000'000;
    // One room's results count that room's students: "all" is only exact with one room.
    while ((count(&Worker::opened) < connected || count(&Worker::acked) < connected ||
            (o.rooms == 1 && g_results_all.load() == 0)) &&
           now_ns() < quiz_end) {
      co_await sleep_ms(2);
    }
    std::vector<int64_t> opened, acked;
    int64_t errors = 0;
    on_each(workers, [&](Worker& w) {
      opened.insert(opened.end(), w.opened_ns.begin(), w.opened_ns.end());
      acked.insert(acked.end(), w.acked_ns.begin(), w.acked_ns.end());
      errors += w.errors;
    });
    Pct qo = percentiles(opened), qa = percentiles(acked);
    double all_ms = double(g_results_all.load()) / 1e6;
    std::printf(
        "quiz: opened on %zu of %d: P50 %.2f P99 %.2f max %.2f ms after the publish; "
        "answers acknowledged %zu of %d: P50 %.2f P99 %.2f max %.2f ms; the teacher's "
        "results counted all %.1f ms after the publish (%lld updates); errors %lld\n",
        qo.n, connected, qo.p50, qo.p99, qo.max, qa.n, connected, qa.p50, qa.p99, qa.max, all_ms,
        (long long)g_results_events.load(), (long long)errors);
    std::fflush(stdout);
    R["quiz_opened"] = int64_t(qo.n);
    R["quiz_open_p50_ms"] = qo.p50;
    R["quiz_open_p99_ms"] = qo.p99;
    R["quiz_open_max_ms"] = qo.max;
    R["quiz_acked"] = int64_t(qa.n);
    R["quiz_ack_p50_ms"] = qa.p50;
    R["quiz_ack_p99_ms"] = qa.p99;
    R["quiz_ack_max_ms"] = qa.max;
    R["quiz_results_events"] = g_results_events.load();
    if (g_results_all.load() > 0) R["quiz_results_all_ms"] = all_ms;
    R["quiz_errors"] = errors;
  }

  // Closes while measuring (a measurement with closes is not a clean one).
  std::map<std::string, int> closes;
  on_each(workers, [&](Worker& w) {
    for (auto& [k, n] : w.closes) closes[k] += n;
  });
  json::object codes;
  int64_t nclose = 0;
  for (auto& [k, n] : closes) {
    codes[k] = n;
    nclose += n;
  }
  R["closes"] = nclose;
  if (nclose > 0) std::printf("closes while measuring: %s\n", json::serialize(codes).c_str());
  R["close_codes"] = std::move(codes);

  if (o.slow > 0) {
    g_phase = Phase::kSetup;
    Room sr;
    int fast_n = 20;
    if (!co_await loadtest::setup_room(o, sr, "slow", fast_n + o.slow, false)) co_return 1;
    auto t = std::make_shared<Conn>(control);
    t->teacher = t->slow_room = true;
    start_connect(t, o.teacher_ws[0], target(sr, sr.teacher_token));
    co_await settle_all();
    std::vector<std::shared_ptr<Conn>> slow;
    for (int i = 0; i < fast_n + o.slow; ++i) {
      auto c = std::make_shared<Conn>(control);
      c->slow_room = true;
      c->user = sr.ids[size_t(i)];
      bool is_slow = i >= fast_n;
      // A slow consumer: tiny receive window and never reads after the handshake.
      c->read_on = !is_slow;
      start_connect(c, o.ws[size_t(i) % o.ws.size()], target(sr, sr.students[size_t(i)]),
                    is_slow ? 4096 : 0);
      if (is_slow) slow.push_back(c);
    }
    co_await settle_all();
    if (!t->welcomed) co_return 1;
    co_await sleep_ms(500);
    std::promise<void> flooded;
    int64_t f0 = now_ns();
    control.loop.post([&] {
      control.flood_received = 0;
      std::string text = R"({"type":"chat","text":")" + std::string(1000, 'x') + "\"}";
      for (int i = 0; i < o.flood; ++i) t->send_text(text);
      flooded.set_value();
    });
    flooded.get_future().wait();
    int64_t want_flood = int64_t(fast_n) * o.flood;
    int64_t got = 0;
    size_t left = 0;
    for (int i = 0; i < 300; ++i) {
      std::promise<void> read;
      control.loop.post([&] {
        got = control.flood_received;
        left = control.left.size();
        read.set_value();
      });
      read.get_future().wait();
      if (got >= want_flood && int(left) >= o.slow) break;
      co_await sleep_ms(100);
    }
    double fsecs = double(now_ns() - f0) / 1e9;
    std::printf(
        "slow consumers: %zu of %d dropped by the server; fast students got %lld of "
        "%lld messages (%.0f msgs/s of 1 KB)\n",
        left, o.slow, (long long)got, (long long)want_flood, double(got) / fsecs);
    if (!o.pids.empty())
      std::printf("server RSS after the flood: %.1f MB\n", double(servers_rss_kb(o)) / 1024);
  }
  g_phase = Phase::kCleanup;
  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path);
    f << json::serialize(R) << "\n";
    if (!f) std::fprintf(stderr, "loadtest live: cannot write %s\n", o.json_path.c_str());
  }
  std::printf("RESULT %s\n", json::serialize(R).c_str());
  co_return 0;
}

// "host:port[,host:port...]", an http:// or ws:// prefix allowed.
bool parse_endpoints(std::string_view v, std::vector<Endpoint>& out) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view one = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    if (auto s = one.find("://"); s != std::string_view::npos) one.remove_prefix(s + 3);
    while (!one.empty() && one.back() == '/') one.remove_suffix(1);
    size_t colon = one.rfind(':');
    if (colon == std::string_view::npos) return false;
    auto port = base::parse_int(one.substr(colon + 1));
    if (!port || *port <= 0 || *port > 65535) return false;
    out.push_back({std::string(one.substr(0, colon)), uint16_t(*port)});
  }
  return !out.empty();
}

bool parse_pids(std::string_view v, std::vector<int>& out) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    auto n = base::parse_int(v.substr(0, comma));
    if (!n || *n <= 0) return false;
    out.push_back(int(*n));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
  }
  return true;
}

// "0" or "0,1" or "0-1": the cores the server is pinned to.
bool parse_cpus(std::string_view v, std::vector<int>& out) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view one = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    size_t dash = one.find('-');
    auto a = base::parse_int(one.substr(0, dash));
    auto b = dash == std::string_view::npos ? a : base::parse_int(one.substr(dash + 1));
    if (!a || !b || *a < 0 || *b < *a || *b > 4095) return false;
    for (int64_t c = *a; c <= *b; ++c) out.push_back(int(c));
  }
  return !out.empty();
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 0; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    auto num = [&](int& out) {
      auto n = base::parse_int(v);
      if (!n) return false;
      out = int(*n);
      return true;
    };
    int port = o.port, quiz = o.quiz, rate = 0;
    bool ok = k == "--secret"        ? (o.secret = v, true)
              : k == "--host"        ? (o.host = v, true)
              : k == "--port"        ? (num(port) && (o.port = uint16_t(port), true))
              : k == "--rooms"       ? num(o.rooms)
              : k == "--students"    ? num(o.students)
              : k == "--events"      ? num(o.events)
              : k == "--messages"    ? num(o.events)
              : k == "--interval-ms" ? num(o.interval_ms)
              : k == "--rate"        ? (num(rate) && rate > 0 && (o.rate = rate, true))
              : k == "--slow"        ? num(o.slow)
              : k == "--flood"       ? num(o.flood)
              : k == "--concurrency" ? num(o.concurrency)
              : k == "--pid"         ? parse_pids(v, o.pids)
              : k == "--server-cpus" ? parse_cpus(v, o.server_cpus)
              : k == "--quiz"        ? (num(quiz) && (o.quiz = quiz != 0, true))
              : k == "--threads"     ? (num(o.threads) && o.threads >= 1 && o.threads <= 64)
              : k == "--drain-s"     ? num(o.drain_s)
              : k == "--ws-urls"     ? parse_endpoints(v, o.ws)
              : k == "--teacher-url" ? parse_endpoints(v, o.teacher_ws)
              : k == "--json"        ? (o.json_path = v, true)
              : k == "--label"       ? (o.label = v, true)
              : k == "--target"
                  ? ((v == "peer" || v == "edgeclass") && (o.peer = v == "peer", true))
              : k == "--path" ? (!v.empty() && v[0] == '/' && (o.path = v, true))
                              : false;
    if (!ok) {
      std::fprintf(stderr, "loadtest live: bad flag %s %s\n", k.c_str(), v.c_str());
      return false;
    }
  }
  if (o.peer) {
    if (o.rooms != 1 || o.slow > 0) {
      std::fprintf(stderr, "loadtest live: --target peer has one room and no --slow\n");
      return false;
    }
    o.quiz = false;  // the peer has no quizzes
    return true;
  }
  if (o.secret.empty()) {
    std::fprintf(stderr, "loadtest live: --secret (the server's JWT secret) is required\n");
    return false;
  }
  return true;
}

}  // namespace

int run_live(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) return 2;
  loadtest::raise_fd_limit();
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<Worker>(o.events));
  Worker control(o.events);  // the teachers (and the slow-consumer room)
  asio::io_context ioc;      // the control flow and the REST calls
  int rc = 1;
  asio::co_spawn(ioc, run(o, workers, control), [&](std::exception_ptr e, int r) {
    rc = e ? 1 : r;
    ioc.stop();
  });
  ioc.run();
  std::fflush(stdout);
  // The sockets and their threads end with the process.
  std::_Exit(rc);
}
