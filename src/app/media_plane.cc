#include "app/media_plane.h"

#include <boost/asio/post.hpp>
#include <pthread.h>

#include <algorithm>

#include "base/clock.h"
#include "base/log.h"
#include "base/random.h"
#include "media/sfu/sfu.h"
#include "media/sfu/video_quality.h"
#include "media/transport/udp_server.h"

namespace app {

namespace asio = boost::asio;

// Sfu::Listener -> ws::MediaEvent (media thread).
class MediaPlane::Events final : public media::Sfu::Listener {
 public:
  explicit Events(std::function<void(ws::MediaEvent)> sink) : sink_(std::move(sink)) {}

  void OnSfuTrackAdded(const std::string& room, const std::string& feed, const std::string& who,
                       media::MediaKind kind) override {
    emit(ws::MediaEvent::Type::kTrackAdded, room, feed, who, kind);
  }
  void OnSfuTrackRemoved(const std::string& room, const std::string& feed, const std::string& who,
                         media::MediaKind kind) override {
    emit(ws::MediaEvent::Type::kTrackRemoved, room, feed, who, kind);
  }
  void OnSfuParticipantDisconnected(const std::string& room, const std::string& who,
                                    std::string_view reason) override {
    if (!sink_) return;
    ws::MediaEvent e;
    e.type = ws::MediaEvent::Type::kDisconnected;
    e.room = room;
    e.participant = who;
    e.reason = std::string(reason);
    sink_(std::move(e));
  }

 private:
  void emit(ws::MediaEvent::Type type, const std::string& room, const std::string& feed,
            const std::string& who, media::MediaKind kind) {
    if (!sink_) return;
    ws::MediaEvent e;
    e.type = type;
    e.room = room;
    e.feed = feed;
    e.participant = who;
    e.kind = media::to_string(kind);
    sink_(std::move(e));
  }

  std::function<void(ws::MediaEvent)> sink_;
};

MediaPlane::MediaPlane() = default;

MediaPlane::~MediaPlane() { stop(); }

base::Status MediaPlane::start(MediaPlaneOptions options) {
  options_ = std::move(options);
  media::SfuConfig config;
  if (options_.public_ip.empty()) {
    base::log::warn("media.public_ip_default")
        .kv("ip", "127.0.0.1")
        .kv("note", "set EDGECLASS_PUBLIC_IP so browsers on other machines can reach the SFU");
    config.public_ip = "127.0.0.1";
  } else {
    config.public_ip = options_.public_ip;
  }
  if (!options_.video_quality.empty()) {
    EC_ASSIGN_OR_RETURN(config.video_bitrate_cap_bps,
                        media::video_bitrate_cap(options_.video_quality));
  }
  auto cert = media::DtlsCertificate::generate();
  if (!cert.is_ok()) return cert.status();
  const base::Clock* clock = &base::SystemClock::instance();
  auto server = std::make_unique<media::UdpServer>(io_, clock);
  EC_RETURN_IF_ERROR(server->bind(options_.bind_ip, options_.port));
  config.port = server->local_port();
  port_ = config.port;
  events_ = std::make_unique<Events>(options_.on_event);
  sfu_ = std::make_unique<media::Sfu>(config, events_.get(), server.get(), clock,
                                      &base::SystemRandom::instance(), *cert);
  server_ = std::move(server);
  timer_ = std::make_unique<asio::steady_timer>(io_);
  work_.emplace(io_.get_executor());
  server_->start(sfu_.get());
  arm_snapshot();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "media");
    io_.run();
  });
  base::log::info("media.ready")
      .kv("port", uint64_t(port_))
      .kv("public_ip", config.public_ip)
      .kv("video_cap_bps", config.video_bitrate_cap_bps);
  return base::Status::ok();
}

void MediaPlane::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    server_->stop();
    timer_->cancel();
    work_.reset();
  });
  thread_.join();
  // Destroyed here, on the owner thread, after the media thread has finished.
  sfu_.reset();
  server_.reset();
}

ws::MediaSignalling MediaPlane::signalling() {
  ws::MediaSignalling m;
  m.publish = [this](std::string room, std::string who, std::string feed, std::string sdp,
                     ws::MediaSignalling::Done done) {
    asio::post(io_, [this, room = std::move(room), who = std::move(who), feed = std::move(feed),
                     sdp = std::move(sdp), done = std::move(done)] {
      done(sfu_->publish(room, who, feed, sdp));
    });
  };
  m.subscribe = [this](std::string room, std::string who, std::string sdp,
                       ws::MediaSignalling::Done done) {
    asio::post(io_, [this, room = std::move(room), who = std::move(who), sdp = std::move(sdp),
                     done = std::move(done)] { done(sfu_->subscribe(room, who, sdp)); });
  };
  m.unpublish = [this](std::string room, std::string who) {
    asio::post(io_, [this, room = std::move(room), who = std::move(who)] {
      sfu_->unpublish(room, who);
    });
  };
  m.leave = [this](std::string room, std::string who) {
    asio::post(io_, [this, room = std::move(room), who = std::move(who)] {
      sfu_->leave(room, who);
    });
  };
  return m;
}

MediaStats MediaPlane::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void MediaPlane::arm_snapshot() {
  timer_->expires_after(std::chrono::seconds(1));
  timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    snapshot();
    arm_snapshot();
  });
}

void MediaPlane::snapshot() {
  MediaStats s;
  s.rooms = sfu_->room_count();
  s.transports = sfu_->transport_count();
  s.srtp_failures = sfu_->srtp_failures();
  sfu_->for_each_room([&s](const std::string&, const media::MediaCounters& c, size_t subs) {
    s.subscribers += subs;
    s.packets_in += c.rtp_packets_in;
    s.bytes_in += c.rtp_bytes_in;
    s.packets_out += c.rtp_packets_out;
    s.bytes_out += c.rtp_bytes_out;
    s.nacks_received += c.nacks_received;
    s.nacks_sent += c.nacks_sent;
    s.retransmissions += c.retransmissions_sent;
    s.plis_received += c.keyframe_requests_received;
    s.plis_sent += c.keyframe_requests_sent;
    s.dropped += c.packets_dropped;
  });
  std::lock_guard lock(stats_mu_);
  // Counters of rooms that are gone would make the totals go down; keep them monotonic.
  auto keep = [](uint64_t& old, uint64_t now) { old = std::max(old, now); };
  keep(stats_.packets_in, s.packets_in);
  keep(stats_.bytes_in, s.bytes_in);
  keep(stats_.packets_out, s.packets_out);
  keep(stats_.bytes_out, s.bytes_out);
  keep(stats_.nacks_received, s.nacks_received);
  keep(stats_.nacks_sent, s.nacks_sent);
  keep(stats_.retransmissions, s.retransmissions);
  keep(stats_.plis_received, s.plis_received);
  keep(stats_.plis_sent, s.plis_sent);
  keep(stats_.dropped, s.dropped);
  stats_.rooms = s.rooms;
  stats_.subscribers = s.subscribers;
  stats_.transports = s.transports;
  stats_.srtp_failures = s.srtp_failures;
}

}  // namespace app
