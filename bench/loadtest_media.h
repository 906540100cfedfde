// edgeclass-loadtest media: the parts a media target (edgeclass, or Janus as the peer to
// compare against) shares — the synthetic stream, the synthetic peers and what each
// subscriber measured. The run itself is in loadtest_media.cc.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "media/client/synthetic_peer.h"

namespace loadtest {

// The publisher's RTP: VP8-shaped video (payload type 96) whose payload starts with a VP8
// descriptor and header, then the send time (8 bytes, CLOCK_REALTIME ns) and a running index
// (4 bytes), and Opus-sized audio (payload type 111, 100 bytes every 20 ms). Plain RTP: the
// caller protects it (SRTP toward edgeclass) or sends it as is (a Janus RTP mountpoint).
class StreamGenerator {
 public:
  static constexpr uint8_t kVideoPt = 96;
  static constexpr uint8_t kAudioPt = 111;
  static constexpr size_t kPayloadHeader = 14;  // descriptor, header, time, index

  std::vector<uint8_t> video_packet(uint32_t ssrc, bool frame_start, bool frame_end, bool keyframe,
                                    size_t payload_bytes);
  std::vector<uint8_t> audio_packet(uint32_t ssrc);
  void end_frame(uint32_t ticks) {
    video_ts_ += ticks;
    ++frames_;
  }
  uint64_t frames() const { return frames_; }
  uint32_t next_index() const { return next_index_; }

 private:
  uint16_t video_seq_ = 0, audio_seq_ = 0;
  uint32_t video_ts_ = 0, audio_ts_ = 0;
  uint32_t next_index_ = 0;
  uint64_t frames_ = 0;
};

// Simulcast (--simulcast 1): the publisher sends each frame on every layer (lowest first),
// as a browser does with one encoding per layer. Each layer is its own RTP stream (SSRC,
// sequence numbers, random timestamp base) with a VP8 payload descriptor as Chromium writes
// it: X, I (15-bit PictureID, M set) and L (TL0PICIDX), S on a frame's first packet, which
// carries a VP8 frame header (key frames: P clear, start code 9d 01 2a, width and height),
// so both edgeclass and Janus recognise key frames and rewrite picture ids. At kStampAt: the
// send time (8 bytes, CLOCK_REALTIME ns), a running index shared by all layers (4 bytes) and
// the layer (1 byte), so a subscriber knows which layer the server gave it.
class SimulcastGenerator {
 public:
  static constexpr size_t kStampAt = 15;  // VP8 descriptor (5) + frame header space (10)
  static constexpr size_t kPayloadHeader = kStampAt + 13;
  struct LayerSpec {
    std::string rid;  // "q", "h", "f": the RIDs the teacher's page uses (video_quality.cc)
    int kbps = 0;
    int width = 0, height = 0;
  };
  SimulcastGenerator(std::vector<LayerSpec> layers, uint64_t seed);

  // One packet of `layer`'s current frame. `rid_ext_id` != 0: a one-byte header extension
  // with the layer's RID (edgeclass learns each layer's SSRC from it; Janus's remote
  // publisher tells layers apart by SSRC).
  std::vector<uint8_t> video_packet(size_t layer, uint32_t ssrc, bool frame_start, bool frame_end,
                                    bool keyframe, size_t payload_bytes, uint8_t rid_ext_id);
  void end_frame(size_t layer, uint32_t ticks, bool keyframe);
  const std::vector<LayerSpec>& layers() const { return layers_; }
  uint32_t next_index() const { return next_index_; }

 private:
  struct State {
    uint16_t seq = 0;
    uint32_t ts = 0;
    uint16_t picture_id = 0;  // 15 bits
    uint8_t tl0 = 0;
  };
  std::vector<LayerSpec> layers_;
  std::vector<State> state_;
  uint32_t next_index_ = 0;
};

// CLOCK_REALTIME in ns: the one clock the kernel's receive timestamps share with the
// publisher's send stamps.
int64_t wall_ns();

// The measured window: video packets sent in [start_ns, end_ns) (CLOCK_REALTIME) with index
// >= first_index.
struct Window {
  int64_t start_ns = INT64_MAX, end_ns = INT64_MAX;
  uint32_t first_index = 0;
};

// Delay samples in 10 µs buckets up to 100 ms (the last bucket takes the rest).
class DelayHistogram {
 public:
  void add(int64_t us);
  int64_t percentile_us(double q) const;  // upper edge of the bucket holding the quantile
  uint64_t count() const { return total_; }

