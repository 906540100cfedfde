// app::MediaPlane — the built-in SFU (src/media) on its own thread, as the live classroom
// sees it: a ws::MediaSignalling to hand to the LiveHub, Sfu::Listener events forwarded as
// ws::MediaEvent, and counters for /metrics.
//
// Threading: start() and stop() belong to the thread that owns the MediaPlane (serve()). The
// UdpServer, the Sfu and the listener run on the media thread (this object's io_context);
// signalling() posts to it. stats() may be called from any thread: it reads a snapshot the
// media thread refreshes every second.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "media/sfu/media_metrics.h"
#include "ws/media_signalling.h"

namespace media {
class Sfu;
struct SfuConfig;
class UdpServer;
}  // namespace media
namespace metrics {
class Histogram;
}  // namespace metrics

namespace app {

struct MediaPlaneOptions {
  std::string bind_ip = "0.0.0.0";
  uint16_t port = 7882;  // EDGECLASS_MEDIA_PORT
  // EDGECLASS_PUBLIC_IP; empty: every non-loopback IPv4 address of the host's interfaces
  // (127.0.0.1 with a warning when there is none).
  std::string public_ip;
  std::string video_quality;        // VIDEO_QUALITY; empty: the SFU's default cap
  int fanout_threads = 1;           // EDGECLASS_MEDIA_THREADS (resolved: >= 1)
  int64_t ice_timeout_ms = 30'000;  // EDGECLASS_MEDIA_ICE_TIMEOUT
  // A class relayed between replicas (docs/design.md, "A class relayed between replicas"):
  // this replica's id (names its legs on the home) and how an offer reaches the home of
  // session `room` (POST /internal/v1/media/relay there); `done` with the answer's body, on
  // any thread. Without it subscriptions on an edge go to the home, as before.
  std::string replica_id;
  std::function<void(std::string room, std::string body,
                     std::function<void(base::Result<std::string>)> done)>
      relay_connect;
  // Called on the media thread for every SFU event.
  std::function<void(ws::MediaEvent)> on_event;
  // Receives the forwarding latency (arrival -> sent, seconds) once a second; its bounds
  // must be forward_latency_bounds(). May be null.
  metrics::Histogram* forward_latency = nullptr;
};

// The SFU's forwarding latency buckets in seconds (media::LatencyHistogram's bounds).
std::vector<double> forward_latency_bounds();

// Totals over every room, refreshed once a second on the media thread (described, with their
// metric names, in media/sfu/media_metrics.h).
using media::MediaStats;

class MediaPlane {
 public:
  MediaPlane();
  ~MediaPlane();  // stop()
  MediaPlane(const MediaPlane&) = delete;
  MediaPlane& operator=(const MediaPlane&) = delete;

  // Binds the UDP port and prepares what the live rooms need (signalling(), the media.config
  // message); nothing runs until launch(). On failure nothing runs and the classroom answers
  // media requests with media_unavailable.
  base::Status start(MediaPlaneOptions options);
  // Starts the media thread, which generates the DTLS certificate (OpenSSL's start-up and a
  // P-256 key: the costliest step of a cold start) and makes the SFU before serving. Called
  // after the public listener is up, so a cold start does not wait for it; signalling posted
  // before then waits in the media thread's queue. First, on the calling thread, chooses the
  // announced addresses (an interface scan over netlink unless EDGECLASS_PUBLIC_IP is set) and
  // logs media.ready. A no-op unless start() succeeded.
  void launch();
  // Stops the media thread (idempotent).
  void stop();
  // True once start() has bound the port (the SFU answers, or will once launched).
  bool running() const { return bound_; }
  uint16_t port() const { return port_; }
  // The addresses announced as ICE host candidates (set by launch(); read them after it).
  const std::vector<std::string>& announced_addresses() const { return announced_; }

  // The functions post to the media thread; valid while this object lives.
  ws::MediaSignalling signalling();
  // The home's side of a relay leg: `body` is an edge's offer (JSON); `done` (on the media
  // thread) with the answer's JSON, or why not.
  void relay_serve(std::string body, std::function<void(base::Result<std::string>)> done);
  MediaStats stats() const;
  // Subscribers per live session (id, count), as of the last snapshot.
  std::vector<std::pair<std::string, uint64_t>> room_subscribers() const;

 private:
  class Events;
  // On the media thread before it serves: the certificate, the SFU, the timers. False (and
  // logged) when the certificate cannot be made: signalling is then answered media_unavailable.
  bool begin_serving();
  // launch()'s first step: announced_ and the SFU's candidate addresses, and media.ready.
  void choose_addresses();
  void arm_snapshot();
  void snapshot();

  MediaPlaneOptions options_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<Events> events_;
  std::unique_ptr<media::UdpServer> server_;  // media thread once started
  std::unique_ptr<media::Sfu> sfu_;           // media thread once started
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::unique_ptr<media::SfuConfig> sfu_config_;  // from start() to begin_serving()
  std::thread thread_;
  bool bound_ = false;     // start() succeeded; written by start() only
  bool stopping_ = false;  // media thread: stop() was posted (the snapshot timer stops re-arming)
  uint16_t port_ = 0;
  std::vector<std::string> announced_;  // written by launch() only, before the media thread
  std::string config_message_;          // media.config for the pages; written by start() only
  mutable std::mutex stats_mu_;
  MediaStats stats_;  // guarded by stats_mu_; written by the media thread only
  std::vector<std::pair<std::string, uint64_t>> room_subscribers_;  // guarded by stats_mu_
  // What a room had counted at the last snapshot (media thread).
  std::map<std::string, media::MediaCounters> last_;  // media thread: each room's counters at
                                                      // the last snapshot
};

}  // namespace app
