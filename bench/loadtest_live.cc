// edgeclass-loadtest live — WebSocket load on the live classroom of a running edgeclass.
//
// Sets up M rooms through the REST API (a teacher, a course, N enrolled students and a live
// session each), connects N students per room, then measures:
//   - connection set-up rate (upgrade + policy + join + welcome, `--concurrency` at a time);
//   - server memory per idle connection (VmRSS of --pid before and after connecting);
//   - delivery latency of teacher events to every student (P50/P99/P999/max), msgs/s;
//   - a quiz: time from publish until every student's answer is acknowledged (committed);
//   - with --slow S: S students that never read, in a separate room with a chat flood: they
//     must be dropped (4008) while the other students receive everything.
// Client and server share the machine: latencies include the client's own scheduling.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "loadtest_common.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::awaitable;
using asio::ip::tcp;
using loadtest::for_each_limited;
using loadtest::kNoThrow;
using loadtest::now_ns;
using loadtest::rss_kb;
using loadtest::sleep_ms;
using loadtest::Room;

struct Options : loadtest::ServerAddress {
  int rooms = 1;
  int students = 100;     // per room
  int events = 50;        // teacher events for the latency measurement
  int interval_ms = 100;  // between teacher events
  int slow = 0;           // slow consumers (separate room)
  int flood = 6000;       // chat messages of 1000 chars in the slow-consumer room
  int concurrency = 200;  // connections being set up at once
  int pid = 0;            // server pid for RSS
  bool quiz = true;
};

struct Stats {
  std::vector<int64_t> latency_ns;  // teacher event -> student, per delivery
  int64_t messages = 0;             // every message any client received
  int64_t acks = 0;
  int64_t last_ack_ns = 0;
  int64_t flood_received = 0;       // chat messages received in the slow room by fast students
  int64_t closed_4008 = 0;
  std::vector<std::string> left;    // participant_left seen by the slow room's teacher
};

struct Conn {
  websocket::stream<beast::tcp_stream> ws;
  std::string user;
  bool teacher = false;
  bool slow_room = false;
  bool open = false;
  int close_code = 0;
  explicit Conn(asio::any_io_executor ex) : ws(ex) {}
};

Stats g_stats;

std::string_view field(std::string_view text, std::string_view key) {
  auto p = text.find(key);
  if (p == std::string_view::npos) return {};
  p += key.size();
  auto e = text.find('"', p);
  return text.substr(p, e == std::string_view::npos ? 0 : e - p);
}

awaitable<void> send_text(std::shared_ptr<Conn> c, std::string text) {
  co_await c->ws.async_write(asio::buffer(text), kNoThrow);
}

void on_text(const std::shared_ptr<Conn>& c, std::string_view t) {
  ++g_stats.messages;
  if (t.find("\"type\":\"chat_message\"") != std::string_view::npos) {
    if (c->slow_room) {
      if (!c->teacher) ++g_stats.flood_received;
      return;
    }
    auto v = base::parse_int(field(t, "\"text\":\"lt:"));
    if (v && !c->teacher) g_stats.latency_ns.push_back(now_ns() - *v);
  } else if (t.find("\"type\":\"quiz_published\"") != std::string_view::npos && !c->teacher) {
    std::string id(field(t, "\"id\":\""));
    asio::co_spawn(c->ws.get_executor(),
                   send_text(c, R"({"type":"answer","quiz_id":")" + id +
                                    R"(","answers":[{"question":0,"choice":[1]}]})"),
                   asio::detached);
  } else if (t.find("\"type\":\"answer_accepted\"") != std::string_view::npos) {
    ++g_stats.acks;
    g_stats.last_ack_ns = now_ns();
  } else if (c->teacher && c->slow_room &&
             t.find("\"type\":\"participant_left\"") != std::string_view::npos) {
    g_stats.left.emplace_back(field(t, "\"user_id\":\""));
  }
}

awaitable<void> reader(std::shared_ptr<Conn> c) {
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await c->ws.async_read(buf, kNoThrow);
    if (ec) break;
    on_text(c, std::string_view(static_cast<const char*>(buf.data().data()), buf.size()));
    buf.consume(buf.size());
  }
  c->open = false;
  c->close_code = c->ws.reason().code;
  if (c->close_code == 4008) ++g_stats.closed_4008;
}

