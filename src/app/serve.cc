#include "app/serve.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "app/bundle_fetch.h"
#include "app/city_front.h"
#include "app/city_live.h"
#include "app/decision_log.h"
#include "app/log_writer.h"
#include "app/media_plane.h"
#include "app/media_relay.h"
#include "app/policies.h"
#include "app/tls_edge.h"
#include "app/web_assets.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/random.h"
#include "city/city.h"
#include "classroom/authz.h"
#include "classroom/service.h"
#include "http/api.h"
#include "http/server.h"
#include "http/start_gate.h"
#include "metrics/process.h"
#include "metrics/registry.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/writer.h"
#include "ws/live_hub.h"

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
                             {"route"})),
        errors_(r.counter("edgeclass_http_error_replies_total",
                          "HTTP error replies by their JSON error code (course_not_found, "
                          "forbidden, too_many_connections, ...)",
                          {"code"})) {}

  void observe(std::string_view route, unsigned status, int64_t ns, std::string_view error) {
    if (!error.empty()) count_error(error);
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
  // Codes are words from the source (base::Status reasons), so the series stay few; anything
  // else counts as "other".
  void count_error(std::string_view code) {
    thread_local std::unordered_map<std::string, metrics::Counter*> cache;
    if (!ws::is_plain_code(code)) code = "other";
    auto it = cache.find(std::string(code));
    if (it == cache.end()) it = cache.emplace(std::string(code), &errors_.labels({code})).first;
    it->second->inc();
  }

  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& latency_;
  metrics::CounterFamily& errors_;
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
  registry.callback(
      "edgeclass_http_tls_handshake_failures_total",
      "TLS handshakes that failed or timed out on the public listener", metrics::Type::kCounter,
      [&c] { return double(c.tls_handshake_failures.load(std::memory_order_relaxed)); });
  registry.callback("edgeclass_http_plain_http_on_tls_total",
                    "Connections to the TLS listener that did not start with a TLS handshake "
                    "(plain HTTP is answered 400 https_required)",
                    metrics::Type::kCounter,
                    [&c] { return double(c.plain_http_on_tls.load(std::memory_order_relaxed)); });
  registry.callback("edgeclass_http_first_byte_timeouts_total",
                    "New connections closed because they sent nothing within the first-byte "
                    "timeout",
                    metrics::Type::kCounter,
                    [&c] { return double(c.first_byte_timeouts.load(std::memory_order_relaxed)); });
}

// The media counters as /metrics shows them: one metric per row of media_metrics.h's tables.
void register_media_metrics(metrics::Registry& registry, MediaPlane& media) {
  for (const media::MediaCounterRow& row : media::kMediaCounterRows) {
    registry.callback(row.metric, row.help, metrics::Type::kCounter,
                      [&media, f = row.field] { return double(media.stats().totals.*f); });
  }
  for (const media::MediaGaugeRow& row : media::kMediaGaugeRows) {
    registry.callback(row.metric, row.help, metrics::Type::kGauge,
                      [&media, f = row.field] { return double(media.stats().*f); });
  }
  // Failed transports, counted by the SFU since the start (media_metrics.h, MediaStats).
  registry.callback_family(
      "edgeclass_media_ice_failures_total",
      "WebRTC transports whose ICE failed: timeout (no valid connectivity check within 30 s "
      "of the answer) or consent_expired (the browser stopped answering)",
      metrics::Type::kCounter, {"reason"}, [&media](const metrics::Registry::Emit& emit) {
        const MediaStats s = media.stats();
        const std::string timeout[] = {"timeout"};
        emit(timeout, double(s.ice_timeouts));
        const std::string consent[] = {"consent_expired"};
        emit(consent, double(s.consent_expirations));
      });
  // Relay legs between replicas' SFUs (media_metrics.h, MediaStats).
  registry.callback_family(
      "edgeclass_media_relay_packets_total",
      "RTP packets on relay legs between replicas' SFUs: out (sent by this home to its edges, "
      "once per leg whatever the number of students), in (received by this edge)",
      metrics::Type::kCounter, {"direction"}, [&media](const metrics::Registry::Emit& emit) {
        const MediaStats s = media.stats();
        const std::string out[] = {"out"}, in[] = {"in"};
        emit(out, double(s.relay_packets_out));
        emit(in, double(s.relay_packets_in));
      });
  registry.callback_family("edgeclass_media_relay_bytes_total",
                           "RTP bytes on relay legs (before SRTP)", metrics::Type::kCounter,
                           {"direction"}, [&media](const metrics::Registry::Emit& emit) {
                             const MediaStats s = media.stats();
                             const std::string out[] = {"out"}, in[] = {"in"};
                             emit(out, double(s.relay_bytes_out));
                             emit(in, double(s.relay_bytes_in));
                           });
  registry.callback("edgeclass_media_dtls_failures_total",
                    "WebRTC transports whose DTLS handshake (or SRTP setup) failed",
                    metrics::Type::kCounter,
                    [&media] { return double(media.stats().dtls_failures); });
  // Bounded cardinality: no session ids as label values, the largest room instead.
  registry.callback("edgeclass_media_largest_room_subscribers",
                    "Subscribing PeerConnections in the live session with the most",
                    metrics::Type::kGauge, [&media] {
                      uint64_t most = 0;
                      for (const auto& [session, n] : media.room_subscribers()) {
                        most = std::max(most, n);
                      }
                      return double(most);
                    });
}

void register_live_metrics(metrics::Registry& registry, const ws::LiveHub& live) {
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
                    "Live WebSocket upgrades refused with too_many_live_sockets (the user "
                    "already held the per-user limit of live sockets)",
                    metrics::Type::kCounter,
                    [&live] { return double(live.counters().too_many_sockets); });
  registry.callback_family(
      "edgeclass_live_participants",
      "Users present in the live rooms of this replica, by role (one per user and room, "
      "whatever the number of their sockets)",
      metrics::Type::kGauge, {"role"}, [&live](const metrics::Registry::Emit& emit) {
        const ws::LiveCounters c = live.counters();
        const std::string student[] = {"student"};
        emit(student, double(c.students));
        const std::string teacher[] = {"teacher"};
        emit(teacher, double(c.teachers));
      });
  using Traffic = ws::LiveTraffic;
  registry.callback_family(
      "edgeclass_live_messages_received_total",
      "Live WebSocket messages from clients by type (invalid: not a protocol message)",
      metrics::Type::kCounter, {"type"}, [&live](const metrics::Registry::Emit& emit) {
        for (size_t i = 0; i < Traffic::kInTypes.size(); ++i) {
          const std::string values[] = {std::string(Traffic::kInTypes[i])};
          emit(values, double(live.traffic().in(i)));
        }
      });
  registry.callback_family("edgeclass_live_messages_sent_total",
                           "Live WebSocket messages to clients by type, one per receiving socket",
                           metrics::Type::kCounter, {"type"},
                           [&live](const metrics::Registry::Emit& emit) {
                             for (size_t i = 0; i < Traffic::kOutTypes.size(); ++i) {
                               const std::string values[] = {std::string(Traffic::kOutTypes[i])};
                               emit(values, double(live.traffic().out(i)));
                             }
                           });
  registry.callback_family(
      "edgeclass_live_error_replies_total", "Live error replies (messages of type error) by code",
      metrics::Type::kCounter, {"code"}, [&live](const metrics::Registry::Emit& emit) {
        for (const auto& [code, n] : live.traffic().errors()) {
          const std::string values[] = {code};
          emit(values, double(n));
        }
      });
  registry.callback("edgeclass_live_spread_connections_total",
                    "Live WebSocket connections of spread rooms served on another I/O thread "
                    "than their room's (EDGECLASS_LIVE_SPREAD_ABOVE)",
                    metrics::Type::kCounter,
                    [&live] { return double(live.counters().spread_connections); });
}

