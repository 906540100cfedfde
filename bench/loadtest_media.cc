// edgeclass-loadtest media — N synthetic video subscribers on one published stream.
//
// Against a running edgeclass (default): sets up a course and a live session through the REST
// API, connects the teacher and N students to the live WebSocket, and signals over it as the
// pages do (`media.publish` / `media.subscribe` → `media.answer`). Media uses the SFU's one
// UDP port; every synthetic peer is media::SyntheticPeer (STUN, DTLS in client mode, SRTP):
// the same code as the server, on the client side. The teacher is a synthetic publisher that
// sends a VP8-shaped stream at --video-kbps (default 1,500) plus Opus-sized audio, paced like
// Chromium's pacer (a frame's packets spread at 2.5x the media rate).
//
// Every video packet carries its send time and an index in its payload, so each subscriber
// measures (after SRTP decryption) what it received: bitrate, loss (indices sent in the
// measurement window and never received), RFC 3550 interarrival jitter and the delay through
// the server. The server's own view comes from /metrics before and after (packets forwarded,
// forwarding latency histogram arrival→send, NACKs, PLIs) and its CPU time from /proc
// (--pid; the whole process and its `media` thread).
//
// --simulcast 1: the teacher publishes three layers (SimulcastGenerator; RIDs q/h/f in its
// offer as web/video.js's sendEncodings produce, the RID header extension on every packet,
// key frames every 2 s and on the SFU's PLI/FIR per layer) and the students are spread over
// them (--spread): each reports a REMB, once a second, that the SFU's LayerSelector answers
// with its intended layer (remb_for_layer). The SFU rewrites everything to one SSRC per
// subscriber, so each packet names its layer in the payload: every subscriber counts what
// it received of each layer, and one that ends up on another layer than intended counts as
// a failure. Loss is against the layer it received; CPU per forwarded packet divides by the
// packets of each subscriber's layer plus audio.
//
// Client and server share the machine: the delay includes the client's own scheduling.
#include "loadtest_media.h"

#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/random.h"
#include "base/strings.h"
#include "loadtest_common.h"
#include "loadtest_janus.h"
#include "media/common/bytes.h"
#include "media/rtcp/rtcp_packet.h"

namespace loadtest {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::ip::tcp;
using asio::ip::udp;

int64_t wall_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// ---- the stream --------------------------------------------------------------------------

std::vector<uint8_t> StreamGenerator::video_packet(uint32_t ssrc, bool frame_start, bool frame_end,
                                                   bool keyframe, size_t payload_bytes) {
  payload_bytes = std::max(payload_bytes, kPayloadHeader);
  std::vector<uint8_t> pkt(12 + payload_bytes, 0x5a);
  pkt[0] = 0x80;
  pkt[1] = uint8_t(kVideoPt | (frame_end ? 0x80 : 0));
  media::set_u16(&pkt[2], video_seq_++);
  media::set_u32(&pkt[4], video_ts_);
  media::set_u32(&pkt[8], ssrc);
  pkt[12] = frame_start ? 0x10 : 0x00;  // VP8 payload descriptor: S on a frame's first packet
  pkt[13] = keyframe ? 0x00 : 0x01;     // VP8 payload header: P=0 on key frames
  media::set_u64(&pkt[14], uint64_t(wall_ns()));
  media::set_u32(&pkt[22], next_index_++);
  return pkt;
}

std::vector<uint8_t> StreamGenerator::audio_packet(uint32_t ssrc) {
  std::vector<uint8_t> pkt(12 + 100, 0x11);
  pkt[0] = 0x80;
  pkt[1] = kAudioPt;
  media::set_u16(&pkt[2], audio_seq_++);
  media::set_u32(&pkt[4], audio_ts_);
  media::set_u32(&pkt[8], ssrc);
  audio_ts_ += 960;
  return pkt;
}

SimulcastGenerator::SimulcastGenerator(std::vector<LayerSpec> layers, uint64_t seed)
    : layers_(std::move(layers)), state_(layers_.size()) {
  base::SeededRandom random(seed);
  for (State& st : state_) {
    st.seq = uint16_t(random.next_u64());
    st.ts = uint32_t(random.next_u64());
    st.picture_id = uint16_t(random.next_u64() & 0x7fff);
    st.tl0 = uint8_t(random.next_u64());
  }
}

std::vector<uint8_t> SimulcastGenerator::video_packet(size_t layer, uint32_t ssrc, bool frame_start,
                                                      bool frame_end, bool keyframe,
                                                      size_t payload_bytes, uint8_t rid_ext_id) {
  State& st = state_[layer];
  const LayerSpec& spec = layers_[layer];
  std::vector<uint8_t> pkt(12, 0);
  pkt[0] = 0x80;
  pkt[1] = uint8_t(StreamGenerator::kVideoPt | (frame_end ? 0x80 : 0));
  media::set_u16(&pkt[2], st.seq++);
  media::set_u32(&pkt[4], st.ts);
  media::set_u32(&pkt[8], ssrc);
  if (rid_ext_id != 0) {
    // RFC 8285 one-byte header: the RID, padded to a word.
    pkt[0] |= 0x10;
    std::vector<uint8_t> ext{uint8_t(rid_ext_id << 4 | (spec.rid.size() - 1))};
    ext.insert(ext.end(), spec.rid.begin(), spec.rid.end());
    while (ext.size() % 4) ext.push_back(0);
    pkt.push_back(0xBE), pkt.push_back(0xDE);
    pkt.push_back(uint8_t(ext.size() / 4 >> 8)), pkt.push_back(uint8_t(ext.size() / 4));
    pkt.insert(pkt.end(), ext.begin(), ext.end());
  }
  size_t at = pkt.size();
  pkt.resize(at + std::max(payload_bytes, kPayloadHeader), 0x5a);
  uint8_t* p = &pkt[at];
  // VP8 payload descriptor (RFC 7741 4.2): X; S on the first packet, partition 0; I and L;
  // a 15-bit PictureID (M); TL0PICIDX.
  p[0] = uint8_t(0x80 | (frame_start ? 0x10 : 0));
  p[1] = 0xC0;
  p[2] = uint8_t(0x80 | (st.picture_id >> 8));
  p[3] = uint8_t(st.picture_id);
  p[4] = st.tl0;
  if (frame_start) {
    // VP8 frame header (RFC 6386 9.1): P (bit 0) clear on key frames, show_frame; a key
    // frame's start code and its size.
    p[5] = uint8_t(keyframe ? 0x10 : 0x11);
    p[6] = 0x00, p[7] = 0x01;
    if (keyframe) {
      p[8] = 0x9d, p[9] = 0x01, p[10] = 0x2a;
      p[11] = uint8_t(spec.width), p[12] = uint8_t(spec.width >> 8);
      p[13] = uint8_t(spec.height), p[14] = uint8_t(spec.height >> 8);
    }
  }
  media::set_u64(p + kStampAt, uint64_t(wall_ns()));
  media::set_u32(p + kStampAt + 8, next_index_++);
  p[kStampAt + 12] = uint8_t(layer);
  return pkt;
}

void SimulcastGenerator::end_frame(size_t layer, uint32_t ticks, bool keyframe) {
  State& st = state_[layer];
  st.ts += ticks;
  st.picture_id = uint16_t((st.picture_id + 1) & 0x7fff);
  // Without temporal layers every picture is a base-layer picture: TL0PICIDX counts them.
  st.tl0 = uint8_t(st.tl0 + 1);
  (void)keyframe;
}

// ---- what one subscriber saw ---------------------------------------------------------------

void SubscriberStats::on_video(std::span<const uint8_t> payload, uint32_t rtp_ts,
                               size_t packet_bytes, int64_t kernel_ns, int64_t decrypted_ns,
                               const Window& w) {
  const bool simulcast = stamp_at != 2;
  if (payload.size() < stamp_at + (simulcast ? 13 : 12)) return;
  int64_t sent = int64_t(media::get_u64(payload.data() + stamp_at));
  uint32_t index = media::get_u32(payload.data() + stamp_at + 8);
  int layer = simulcast ? std::min<int>(payload[stamp_at + 12], int(layer_packets.size()) - 1) : 0;
  bool in_window = sent >= w.start_ns && sent < w.end_ns && index >= w.first_index;
  if (simulcast && layer != last_layer) {
    if (last_layer >= 0) {
      ++layer_changes;
      if (in_window) ++layer_changes_in_window;
    }
    last_layer = layer;
  }
  // RFC 3550 A.8 interarrival jitter, in 90 kHz units, over every packet (not only the window).
  int64_t arrival_ts = kernel_ns * 9 / 100'000;
  int64_t transit = arrival_ts - int64_t(rtp_ts);
  if (have_transit_) {
    double d = std::fabs(double(transit - last_transit_));
    jitter_ts += (d - jitter_ts) / 16.0;
  }
  last_transit_ = transit;
  have_transit_ = true;
  if (!in_window) return;
  size_t slot = index - w.first_index;
  if (slot >= seen_.size()) seen_.resize(slot + 1024, false);
  if (seen_[slot]) {
    ++duplicates;
    return;
  }
  seen_[slot] = true;
  ++packets;
  bytes += packet_bytes;
  ++layer_packets[size_t(layer)];
  layer_bytes[size_t(layer)] += packet_bytes;
  int64_t delay_us = std::max<int64_t>(0, (kernel_ns - sent) / 1000);
  delay_us_sum += uint64_t(delay_us);
  delay_us_max = std::max(delay_us_max, delay_us);
  if (delays) delays->add(delay_us);
  if (app_delays) app_delays->add(std::max<int64_t>(0, (decrypted_ns - sent) / 1000));
}

void DelayHistogram::add(int64_t us) {
  size_t i = size_t(std::clamp<int64_t>(us / 10, 0, int64_t(counts_.size()) - 1));
  ++counts_[i];
  ++total_;
}

int64_t DelayHistogram::percentile_us(double q) const {
  if (total_ == 0) return 0;
  uint64_t want = uint64_t(std::ceil(q * double(total_)));
  uint64_t running = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    running += counts_[i];
    if (running >= want) return int64_t(i + 1) * 10;  // the bucket's upper edge
  }
  return int64_t(counts_.size()) * 10;
}