 private:
  std::array<uint64_t, 10000> counts_{};
  uint64_t total_ = 0;
};

struct SubscriberStats {
  // One decrypted video packet's payload, its RTP timestamp, its size on the wire and when
  // it arrived.
  // Times are CLOCK_REALTIME ns (the publisher's stamp is too): `kernel_ns` when the
  // datagram reached the socket, `decrypted_ns` now.
  void on_video(std::span<const uint8_t> payload, uint32_t rtp_ts, size_t packet_bytes,
                int64_t kernel_ns, int64_t decrypted_ns, const Window& w);

  uint64_t packets = 0, bytes = 0, duplicates = 0;  // in the window
  // Where the tool's stamp starts in the payload: 2 (the single stream) or
  // SimulcastGenerator::kStampAt (simulcast: a layer byte follows the index).
  size_t stamp_at = 2;
  uint32_t video_ssrc = 0;  // the SSRC the server sends video on (for our REMB)
  // Simulcast: what arrived of each layer in the window (packets, bytes), and the layer of
  // the last video packet and how often it changed (over the whole run).
  std::array<uint64_t, 4> layer_packets{}, layer_bytes{};
  int last_layer = -1;
  int layer_changes = 0, layer_changes_in_window = 0;
  uint64_t delay_us_sum = 0;
  int64_t delay_us_max = 0;
  double jitter_ts = 0;                  // RFC 3550 interarrival jitter, 90 kHz units
  DelayHistogram* delays = nullptr;      // shared; set when the window opens
  DelayHistogram* app_delays = nullptr;  // the same, until decrypted by the tool

 private:
  std::vector<bool> seen_;  // by index - first_index
  int64_t last_transit_ = 0;
  bool have_transit_ = false;
};

// One synthetic browser: its own UDP socket connected to the server's media address, a
// media::SyntheticPeer, and its stats. Driven by the io_context's one thread.
class Subscriber final : public media::SyntheticPeer::Sender {
 public:
  Subscriber(boost::asio::io_context& io, boost::asio::ip::udp::endpoint remote);
  ~Subscriber() override;
  // Points the socket at another remote address (the first one was a placeholder).
  void connect_to(boost::asio::ip::udp::endpoint remote);
  // The socket's own address (after connect: the source address toward the remote).
  boost::asio::ip::udp::endpoint local_endpoint() const {
    boost::system::error_code ec;
    return socket_.local_endpoint(ec);
  }
  // Starts the receive loop; video packets are counted against `window` (must outlive this).
  void start_receiving(const Window* window);

  void send_to_sfu(media::ByteSpan data) override;

  std::unique_ptr<media::SyntheticPeer> peer;
  SubscriberStats stats;
  uint64_t rx_bytes = 0;  // every datagram received (UDP payload bytes)
  // Simulcast: the link this subscriber sits behind, as a bottleneck queue drained at
  // link_bps and fed with every datagram at its kernel arrival time (so this tool's own
  // scheduling does not count). Its REMB falls when the queue held more than
  // kOverrunS of the link since the last REMB: what a delay-based estimate sees.
  static constexpr double kOverrunS = 0.25;
  uint64_t link_bps = 0;  // 0: no link modelled
  double queue_bits = 0;
  int64_t queue_at_ns = 0;
  double queue_max_s = 0;  // the longest queue since the last REMB, in seconds of the link

 private:
  void wait_readable();
  void drain();

  boost::asio::ip::udp::socket socket_;
  std::array<uint8_t, 2048> buf_{};
  const Window* window_ = nullptr;
  int64_t kernel_ns_ = 0;
  size_t last_size_ = 0;
};

// `edgeclass-loadtest media ...`
int run_media(int argc, char** argv);

}  // namespace loadtest