// Runs `work` on a thread of its own at idle priority (SCHED_IDLE: it gets a core only when no
// other thread of the process wants it) and returns when it is done. For start-up work that
// requests served meanwhile must not wait behind. The calling thread keeps its priority (an
// unprivileged thread could not take it back), and threads started later are not affected.
void run_at_idle_priority(const std::function<void()>& work) {
  std::thread t([&work] {
    pthread_setname_np(pthread_self(), "ec-idle-start");  // top -H, perf
    sched_param none{};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);  // best effort
    work();
  });
  t.join();
}

// Blocks SIGTERM, SIGINT and SIGHUP (taken synchronously by sigwait) before any thread
// starts, and ignores SIGPIPE.
sigset_t block_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// The server options from the configuration, with the connection limit kept below the
// descriptor limit, so that running out of connections is a 503 with /healthz still
// answering, not EMFILE everywhere.
http::ServerOptions server_options(const Config& config) {
  http::ServerOptions o;
  o.host = config.listen_host;
  o.port = config.listen_port;
  o.threads = config.threads;
  o.read_timeout = std::chrono::seconds(config.http_timeout_ms / 1000);
  o.first_byte_timeout = std::chrono::milliseconds(config.first_byte_timeout_ms);
  int64_t fd_soft_before = 0;
  int64_t fd_limit = http::raise_fd_limit(&fd_soft_before);
  o.max_connections =
      config.max_connections > 0 ? config.max_connections : http::default_max_connections(fd_limit);
  o.max_connections_per_address = config.max_connections_per_ip;
  base::log::info("http.connection_limits")
      .kv("fd_limit", fd_limit)
      .kv("fd_soft_limit_at_start", fd_soft_before)
      .kv("max_connections", o.max_connections)
      .kv("max_connections_per_ip", o.max_connections_per_address)
      .kv("first_byte_timeout_ms", config.first_byte_timeout_ms)
      .kv("max_live_sockets_per_user", config.max_live_sockets_per_user);
  if (o.max_connections > fd_limit - http::reserved_fds(fd_limit)) {
    base::log::warn("http.max_connections_above_fd_limit")
        .kv("max_connections", o.max_connections)
        .kv("fd_limit", fd_limit)
        .kv("note",
            "accepts will fail with EMFILE before the connection limit is reached and "
            "probes may go unanswered; raise the fd limit or lower "
            "EDGECLASS_MAX_CONNECTIONS");
  }
  return o;
}

// The city's options from the configuration: the replica id defaults to the host name, the
// advertised URL to the listen address (the host name when listening on every address).
base::Result<city::CityOptions> city_options(const Config& config, uint16_t port) {
  city::CityOptions o;
  EC_ASSIGN_OR_RETURN(o.redis, city::parse_redis_url(config.redis_url));
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  o.replica_id = config.replica_id.empty() ? std::string(host) : config.replica_id;
  if (o.replica_id.empty()) {
    return base::invalid_argument("no replica id: set EDGECLASS_REPLICA_ID");
  }
  o.advertise_url = config.advertise_url;
  if (o.advertise_url.empty()) {
    bool any =
        config.listen_host == "0.0.0.0" || config.listen_host == "::" || config.listen_host.empty();
    // A replica that listens with TLS speaks only TLS on that port.
    bool tls = !config.tls_cert.empty();
    std::string h = any ? std::string(host) : config.listen_host;
    if (h.find(':') != std::string::npos) h = "[" + h + "]";
    o.advertise_url = (tls ? "https://" : "http://") + h + ":" + std::to_string(port);
  }
  return o;
}

// One edgeclass process: the store and its writer, the HTTP server and its readers, the
// policies, the classroom service, the SFU and the live rooms. start_listening() and
// finish_start() build them in that
// order; the destructor takes them down in reverse (members are declared in start order).
class Node {
 public:
  // `start_log` starts the log writer's thread (LogWriter::start): once the listener serves,
  // or at once when something before it may wait on the network (see start()).
  Node(const Config& config, std::function<void()> start_log)
      : config_(config), start_log_(std::move(start_log)) {}
  ~Node() {
    if (city_) city_->stop();  // its thread calls into front_, which goes first
    // The media thread must not call into the hub once it is gone.
    media_.stop();
    live_for_media_.store(nullptr);
  }

  // Every step up to the public listener's first socket listening, in order; the first
  // failure is returned (already logged by its step). Then the calling thread serves I/O
  // thread 0 (serve_first_worker) while another thread runs finish_start().
  base::Status start_listening() {
    EC_RETURN_IF_ERROR(resolve_secret());
    const bool crypto_first = crypto_first_ = crypto_before_listening();
    // The same things may wait on the network before the listener serves (a bundle server, a
    // certificate, Redis): their log lines go out as they happen. Otherwise the log writer's
    // thread starts once the listener serves (its lines until then wait a few milliseconds).
    if (crypto_first) start_log_();
    if (crypto_first) init_openssl();
    metrics::register_process_metrics(registry_);
    registry_.callback("edgeclass_log_lines_dropped_total",
                       "Log lines dropped because the log output did not keep up (a full pipe "
                       "or disk; app/log_writer.h)",
                       metrics::Type::kCounter, [] { return double(log_lines_dropped_total()); });
    EC_RETURN_IF_ERROR(open_store());
    EC_RETURN_IF_ERROR(start_tls());
    http::ServerOptions options = server_options(config_);
    options.tls = tls_ ? tls_->certificates() : nullptr;
    server_ = std::make_unique<http::Server>(options, router_);
    EC_RETURN_IF_ERROR(open_readers());
    EC_RETURN_IF_ERROR(load_initial_policies());
    make_service();
    // The media port is bound once the listener serves (finish_start) unless the policies or
    // the city may already be in force here (crypto_first_: a bundle server, a city; the
    // same test as the log's and OpenSSL's): only a live room uses it, and none opens before
    // the policy gate does.
    if (crypto_first_) start_media();
    start_live();
    http::register_api(router_, deps_);
    register_metrics();
    if (auto s = server_->listen(); !s.is_ok()) return fail("http.listen_failed", s);
    EC_RETURN_IF_ERROR(start_city());  // needs the bound port; wraps routes before serving
    wait_for_city();
    gate_on_policies();  // every route is registered and wrapped by now
    return base::Status::ok();
  }

