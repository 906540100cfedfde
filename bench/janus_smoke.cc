// janus_smoke: Janus's streaming plugin under the media load on its own, end to end: starts
// Janus (bench/janus/run-janus.sh), sends a VP8-shaped plain-RTP stream to its mountpoint,
// attaches N media::SyntheticPeer subscribers (answerer mode) through the REST API and
// reports connections, loss, delay through Janus and Janus's whole-process CPU per
// forwarded packet. The proof that the Janus side of `edgeclass-loadtest media` works.
//
//   janus_smoke [--subscribers N] [--seconds S] [--video-kbps K]
//               [--script bench/janus/run-janus.sh]                       (starts Janus)
//               [--janus-url URL --janus-rtp-port P --pid PID]            (a running one)
//
// Prints a summary and one JSON line; exit status 0 when everyone connected and loss < 1%.
#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/random.h"
#include "janus_client.h"
#include "media/client/synthetic_peer.h"
#include "media/common/bytes.h"

namespace {

namespace asio = boost::asio;
using asio::ip::udp;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Payload layout of a video packet (after the 12-byte RTP header): VP8 descriptor, VP8
// header byte, send time (8 bytes, steady clock ns), index (4 bytes).
constexpr size_t kTimeOffset = 2, kIndexOffset = 10;

struct Window {
  uint32_t first = UINT32_MAX, end = UINT32_MAX;  // video indices [first, end) are measured
};

// One subscriber: a socket bound to Janus's candidate IP and connected to the candidate.
struct Client : media::SyntheticPeer::Sender {
  explicit Client(asio::io_context& io) : socket(io) {}
  void send_to_sfu(media::ByteSpan d) override {
    boost::system::error_code ec;
    socket.send(asio::buffer(d.data(), d.size()), 0, ec);
  }
  void receive_loop() {
    socket.async_receive(asio::buffer(buf), [this](const boost::system::error_code& ec, size_t n) {
      if (ec) return;
      peer->receive(std::span<uint8_t>(buf.data(), n));
      receive_loop();
    });
  }
  udp::socket socket;
  std::array<uint8_t, 2048> buf{};
  std::unique_ptr<media::SyntheticPeer> peer;
  loadtest::JanusSubscriber janus;
  std::vector<bool> seen;  // by index - window.first
  uint64_t in_window = 0;
};

int run(int argc, char** argv) {
  int subscribers = 20, seconds = 10, video_kbps = 1500;
  std::string script = "bench/janus/run-janus.sh";
  loadtest::JanusProcess janus;
  std::string url;
  int rtp_port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--subscribers")
      subscribers = std::atoi(v.c_str());
    else if (flag == "--seconds")
      seconds = std::atoi(v.c_str());
    else if (flag == "--video-kbps")
      video_kbps = std::atoi(v.c_str());
    else if (flag == "--script")
      script = v;
    else if (flag == "--janus-url")
      url = v;
    else if (flag == "--janus-rtp-port")
      rtp_port = std::atoi(v.c_str());
    else if (flag == "--pid")
      janus.pid = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "janus_smoke: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  base::log::set_level(base::log::Level::kWarn);
  bool own_janus = url.empty();
  auto process = own_janus ? loadtest::start_janus(script)
                           : loadtest::janus_process(janus.pid, url, uint16_t(rtp_port));
  if (!process.is_ok()) {
    std::fprintf(stderr, "%s\n", process.status().to_string().c_str());
    return 1;
  }
  janus = *process;
  std::printf("janus pid %d, REST on %s:%u, RTP video %u audio %u\n", int(janus.pid),
              janus.host.c_str(), janus.http_port, janus.video_port, janus.audio_port);
  struct Stop {
    loadtest::JanusProcess* j;
    bool own;
    ~Stop() {
      if (own) loadtest::stop_janus(*j);
    }
  } stop{&janus, own_janus};

  const base::Clock& clock = base::SystemClock::instance();
  base::SeededRandom random{uint64_t(now_ns())};
  asio::io_context io;

  // The publisher: plain RTP to the mountpoint.
  udp::socket pub(io, udp::endpoint(udp::v4(), 0));
  udp::endpoint video_ep(asio::ip::make_address("127.0.0.1"), janus.video_port);
  udp::endpoint audio_ep(asio::ip::make_address("127.0.0.1"), janus.audio_port);

  // Signalling: all watch requests, then the offers.
  int64_t t_signal = now_ns();
  auto client = loadtest::JanusClient::connect(janus.host, janus.http_port);
  if (!client.is_ok()) {
    std::fprintf(stderr, "%s\n", client.status().to_string().c_str());
    return 1;
  }
  auto offers = (*client)->watch_many(janus.mountpoint_id, subscribers);
  if (!offers.is_ok()) {
    std::fprintf(stderr, "%s\n", offers.status().to_string().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<Client>> clients;
  for (auto& sub : *offers) {
    auto c = std::make_unique<Client>(io);
    c->peer = media::SyntheticPeer::create(c.get(), &clock, random, false).value();
    c->janus = std::move(sub);
    if (auto st = c->peer->set_offer(c->janus.offer_sdp); !st.is_ok()) {
      std::fprintf(stderr, "offer: %s\n", st.to_string().c_str());
      return 1;
    }
    const media::SocketAddress& cand = c->peer->remote_candidate();
    auto ip = asio::ip::make_address(cand.ip_string());
    c->socket.open(udp::v4());
    c->socket.bind(udp::endpoint(ip, 0));
    c->socket.connect(udp::endpoint(ip, cand.port));
    media::SocketAddress local;
    media::SocketAddress::parse_ip(cand.ip_string(), &local);
    local.port = c->socket.local_endpoint().port();
    if (auto st = (*client)->start(c->janus, c->peer->answer(local)); !st.is_ok()) {
      std::fprintf(stderr, "start: %s\n", st.to_string().c_str());
      return 1;
    }
    c->receive_loop();
    clients.push_back(std::move(c));
  }
  double signal_s = double(now_ns() - t_signal) / 1e9;

  // The stream, from now on: 30 fps, a key frame every 2 s, ~1100-byte packets; Opus-sized
  // audio every 20 ms (sent in pairs every third frame).
  Window window;
  const int fps = 30, packet_bytes = 1100;
  const int per_frame = std::max(1, video_kbps * 1000 / 8 / fps / packet_bytes);
  uint16_t vseq = 0, aseq = 0;
  uint32_t vts = 0, ats = 0, index = 0;
  const uint32_t vssrc = 0x1234, assrc = 0x5678;
  uint64_t sent_rtp = 0;
  int frame = 0;
  auto send_frame = [&] {
    for (int k = 0; k < per_frame; ++k) {
      std::vector<uint8_t> pkt(12 + packet_bytes, 0x5a);
      pkt[0] = 0x80;
      pkt[1] = uint8_t(96 | (k == per_frame - 1 ? 0x80 : 0));
      media::set_u16(&pkt[2], vseq++);
      media::set_u32(&pkt[4], vts);
      media::set_u32(&pkt[8], vssrc);
      pkt[12] = k == 0 ? 0x10 : 0x00;             // VP8 descriptor: S on a frame's first packet
      pkt[13] = (frame % 60 == 0) ? 0x00 : 0x01;  // key frame every 2 s
      media::set_u64(&pkt[12 + kTimeOffset], uint64_t(now_ns()));
      media::set_u32(&pkt[12 + kIndexOffset], index++);
      boost::system::error_code ec;
      pub.send_to(asio::buffer(pkt), video_ep, 0, ec);
      ++sent_rtp;
    }
    vts += 90000 / fps;
    if (frame % 3 == 0) {
      for (int a = 0; a < 2; ++a) {
        std::vector<uint8_t> pkt(12 + 100, 0x11);
        pkt[0] = 0x80;
        pkt[1] = 111;
        media::set_u16(&pkt[2], aseq++);
        media::set_u32(&pkt[4], ats);
        media::set_u32(&pkt[8], assrc);
        ats += 960;
        boost::system::error_code ec;
        pub.send_to(asio::buffer(pkt), audio_ep, 0, ec);
        ++sent_rtp;
      }
    }
    ++frame;
  };

  std::vector<int64_t> delays_us;
  delays_us.reserve(size_t(subscribers) * 200 * size_t(seconds));
  for (auto& c : clients) {
    Client* raw = c.get();
    c->peer->on_rtp = [raw, &window, &delays_us](const media::RtpPacket& p) {
      auto pl = p.payload();
      if (p.payload_type() != 96 || pl.size() < kIndexOffset + 4) return;
      uint32_t i = media::get_u32(pl.data() + kIndexOffset);
      if (i < window.first || i >= window.end) return;
      size_t at = i - window.first;
      if (raw->seen.size() <= at) raw->seen.resize(at + 1024);
      if (raw->seen[at]) return;
      raw->seen[at] = true;
      ++raw->in_window;
      delays_us.push_back((now_ns() - int64_t(media::get_u64(pl.data() + kTimeOffset))) / 1000);
    };
  }

  // Peers' timers and the paced stream on this one thread.
  asio::steady_timer tick(io);
  std::function<void()> arm = [&] {
    tick.expires_after(std::chrono::milliseconds(100));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      for (auto& c : clients) c->peer->on_timer();
      arm();
    });
  };
  arm();
  const int64_t frame_ns = 1'000'000'000 / fps;
  int64_t next_frame = now_ns();
  auto run_until = [&](int64_t deadline, const std::function<bool()>& done) {
    while (now_ns() < deadline && !(done && done())) {
      if (now_ns() >= next_frame) {
        send_frame();
        next_frame += frame_ns;
      }
      int64_t wait = std::min(next_frame, deadline) - now_ns();
      if (wait > 0) io.run_for(std::chrono::nanoseconds(std::min<int64_t>(wait, 20'000'000)));
    }
  };
  int64_t t_connect = now_ns();
  auto all_connected = [&] {
    return std::all_of(clients.begin(), clients.end(),
                       [](auto& c) { return c->peer->connected(); });
  };
  run_until(now_ns() + 30'000'000'000, [&] {
    if (std::getenv("SMOKE_DEBUG")) {
      int n = 0;
      for (auto& c : clients) n += c->peer->nominated();
      static int last = -1;
      if (n != last) std::printf("  %.3f s: %d nominated\n", double(now_ns() - t_connect) / 1e9, n);
      last = n;
    }
    return all_connected();
  });
  double connect_s = double(now_ns() - t_connect) / 1e9;
  int connected = int(
      std::count_if(clients.begin(), clients.end(), [](auto& c) { return c->peer->connected(); }));
  run_until(now_ns() + 1'000'000'000, nullptr);  // warm-up

  // The measured window.
  int64_t cpu0 = loadtest::process_cpu_ns(janus.pid);
  uint64_t rtp0 = sent_rtp;
  window.first = index;
  int64_t start = now_ns();
  run_until(start + int64_t(seconds) * 1'000'000'000, nullptr);
  window.end = index;
  uint64_t rtp_in_window = sent_rtp - rtp0;
  double wall_s = double(now_ns() - start) / 1e9;
  int64_t stop_sending = now_ns();
  while (now_ns() < stop_sending + 300'000'000) io.run_for(std::chrono::milliseconds(20));
  int64_t cpu_ns = loadtest::process_cpu_ns(janus.pid) - cpu0;
  int threads = loadtest::process_threads(janus.pid);

  uint64_t sent_video = window.end - window.first;
  uint64_t received = 0, srtp_failures = 0;
  int lossy = 0;
  for (auto& c : clients) {
    received += c->in_window;
    srtp_failures += c->peer->srtp_failures();
    if (c->peer->connected() && c->in_window * 100 < sent_video * 99) ++lossy;
  }
  uint64_t expected = sent_video * uint64_t(connected);
  double loss_pct =
      expected ? 100.0 * double(expected - std::min(expected, received)) / double(expected) : 0;
  std::sort(delays_us.begin(), delays_us.end());
  auto pct = [&](double q) {
    return delays_us.empty()
               ? 0
               : delays_us[std::min(delays_us.size() - 1, size_t(q * double(delays_us.size())))];
  };
  // Forwarded = every RTP packet of the window (video and audio) to every connected subscriber.
  double forwarded = double(rtp_in_window) * connected;
  double cpu_pct = 100.0 * double(cpu_ns) / (wall_s * 1e9);
  double us_per_packet = forwarded > 0 ? double(cpu_ns) / 1000.0 / forwarded : 0;
  std::printf("signalling %.2f s, ICE+DTLS %.2f s; subscribers connected: %d of %d\n", signal_s,
              connect_s, connected, subscribers);
  std::printf(
      "video packets sent %llu, received %llu of %llu (loss %.3f%%; %d subscribers "
      "above 1%%), SRTP failures %llu\n",
      (unsigned long long)sent_video, (unsigned long long)received, (unsigned long long)expected,
      loss_pct, lossy, (unsigned long long)srtp_failures);
  std::printf("delay through Janus: p50 %lld us, p99 %lld us, max %lld us\n", (long long)pct(0.5),
              (long long)pct(0.99), (long long)(delays_us.empty() ? 0 : delays_us.back()));
  std::printf(
      "Janus process CPU: %.1f%% of one core (%.2f s over %.1f s), %.2f us per forwarded "
      "RTP packet, %d threads\n",
      cpu_pct, double(cpu_ns) / 1e9, wall_s, us_per_packet, threads);
  std::printf(
      "{\"target\":\"janus\",\"subscribers\":%d,\"connected\":%d,\"sent\":%llu,"
      "\"received\":%llu,\"expected\":%llu,\"loss_pct\":%.3f,\"delay_p50_us\":%lld,"
      "\"delay_p99_us\":%lld,\"cpu_pct\":%.1f,\"cpu_us_per_packet\":%.3f,\"threads\":%d}\n",
      subscribers, connected, (unsigned long long)sent_video, (unsigned long long)received,
      (unsigned long long)expected, loss_pct, (long long)pct(0.5), (long long)pct(0.99), cpu_pct,
      us_per_packet, threads);
  clients.clear();
  return connected == subscribers && received * 100 >= expected * 99 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