// ---- the server's /metrics -------------------------------------------------------------------

namespace {

// A scrape: sample name (with labels) -> value.
using Scrape = std::map<std::string, double>;

// `admin_port`: the server's admin listener (EDGECLASS_ADMIN_LISTEN), where /metrics is.
Scrape scrape_metrics(const ServerAddress& s, uint16_t admin_port) {
  Scrape out;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(asio::ip::make_address(s.host), admin_port));
    http::request<http::empty_body> req(http::verb::get, "/metrics", 11);
    req.set(http::field::host, s.host);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    std::string_view body = res.body();
    while (!body.empty()) {
      auto nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
      if (line.empty() || line[0] == '#') continue;
      auto sp = line.rfind(' ');
      if (sp == std::string_view::npos) continue;
      out[std::string(line.substr(0, sp))] =
          std::strtod(std::string(line.substr(sp + 1)).c_str(), nullptr);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scrape /metrics: %s\n", e.what());
  }
  return out;
}

double delta(const Scrape& a, const Scrape& b, const std::string& name) {
  auto ia = a.find(name), ib = b.find(name);
  return (ib == b.end() ? 0 : ib->second) - (ia == a.end() ? 0 : ia->second);
}

// Percentile of a Prometheus histogram's increase between two scrapes: the upper bound of
// the bucket that holds it (no interpolation), in seconds; +Inf when it is in the last one.
double histogram_percentile(const Scrape& a, const Scrape& b, const std::string& name, double q) {
  std::vector<std::pair<double, double>> buckets;  // le, cumulative increase
  std::string prefix = name + "_bucket{le=\"";
  for (const auto& [key, value] : b) {
    if (key.rfind(prefix, 0) != 0) continue;
    std::string le = key.substr(prefix.size(), key.size() - prefix.size() - 2);
    double bound = le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
    buckets.emplace_back(bound, delta(a, b, key));
  }
  std::sort(buckets.begin(), buckets.end());
  if (buckets.empty() || buckets.back().second <= 0) return NAN;
  double want = q * buckets.back().second;
  for (const auto& [bound, count] : buckets) {
    if (count >= want) return bound;
  }
  return INFINITY;
}

// ---- edgeclass: WebSocket signalling --------------------------------------------------------

struct LiveConn {
  explicit LiveConn(asio::any_io_executor ex) : ws(ex) {}
  websocket::stream<beast::tcp_stream> ws;
  std::string pending_ref;  // the media offer's ref we wait for
  std::string answer;       // its answer's SDP (or "" with error set)
  std::string error;
  bool answered = false;
  bool open = false;
};

awaitable<void> read_live(std::shared_ptr<LiveConn> c) {
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await c->ws.async_read(buf, kNoThrow);
    if (ec) break;
    std::string_view text(static_cast<const char*>(buf.data().data()), buf.size());
    if (!c->answered && text.find(c->pending_ref) != std::string_view::npos) {
      boost::system::error_code jec;
      json::value v = json::parse(text, jec);
      if (!jec && v.is_object()) {
        const json::object& o = v.as_object();
        auto type = o.if_contains("type");
        auto ref = o.if_contains("ref");
        if (type && ref && ref->is_string() && ref->as_string() == c->pending_ref) {
          if (type->as_string() == "media.answer") {
            c->answer = std::string(o.at("sdp").as_string());
          } else {
            c->error = std::string(text);
          }
          c->answered = true;
        }
      }
    }
    buf.consume(buf.size());
  }
  c->open = false;
}

awaitable<bool> connect_live(const ServerAddress& s, std::shared_ptr<LiveConn> c,
                             std::string target) {
  auto& sock = beast::get_lowest_layer(c->ws).socket();
  auto [cec] =
      co_await sock.async_connect(tcp::endpoint(asio::ip::make_address(s.host), s.port), kNoThrow);
  if (cec) co_return false;
  auto [hec] = co_await c->ws.async_handshake(s.host, target, kNoThrow);
  if (hec) co_return false;
  c->open = true;
  asio::co_spawn(c->ws.get_executor(), read_live(c), asio::detached);
  co_return true;
}