  // I/O thread 0 on the calling thread, from right after start_listening() until the server
  // stops: a cold start's first connection is accepted and answered by the thread that
  // already runs, with no thread to create or wait for a core first (http::Server::
  // run_first_worker; the other I/O threads' sockets listen once their threads run).
  // `start_rest` starts the thread that runs finish_start(): after kFirstAnswerWindow, so that
  // a connection that comes at once is answered before this thread spends ~0.2 ms making it,
  // or sooner when a request needs a policy decision (the policies are compiled there).
  static constexpr auto kFirstAnswerWindow = std::chrono::microseconds(1000);
  void serve_first_worker(const std::function<void()>& start_rest) {
    policies_->set_before_wait(start_rest);
    server_->run_first_worker(kFirstAnswerWindow, start_rest);
  }

  // The rest of the start, on another thread while serve_first_worker() serves; on failure
  // (already logged) the node is stopped, so serve_first_worker() returns too.
  base::Status finish_start() {
    server_->start_other_workers();
    start_log_();
    // Before the policies compile: a live room, which alone uses the media port, opens only
    // once the policy gate does, so every room sees the port bound or not, as before.
    if (!crypto_first_) start_media();
    // What the first requests need but a cold start need not wait for comes after the
    // listener serves (a cold start is exec to the first answer): OpenSSL's start-up unless
    // something before the listener used it (tokens are checked without it: base/crypto.h),
    // each I/O thread reads its reader's schema before its first query, and the policies
    // compile here while requests that need a decision wait for them (at the start gate:
    // gate_on_policies).
    // The writer's connection reads and checks the schema here too (store::Db::finish_open:
    // before listening only the header was read, store::migrate), before the writer's thread
    // starts; a malformed schema ends the start as a broken policy set does.
    // These run on a thread at idle priority while this one waits: the I/O threads must get a
    // core first (on two busy cores 1-3 ms of this work kept a new I/O thread from its first
    // accept until it was done), and the work yields to every request it would otherwise
    // delay.
    // Then what no request of the public listener needs: the admin listener, and the media
    // thread's DTLS certificate (media signalling already posted waits in its queue).
    warm_readers();
    base::Status opened = base::Status::ok(), compiled = base::Status::ok();
    run_at_idle_priority([&] {
      if (!crypto_first_) opened = writer_->finish_open();
      if (!crypto_first_) init_openssl();
      if (policies_->empty()) compiled = compile_initial_policies();
    });
    writer_->launch();  // writes submitted until now waited in its queue
    if (!opened.is_ok() || !compiled.is_ok()) {
      if (!opened.is_ok()) (void)fail("store.open_failed", opened);  // returned below
      if (policies_->empty()) policies_->set(RegoAuthorizer::refusing());  // releases waiters
      policy_gate_->fail(base::unavailable(
          "the server could not load its policies and is stopping; retry on another replica",
          "policies_unavailable"));
      stop();
      return opened.is_ok() ? compiled : opened;
    }
    if (auto s = start_admin(); !s.is_ok()) {
      stop();
      return s;
    }
    media_.launch();
    announce();
    return base::Status::ok();
  }

