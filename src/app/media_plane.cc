#include "app/media_plane.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>
#include <map>

#include "app/media_relay_wire.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/random.h"
#include "base/strings.h"
#include "media/sfu/sfu.h"
#include "media/sfu/video_quality.h"
#include "media/transport/udp_server.h"
#include "metrics/registry.h"

namespace app {

namespace asio = boost::asio;
namespace json = boost::json;

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
  void OnSfuTransportFailed(const std::string& room, const std::string& who, bool publishing,
                            const std::string& feed, media::WebRtcTransport::Failure failure,
                            std::string_view reason) override {
    if (!sink_) return;
    ws::MediaEvent e =
        connection_event(ws::MediaEvent::Type::kFailed, room, who, publishing, feed, reason);
    e.failure = media::to_string(failure);
    sink_(std::move(e));
  }
  void OnSfuParticipantDisconnected(const std::string& room, const std::string& who,
                                    bool publishing, const std::string& feed,
                                    std::string_view reason) override {
    if (!sink_) return;
    sink_(
        connection_event(ws::MediaEvent::Type::kDisconnected, room, who, publishing, feed, reason));
  }

 private:
  // An event about one of `who`'s two connections (its publishing or its subscribing one).
  static ws::MediaEvent connection_event(ws::MediaEvent::Type type, const std::string& room,
                                         const std::string& who, bool publishing,
                                         const std::string& feed, std::string_view reason) {
    ws::MediaEvent e;
    e.type = type;
    e.room = room;
    e.participant = who;
    e.connection = publishing ? "publish" : "subscribe";
    e.feed = feed;
    e.reason = std::string(reason);
    return e;
  }
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

std::vector<double> forward_latency_bounds() {
  std::vector<double> b;
  for (int64_t us : media::LatencyHistogram::kBoundsUs) b.push_back(double(us) / 1e6);
  return b;
}

static std::vector<std::string> host_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;  // the media socket is IPv4
    if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    in_addr a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
    uint32_t host = ntohl(a.s_addr);
    if ((host >> 24) == 127 || (host >> 16) == 0xA9FE) continue;  // loopback, link-local
    char buf[INET_ADDRSTRLEN];
    if (!::inet_ntop(AF_INET, &a, buf, sizeof buf)) continue;
    if (std::find(out.begin(), out.end(), buf) == out.end()) out.push_back(buf);
  }
  ::freeifaddrs(list);
  return out;
}

MediaPlane::MediaPlane() = default;

MediaPlane::~MediaPlane() { stop(); }

base::Status MediaPlane::start(MediaPlaneOptions options) {
  options_ = std::move(options);
  media::SfuConfig config;
  // Where another replica's SFU sends this one a relay leg (docs/design.md, "A class relayed
  // between replicas"): the announced address unless the replicas reach each other by another.
  if (const char* ip = std::getenv("EDGECLASS_RELAY_IP"); ip && *ip) {
    media::SocketAddress a;
    if (!media::SocketAddress::parse_ip(ip, &a)) {
      return base::invalid_argument("EDGECLASS_RELAY_IP must be an IP address, got '" +
                                    std::string(ip) + "'");
    }
    config.relay_ip = ip;
  }
  config.fanout_threads = std::max(1, options_.fanout_threads);
  config.ice_timeout_ms = options_.ice_timeout_ms;
  if (!options_.video_quality.empty()) {
    EC_ASSIGN_OR_RETURN(config.video_bitrate_cap_bps,
                        media::video_bitrate_cap(options_.video_quality));
  }
  // What the pages publish: simulcast at VIDEO_QUALITY (docs/live-protocol.md, media.config).
  {
    std::string quality = options_.video_quality.empty() ? "720p" : options_.video_quality;
    EC_ASSIGN_OR_RETURN(auto layers, media::simulcast_layers(quality));
    json::array ls;
    for (const auto& l : layers) {
      json::object o;
      o["rid"] = l.rid;
      o["height"] = l.height;
      o["width"] = l.height * 16 / 9;
      o["max_bitrate"] = l.max_bitrate_bps;
      ls.push_back(std::move(o));
    }
    json::object video;
    for (auto& c : quality) c = char(std::tolower(uint8_t(c)));
    video["quality"] = quality;
    video["layers"] = std::move(ls);
    json::object msg;
    msg["type"] = "media.config";
    msg["video"] = std::move(video);
    config_message_ = json::serialize(msg);
  }
  auto server = std::make_unique<media::UdpServer>(io_, &base::SystemClock::instance());
  EC_RETURN_IF_ERROR(server->bind(options_.bind_ip, options_.port));
  config.port = server->local_port();
  port_ = config.port;
  events_ = std::make_unique<Events>(options_.on_event);
  server_ = std::move(server);
  timer_ = std::make_unique<asio::steady_timer>(io_);
  work_.emplace(io_.get_executor());
  sfu_config_ = std::make_unique<media::SfuConfig>(std::move(config));
  bound_ = true;
  return base::Status::ok();
}