// Connects and reads the welcome; `read_on` starts the reader loop afterwards.
awaitable<bool> connect_ws(const Options& o, std::shared_ptr<Conn> c, const std::string& target,
                           int rcvbuf, bool read_on) {
  auto& sock = beast::get_lowest_layer(c->ws).socket();
  beast::error_code ec;
  sock.open(tcp::v4(), ec);
  if (rcvbuf > 0) sock.set_option(asio::socket_base::receive_buffer_size(rcvbuf), ec);
  auto [cec] = co_await sock.async_connect(
      tcp::endpoint(asio::ip::make_address(o.host), o.port), kNoThrow);
  if (cec) co_return false;
  auto [hec] = co_await c->ws.async_handshake(o.host, target, kNoThrow);
  if (hec) co_return false;
  if (!read_on) {
    c->open = true;
    co_return true;
  }
  beast::flat_buffer buf;
  auto [rec, n] = co_await c->ws.async_read(buf, kNoThrow);
  if (rec || beast::buffers_to_string(buf.data()).find("\"welcome\"") == std::string::npos) {
    co_return false;
  }
  c->open = true;
  asio::co_spawn(c->ws.get_executor(), reader(c), asio::detached);
  co_return true;
}

awaitable<int> run(Options o) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<Room> rooms(size_t(o.rooms));
  int64_t t0 = now_ns();
  for (int r = 0; r < o.rooms; ++r) {
    if (!co_await loadtest::setup_room(o, rooms[size_t(r)], std::to_string(r), o.students, o.quiz)) {
      std::fprintf(stderr, "setup of room %d failed\n", r);
      co_return 1;
    }
  }
  std::printf("setup: %d rooms x %d students enrolled in %.1fs\n", o.rooms, o.students,
              double(now_ns() - t0) / 1e9);
  std::fflush(stdout);
  auto target = loadtest::live_target;

  // Teachers first (they receive every join), then all students.
  std::vector<std::shared_ptr<Conn>> teachers, students;
  for (auto& r : rooms) {
    auto c = std::make_shared<Conn>(ex);
    c->teacher = true;
    if (!co_await connect_ws(o, c, target(r, r.teacher_token), 0, true)) co_return 1;
    teachers.push_back(c);
  }
  int64_t rss0 = rss_kb(o.pid);
  int total = o.rooms * o.students;
  students.resize(size_t(total));
  int failed = 0;
  // Two halves: the RSS growth over the second half is the marginal cost of an idle
  // connection, without the one-time growth (page caches, allocator arenas) of the first.
  int half = total / 2;
  int64_t rss_half = 0;
  double secs = 0;
  for (int phase = 0; phase < 2; ++phase) {
    int from = phase == 0 ? 0 : half, to = phase == 0 ? half : total;
    int64_t c0 = now_ns();
    co_await for_each_limited(to - from, o.concurrency, [&](int k) -> awaitable<void> {
      int i = from + k;
      const Room& r = rooms[size_t(i / o.students)];
      auto c = std::make_shared<Conn>(ex);
      c->user = r.ids[size_t(i % o.students)];
      if (!co_await connect_ws(o, c, target(r, r.students[size_t(i % o.students)]), 0, true)) {
        ++failed;
      }
      students[size_t(i)] = c;
    });
    secs += double(now_ns() - c0) / 1e9;
    co_await sleep_ms(1500);  // presence events settle
    if (phase == 0) rss_half = rss_kb(o.pid);
  }
  std::printf("connect: %d students in %.2fs = %.0f connections/s (%d failed)\n", total, secs,
              double(total) / secs, failed);
  int64_t rss1 = rss_kb(o.pid);
  if (rss0 > 0) {
    std::printf("server RSS: %.1f MB before, %.1f MB with %d connections: %.2f KB/connection "
                "overall, %.2f KB/connection marginal (second half)\n",
                double(rss0) / 1024, double(rss1) / 1024, total + o.rooms,
                double(rss1 - rss0) / double(total),
                double(rss1 - rss_half) / double(total - half));
  }
  std::fflush(stdout);

  // Latency: every teacher sends `events` chat events, one per interval.
  g_stats.latency_ns.reserve(size_t(total) * size_t(o.events));
  int64_t m0 = g_stats.messages;
  int64_t l0 = now_ns();
  for (int k = 0; k < o.events; ++k) {
    for (auto& t : teachers) {
      co_await send_text(t, R"({"type":"chat","text":"lt:)" + std::to_string(now_ns()) + "\"}");
    }
    co_await sleep_ms(o.interval_ms);
  }
  size_t want = size_t(total - failed) * size_t(o.events);
  for (int i = 0; i < 100 && g_stats.latency_ns.size() < want; ++i) co_await sleep_ms(100);
  double lsecs = double(now_ns() - l0) / 1e9;
  loadtest::print_percentiles("teacher event -> student", g_stats.latency_ns);
  std::printf("delivered %zu of %zu; %.0f msgs/s received during the latency phase\n",
              g_stats.latency_ns.size(), want, double(g_stats.messages - m0) / lsecs);
  std::fflush(stdout);

  if (o.quiz) {
    g_stats.acks = 0;
    int64_t q0 = now_ns();
    for (size_t r = 0; r < rooms.size(); ++r) {
      co_await send_text(teachers[r], R"({"type":"quiz_publish","quiz_id":")" + rooms[r].quiz +
                                          R"(","time_limit_s":60})");
    }
    for (int i = 0; i < 300 && g_stats.acks < total - failed; ++i) co_await sleep_ms(100);
    std::printf("quiz: %lld of %d answers acknowledged; last ack %.2fs after publish\n",
                (long long)g_stats.acks, total - failed,
                g_stats.acks ? double(g_stats.last_ack_ns - q0) / 1e9 : 0.0);
    std::fflush(stdout);
  }

  if (o.slow > 0) {
    Room sr;
    int fast_n = 20;
    if (!co_await loadtest::setup_room(o, sr, "slow", fast_n + o.slow, false)) co_return 1;
    auto t = std::make_shared<Conn>(ex);
    t->teacher = t->slow_room = true;
    if (!co_await connect_ws(o, t, target(sr, sr.teacher_token), 0, true)) co_return 1;
    std::vector<std::shared_ptr<Conn>> fast, slow;
    for (int i = 0; i < fast_n + o.slow; ++i) {
      auto c = std::make_shared<Conn>(ex);
      c->slow_room = true;
      c->user = sr.ids[size_t(i)];
      bool is_slow = i >= fast_n;
      // A slow consumer: tiny receive window and never reads after the handshake.
      if (!co_await connect_ws(o, c, target(sr, sr.students[size_t(i)]), is_slow ? 4096 : 0,
                               !is_slow)) {
        co_return 1;
      }
      (is_slow ? slow : fast).push_back(c);
    }
    co_await sleep_ms(500);
    g_stats.flood_received = 0;
    std::string text(1000, 'x');
    int64_t f0 = now_ns();
    for (int i = 0; i < o.flood; ++i) {
      co_await send_text(t, R"({"type":"chat","text":")" + text + "\"}");
    }
    int64_t want_flood = int64_t(fast_n) * o.flood;
    for (int i = 0; i < 300 && (g_stats.flood_received < want_flood ||
                                int(g_stats.left.size()) < o.slow); ++i) {
      co_await sleep_ms(100);
    }
    double fsecs = double(now_ns() - f0) / 1e9;
    std::printf("slow consumers: %zu of %d dropped by the server; fast students got %lld of "
                "%lld messages (%.0f msgs/s of 1 KB)\n",
                g_stats.left.size(), o.slow, (long long)g_stats.flood_received,
                (long long)want_flood, double(g_stats.flood_received) / fsecs);
    if (o.pid > 0) std::printf("server RSS after the flood: %.1f MB\n", double(rss_kb(o.pid)) / 1024);
    for (auto& c : slow) {
      beast::error_code ec;
      beast::get_lowest_layer(c->ws).socket().close(ec);
    }
  }
  co_return 0;
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
    int port = o.port, quiz = o.quiz;
    bool ok = k == "--secret"        ? (o.secret = v, true)
              : k == "--host"        ? (o.host = v, true)
              : k == "--port"        ? (num(port) && (o.port = uint16_t(port), true))
              : k == "--rooms"       ? num(o.rooms)
              : k == "--students"    ? num(o.students)
              : k == "--events"      ? num(o.events)
              : k == "--interval-ms" ? num(o.interval_ms)
              : k == "--slow"        ? num(o.slow)
              : k == "--flood"       ? num(o.flood)
              : k == "--concurrency" ? num(o.concurrency)
              : k == "--pid"         ? num(o.pid)
              : k == "--quiz"        ? (num(quiz) && (o.quiz = quiz != 0, true))
                                     : false;
    if (!ok) {
      std::fprintf(stderr, "loadtest live: bad flag %s %s\n", k.c_str(), v.c_str());
      return false;
    }
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
  asio::io_context ioc;
  int rc = 1;
  asio::co_spawn(ioc, run(o), [&](std::exception_ptr e, int r) {
    rc = e ? 1 : r;
    ioc.stop();
  });
  ioc.run();
  return rc;
}
