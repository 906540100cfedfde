#include "app/serve.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>
#include <unordered_map>

#include "app/media_plane.h"
#include "app/policies.h"
#include "app/web_assets.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/random.h"
#include "classroom/authz.h"
#include "classroom/service.h"
#include "http/api.h"
#include "http/server.h"
#include "ws/live_hub.h"
#include "metrics/process.h"
#include "metrics/registry.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/writer.h"

namespace app {

namespace {

// Per-request metrics with the children looked up once per (route, status) per thread.
class HttpMetrics {
 public:
  explicit HttpMetrics(metrics::Registry& r)
      : requests_(r.counter("edgeclass_http_requests_total", "HTTP requests by route and status",
                            {"route", "status"})),
        latency_(r.histogram("edgeclass_http_request_duration_seconds",
                             "HTTP request latency from the end of reading the request to the "
                             "end of writing the response",
                             {"route"})) {}

  void observe(std::string_view route, unsigned status, int64_t ns) {
    struct Key {
      const char* route;
      unsigned status;
      bool operator==(const Key&) const = default;
    };
    struct Hash {
      size_t operator()(const Key& k) const { return std::hash<const void*>()(k.route) ^ k.status; }
    };
    struct Children {
      metrics::Counter* requests;
      metrics::Histogram* latency;
    };
    // Route labels are views into the router's patterns (stable for the process's life).
    thread_local std::unordered_map<Key, Children, Hash> cache;
    Key key{route.data(), status};
    auto it = cache.find(key);
    if (it == cache.end()) {
      std::string code = std::to_string(status);
      Children c{&requests_.labels({route, code}), &latency_.labels({route})};
      it = cache.emplace(key, c).first;
    }
    it->second.requests->inc();
    it->second.latency->observe(double(ns) / 1e9);
  }