void MediaPlane::choose_addresses() {
  // What browsers are told to send media to. A stock browser discards a 127.0.0.1
  // candidate from another machine, so without an override every interface address is
  // announced (a K3s pod on hostNetwork sees the node's), loopback only as a last resort.
  if (!options_.public_ip.empty()) {
    announced_ = {options_.public_ip};
  } else if (options_.bind_ip != "0.0.0.0" && !options_.bind_ip.empty()) {
    announced_ = {options_.bind_ip};
  } else {
    announced_ = host_addresses();
    if (announced_.empty()) {
      base::log::warn("media.loopback_only")
          .kv("ip", "127.0.0.1")
          .kv("note",
              "no network interface besides loopback: only browsers on this machine get video; "
              "set EDGECLASS_PUBLIC_IP to the address students reach");
      announced_ = {"127.0.0.1"};
    }
  }
  sfu_config_->public_ip = announced_.front();
  sfu_config_->extra_candidate_ips.assign(announced_.begin() + 1, announced_.end());
  base::log::info("media.ready")
      .kv("port", uint64_t(port_))
      .kv("candidates",
          [&] {
            std::string s;
            for (const auto& a : announced_) s += (s.empty() ? "" : ",") + a;
            return s;
          }())
      .kv("video_cap_bps", sfu_config_->video_bitrate_cap_bps)
      .kv("fanout_threads", uint64_t(sfu_config_->fanout_threads));
}

void MediaPlane::launch() {
  if (!bound_ || thread_.joinable()) return;
  choose_addresses();  // before the thread, which reads sfu_config_
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ec-media");  // top -H, perf
    begin_serving();
    io_.run();
  });
}

bool MediaPlane::begin_serving() {
  auto cert = media::DtlsCertificate::generate();
  if (!cert.is_ok()) {
    base::log::error("media.unavailable")
        .kv("port", uint64_t(port_))
        .kv("error", cert.status().message())
        .kv("note",
            "the DTLS certificate could not be made; the live classroom runs without "
            "video");
    server_->stop();
    return false;
  }
  sfu_ = std::make_unique<media::Sfu>(*sfu_config_, events_.get(), server_.get(),
                                      &base::SystemClock::instance(),
                                      &base::SystemRandom::instance(), *cert);
  // The SFU exists from here (made on the media thread once the public listener serves).
  if (options_.relay_connect) {
    // The edge's side: each offer goes to the home over the internal HTTP; the answer comes
    // back here (the media thread).
    sfu_->set_relay_requester(
        [this](const std::string&, uint64_t id, const media::RelayOffer& offer) {
          media::RelayOffer named = offer;
          named.edge = options_.replica_id;
          options_.relay_connect(offer.room_id, encode_relay_offer(named),
                                 [this, id, room = offer.room_id](base::Result<std::string> r) {
                                   asio::post(io_, [this, id, room, r = std::move(r)] {
                                     if (!r.is_ok()) {
                                       sfu_->relay_answered(room, id, r.status());
                                       return;
                                     }
                                     sfu_->relay_answered(room, id, decode_relay_answer(*r));
                                   });
                                 });
        });
  }
  server_->start(sfu_.get());
  arm_snapshot();
  return true;
}

void MediaPlane::stop() {
  if (!thread_.joinable()) {
    server_.reset();  // bound but never launched: nothing ran on the socket
    return;
  }
  asio::post(io_, [this] {
    stopping_ = true;  // a snapshot already due must not arm the timer again
    server_->stop();
    timer_->cancel();
    work_.reset();
  });
  thread_.join();
  // Destroyed here, on the owner thread, after the media thread has finished.
  sfu_.reset();
  server_.reset();
}

namespace {

// What signalling answers when the SFU could not be made (begin_serving failed).
base::Result<std::string> media_unavailable_answer() {
  return base::unavailable("video is not available on this server", "media_unavailable");
}

}  // namespace