  // Until SIGTERM or SIGINT; SIGHUP reloads the policies and the TLS certificate.
  void run_until_stopped(const sigset_t& signals) {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig != SIGHUP) {
        base::log::info("edgeclass.stopping").kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
      }
      reload_policies();
      if (tls_) tls_->reload("sighup");
    }
  }

  // Live connections close with 1001 (1012 in a city: clients resume elsewhere), in-flight
  // requests finish (their commits complete in the writer), then everything already queued
  // is committed. The city link stops last: while the server drains, the live rooms say
  // goodbye through it (an edge's connections leave their home's room, a home's edges are
  // told and its presence goes), and forwarded requests still finish.
  void stop() {
    if (bundles_) bundles_->stop();
    live_->shutdown();
    server_->stop();
    if (city_) city_->stop();
    if (front_) front_->release_connections();  // while the I/O contexts exist
    if (media_relay_owned_) media_relay_owned_->release_connections();
    if (admin_) admin_->stop();
    writer_->stop();
    if (uploader_)
      uploader_->stop();  // a last upload of what is buffered (joins decide in the writer)
    base::log::info("edgeclass.stopped");
  }

 private:
  base::Status fail(const char* event, const base::Status& s) {
    base::log::error(event).kv("error", s.message());
    return s;
  }

  // OpenSSL's start-up (its configuration file, the default provider) on one thread before any
  // other thread uses OpenSSL (the main thread, or start()'s idle-priority thread while the main
  // thread waits and the I/O threads check tokens without it): OpenSSL 3's first fetches racing a
  // configuration load are not safe (a city test once saw every token refused by one replica, when
  // tokens were checked with HMAC() through a fetch; base::hmac_sha256 no longer uses OpenSSL's
  // providers).
  static void init_openssl() { base::init_crypto(); }

  // Whether anything before the I/O threads serve uses OpenSSL: the TLS listener's
  // certificates, the policy bundle's first poll and the decision uploader (both may speak
  // HTTPS on their own threads), the city link (Redis, HTTPS to homes). Without them, the
  // first code to need OpenSSL runs after init_openssl: policy decisions (crypto builtins) wait
  // for the policies compiled after it, the media thread is launched after it, and the
  // requests served meanwhile check tokens without it.
  bool crypto_before_listening() const {
    return !config_.tls_cert.empty() || !config_.policy_bundle_url.empty() ||
           !config_.decision_log_url.empty() || !config_.redis_url.empty();
  }

  base::Status resolve_secret() {
    bool generated = false;
    auto secret = resolve_jwt_secret(config_, &generated);
    if (!secret.is_ok()) return fail("config.jwt_secret", secret.status());
    secret_ = *secret;
    if (generated) {
      base::log::warn("config.dev_secret_generated")
          .kv("path", config_.data_dir + "/dev-jwt-secret")
          .kv("note", "development JWT secret generated; set EDGECLASS_JWT_SECRET in production");
    }
    return base::Status::ok();
  }

  // Production edge: the certificate pair, when configured (docs/operations.md, "TLS").
  base::Status start_tls() {
    auto tls = TlsEdge::start(config_, registry_);
    if (!tls.is_ok()) return fail("tls.load_failed", tls.status());
    tls_ = std::move(tls).value();
    return base::Status::ok();
  }

  // Production edge: the admin listener (/metrics, the policy data API) on its own address
  // and thread, with its own reader, so the public listener serves the product only.
  base::Status start_admin() {
    if (config_.admin_host.empty()) {
      base::log::info("admin.off").kv("note", "no /metrics and no policy data API");
      return base::Status::ok();
    }
    auto reader = store::Db::open(config_.db_path(), store::OpenMode::kReadOnly);
    if (!reader.is_ok()) return fail("store.reader_failed", reader.status());
    admin_reader_ = std::move(reader).value();
    admin_deps_.readers = {admin_reader_.get()};
    admin_deps_.service = deps_.service;
    admin_deps_.writer = deps_.writer;
    admin_deps_.jwt_secret = secret_;
    admin_deps_.clock = deps_.clock;
    admin_deps_.metrics_text = deps_.metrics_text;
    admin_deps_.policy_data = deps_.policy_data;
    admin_deps_.ready = deps_.ready;
    admin_deps_.policy_status = deps_.policy_status;
    http::register_admin(admin_router_, admin_deps_);
    http::ServerOptions o;
    o.host = config_.admin_host;
    o.port = config_.admin_port;
    o.threads = 1;
    o.thread_name = "ec-admin";  // ec-admin-0, beside the public listener's ec-io-N
    o.max_connections = 256;  // scrapers and operators, not students
    o.access_log = false;     // scrapes every 15 s would drown the product's lines
    o.read_timeout = std::chrono::seconds(config_.http_timeout_ms / 1000);
    admin_ = std::make_unique<http::Server>(o, admin_router_);
    if (auto s = admin_->listen(); !s.is_ok()) {
      return fail("admin.listen_failed",
                  base::unavailable(s.message() + " (EDGECLASS_ADMIN_LISTEN; 'off' disables it)"));
    }
    admin_->start();
    return base::Status::ok();
  }

  base::Status open_store() {
    // An existing database at the current version is checked from its header here (WAL, the
    // schema version: store::migrate) and its schema read once the listener serves (start()).
    store::DbOptions dopts;
    dopts.defer_schema_pragmas = !crypto_first_;
    auto db = store::Db::open(config_.db_path(), store::OpenMode::kReadWrite, dopts);
    if (!db.is_ok()) return fail("store.open_failed", db.status());
    if (auto s = store::migrate(**db); !s.is_ok()) return fail("store.migrate_failed", s);
    auto& commit_latency = registry_
                               .histogram("edgeclass_store_commit_duration_seconds",
                                          "Group commit latency (BEGIN to COMMIT incl. fsync)", {},
                                          metrics::exponential_buckets(0.0001, 2, 16))
                               .get();
    auto& batch_size =
        registry_
            .histogram("edgeclass_store_commit_batch_size", "Write operations per committed group",
                       {}, metrics::exponential_buckets(1, 2, 12))
            .get();
    auto& failed_commits =
        registry_
            .counter("edgeclass_store_failed_commits_total", "Groups whose BEGIN or COMMIT failed")
            .get();
    store::WriterOptions wopts;
    // Its thread starts once the listener serves (start(), after the schema check there): a
    // write that comes first waits in its queue for those milliseconds.
    wopts.defer_thread = !crypto_first_;
    wopts.on_group = [&](const store::GroupStats& g) {
      commit_latency.observe(double(g.commit_ns) / 1e9);
      batch_size.observe(double(g.ops));
      if (!g.committed) failed_commits.inc();
    };
    auto writer = store::Writer::start(std::move(db).value(), wopts);
    if (!writer.is_ok()) return fail("store.writer_failed", writer.status());
    writer_ = std::move(writer).value();
    return base::Status::ok();
  }

  // One read-only connection per I/O thread, opened by its first statement on that thread
  // (warm_readers' timer, or a request before it): nothing is opened before listening.
  base::Status open_readers() {
    store::DbOptions lazy;
    lazy.connect_on_first_use = true;
    for (int i = 0; i < server_->thread_count(); ++i) {
      auto r = store::Db::open(config_.db_path(), store::OpenMode::kReadOnly, lazy);
      if (!r.is_ok()) return fail("store.reader_failed", r.status());
      deps_.readers.push_back(r->get());
      readers_.push_back(std::move(r).value());
    }
    return base::Status::ok();
  }

  base::Status load_initial_policies() {
    if (config_.decision_log) {
      DecisionLog::Sink sink;
      if (!config_.decision_log_url.empty()) {
        uploader_ = std::make_unique<DecisionUploader>(
            config_.decision_log_url, config_.policy_bundle_ca, std::chrono::seconds(1));
        uploader_->start();
        sink = [u = uploader_.get()](std::string_view line) { u->push(line); };
      }
      auto log = DecisionLog::make(config_.decision_log_mask, std::move(sink));
      if (!log.is_ok()) return fail("policy.decision_log_failed", log.status());
      decision_log_ = std::move(log).value();
    }
    policies_ = std::make_unique<PolicyHolder>();
    policy_gate_ = std::make_shared<http::StartGate>(
        kPolicyWaitLimit,
        base::unavailable("the server is still loading its policies; retry in a moment",
                          "policies_loading"));
    policy_reloads_ = &registry_.counter("edgeclass_policy_reloads_total",
                                         "Policy reloads on SIGHUP by outcome", {"result"});
    // With a bundle server the first requests are decided by its bundle when one activates
    // at start: both come before listening, as the bundle poll needs the local set first.
    // Without one, start() compiles the local set once the listener serves.
    if (!config_.policy_bundle_url.empty()) {
      EC_RETURN_IF_ERROR(compile_initial_policies());
      EC_RETURN_IF_ERROR(start_bundles());
    }
    return base::Status::ok();
  }

  base::Status compile_initial_policies() {
    size_t files = 0;
    auto loaded = load_policies(config_.policy_dir, &files, config_.policy_query, decision_log_);
    if (!loaded.is_ok()) return fail("policy.load_failed", loaded.status());
    base::log::info("policy.loaded")
        .kv("source", config_.policy_dir.empty() ? "embedded" : config_.policy_dir)
        .kv("query", config_.policy_query)
        .kv("files", uint64_t(files));
    policies_->set(std::move(loaded).value());
    policy_gate_->open();  // requests waiting for a decision go on
    return base::Status::ok();
  }

  // While the initial policies compile (after listening, at idle priority: start()), a request
  // that may ask them for a decision waits at policy_gate_ without holding its I/O thread
  // (http/start_gate.h): the REST API, OPA's data API and status, the city's internal routes
  // and the live socket's upgrade. Everything else (/healthz, /readyz, /metrics, the pages) is
  // answered meanwhile on the same thread, and so are the catalog's reads (GET a course, the
  // course list), which decide in the service's own code (drafts are their teacher's) and ask
  // the policies nothing: a scale-from-zero start's first GET course waited ~3 ms for the
  // compile when they were gated. A decision still asked for before the compile ends by a
  // route not gated here waits in PolicyHolder::get, blocking its thread (and starting the
  // control thread at once): slower, never wrong.
  static constexpr auto kPolicyWaitLimit = std::chrono::seconds(10);
  static bool asks_the_policies(const http::Router::RouteInfo& r) {
    if (r.method == http::Verb::get &&
        (r.pattern == "/api/v1/courses" || r.pattern == "/api/v1/courses/{id}")) {
      return false;
    }
    return r.pattern.starts_with("/api/") || r.pattern.starts_with("/v1/") ||
           r.pattern.starts_with("/internal/");
  }
  void gate_on_policies() {
    if (policy_gate_->is_open()) return;  // compiled before listening (a bundle server)
    http::gate_routes(router_, policy_gate_, asks_the_policies);
    server_->set_upgrade_gate(policy_gate_);
  }

  // Each reader's first statement opens its connection and reads the schema (open_readers
  // leaves both to it): done on its own I/O thread a moment after the listener serves
  // (kReaderWarmDelay), so that it delays neither the first requests of a cold start (a
  // /healthz probe needs neither; a query that comes first does both itself) nor the queries
  // that come later.
  static constexpr auto kReaderWarmDelay = std::chrono::milliseconds(50);
  void warm_readers() {
    for (int i = 0; i < server_->thread_count(); ++i) {
      auto& timer = reader_warm_timers_.emplace_back(
          std::make_unique<boost::asio::steady_timer>(server_->context(i), kReaderWarmDelay));
      timer->async_wait([db = readers_[size_t(i)].get()](const boost::system::error_code& ec) {
        if (ec) return;  // stopped first
        if (auto s = db->exec("SELECT 1 FROM sqlite_master LIMIT 0"); !s.is_ok()) {
          base::log::warn("store.reader_warm_failed").kv("error", s.message());
        }
      });
    }
  }

  // EDGECLASS_POLICY_BUNDLE_URL: one poll now (the local policies stay in force if it fails)
  // and then every EDGECLASS_POLICY_BUNDLE_POLL on the poller's thread.
  base::Status start_bundles() {
    BundleVerification verify;
    if (!config_.policy_bundle_key.empty()) {
      std::ifstream in(config_.policy_bundle_key, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      if (!in || ss.str().empty()) {
        return fail("policy.bundle_key_failed",
                    base::invalid_argument("EDGECLASS_POLICY_BUNDLE_KEY: cannot read " +
                                           config_.policy_bundle_key));
      }
      verify.key = ss.str();
      while (!verify.key.empty() && (verify.key.back() == '\n' || verify.key.back() == '\r')) {
        verify.key.pop_back();
      }
    }
    bundles_ = std::make_unique<BundlePoller>(
        config_.policy_bundle_url, std::move(verify),
        std::chrono::milliseconds(config_.policy_bundle_poll_ms), [this](Bundle b) {
          auto a = authorizer_from_bundle(std::move(b), config_.policy_query, decision_log_);
          if (!a.is_ok()) return a.status();
          policies_->set(std::move(a).value());  // atomic: in-flight decisions keep the old set
          return base::Status::ok();
        });
    bundles_->set_ca_file(config_.policy_bundle_ca);
    if (!bundles_->poll_once().is_ok()) {
      base::log::warn("policy.bundle_pending")
          .kv("url", config_.policy_bundle_url)
          .kv("note", "the local policies decide until a bundle activates");
    }
    bundles_->start();
    return base::Status::ok();
  }

  boost::json::object policy_status() const {
    boost::json::object out;
    auto current = policies_->get();
    out["query"] = current->query();
    out["decision_logs"] = boost::json::object{{"enabled", config_.decision_log}};
    boost::json::object bundles;
    if (bundles_) {
      BundleStatus s = bundles_->status();
      bundles[s.name] = bundle_status_json(s);
    }
    out["bundles"] = std::move(bundles);
    out["source"] = !current->revision().empty() || (bundles_ && bundles_->status().activations)
                        ? "bundle"
                        : (config_.policy_dir.empty() ? "embedded" : "dir");
    return out;
  }

  void register_policy_metrics() {
    if (DecisionUploader* u = uploader_.get()) {
      registry_.callback("edgeclass_policy_decision_logs_sent_total",
                         "Decision log events accepted by the decision log service",
                         metrics::Type::kCounter, [u] { return double(u->sent()); });
      registry_.callback("edgeclass_policy_decision_logs_dropped_total",
                         "Decision log events dropped (the buffer of 10000 was full)",
                         metrics::Type::kCounter, [u] { return double(u->dropped()); });
      registry_.callback("edgeclass_policy_decision_log_upload_failures_total",
                         "Uploads to the decision log service that failed (retried)",
                         metrics::Type::kCounter, [u] { return double(u->failed_uploads()); });
    }
    if (!bundles_) return;
    BundlePoller* b = bundles_.get();
    registry_.callback_family(
        "edgeclass_policy_bundle_info",
        "The active OPA bundle (1, labelled with its revision); absent until one activates",
        metrics::Type::kGauge, {"name", "revision"}, [b](const metrics::Registry::Emit& emit) {
          BundleStatus s = b->status();
          if (s.activations == 0) return;
          std::string labels[2] = {s.name, s.active_revision};
          emit(labels, 1);
        });
    registry_.callback("edgeclass_policy_bundle_activation_timestamp_seconds",
                       "When the active bundle was activated (Unix time; 0: never)",
                       metrics::Type::kGauge,
                       [b] { return double(b->status().last_successful_activation_ms) / 1000; });
    registry_.callback("edgeclass_policy_bundle_last_request_timestamp_seconds",
                       "When the bundle server was last asked (Unix time)", metrics::Type::kGauge,
                       [b] { return double(b->status().last_request_ms) / 1000; });
    registry_.callback("edgeclass_policy_bundle_activations_total",
                       "Bundles downloaded, verified, compiled and activated",
                       metrics::Type::kCounter, [b] { return double(b->status().activations); });
    registry_.callback("edgeclass_policy_bundle_failures_total",
                       "Bundle polls that failed (download, signature, compile); the active "
                       "policies stayed in force",
                       metrics::Type::kCounter, [b] { return double(b->status().failures); });
  }

  // Requests in flight keep the policies they started with (shared_ptr); new ones see the
  // new set. A broken policy is reported and the old set stays in force.
  void reload_policies() {
    if (bundles_) {  // the bundle server is the source of truth: SIGHUP polls it now
      bool ok = bundles_->poll_once().is_ok();
      policy_reloads_->labels({ok ? "ok" : "error"}).inc();
      return;
    }
    size_t n = 0;
    auto next = load_policies(config_.policy_dir, &n, config_.policy_query, decision_log_);
    if (next.is_ok()) {
      policies_->set(std::move(next).value());
      policy_reloads_->labels({"ok"}).inc();
      base::log::info("policy.reloaded").kv("files", uint64_t(n));
      return;
    }
    policy_reloads_->labels({"error"}).inc();
    base::log::error("policy.reload_failed")
        .kv("error", next.status().message())
        .kv("note", "the previous policies stay in force");
  }

  std::shared_ptr<const classroom::Authorizer> authorizer() const { return policies_->get(); }

  // The classroom service and what the REST handlers need around it.
  void make_service() {
    service_ = std::make_unique<classroom::Service>(
        base::SystemClock::instance(), base::SystemRandom::instance(),
        [this] { return authorizer(); }, config_.max_students);
    deps_.service = service_.get();
    deps_.writer = writer_.get();
    deps_.jwt_secret = secret_;
    deps_.clock = &base::SystemClock::instance();
    deps_.metrics_text = [this] { return registry_.expose(); };
    deps_.policy_status = [this] { return policy_status(); };
    deps_.policy_data = [this](std::string_view path, const boost::json::value& input) {
      return query_data(policies_->get()->engine(), path, input);
    };
    deps_.ready = [this]() -> base::Status {
      if (server_->stopping()) return base::unavailable("shutting down");
      // Decisions would wait (policy_gate_): not ready until the policies are in force.
      if (policy_gate_ && !policy_gate_->is_open()) {
        return base::unavailable("the policies are still compiling");
      }
      return base::Status::ok();
    };
    for (const WebAsset& a : web_assets()) {
      deps_.static_files.push_back({a.path, a.content_type, a.body});
    }
  }

  // The SFU on its own thread and UDP port. Without it the classroom works and answers media
  // requests with media_unavailable (logged media.unavailable; edgeclass.ready says
  // media_addresses "none"). Its events reach the rooms through the LiveHub: made before the
  // hub, it is in the hub's deps (start_live); made after, it is handed to the hub here,
  // before any live room can open.
  void start_media() {
    MediaPlaneOptions mo;
    mo.port = config_.media_port;
    mo.public_ip = config_.public_ip;
    mo.video_quality = config_.video_quality;
    // One thread sends everything unless the operator asks for a parallel fan-out: on the
    // 2-core development box it did not lower the delay (docs/live-performance.md), so it
    // stays opt-in until it has been measured on a 4-core node.
    mo.fanout_threads = std::max(1, config_.media_threads);
    mo.ice_timeout_ms = config_.media_ice_timeout_ms;
    if (!config_.redis_url.empty()) {
      // In a city, an edge's students watch on this replica's SFU, the streams relayed from
      // the home's (app/media_relay.h; the relay exists once the city is started).
      char host[256] = {};
      gethostname(host, sizeof host - 1);
      mo.replica_id = config_.replica_id.empty() ? std::string(host) : config_.replica_id;
      mo.relay_connect = [this](std::string room, std::string body,
                                std::function<void(base::Result<std::string>)> done) {
        if (MediaRelay* r = media_relay_.load()) {
          r->ask(std::move(room), std::move(body), std::move(done));
        } else {
          done(base::unavailable("the city is not started yet", "city_unavailable"));
        }
      };
    }
    mo.on_event = [this](ws::MediaEvent e) {
      if (ws::LiveHub* hub = live_for_media_.load()) hub->media_event(std::move(e));
    };
    mo.forward_latency =
        &registry_
             .histogram("edgeclass_media_forward_latency_seconds",
                        "SFU forwarding latency per subscriber packet, from arrival at the UDP "
                        "socket to its hand-off (SRTP protected) to the socket layer",
                        {}, forward_latency_bounds())
             .get();
    if (auto s = media_.start(std::move(mo)); !s.is_ok()) {
      base::log::warn("media.unavailable")
          .kv("port", uint64_t(config_.media_port))
          .kv("error", s.message())
          .kv("note", "the live classroom runs without video");
      return;
    }
    register_media_metrics(registry_, media_);
    if (live_ && !live_->set_media(media_.signalling())) {
      base::log::error("media.late")
          .kv("note", "live rooms opened before the media port; they run without video");
    }
  }

  // WebSocket upgrades of /api/v1/sessions/{id}/live: one room per live session on one I/O
  // thread; REST changes reach the rooms through the hooks.
  void start_live() {
    ws::LiveDeps d;
    d.service = service_.get();
    d.writer = writer_.get();
    d.readers = deps_.readers;
    d.context = [this](int i) -> boost::asio::io_context& { return server_->context(i); };
    d.threads = server_->thread_count();
    d.jwt_secret = secret_;
    d.max_sockets_per_user = size_t(config_.max_live_sockets_per_user);
    d.spread_above_capacity =
        config_.live_spread_above < 0 ? SIZE_MAX : size_t(config_.live_spread_above);
    d.authorizer = [this] { return authorizer(); };
    if (media_.running()) d.media = media_.signalling();
    live_ = std::make_unique<ws::LiveHub>(std::move(d));
    live_for_media_.store(live_.get());
    ws::LiveHub* live = live_.get();
    deps_.live = live;  // REST changes reach the live rooms (classroom::LiveNotifier)
    server_->set_upgrade_handler(
        [live](http::Transport& s, http::Request& req, int t, http::ConnectionSlot slot) {
          return live->handle_upgrade(s, req, t, std::move(slot));
        });
  }

  void register_metrics() {
    registry_.callback_family("edgeclass_build_info",
                              "Always 1; the version and whether the listener is HTTPS",
                              metrics::Type::kGauge, {"version", "tls"},
                              [tls = tls_ != nullptr](const metrics::Registry::Emit& emit) {
                                const std::string values[] = {"0.1.0", tls ? "on" : "off"};
                                emit(values, 1);
                              });
    register_live_metrics(registry_, *live_);
    http_metrics_ = std::make_unique<HttpMetrics>(registry_);
    server_->set_observer([m = http_metrics_.get()](std::string_view route, unsigned status,
                                                    int64_t ns, std::string_view error) {
      m->observe(route, status, ns, error);
    });
    registry_.callback("edgeclass_http_open_connections", "Open HTTP connections",
                       metrics::Type::kGauge,
                       [this] { return double(server_->open_connections()); });
    register_connection_metrics(registry_, *server_);
    register_policy_metrics();
    registry_.callback("edgeclass_store_write_queue_depth", "Write operations waiting for a group",
                       metrics::Type::kGauge,
                       [w = writer_.get()] { return double(w->counters().queue_depth); });
  }

  // The ready line (tests and operators read the URLs from it) and the terminal's banner.
  void announce() {
    std::string host = config_.listen_host == "0.0.0.0" ? "127.0.0.1" : config_.listen_host;
    std::string url = std::string(tls_ ? "https://" : "http://") + host + ":" +
                      std::to_string(server_->port()) + "/";
    std::string media;
    for (const auto& a : media_.announced_addresses()) media += (media.empty() ? "" : ",") + a;
    base::log::info("edgeclass.ready")
        .kv("url", url)
        .kv("threads", server_->thread_count())
        .kv("media_addresses", media_.running() ? media : std::string("none"))
        .kv("admin_url",
            admin_ ? "http://" + config_.admin_host + ":" + std::to_string(admin_->port()) + "/"
                   : std::string("off"))
        .kv("data_dir", config_.data_dir);
    print_banner(url);
  }

  // For a person at a terminal (`make run`): where to point browsers, where video goes.
  // Not printed when stderr is not a terminal (a pod): the JSON lines say the same.
  void print_banner(const std::string& url) {
    if (!::isatty(STDERR_FILENO)) return;
    std::string b = "\n  edgeclass " + url + (tls_ ? "  (HTTPS, WSS)" : "") + "\n";
    if (media_.running()) {
      b += "  media: UDP " + std::to_string(media_.port()) + " on";
      for (const auto& a : media_.announced_addresses()) b += " " + a;
      b += "\n";
      const auto& addrs = media_.announced_addresses();
      if (config_.public_ip.empty() && addrs.size() == 1 && addrs[0] == "127.0.0.1") {
        b += "  warning: only loopback found; browsers on other machines get no video "
             "(set EDGECLASS_PUBLIC_IP)\n";
      }
    }
    if (!tls_ && config_.listen_host != "127.0.0.1") {
      b += "  note: browsers allow the camera only over HTTPS (or on localhost); see "
           "`edgeclass cert --help`\n";
    }
    std::cerr << b << std::endl;
  }

  // --- The city (EDGECLASS_REDIS_URL): nothing here runs without it. ---
  base::Status start_city() {
    if (config_.redis_url.empty()) return base::Status::ok();
    auto opts = city_options(config_, server_->port());
    if (!opts.is_ok()) return fail("city.config", opts.status());
    city_ = std::make_unique<city::City>(std::move(opts).value());
    city_->enable_directory([path = config_.db_path()] { return owned_by_store(path); });
    auto trust = city::PeerTrust::load(config_.city_ca);
    if (!trust.is_ok()) return fail("city.tls_config", trust.status());
    front_ = std::make_unique<CityFront>(*city_, deps_, CityFront::credential_for(secret_),
                                         server_->thread_count(), std::move(trust).value());
    front_->install(router_);
    // Relay legs between the replicas' SFUs: served where it arrives (not wrapped above).
    if (media_.running()) {
      auto relay_trust = city::PeerTrust::load(config_.city_ca);
      if (!relay_trust.is_ok()) return fail("city.tls_config", relay_trust.status());
      media_relay_owned_ = std::make_unique<MediaRelay>(
          *city_, media_, CityFront::credential_for(secret_), server_->thread_count(),
          [this](int i) -> boost::asio::io_context& { return server_->context(i); },
          std::move(relay_trust).value(),
          [this](std::string_view session) { return city_live_ && city_live_->is_home(session); });
      media_relay_owned_->install(router_);
      media_relay_.store(media_relay_owned_.get());
    }
    // One live class across replicas: upgrades for sessions homed elsewhere are relayed to
    // their home, rooms homed here serve the edges' connections too.
    city_live_ = std::make_unique<CityLive>(*city_);
    ws::LiveHub* live = live_.get();
    city_live_->start([live](std::string_view payload) { live->from_edge(payload); });
    live_->set_city(city_live_.get());
    // Redis lost this replica's entries (it came back empty): the presence of the live
    // rooms homed here is written again with them.
    city_->directory()->on_registered([live] { live->republish_presence(); });
    register_city_metrics();
    city_->start();
    return base::Status::ok();
  }

  // A replica that served before it reached Redis would answer 503 city_unavailable for
  // every course homed elsewhere, and the others would forward to its previous URL: so it
  // waits (a bounded time) until it is connected and has registered what it owns. Without
  // Redis it serves anyway after kCityStartWait, as during an outage (readiness must not
  // depend on Redis: docs/operations.md, "Running a city").
  void wait_for_city() {
    if (!city_) return;
    constexpr auto kCityStartWait = std::chrono::seconds(3);
    const auto start = std::chrono::steady_clock::now();
    while (!(city_->connected() && city_->directory()->registrations() > 0)) {
      if (std::chrono::steady_clock::now() - start >= kCityStartWait) {
        base::log::warn("city.start_without_redis")
            .kv("waited_ms",
                int64_t(
                    std::chrono::duration_cast<std::chrono::milliseconds>(kCityStartWait).count()))
            .kv("note",
                "serving now: requests for courses homed elsewhere answer 503 city_unavailable "
                "until Redis is reachable");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    base::log::info("city.joined")
        .kv("ms", int64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count()));
  }

  void register_city_metrics() {
    registry_.callback("edgeclass_city_connected",
                       "1 while this replica's connections to the city's Redis are up, else 0",
                       metrics::Type::kGauge,
                       [c = city_.get()] { return c->connected() ? 1.0 : 0.0; });
    registry_.callback("edgeclass_city_registrations_total",
                       "Times this replica wrote everything it owns to Redis (directory entries "
                       "and its live rooms' presence): at start, and each time Redis had lost "
                       "them (came back empty)",
                       metrics::Type::kCounter,
                       [c = city_.get()] { return double(c->directory()->registrations()); });
    registry_.callback("edgeclass_city_redis_scripts_reloaded_total",
                       "Calls to a city script that Redis no longer had (NOSCRIPT, e.g. after "
                       "SCRIPT FLUSH) and that were sent again with the script's body",
                       metrics::Type::kCounter,
                       [c = city_.get()] { return double(c->commands().scripts_reloaded()); });
    const CityFront::Counters& n = front_->counters();
    registry_.callback_family(
        "edgeclass_city_requests_total",
        "Requests for courses homed elsewhere: forwarded (to the home), near_hit (answered "
        "from this replica's memory), cache_hit (from Redis), cache_miss, refused (503 "
        "city_unavailable or course_home_unavailable)",
        metrics::Type::kCounter, {"outcome"}, [&n](const metrics::Registry::Emit& emit) {
          auto one = [&](const char* what, const std::atomic<uint64_t>& v) {
            const std::string values[] = {what};
            emit(values, double(v.load(std::memory_order_relaxed)));
          };
          one("forwarded", n.forwarded);
          one("near_hit", n.near_hits);
          one("cache_hit", n.cache_hits);
          one("cache_miss", n.cache_misses);
          one("refused", n.refused);
        });
    const ws::CityLiveCounters& l = live_->city_counters();
    auto gauge = [this](const char* name, const char* help, const std::atomic<int64_t>& v) {
      registry_.callback(name, help, metrics::Type::kGauge,
                         [&v] { return double(v.load(std::memory_order_relaxed)); });
    };
    auto counter = [this](const char* name, const char* help, const std::atomic<uint64_t>& v) {
      registry_.callback(name, help, metrics::Type::kCounter,
                         [&v] { return double(v.load(std::memory_order_relaxed)); });
    };
    gauge("edgeclass_city_live_edge_rooms",
          "Live sessions homed on another replica with sockets on this one", l.edge_rooms);
    gauge("edgeclass_city_live_edge_connections",
          "Live sockets held here for sessions homed on another replica", l.edge_connections);
    gauge("edgeclass_city_live_remote_connections",
          "Live sockets held by other replicas in rooms homed here", l.remote_connections);
    counter("edgeclass_city_live_edge_cut_total",
            "Live sockets held here for another home closed with 1001 because the city failed "
            "(Redis lost, events lost between replicas, the home unreachable)",
            l.edge_cut);
    counter("edgeclass_city_live_edge_lost_total",
            "Times a home stopped hearing from an edge replica and dropped its sockets",
            l.edge_lost);
    counter("edgeclass_city_live_join_timeouts_total",
            "Live joins through this replica the course's home did not answer in time",
            l.join_timeouts);
  }

  // Every course, session and quiz in this replica's SQLite, and each course's class code
  // (city::Directory::code_id): what it is the home of. Runs
  // on the city thread (its own read-only connection), at start and on re-registration.
  static std::vector<city::Owned> owned_by_store(const std::string& path) {
    std::vector<city::Owned> out;
    auto db = store::Db::open(path, store::OpenMode::kReadOnly);
    if (!db.is_ok()) {
      base::log::error("city.owned_scan_failed").kv("error", db.status().message());
      return out;
    }
    auto st = (*db)->prepare(
        "SELECT id, id FROM courses UNION ALL SELECT id, course_id FROM sessions "
        "UNION ALL SELECT id, course_id FROM quizzes "
        "UNION ALL SELECT 'code:' || join_code, id FROM courses WHERE join_code IS NOT NULL");
    if (!st.is_ok()) return out;
    for (;;) {
      auto row = st->step();
      if (!row.is_ok() || !*row) break;
      out.push_back({st->column_text(0), st->column_text(1)});
    }
    return out;
  }

  std::unique_ptr<city::City> city_;
  std::unique_ptr<CityFront> front_;
  std::unique_ptr<CityLive> city_live_;  // used by live_'s rooms, which go first
  std::unique_ptr<MediaRelay> media_relay_owned_;
  std::atomic<MediaRelay*> media_relay_{nullptr};  // read by the media thread
  // --- end of the city ---

  const Config& config_;
  std::function<void()> start_log_;
  bool crypto_first_ = false;  // crypto_before_listening(), taken at the start of start()
  std::string secret_;
  metrics::Registry registry_;
  std::unique_ptr<TlsEdge> tls_;  // before server_, which holds its certificates
  std::unique_ptr<store::Writer> writer_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::unique_ptr<store::Db>> readers_;
  // warm_readers' timers, on the I/O contexts: destroyed before readers_ and server_.
  std::vector<std::unique_ptr<boost::asio::steady_timer>> reader_warm_timers_;
  http::ApiDeps deps_;
  std::unique_ptr<DecisionUploader> uploader_;  // outlives the policies that log to it
  std::unique_ptr<PolicyHolder> policies_;
  // Open once the initial policies are in force; requests that need them wait here first.
  std::shared_ptr<http::StartGate> policy_gate_;
  std::shared_ptr<const DecisionLog> decision_log_;
  std::unique_ptr<BundlePoller> bundles_;
  metrics::CounterFamily* policy_reloads_ = nullptr;
  std::unique_ptr<classroom::Service> service_;
  std::atomic<ws::LiveHub*> live_for_media_{nullptr};  // read by the media thread
  MediaPlane media_;
  std::unique_ptr<ws::LiveHub> live_;
  std::unique_ptr<HttpMetrics> http_metrics_;
  // The admin listener (last: stopped and destroyed first).
  http::Router admin_router_;
  http::ApiDeps admin_deps_;
  std::unique_ptr<store::Db> admin_reader_;
  std::unique_ptr<http::Server> admin_;
};

}  // namespace