 private:
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& latency_;
};

// The connection limits' gauges and every refusal's counter (docs/operations.md).
void register_connection_metrics(metrics::Registry& registry, const http::Server& server) {
  const http::ConnectionCounters& c = server.connection_counters();
  registry.callback("edgeclass_http_connections_admitted",
                    "Connections holding a place under the connection limit (HTTP and live "
                    "WebSockets)",
                    metrics::Type::kGauge,
                    [&server] { return double(server.admitted_connections()); });
  registry.callback("edgeclass_http_max_connections", "The connection limit in force",
                    metrics::Type::kGauge, [&server] { return double(server.max_connections()); });
  registry.callback_family(
      "edgeclass_http_connections_refused_total",
      "Connections refused: max_connections (503), per_address (429), fd_exhausted (accepted "
      "on the spare descriptor and closed), overflow_evicted (over-limit connection closed to "
      "make room for a newer one)",
      metrics::Type::kCounter, {"reason"}, [&c](const metrics::Registry::Emit& emit) {
        auto one = [&](const char* reason, const std::atomic<uint64_t>& n) {
          const std::string values[] = {reason};
          emit(values, double(n.load(std::memory_order_relaxed)));
        };
        one("max_connections", c.refused_limit);
        one("per_address", c.refused_address);
        one("fd_exhausted", c.refused_fd_exhausted);
        one("overflow_evicted", c.overflow_evicted);
      });
  registry.callback("edgeclass_http_probes_over_limit_total",
                    "/healthz, /readyz and /metrics requests answered while over the limits",
                    metrics::Type::kCounter,
                    [&c] { return double(c.probes_over_limit.load(std::memory_order_relaxed)); });
  registry.callback_family(
      "edgeclass_http_accept_errors_total",
      "accept() failures: fd_exhausted (EMFILE, ENFILE, ENOBUFS, ENOMEM) or other",
      metrics::Type::kCounter, {"error"}, [&c](const metrics::Registry::Emit& emit) {
        const std::string fd[] = {"fd_exhausted"};
        emit(fd, double(c.accept_fd_errors.load(std::memory_order_relaxed)));
        const std::string other[] = {"other"};
        emit(other, double(c.accept_other_errors.load(std::memory_order_relaxed)));
      });
  registry.callback("edgeclass_http_first_byte_timeouts_total",
                    "New connections closed because they sent nothing within the first-byte "
                    "timeout",
                    metrics::Type::kCounter,
                    [&c] { return double(c.first_byte_timeouts.load(std::memory_order_relaxed)); });
}

}  // namespace

int serve(const Config& config) {
  base::log::Level level;
  base::log::parse_level(config.log_level, &level);
  base::log::set_level(level);

  // Signals are taken synchronously by this thread; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  bool generated = false;
  auto secret = resolve_jwt_secret(config, &generated);
  if (!secret.is_ok()) {
    base::log::error("config.jwt_secret").kv("error", secret.status().message());
    return 1;
  }
  if (generated) {
    base::log::warn("config.dev_secret_generated")
        .kv("path", config.data_dir + "/dev-jwt-secret")
        .kv("note", "development JWT secret generated; set EDGECLASS_JWT_SECRET in production");
  }

  metrics::Registry registry;
  metrics::register_process_metrics(registry);

  auto db = store::Db::open(config.db_path(), store::OpenMode::kReadWrite);
  if (!db.is_ok()) {
    base::log::error("store.open_failed").kv("error", db.status().message());
    return 1;
  }
  if (auto s = store::migrate(**db); !s.is_ok()) {
    base::log::error("store.migrate_failed").kv("error", s.message());
    return 1;
  }
  auto& commit_latency = registry.histogram(
      "edgeclass_store_commit_duration_seconds", "Group commit latency (BEGIN to COMMIT incl. fsync)",
      {}, metrics::exponential_buckets(0.0001, 2, 16)).get();
  auto& batch_size = registry.histogram("edgeclass_store_commit_batch_size",
                                        "Write operations per committed group", {},
                                        metrics::exponential_buckets(1, 2, 12)).get();
  auto& failed_commits = registry.counter("edgeclass_store_failed_commits_total",
                                          "Groups whose BEGIN or COMMIT failed").get();
  store::WriterOptions wopts;
  wopts.on_group = [&](const store::GroupStats& g) {
    commit_latency.observe(double(g.commit_ns) / 1e9);
    batch_size.observe(double(g.ops));
    if (!g.committed) failed_commits.inc();
  };
  auto writer = store::Writer::start(std::move(db).value(), wopts);
  if (!writer.is_ok()) {
    base::log::error("store.writer_failed").kv("error", writer.status().message());
    return 1;
  }

  http::ServerOptions sopts;
  sopts.host = config.listen_host;
  sopts.port = config.listen_port;
  sopts.threads = config.threads;
  sopts.read_timeout = std::chrono::seconds(config.http_timeout_ms / 1000);
  sopts.first_byte_timeout = std::chrono::milliseconds(config.first_byte_timeout_ms);
  // The connection limit stays below the descriptor limit, so that running out of
  // connections is a 503 with /healthz still answering, not EMFILE everywhere.
  int64_t fd_soft_before = 0;
  int64_t fd_limit = http::raise_fd_limit(&fd_soft_before);
  sopts.max_connections =
      config.max_connections > 0 ? config.max_connections : http::default_max_connections(fd_limit);
  sopts.max_connections_per_address = config.max_connections_per_ip;
  base::log::info("http.connection_limits")
      .kv("fd_limit", fd_limit)
      .kv("fd_soft_limit_at_start", fd_soft_before)
      .kv("max_connections", sopts.max_connections)
      .kv("max_connections_per_ip", sopts.max_connections_per_address)
      .kv("first_byte_timeout_ms", config.first_byte_timeout_ms)
      .kv("max_live_sockets_per_user", config.max_live_sockets_per_user);
  if (sopts.max_connections > fd_limit - http::reserved_fds(fd_limit)) {
    base::log::warn("http.max_connections_above_fd_limit")
        .kv("max_connections", sopts.max_connections)
        .kv("fd_limit", fd_limit)
        .kv("note",
            "accepts will fail with EMFILE before the connection limit is reached and "
            "probes may go unanswered; raise the fd limit or lower "
            "EDGECLASS_MAX_CONNECTIONS");
  }
  http::Router router;
  http::Server server(sopts, router);

  std::vector<std::unique_ptr<store::Db>> readers;
  http::ApiDeps deps;
  for (int i = 0; i < server.thread_count(); ++i) {
    auto r = store::Db::open(config.db_path(), store::OpenMode::kReadOnly);
    if (!r.is_ok()) {
      base::log::error("store.reader_failed").kv("error", r.status().message());
      return 1;
    }
    deps.readers.push_back(r->get());
    readers.push_back(std::move(r).value());
  }

  size_t policy_files = 0;
  auto loaded = load_policies(config.policy_dir, &policy_files);
  if (!loaded.is_ok()) {
    base::log::error("policy.load_failed").kv("error", loaded.status().message());
    return 1;
  }
  base::log::info("policy.loaded")
      .kv("source", config.policy_dir.empty() ? "embedded" : config.policy_dir)
      .kv("files", uint64_t(policy_files));
  PolicyHolder policies(std::move(loaded).value());
  auto& policy_reloads = registry.counter("edgeclass_policy_reloads_total",
                                          "Policy reloads on SIGHUP by outcome", {"result"});
  classroom::Service service(
      base::SystemClock::instance(), base::SystemRandom::instance(),
      [&policies]() -> std::shared_ptr<const classroom::Authorizer> { return policies.get(); },
      config.max_students);
  deps.service = &service;
  deps.writer = writer->get();
  deps.jwt_secret = *secret;
  deps.clock = &base::SystemClock::instance();
  deps.metrics_text = [&registry] { return registry.expose(); };
  deps.policy_data = [&policies](std::string_view path, const boost::json::value& input) {
    return query_data(policies.get()->engine(), path, input);
  };
  deps.ready = [&]() -> base::Status {
    if (server.stopping()) return base::unavailable("shutting down");
    return base::Status::ok();
  };
  for (const WebAsset& a : web_assets()) {
    deps.static_files.push_back({a.path, a.content_type, a.body});
  }
  // The media plane (src/media): the SFU on its own thread and UDP port. Without it the
  // classroom works and answers media requests with media_unavailable. Its events reach the
  // rooms through the LiveHub (set below, cleared before the hub goes).
  std::atomic<ws::LiveHub*> live_for_media{nullptr};
  MediaPlane media;
  {
    MediaPlaneOptions mo;
    mo.port = config.media_port;
    mo.public_ip = config.public_ip;
    mo.video_quality = config.video_quality;
    // One thread sends everything unless the operator asks for a parallel fan-out: on the
    // 2-core development box it did not lower the delay (docs/live-performance.md), so it
    // stays opt-in until it has been measured on a 4-core node.
    mo.fanout_threads = std::max(1, config.media_threads);
    mo.on_event = [&live_for_media](ws::MediaEvent e) {
      if (ws::LiveHub* hub = live_for_media.load()) hub->media_event(std::move(e));
    };
    mo.forward_latency =
        &registry
             .histogram("edgeclass_media_forward_latency_seconds",
                        "SFU forwarding latency per subscriber packet, from arrival at the UDP "
                        "socket to its hand-off (SRTP protected) to the socket layer",
                        {}, forward_latency_bounds())
             .get();
    if (auto s = media.start(std::move(mo)); !s.is_ok()) {
      base::log::warn("media.unavailable")
          .kv("port", uint64_t(config.media_port))
          .kv("error", s.message())
          .kv("note", "the live classroom runs without video");
    }
  }
  // The live classroom (src/ws): WebSocket upgrades of /api/v1/sessions/{id}/live, one room
  // per live session on one I/O thread; REST changes reach the rooms through the hooks.
  ws::LiveDeps live_deps;
  live_deps.service = &service;
  live_deps.writer = writer->get();
  live_deps.readers = deps.readers;
  live_deps.context = [&server](int i) -> boost::asio::io_context& { return server.context(i); };
  live_deps.threads = server.thread_count();
  live_deps.jwt_secret = *secret;
  live_deps.max_sockets_per_user = size_t(config.max_live_sockets_per_user);
  live_deps.authorizer = [&policies]() -> std::shared_ptr<const classroom::Authorizer> {
    return policies.get();
  };
  if (media.running()) live_deps.media = media.signalling();
  ws::LiveHub live(std::move(live_deps));
  live_for_media.store(&live);
  // The media thread must not call into the hub once it is gone (any return below).
  struct StopMedia {
    MediaPlane& m;
    std::atomic<ws::LiveHub*>& hub;
    ~StopMedia() {
      m.stop();
      hub.store(nullptr);
    }
  } stop_media{media, live_for_media};
  deps.live = &live;  // REST changes reach the live rooms (classroom::LiveNotifier)
  server.set_upgrade_handler(
      [&live](boost::beast::tcp_stream& s, http::Request& req, int t, http::ConnectionSlot slot) {
        return live.handle_upgrade(s, req, t, std::move(slot));
      });
  http::register_api(router, deps);
  registry.callback("edgeclass_live_rooms", "Live rooms (sessions with a room on this replica)",
                    metrics::Type::kGauge, [&live] { return double(live.counters().rooms); });
  registry.callback("edgeclass_live_connections_accepted_total",
                    "Live WebSocket connections accepted into a room", metrics::Type::kCounter,
                    [&live] { return double(live.counters().connections_accepted); });
  registry.callback("edgeclass_live_connections_refused_total",
                    "Live WebSocket connections refused (auth, policy, ended, full)",
                    metrics::Type::kCounter,
                    [&live] { return double(live.counters().connections_refused); });
  registry.callback("edgeclass_live_too_many_sockets_total",
                    "Live WebSocket upgrades refused with 429 too_many_live_sockets (the user "
                    "already held the per-user limit of live sockets)",
                    metrics::Type::kCounter,
                    [&live] { return double(live.counters().too_many_sockets); });

  if (media.running()) {
    struct MediaMetric {
      const char* name;
      const char* help;
      metrics::Type type;
      uint64_t MediaStats::*field;
    };
    static constexpr MediaMetric kMediaMetrics[] = {
        {"edgeclass_media_rooms", "Rooms with media on the SFU", metrics::Type::kGauge,
         &MediaStats::rooms},
        {"edgeclass_media_subscribers", "Subscribing PeerConnections on the SFU",
         metrics::Type::kGauge, &MediaStats::subscribers},
        {"edgeclass_media_transports", "WebRTC transports on the SFU", metrics::Type::kGauge,
         &MediaStats::transports},
        {"edgeclass_media_received_packets_total", "RTP packets from publishers",
         metrics::Type::kCounter, &MediaStats::packets_in},
        {"edgeclass_media_received_bytes_total", "RTP bytes from publishers",
         metrics::Type::kCounter, &MediaStats::bytes_in},
        {"edgeclass_media_sent_packets_total", "RTP packets to subscribers (with retransmissions)",
         metrics::Type::kCounter, &MediaStats::packets_out},
        {"edgeclass_media_sent_bytes_total", "RTP bytes to subscribers",
         metrics::Type::kCounter, &MediaStats::bytes_out},
        {"edgeclass_media_nacks_received_total", "Sequence numbers NACKed by subscribers",
         metrics::Type::kCounter, &MediaStats::nacks_received},
        {"edgeclass_media_nacks_sent_total", "Sequence numbers NACKed toward publishers",
         metrics::Type::kCounter, &MediaStats::nacks_sent},
        {"edgeclass_media_retransmissions_total", "NACKs answered from the packet cache",
         metrics::Type::kCounter, &MediaStats::retransmissions},
        {"edgeclass_media_plis_received_total", "Key frame requests (PLI/FIR) from subscribers",
         metrics::Type::kCounter, &MediaStats::plis_received},
        {"edgeclass_media_plis_sent_total", "Key frame requests sent to publishers",
         metrics::Type::kCounter, &MediaStats::plis_sent},
        {"edgeclass_media_packets_dropped_total", "RTP packets dropped (no key frame yet, stale)",
         metrics::Type::kCounter, &MediaStats::dropped},
        {"edgeclass_media_srtp_failures", "SRTP authentication/replay failures (live transports)",
         metrics::Type::kGauge, &MediaStats::srtp_failures},
    };
    for (const MediaMetric& m : kMediaMetrics) {
      registry.callback(m.name, m.help, m.type,
                        [&media, f = m.field] { return double(media.stats().*f); });
    }
    registry.callback_family(
        "edgeclass_media_room_subscribers", "Subscribing PeerConnections per live session",
        metrics::Type::kGauge, {"session"}, [&media](const metrics::Registry::Emit& emit) {
          for (const auto& [session, n] : media.room_subscribers()) {
            const std::string values[] = {session};
            emit(values, double(n));
          }
        });
  }

  HttpMetrics http_metrics(registry);
  server.set_observer([&](std::string_view route, unsigned status, int64_t ns) {
    http_metrics.observe(route, status, ns);
  });
  registry.callback("edgeclass_http_open_connections", "Open HTTP connections",
                    metrics::Type::kGauge, [&] { return double(server.open_connections()); });
  register_connection_metrics(registry, server);
  registry.callback("edgeclass_store_write_queue_depth", "Write operations waiting for a group",
                    metrics::Type::kGauge,
                    [w = writer->get()] { return double(w->counters().queue_depth); });

  if (auto s = server.listen(); !s.is_ok()) {
    base::log::error("http.listen_failed").kv("error", s.message());
    return 1;
  }
  server.start();
  std::string host = config.listen_host == "0.0.0.0" ? "127.0.0.1" : config.listen_host;
  base::log::info("edgeclass.ready")
      .kv("url", "http://" + host + ":" + std::to_string(server.port()) + "/")
      .kv("threads", server.thread_count())
      .kv("data_dir", config.data_dir);

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      // Requests in flight keep the policies they started with (shared_ptr); new ones see
      // the new set. A broken policy is reported and the old set stays in force.
      size_t n = 0;
      auto next = load_policies(config.policy_dir, &n);
      if (next.is_ok()) {
        policies.set(std::move(next).value());
        policy_reloads.labels({"ok"}).inc();
        base::log::info("policy.reloaded").kv("files", uint64_t(n));
      } else {
        policy_reloads.labels({"error"}).inc();
        base::log::error("policy.reload_failed")
            .kv("error", next.status().message())
            .kv("note", "the previous policies stay in force");
      }
      continue;
    }
    base::log::info("edgeclass.stopping").kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  live.shutdown();    // live connections close with 1001 (clients resume elsewhere)
  server.stop();      // finish in-flight requests (their commits complete in the writer)
  (*writer)->stop();  // commit everything already queued
  base::log::info("edgeclass.stopped");
  return 0;
}

}  // namespace app