// Sends a media offer and waits (up to 20 s) for its answer.
awaitable<std::string> signal_offer(std::shared_ptr<LiveConn> c, const char* type,
                                    const std::string& ref, const std::string& offer) {
  c->pending_ref = ref;
  c->answered = false;
  json::object msg;
  msg["type"] = type;
  msg["sdp"] = offer;
  msg["ref"] = ref;
  std::string text = json::serialize(msg);
  auto [wec, wn] = co_await c->ws.async_write(asio::buffer(text), kNoThrow);
  if (wec) co_return std::string();
  for (int i = 0; i < 4000 && !c->answered && c->open; ++i) co_await sleep_ms(5);
  if (!c->error.empty()) std::fprintf(stderr, "%s refused: %s\n", type, c->error.c_str());
  co_return c->answer;
}

}  // namespace

// ---- one synthetic peer with its own UDP socket --------------------------------------------

Subscriber::Subscriber(asio::io_context& io, udp::endpoint remote)
    : socket_(io, udp::endpoint(remote.address().is_v6() ? udp::v6() : udp::v4(), 0)) {
  boost::system::error_code ec;
  socket_.set_option(asio::socket_base::receive_buffer_size(1 << 20), ec);
  socket_.connect(remote, ec);
}

Subscriber::~Subscriber() {
  boost::system::error_code ec;
  socket_.close(ec);
}

void Subscriber::connect_to(udp::endpoint remote) {
  boost::system::error_code ec;
  socket_.connect(remote, ec);
}

void Subscriber::send_to_sfu(media::ByteSpan d) {
  boost::system::error_code ec;
  socket_.send(asio::buffer(d.data(), d.size()), 0, ec);
}

void Subscriber::start_receiving(const Window* window) {
  window_ = window;
  peer->on_rtp = [this](const media::RtpPacket& p) {
    if (p.payload_type() != StreamGenerator::kVideoPt) return;
    stats.video_ssrc = p.ssrc();
    stats.on_video(p.payload(), p.timestamp(), last_size_, kernel_ns_, wall_ns(), *window_);
  };
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  int on = 1;
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  wait_readable();
}

// Readiness, then every queued datagram with recvmsg(2): the kernel's receive timestamp
// (SO_TIMESTAMPNS) is when the datagram reached this socket, which keeps this tool's own
// scheduling out of the delay through the server.
void Subscriber::wait_readable() {
  socket_.async_wait(boost::asio::socket_base::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;
                       drain();
                       wait_readable();
                     });
}

void Subscriber::drain() {
  for (;;) {
    iovec iov{buf_.data(), buf_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) return;  // EAGAIN: drained
    kernel_ns_ = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        kernel_ns_ = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
      }
    }
    if (kernel_ns_ == 0) kernel_ns_ = wall_ns();
    last_size_ = size_t(n);
    rx_bytes += uint64_t(n);
    if (link_bps > 0) {
      if (queue_at_ns > 0 && kernel_ns_ > queue_at_ns) {
        queue_bits =
            std::max(0.0, queue_bits - double(kernel_ns_ - queue_at_ns) * double(link_bps) / 1e9);
      }
      queue_at_ns = std::max(queue_at_ns, kernel_ns_);
      queue_bits += double(n) * 8;
      queue_max_s = std::max(queue_max_s, queue_bits / double(link_bps));
    }
    peer->receive(std::span<uint8_t>(buf_.data(), size_t(n)));
  }
}

// ---- the run ----------------------------------------------------------------------------------