int serve(const Config& config) {
  base::log::Level level;
  base::log::parse_level(config.log_level, &level);
  base::log::set_level(level);
  // Blocked before any thread starts, so that every thread inherits the mask and only
  // run_until_stopped takes SIGTERM/SIGINT/SIGHUP.
  sigset_t signals = block_signals();
  // Every line from here on leaves through one writer thread: a log pipe nobody drains
  // stalls no request (app/log_writer.h).
  // Its thread starts once the listener serves (Node::finish_start), or below when the start
  // failed.
  LogWriter log_out(STDOUT_FILENO, size_t(config.log_buffer_kb) * 1024, /*start_writer=*/false);
  base::log::set_sink([&log_out](std::string_view line) { log_out.write(line); });
  int rc = 0;
  {
    Node node(config, [&log_out] { log_out.start(); });
    if (node.start_listening().is_ok()) {
      // This thread serves I/O thread 0 from now on; the rest of the start, the signals and
      // the stop run on `control` (the stop ends serve_first_worker), started a moment later
      // (Node::serve_first_worker says when), once.
      std::thread control;
      std::once_flag control_started;
      auto start_control = [&] {
        std::call_once(control_started, [&] {
          // OpenSSL's CPU feature detection, left out of exec (app/main.cc), while this is
          // still the only thread: the capability vector it writes is read unsynchronised by
          // every thread using OpenSSL (a no-op when OpenSSL started before listening).
          base::init_crypto_base();
          control = std::thread([&node, &signals, &rc] {
            pthread_setname_np(pthread_self(), "ec-control");  // top -H, perf
            if (!node.finish_start().is_ok()) {
              rc = 1;
              return;
            }
            node.run_until_stopped(signals);
            node.stop();
          });
        });
      };
      node.serve_first_worker(start_control);
      control.join();
    } else {
      log_out.start();  // a start that failed before listening: its error lines go out
      rc = 1;
    }
  }
  base::log::set_sink(nullptr);
  return rc;
}

}  // namespace app