ws::MediaSignalling MediaPlane::signalling() {
  ws::MediaSignalling m;
  m.publish = [this](std::string room, std::string who, std::string feed, std::string sdp,
                     ws::MediaSignalling::Done done) {
    asio::post(io_, [this, room = std::move(room), who = std::move(who), feed = std::move(feed),
                     sdp = std::move(sdp), done = std::move(done)] {
      done(sfu_ ? sfu_->publish(room, who, feed, sdp) : media_unavailable_answer());
    });
  };
  m.subscribe = [this](std::string room, std::string who, std::string sdp,
                       ws::MediaSignalling::Done done) {
    asio::post(io_, [this, room = std::move(room), who = std::move(who), sdp = std::move(sdp),
                     done = std::move(done)] {
      done(sfu_ ? sfu_->subscribe(room, who, sdp) : media_unavailable_answer());
    });
  };
  m.unpublish = [this](std::string room, std::string who, std::string feed) {
    asio::post(io_, [this, room = std::move(room), who = std::move(who), feed = std::move(feed)] {
      if (sfu_) sfu_->unpublish(room, who, feed);
    });
  };
  m.leave = [this](std::string room, std::string who) {
    asio::post(io_, [this, room = std::move(room), who = std::move(who)] {
      if (sfu_) sfu_->leave(room, who);
    });
  };
  if (options_.relay_connect) {
    m.subscribe_relayed = [this](std::string room, std::string who, std::string home,
                                 std::string sdp, ws::MediaSignalling::Done done) {
      asio::post(io_, [this, room = std::move(room), who = std::move(who), home = std::move(home),
                       sdp = std::move(sdp), done = std::move(done)] {
        done(sfu_ ? sfu_->subscribe_relayed(room, who, home, sdp) : media_unavailable_answer());
      });
    };
  }
  m.config_message = config_message_;
  return m;
}

void MediaPlane::relay_serve(std::string body,
                             std::function<void(base::Result<std::string>)> done) {
  asio::post(io_, [this, body = std::move(body), done = std::move(done)] {
    if (!sfu_) return done(media_unavailable_answer());
    auto offer = decode_relay_offer(body);
    if (!offer.is_ok()) return done(offer.status());
    auto answer = sfu_->relay_serve(*offer);
    if (!answer.is_ok()) return done(answer.status());
    done(encode_relay_answer(*answer));
  });
}

MediaStats MediaPlane::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

std::vector<std::pair<std::string, uint64_t>> MediaPlane::room_subscribers() const {
  std::lock_guard lock(stats_mu_);
  return room_subscribers_;
}

void MediaPlane::arm_snapshot() {
  timer_->expires_after(std::chrono::seconds(1));
  timer_->async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    snapshot();
    arm_snapshot();
  });
}

void MediaPlane::snapshot() {
  // Counters are summed from per-room deltas: a room the SFU dropped (everyone left) keeps
  // what it counted, and a room recreated under the same id starts again from zero.
  std::map<std::string, media::MediaCounters> now;
  std::vector<std::pair<std::string, uint64_t>> room_subscribers;
  MediaStats totals;
  {
    std::lock_guard lock(stats_mu_);
    totals = stats_;
  }
  totals.rooms = sfu_->room_count();
  totals.transports = sfu_->transport_count();
  totals.srtp_failures = sfu_->srtp_failures();
  totals.ice_timeouts = sfu_->ice_timeouts();
  totals.consent_expirations = sfu_->consent_expirations();
  totals.dtls_failures = sfu_->dtls_failures();
  const media::Sfu::RelayCounters relay = sfu_->relay_counters();
  totals.relay_legs_out = relay.legs_out;
  totals.relay_legs_in = relay.legs_in;
  totals.relay_packets_out = relay.packets_out;
  totals.relay_bytes_out = relay.bytes_out;
  totals.relay_packets_in = relay.packets_in;
  totals.relay_bytes_in = relay.bytes_in;
  totals.subscribers = 0;
  sfu_->for_each_room([&](const std::string& id, const media::MediaCounters& c, size_t subs) {
    totals.subscribers += subs;
    room_subscribers.emplace_back(id, subs);
    auto last = last_.find(id);
    const media::MediaCounters zero;
    const media::MediaCounters& before = last == last_.end() ? zero : last->second;
    media::add_since(totals.totals, c, before);
    if (options_.forward_latency) {
      media::LatencyHistogram fresh = c.forward_latency.since(before.forward_latency);
      options_.forward_latency->add_counts(fresh.counts(), double(fresh.sum_us()) / 1e6);
    }
    now[id] = c;
  });
  last_ = std::move(now);
  std::lock_guard lock(stats_mu_);
  stats_ = totals;
  room_subscribers_ = std::move(room_subscribers);
}

}  // namespace app