namespace {

struct Options : ServerAddress {
  int subscribers = 100;
  int seconds = 10;
  int warmup_s = 2;
  int video_kbps = 1500;
  bool audio = true;
  int pid = 0;
  int admin_port = 9091;  // the server's admin listener, for /metrics
  int concurrency = 50;
  std::string csv;  // per-subscriber results
  std::string target = "edgeclass";
  JanusOptions janus;  // --target janus: --janus-url, --janus-rtp-port, --janus-script
  // --simulcast 1: three layers (--layers-kbps, lowest first) instead of one stream;
  // subscribers are spread over them by --spread (weights, lowest first) through the
  // bandwidth estimate they report (edgeclass) or the substream they ask for (Janus).
  bool simulcast = false;
  std::vector<int> layers_kbps{150, 500, 1500};
  std::vector<int> spread{1, 1, 1};
  // --remb 0: the subscribers report no estimate (a check that the layer check can fail:
  // the SFU then keeps them on the lowest layer, so the others count as not on their layer).
  bool remb = true;
};

struct Run {
  Options o;
  asio::io_context io;
  base::SeededRandom random{uint64_t(now_ns())};
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  // Sends one plain RTP packet of the publisher (SRTP for edgeclass, plain UDP for Janus).
  std::function<void(std::vector<uint8_t>)> publish;
  uint32_t video_ssrc = 0x1234, audio_ssrc = 0x5678;
  std::function<void()> timers;  // the publisher's periodic work
  Window window;
  uint64_t published = 0;  // RTP packets the publisher sent (audio and video)
  // Packets published in the window x subscribers connected: what the server had to send,
  // counted the same way for every target (edgeclass's /metrics counters move once a second,
  // too coarse to divide a 10 s window's CPU by).
  uint64_t forwarded = 0;
  DelayHistogram delays;      // publisher send -> subscriber socket (kernel timestamp)
  DelayHistogram app_delays;  // publisher send -> decrypted in this tool
  // Simulcast.
  std::unique_ptr<SimulcastGenerator> sim;
  std::vector<uint32_t> layer_ssrcs;  // the publisher's, per layer
  uint8_t rid_ext_id = 0;             // edgeclass: the RID header extension's id
  std::vector<int> intended;          // per subscriber: the layer it should end up on
  std::vector<uint64_t> remb_bps;     // per subscriber: the estimate it reports (edgeclass)
  std::array<bool, 4> key_wanted{};   // a keyframe request for the layer came in
  std::array<int64_t, 4> last_key_ns{};
  uint64_t keyframe_requests = 0;  // PLI/FIR the publisher got
  uint64_t remb_falls = 0;         // REMBs sent fallen (a subscriber's link overrun)
  std::array<uint64_t, 4> keyframes_sent{}, layer_sent{};  // layer_sent: video packets in window
  std::array<uint64_t, 4> layer_sent_total{};
  uint64_t audio_sent_in_window = 0;
  // The publisher's pacing in the window: video packets sent more than 20 ms after their
  // time (the tool starved of CPU: the server then sees the layers below their rates, and
  // the run says more about this machine than about the server), and the worst lag.
  uint64_t video_sent_in_window = 0, video_late_in_window = 0;
  int64_t max_lag_ns = 0;
  uint64_t frames = 0;
  StreamGenerator audio_gen;  // simulcast: the audio beside the layers
  std::vector<uint8_t> audio_packet() { return audio_gen.audio_packet(audio_ssrc); }
};

// The subscribers' spread: subscriber i's layer, by weighted round robin over `spread`
// (1,1,1: 0,1,2,0,1,2,...), so every subscriber count gets the same proportions.
std::vector<int> spread_layers(int n, const std::vector<int>& spread) {
  std::vector<int> out;
  std::vector<int> credit(spread.size(), 0);
  int total = 0;
  for (int w : spread) total += w;
  for (int i = 0; i < n; ++i) {
    // Smooth weighted round robin: the layer furthest behind its share goes next.
    size_t best = 0;
    for (size_t k = 0; k < spread.size(); ++k) {
      credit[k] += spread[k];
      if (credit[k] > credit[best]) best = k;
    }
    credit[best] -= total;
    out.push_back(int(best));
  }
  return out;
}

// The link of a subscriber meant for layer k, which it reports to edgeclass as its REMB,
// from what the SFU's LayerSelector does (src/media/sfu/layer_selector.h): it goes up when
// the next layer x 1.1 fits 95 % of the estimate less what the subscriber gets besides (audio,
// under 55 kbit/s with headers), or when the estimate is 1.3x to 2x everything the subscriber
// receives (the probe band), either held for 2 s; down when the estimate falls below the
// layer. The estimate sits halfway (geometrically) between the top of the probe band over
// layer k and the fit of layer k + 1: about 25 % from each, so neither a sustained pacing
// dip nor a sustained shortfall of the layer above (a starved publisher) moves it, and 95 %
// of it (a congested second, below) still fits layer k. The top layer's subscribers report
// 20 Mbit/s.
uint64_t remb_for_layer(const std::vector<int>& kbps, int k) {
  if (k + 1 >= int(kbps.size())) return 20'000'000;
  const double audio = 55'000;
  auto layer_bps = [&](int i) { return kbps[size_t(i)] * 1000.0 * 1.02; };  // + the RID extension
  double probe_top = 2.0 * (layer_bps(k) + audio);
  double next_fits = (1.1 * layer_bps(k + 1) + audio) / 0.95;
  return uint64_t(std::sqrt(probe_top * next_fits));
}

// A video packet due at `at` goes out now: counts it late when 20 ms or more behind.
void note_lag(Run& r, int64_t at, bool in_window) {
  if (!in_window) return;
  int64_t lag = now_ns() - at;
  ++r.video_sent_in_window;
  if (lag >= 20'000'000) ++r.video_late_in_window;
  r.max_lag_ns = std::max(r.max_lag_ns, lag);
}

// The paced stream: 30 fps, a key frame every 2 s, a frame's packets spread at 2.5x the
// media rate; audio 20 ms packets. Returns the video packets sent in the window.
uint64_t send_stream(Run& r, StreamGenerator& gen, int64_t until_ns, bool mark_window) {
  const int fps = 30;
  const double frame_bytes = double(r.o.video_kbps) * 1000 / 8 / fps;
  const size_t per_frame = size_t(std::ceil(frame_bytes / 1150.0));
  const size_t packet_bytes = size_t(frame_bytes / double(per_frame));
  const int64_t frame_ns = 1'000'000'000 / fps;
  const int64_t spacing_ns =
      int64_t(double(packet_bytes) * 8 * 1e9 / (2.5 * r.o.video_kbps * 1000));
  asio::steady_timer pace(r.io);
  uint64_t sent = 0;
  int64_t next_audio = now_ns();
  for (int64_t frame_at = now_ns(); frame_at < until_ns; frame_at += frame_ns) {
    bool key = gen.frames() % (2 * fps) == 0;
    for (size_t k = 0; k < per_frame; ++k) {
      int64_t at = frame_at + int64_t(k) * spacing_ns;
      while (now_ns() < at) r.io.run_for(std::chrono::nanoseconds(at - now_ns()));
      note_lag(r, at, mark_window);
      while (r.o.audio && next_audio <= now_ns()) {
        r.publish(gen.audio_packet(r.audio_ssrc));
        next_audio += 20'000'000;
      }
      r.publish(gen.video_packet(r.video_ssrc, k == 0, k + 1 == per_frame, key, packet_bytes - 12));
      ++sent;
    }
    gen.end_frame(90000 / fps);
    if (r.timers) r.timers();
  }
  return sent;
}

// The simulcast publisher: each 30 fps frame on every layer, lowest first (a layer's packets
// of ~1,150 bytes), paced at 2.5x the layers' total rate; a key frame on every layer every
// 2 s as in the single-stream run, and on a layer as soon as a PLI/FIR for it came in (at
// most one per layer per 200 ms, as a browser's encoder would). Returns the video packets
// sent; counts them per layer in the window.
uint64_t send_simulcast(Run& r, int64_t until_ns, bool in_window) {
  SimulcastGenerator& gen = *r.sim;
  const int fps = 30;
  const int64_t frame_ns = 1'000'000'000 / fps;
  struct Plan {
    size_t per_frame, packet_bytes;
  };
  std::vector<Plan> plan;
  double total_kbps = 0;
  for (const auto& l : gen.layers()) {
    double frame_bytes = double(l.kbps) * 1000 / 8 / fps;
    size_t n = size_t(std::ceil(frame_bytes / 1150.0));
    plan.push_back({n, size_t(frame_bytes / double(n))});
    total_kbps += l.kbps;
  }
  const size_t header = 12 + (r.rid_ext_id ? 8 : 0);
  uint64_t sent = 0;
  int64_t next_audio = now_ns();
  for (int64_t frame_at = now_ns(); frame_at < until_ns; frame_at += frame_ns) {
    int64_t at = frame_at;
    bool periodic = r.frames % (2 * fps) == 0;
    for (size_t li = 0; li < plan.size(); ++li) {
      bool key = periodic || r.key_wanted[li];
      r.key_wanted[li] = false;
      if (key) {
        ++r.keyframes_sent[li];
        r.last_key_ns[li] = now_ns();
      }
      for (size_t k = 0; k < plan[li].per_frame; ++k) {
        while (now_ns() < at) r.io.run_for(std::chrono::nanoseconds(at - now_ns()));
        note_lag(r, at, in_window);
        while (r.o.audio && next_audio <= now_ns()) {
          r.publish(r.audio_packet());
          if (in_window) ++r.audio_sent_in_window;
          next_audio += 20'000'000;
        }
        size_t bytes = plan[li].packet_bytes;
        r.publish(gen.video_packet(li, r.layer_ssrcs[li], k == 0, k + 1 == plan[li].per_frame, key,
                                   bytes > header ? bytes - header : 0, r.rid_ext_id));
        ++sent;
        ++r.layer_sent_total[li];
        if (in_window) ++r.layer_sent[li];
        at += int64_t(double(bytes) * 8 * 1e9 / (2.5 * total_kbps * 1000));
      }
      gen.end_frame(li, 90000 / fps, key);
    }
    ++r.frames;
    if (r.timers) r.timers();
  }
  return sent;
}

// A keyframe request from the server for the publisher's `ssrc` (or for all layers).
void on_keyframe_request(Run& r, std::optional<uint32_t> ssrc) {
  ++r.keyframe_requests;
  int64_t now = now_ns();
  for (size_t li = 0; li < r.layer_ssrcs.size(); ++li) {
    if (ssrc && *ssrc != r.layer_ssrcs[li]) continue;
    if (now - r.last_key_ns[li] >= 200'000'000) r.key_wanted[li] = true;
  }
}

// The teacher's offer with simulcast, as Chromium writes it for three encodings with RIDs
// (web/video.js sendEncodings): the RID header extension, a=rid send per layer and
// a=simulcast:send, lowest first as the page lists them; no a=ssrc for the video (the SFU
// learns each layer's SSRC from the RID extension). The video section is the offer's last.
std::string simulcast_offer(std::string offer, uint32_t video_ssrc, uint8_t rid_ext_id,
                            const SimulcastGenerator& gen) {
  std::string ssrc_line = "a=ssrc:" + std::to_string(video_ssrc) + " ";
  auto p = offer.find(ssrc_line);
  if (p != std::string::npos) offer.erase(p, offer.find("\r\n", p) + 2 - p);
  offer += "a=extmap:" + std::to_string(rid_ext_id) +
           " urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n";
  std::string order;
  for (const auto& l : gen.layers()) {
    offer += "a=rid:" + l.rid + " send\r\n";
    order += (order.empty() ? "" : ";") + l.rid;
  }
  offer += "a=simulcast:send " + order + "\r\n";
  return offer;
}

awaitable<bool> setup_edgeclass(Run& r, Room& room, std::vector<std::shared_ptr<LiveConn>>& conns,
                                std::unique_ptr<Subscriber>& teacher) {
  const Options& o = r.o;
  int64_t t0 = now_ns();
  if (!co_await setup_room(o, room, "media" + std::to_string(now_ns() % 100000), o.subscribers,
                           false)) {
    co_return false;
  }
  std::printf("setup: course with %d enrolled students in %.1fs\n", o.subscribers,
              double(now_ns() - t0) / 1e9);
  auto ex = co_await asio::this_coro::executor;
  // The media port: the SFU's answer names it in its candidate.
  auto media_endpoint = [&](const std::string& answer) -> std::optional<udp::endpoint> {
    auto p = answer.find("a=candidate:");
    if (p == std::string::npos) return std::nullopt;
    std::string line = answer.substr(p, answer.find('\r', p) - p);
    std::vector<std::string> f;
    for (size_t i = 0, j; i < line.size(); i = j + 1) {
      j = line.find(' ', i);
      if (j == std::string::npos) j = line.size();
      f.push_back(line.substr(i, j - i));
    }
    if (f.size() < 6) return std::nullopt;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(f[4], ec);
    auto port = base::parse_int(f[5]);
    if (ec || !port) return std::nullopt;
    return udp::endpoint(addr, uint16_t(*port));
  };

  // The teacher publishes.
  auto tc = std::make_shared<LiveConn>(ex);
  if (!co_await connect_live(o, tc, live_target(room, room.teacher_token))) co_return false;
  conns.push_back(tc);
  // The socket is connected once the answer names the port; until then a placeholder.
  udp::endpoint placeholder(asio::ip::make_address(o.host), 9);
  teacher = std::make_unique<Subscriber>(r.io, placeholder);
  teacher->peer =
      media::SyntheticPeer::create(teacher.get(), &base::SystemClock::instance(), r.random, true)
          .value();
  std::string offer = teacher->peer->offer();
  if (r.sim) {
    r.rid_ext_id = 10;
    offer = simulcast_offer(offer, teacher->peer->video_ssrc(), r.rid_ext_id, *r.sim);
    teacher->peer->on_rtcp = [&r](media::ByteSpan data) {
      auto packets = media::rtcp::parse_compound(data);
      if (!packets.is_ok()) return;
      for (const auto& p : *packets) {
        if (auto* pli = std::get_if<media::rtcp::Pli>(&p)) {
          on_keyframe_request(r, pli->media_ssrc);
        } else if (auto* fir = std::get_if<media::rtcp::Fir>(&p)) {
          for (const auto& e : fir->entries) on_keyframe_request(r, e.ssrc);
        }
      }
    };
  }
  std::string answer = co_await signal_offer(tc, "media.publish", "pub", offer);
  auto ep = media_endpoint(answer);
  if (answer.empty() || !ep || !teacher->peer->set_answer(answer).is_ok()) {
    std::fprintf(stderr, "publish: no usable answer\n");
    co_return false;
  }
  if (r.sim && answer.find("a=simulcast:recv") == std::string::npos) {
    std::fprintf(stderr, "publish: the SFU's answer accepts no simulcast:\n%s\n", answer.c_str());
    co_return false;
  }
  teacher->connect_to(*ep);
  teacher->start_receiving(&r.window);
  teacher->peer->start();
  r.video_ssrc = teacher->peer->video_ssrc();
  r.audio_ssrc = teacher->peer->audio_ssrc();

  // The students subscribe, `concurrency` at a time.
  r.subscribers.resize(size_t(o.subscribers));
  int failed = 0;
  int64_t s0 = now_ns();
  co_await for_each_limited(o.subscribers, o.concurrency, [&](int i) -> awaitable<void> {
    auto c = std::make_shared<LiveConn>(ex);
    if (!co_await connect_live(o, c, live_target(room, room.students[size_t(i)]))) {
      ++failed;
      co_return;
    }
    conns.push_back(c);
    auto sub = std::make_unique<Subscriber>(r.io, *ep);
    sub->peer =
        media::SyntheticPeer::create(sub.get(), &base::SystemClock::instance(), r.random, false)
            .value();
    std::string a = co_await signal_offer(c, "media.subscribe", "sub", sub->peer->offer());
    if (a.empty() || !sub->peer->set_answer(a).is_ok()) {
      ++failed;
      co_return;
    }
    sub->start_receiving(&r.window);
    sub->peer->start();
    r.subscribers[size_t(i)] = std::move(sub);
  });
  std::printf("signalling: %d subscribers answered in %.1fs (%d failed)\n", o.subscribers - failed,
              double(now_ns() - s0) / 1e9, failed);
  co_return failed == 0;
}

int report(Run& r, uint64_t sent_in_window, const Scrape& m0, const Scrape& m1, int64_t cpu0,
           int64_t cpu1, int64_t media_cpu0, int64_t media_cpu1, int64_t own_cpu, double window_s) {
  const Options& o = r.o;
  int connected = 0;
  std::vector<double> kbps, loss, jitter_ms;
  uint64_t received = 0, duplicates = 0;
  std::FILE* csv = o.csv.empty() ? nullptr : std::fopen(o.csv.c_str(), "w");
  if (csv) {
    std::fprintf(csv,
                 "subscriber,connected,packets,expected,loss_pct,kbps,jitter_ms,delay_avg_us,delay_"
                 "max_us");
    if (r.sim) {
      std::fprintf(csv, ",intended_layer,layer,layer_changes");
      for (size_t q = 0; q < r.sim->layers().size(); ++q) std::fprintf(csv, ",layer%zu_bytes", q);
    }
    std::fprintf(csv, "\n");
  }
  // Simulcast: each subscriber is judged on the layer it received most of in the window.
  const size_t nl = r.sim ? r.sim->layers().size() : 1;
  std::vector<int> got_count(nl, 0), intended_count(nl, 0), wrong_layer(nl, 0);
  std::vector<std::vector<double>> layer_kbps(nl);
  int mismatched = 0, switched_in_window = 0, switched_in_run = 0;
  uint64_t expected_sum = 0;
  if (r.sim) r.forwarded = 0;
  for (size_t i = 0; i < r.subscribers.size(); ++i) {
    const Subscriber* s = r.subscribers[i].get();
    bool ok = s && s->peer->connected();
    connected += ok;
    const SubscriberStats empty;
    const SubscriberStats& st = s ? s->stats : empty;
    uint64_t exp_i = sent_in_window, got_i = st.packets;
    int main_layer = 0;
    if (r.sim) {
      int want = r.intended[i];
      main_layer = want;
      for (size_t k = 0; k < nl; ++k) {
        if (st.layer_packets[k] > st.layer_packets[size_t(main_layer)]) main_layer = int(k);
      }
      exp_i = r.layer_sent[size_t(main_layer)];
      got_i = st.layer_packets[size_t(main_layer)];
      ++intended_count[size_t(want)];
      if (st.packets > 0) ++got_count[size_t(main_layer)];
      if (main_layer != want || st.packets == 0) {
        ++mismatched;
        ++wrong_layer[size_t(want)];
      }
      switched_in_window += st.layer_changes_in_window > 0;
      switched_in_run += st.layer_changes > 0;
      layer_kbps[size_t(main_layer)].push_back(double(st.bytes) * 8 / window_s / 1000);
      if (ok) r.forwarded += exp_i + r.audio_sent_in_window;
    }
    expected_sum += exp_i;
    double l = exp_i ? 100.0 * double(exp_i - std::min(exp_i, got_i)) / double(exp_i) : 0;
    double k = double(st.bytes) * 8 / window_s / 1000;
    double j = st.jitter_ts / 90.0;
    kbps.push_back(k);
    loss.push_back(l);
    jitter_ms.push_back(j);
    received += got_i;
    duplicates += st.duplicates;
    if (csv) {
      std::fprintf(csv, "%zu,%d,%" PRIu64 ",%" PRIu64 ",%.3f,%.1f,%.3f,%.0f,%" PRId64, i, ok, got_i,
                   exp_i, l, k, j, st.packets ? double(st.delay_us_sum) / double(st.packets) : 0.0,
                   st.delay_us_max);
      if (r.sim) {
        std::fprintf(csv, ",%d,%d,%d", r.intended[i], main_layer, st.layer_changes);
        for (size_t q = 0; q < nl; ++q) std::fprintf(csv, ",%" PRIu64, st.layer_bytes[q]);
      }
      std::fprintf(csv, "\n");
    }
  }
  if (csv) std::fclose(csv);
  auto spread = [](std::vector<double> v, const char* unit, const char* what) {
    std::sort(v.begin(), v.end());
    if (v.empty()) return;
    auto at = [&](double q) { return v[std::min(v.size() - 1, size_t(q * double(v.size())))]; };
    std::printf("  %-22s min %.2f  p50 %.2f  p99 %.2f  max %.2f %s\n", what, v.front(), at(0.5),
                at(0.99), v.back(), unit);
  };
  uint64_t expected = expected_sum;
  std::printf("subscribers connected: %d of %d\n", connected, o.subscribers);
  std::printf(
      "video packets in the %.1fs window: sent %" PRIu64 ", received %" PRIu64 " of %" PRIu64
      " (loss %.4f%%, %" PRIu64 " duplicates)\n",
      window_s, sent_in_window, received, expected,
      expected ? 100.0 * double(expected - std::min(expected, received)) / double(expected) : 0.0,
      duplicates);
  if (r.sim) {
    std::string got, want, sent_s;
    for (size_t k = 0; k < nl; ++k) {
      const auto& spec = r.sim->layers()[k];
      std::printf("layer %zu (rid %s, %d kbit/s): %" PRIu64 " packets sent in the window, %" PRIu64
                  " key frames in the run; meant for %d "
                  "subscribers, received by %d (%d of those meant for it got another)\n",
                  k, spec.rid.c_str(), spec.kbps, r.layer_sent[k], r.keyframes_sent[k],
                  intended_count[k], got_count[k], wrong_layer[k]);
      auto& v = layer_kbps[k];
      std::sort(v.begin(), v.end());
      if (!v.empty())
        std::printf("  their received video bitrate: min %.1f  p50 %.1f  max %.1f kbit/s\n",
                    v.front(), v[v.size() / 2], v.back());
    }
    std::printf(
        "simulcast: %d subscribers not on their intended layer, %d changed layer during the "
        "window, %d during the run (warm-up included: the server moved them); %" PRIu64
        " keyframe requests reached the publisher; %" PRIu64
        " REMBs fell (a subscriber's modelled link overrun by more than a quarter second)\n",
        mismatched, switched_in_window, switched_in_run, r.keyframe_requests, r.remb_falls);
    auto sw = m1.find("edgeclass_media_layer_switches_total");
    if (sw != m1.end())
      std::printf("  the server's own count (/metrics, whole run): %.0f layer switches\n",
                  sw->second);
  }
  std::printf("per subscriber:\n");
  spread(kbps, "kbit/s", "received video bitrate");
  spread(loss, "%", "loss");
  spread(jitter_ms, "ms", "jitter (RFC 3550)");
  auto ms = [](const DelayHistogram& h, double q) { return double(h.percentile_us(q)) / 1000; };
  std::printf(
      "delay publisher -> subscriber socket (through the server, kernel receive "
      "timestamp): p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms\n",
      ms(r.delays, 0.5), ms(r.delays, 0.99), ms(r.delays, 0.999));
  std::printf(
      "  ... -> decrypted by this tool (adds the tool's own queueing): p50 %.2f ms  "
      "p99 %.2f ms\n",
      ms(r.app_delays, 0.5), ms(r.app_delays, 0.99));
  double fwd_p50 = NAN, fwd_p99 = NAN, packets_out = double(r.forwarded);
  if (!m1.empty()) {
    double metrics_out = delta(m0, m1, "edgeclass_media_sent_packets_total");
    fwd_p50 = histogram_percentile(m0, m1, "edgeclass_media_forward_latency_seconds", 0.5);
    fwd_p99 = histogram_percentile(m0, m1, "edgeclass_media_forward_latency_seconds", 0.99);
    std::printf(
        "server (/metrics, counters move once a second): %.0f RTP packets out (%.0f/s), "
        "%.0f NACKed, %.0f PLIs in, "
        "%.0f dropped; forwarding latency (arrival -> sent) p50 <= %.3f ms, p99 <= %.3f ms\n",
        metrics_out, metrics_out / window_s, delta(m0, m1, "edgeclass_media_nacks_received_total"),
        delta(m0, m1, "edgeclass_media_plis_received_total"),
        delta(m0, m1, "edgeclass_media_packets_dropped_total"), fwd_p50 * 1000, fwd_p99 * 1000);
  }
  double proc_core = cpu0 >= 0 ? double(cpu1 - cpu0) / 1e9 / window_s : NAN;
  double media_core = media_cpu0 >= 0 ? double(media_cpu1 - media_cpu0) / 1e9 / window_s : NAN;
  if (cpu0 >= 0) {
    std::printf(
        "server CPU: process %.1f%% of a core, media thread %.1f%%; %.2f us of process CPU "
        "per forwarded packet; %.0f subscribers per core at this rate\n",
        100 * proc_core, 100 * media_core,
        packets_out > 0 ? double(cpu1 - cpu0) / 1000 / packets_out : NAN,
        proc_core > 0 ? double(connected) / proc_core : NAN);
  }
  std::printf("load tool CPU: %.1f%% of a core\n", double(own_cpu) / 1e9 / window_s * 100);
  const double late_pct = r.video_sent_in_window ? 100.0 * double(r.video_late_in_window) /
                                                       double(r.video_sent_in_window)
                                                 : 0;
  std::printf(
      "publisher pacing: %.1f%% of the window's video packets sent 20 ms or more late, "
      "worst %.1f ms%s\n",
      late_pct, double(r.max_lag_ns) / 1e6,
      late_pct > 5 ? " (this tool was starved: the run measures the machine, not the server)" : "");
  std::string sim_json;
  if (r.sim) {
    auto join = [](const std::vector<int>& v) {
      std::string out;
      for (int x : v) out += (out.empty() ? "" : "/") + std::to_string(x);
      return out;
    };
    sim_json = ",\"simulcast\":true,\"layers_intended\":\"" + join(intended_count) +
               "\",\"layers_got\":\"" + join(got_count) +
               "\",\"mismatched\":" + std::to_string(mismatched) +
               ",\"switched_in_window\":" + std::to_string(switched_in_window) +
               ",\"switched_in_run\":" + std::to_string(switched_in_run) +
               ",\"keyframe_requests\":" + std::to_string(r.keyframe_requests) +
               ",\"remb_falls\":" + std::to_string(r.remb_falls);
  }
  // JSON has no NaN: what was not measured (Janus has no /metrics or media thread) is null.
  auto num = [](double v, int decimals) {
    if (!std::isfinite(v)) return std::string("null");
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return std::string(b);
  };
  std::printf(
      "{\"target\":\"%s\",\"subscribers\":%d,\"connected\":%d,\"video_kbps\":%d,\"sent\":%" PRIu64
      ",\"received\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"delay_p50_us\":%" PRId64
      ",\"delay_p99_us\":%" PRId64
      ",\"forward_p99_ms\":%s,\"server_core\":%s,"
      "\"media_thread_core\":%s,\"server_us_per_packet\":%s,\"publisher_late_pct\":%s%s}\n",
      o.target.c_str(), o.subscribers, connected, o.video_kbps, sent_in_window, received, expected,
      r.delays.percentile_us(0.5), r.delays.percentile_us(0.99), num(fwd_p99 * 1000, 3).c_str(),
      num(proc_core, 4).c_str(), num(media_core, 4).c_str(),
      num(packets_out > 0 && cpu0 >= 0 ? double(cpu1 - cpu0) / 1000 / packets_out : NAN, 3).c_str(),
      num(late_pct, 2).c_str(), sim_json.c_str());
  std::fflush(stdout);
  return connected == o.subscribers && received * 1000 >= expected * 999 && mismatched == 0 ? 0 : 1;
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 0; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    auto num = [&](int& out) {
      auto n = base::parse_int(v);
      if (!n || *n < 0) return false;
      out = int(*n);
      return true;
    };
    int port = o.port, audio = o.audio, simulcast = o.simulcast, remb = o.remb;
    auto list = [&](std::vector<int>& out) {
      out.clear();
      for (const auto& part : base::split(v, ',')) {
        auto n = base::parse_int(part);
        if (!n || *n < 0) return false;
        out.push_back(int(*n));
      }
      return out.size() == 3;
    };
    bool ok = k == "--secret"           ? (o.secret = v, true)
              : k == "--host"           ? (o.host = v, true)
              : k == "--port"           ? (num(port) && (o.port = uint16_t(port), true))
              : k == "--subscribers"    ? num(o.subscribers)
              : k == "--seconds"        ? num(o.seconds)
              : k == "--warmup"         ? num(o.warmup_s)
              : k == "--video-kbps"     ? num(o.video_kbps)
              : k == "--audio"          ? (num(audio) && (o.audio = audio != 0, true))
              : k == "--simulcast"      ? (num(simulcast) && (o.simulcast = simulcast != 0, true))
              : k == "--layers-kbps"    ? list(o.layers_kbps)
              : k == "--spread"         ? list(o.spread)
              : k == "--remb"           ? (num(remb) && (o.remb = remb != 0, true))
              : k == "--pid"            ? num(o.pid)
              : k == "--admin-port"     ? num(o.admin_port)
              : k == "--concurrency"    ? num(o.concurrency)
              : k == "--csv"            ? (o.csv = v, true)
              : k == "--target"         ? (o.target = v, v == "edgeclass" || v == "janus")
              : k == "--janus-url"      ? (o.janus.url = v, true)
              : k == "--janus-rtp-port" ? num(o.janus.rtp_port)
              : k == "--janus-script"   ? (o.janus.script = v, true)
                                        : false;
    if (!ok) {
      std::fprintf(stderr, "loadtest media: bad flag %s %s\n", k.c_str(), v.c_str());
      return false;
    }
  }
  if (o.secret.empty() && o.target == "edgeclass") {
    std::fprintf(stderr, "loadtest media: --secret (the server's JWT secret) is required\n");
    return false;
  }
  if (o.target == "janus" && o.janus.url.empty() && o.janus.script.empty()) {
    std::fprintf(stderr,
                 "loadtest media: --target janus needs --janus-url URL --janus-rtp-port P "
                 "--pid PID (what bench/janus/run-janus.sh prints) or --janus-script "
                 "bench/janus/run-janus.sh (started here)\n");
    return false;
  }
  if (o.simulcast &&
      (o.layers_kbps[0] < 50 || o.layers_kbps[0] >= o.layers_kbps[1] ||
       o.layers_kbps[1] >= o.layers_kbps[2] || o.spread[0] + o.spread[1] + o.spread[2] == 0)) {
    std::fprintf(stderr,
                 "loadtest media: --layers-kbps needs three rising rates (>= 50), --spread "
                 "three weights not all 0\n");
    return false;
  }
  if (o.subscribers < 1 || o.seconds < 1 || o.video_kbps < 50 || o.concurrency < 1) {
    std::fprintf(stderr,
                 "loadtest media: need --subscribers >= 1, --seconds >= 1, "
                 "--video-kbps >= 50\n");
    return false;
  }
  return true;
}

}  // namespace

int run_media(int argc, char** argv) {
  Run r;
  if (!parse_args(argc, argv, r.o)) return 2;
  base::log::set_level(base::log::Level::kWarn);
  raise_fd_limit();
  if (r.o.simulcast) {
    const auto& k = r.o.layers_kbps;
    r.sim = std::make_unique<SimulcastGenerator>(
        std::vector<SimulcastGenerator::LayerSpec>{
            {"q", k[0], 320, 180}, {"h", k[1], 640, 360}, {"f", k[2], 1280, 720}},
        r.random.next_u64());
    r.intended = spread_layers(r.o.subscribers, r.o.spread);
    for (int layer : r.intended) r.remb_bps.push_back(remb_for_layer(k, layer));
    if (r.o.target == "janus") {
      r.o.janus.substreams = r.intended;
      r.audio_ssrc = JanusTarget::kRemoteAudioSsrc;
      for (uint32_t i = 0; i < 3; ++i) r.layer_ssrcs.push_back(JanusTarget::kRemoteVideoSsrc + i);
    } else {
      for (int i = 0; i < 3; ++i) r.layer_ssrcs.push_back(uint32_t(r.random.next_u64() | 4));
    }
    // The SFU measures layer rates for 1.5 s, then picks; a switch waits for a key frame.
    r.o.warmup_s = std::max(r.o.warmup_s, 8);
  }
  const Options& o = r.o;

  Room room;
  std::vector<std::shared_ptr<LiveConn>> conns;
  std::unique_ptr<Subscriber> teacher;
  bool ok = false;
  // --target janus: Janus (started here) and its subscribers instead of edgeclass.
  std::unique_ptr<JanusTarget> janus;
  if (o.target == "janus") {
    auto j = JanusTarget::start(r.io, o.janus, o.pid, o.subscribers, r.random, &r.window,
                                &r.subscribers);
    if (!j.is_ok()) {
      std::fprintf(stderr, "loadtest media: %s\n", j.status().to_string().c_str());
      return 1;
    }
    janus = std::move(j).value();
    r.o.pid = janus->pid();
    janus->on_keyframe_request = [&r] { on_keyframe_request(r, std::nullopt); };
    ok = true;
  } else
    asio::co_spawn(r.io, setup_edgeclass(r, room, conns, teacher),
                   [&](std::exception_ptr e, bool v) { ok = !e && v; });
  // Signalling and the ICE/DTLS handshakes run together on this one thread.
  asio::steady_timer tick(r.io);
  int ticks = 0;
  std::function<void()> arm = [&] {
    tick.expires_after(std::chrono::milliseconds(100));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (teacher) teacher->peer->on_timer();
      for (auto& s : r.subscribers) {
        if (s) s->peer->on_timer();
      }
      // Simulcast: every subscriber reports its bandwidth estimate once a second (REMB, as
      // Chromium does when goog-remb is negotiated; the SFU picks its layer from it): its
      // link, or 95 % of it (a fall: the SFU's congestion signal) after a second in which
      // its bottleneck queue (Subscriber::link_bps) held more than a quarter second, as a
      // browser's delay-based estimate falls when queues grow: a probe to a layer above the
      // link is undone, as on a real thin link.
      if (r.sim && r.o.remb && ++ticks % 10 == 0) {
        for (size_t i = 0; i < r.subscribers.size(); ++i) {
          auto& s = r.subscribers[i];
          if (!s || !s->peer->connected() || s->stats.video_ssrc == 0) continue;
          uint64_t link = r.remb_bps[i];
          s->link_bps = link;
          uint64_t report = s->queue_max_s > Subscriber::kOverrunS ? link * 95 / 100 : link;
          if (report != link) ++r.remb_falls;
          s->queue_max_s = 0;
          media::rtcp::Remb remb{uint32_t(0x10000 + i), report, {s->stats.video_ssrc}};
          (void)s->peer->send_rtcp(media::rtcp::serialize({remb}));
        }
      }
      arm();
    });
  };
  arm();
  while (!ok && r.io.run_one_for(std::chrono::seconds(600))) {
    if (ok) break;
  }
  if (!ok || (!teacher && !janus)) {
    std::fprintf(stderr, "loadtest media: set-up failed\n");
    return 1;
  }
  int64_t c0 = now_ns();
  auto all_connected = [&] {
    if (teacher && !teacher->peer->connected()) return false;
    return std::all_of(r.subscribers.begin(), r.subscribers.end(),
                       [](auto& s) { return s && s->peer->connected(); });
  };
  while (!all_connected() && now_ns() - c0 < 30'000'000'000) {
    r.io.run_for(std::chrono::milliseconds(20));
  }
  std::printf("ICE+DTLS: %s in %.2fs\n", all_connected() ? "all connected" : "NOT all connected",
              double(now_ns() - c0) / 1e9);
  if (r.sim) {
    for (auto& s : r.subscribers) {
      if (s) s->stats.stamp_at = SimulcastGenerator::kStampAt;
    }
  }
  std::fflush(stdout);
  r.publish = [&](std::vector<uint8_t> pkt) {
    ++r.published;
    if (janus) {
      janus->publish(pkt);
    } else {
      (void)teacher->peer->send_rtp(std::move(pkt));
    }
  };

  // Warm-up (the subscribers start on a key frame), then the measured window.
  StreamGenerator gen;
  auto send = [&](int64_t until, bool in_window) {
    return r.sim ? send_simulcast(r, until, in_window) : send_stream(r, gen, until, in_window);
  };
  send(now_ns() + int64_t(o.warmup_s) * 1'000'000'000, false);
  int media_tid = thread_named(o.pid, "ec-media");
  Scrape m0 = janus ? Scrape{} : scrape_metrics(o, uint16_t(o.admin_port));
  uint64_t published0 = r.published;
  int64_t cpu0 = cpu_ns(o.pid), mcpu0 = media_tid ? cpu_ns(o.pid, media_tid) : -1;
  int64_t own0 = cpu_ns(getpid());
  r.window.start_ns = wall_ns();
  r.window.first_index = r.sim ? r.sim->next_index() : gen.next_index();
  for (auto& s : r.subscribers) {
    if (s) s->stats.delays = &r.delays, s->stats.app_delays = &r.app_delays;
  }
  int64_t mono_start = now_ns();
  int64_t end = mono_start + int64_t(o.seconds) * 1'000'000'000;
  uint64_t sent = send(end, true);
  r.window.end_ns = wall_ns();
  double window_s = double(r.window.end_ns - r.window.start_ns) / 1e9;
  r.io.run_for(std::chrono::milliseconds(300));  // in flight
  // CPU after the drain: the forwarding of the window's last packets belongs to it.
  int64_t cpu1 = cpu_ns(o.pid), mcpu1 = media_tid ? cpu_ns(o.pid, media_tid) : -1;
  int64_t own1 = cpu_ns(getpid());
  Scrape m1 = janus ? Scrape{} : scrape_metrics(o, uint16_t(o.admin_port));
  r.forwarded = (r.published - published0) *
                uint64_t(std::count_if(r.subscribers.begin(), r.subscribers.end(),
                                       [](auto& s) { return s && s->peer->connected(); }));
  int rc = report(r, sent, m0, m1, cpu0, cpu1, mcpu0, mcpu1, own1 - own0, window_s);
  for (auto& c : conns) {
    beast::error_code ec;
    beast::get_lowest_layer(c->ws).socket().close(ec);
  }
  return rc;
}

}  // namespace loadtest
