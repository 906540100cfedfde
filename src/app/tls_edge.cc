#include "app/tls_edge.h"

#include <pthread.h>

#include <cstdlib>

#include "base/log.h"
#include "base/strings.h"

namespace app {

int64_t tls_watch_interval_ms() {
  if (const char* e = std::getenv("EDGECLASS_TLS_WATCH_MS")) {
    if (auto n = base::parse_int(e); n && *n >= 50 && *n <= 3600000) return *n;
  }
  return 2000;
}

base::Result<std::unique_ptr<TlsEdge>> TlsEdge::start(const Config& config,
                                                      metrics::Registry& registry) {
  if (config.tls_cert.empty()) return std::unique_ptr<TlsEdge>();
  EC_ASSIGN_OR_RETURN(auto certs, http::TlsCertificates::load(config.tls_cert, config.tls_key));
  std::unique_ptr<TlsEdge> edge(new TlsEdge(std::move(certs)));
  edge->reloads_ =
      &registry.counter("edgeclass_tls_reloads_total",
                        "TLS certificate reloads (SIGHUP or file change) by outcome", {"result"});
  const http::TlsCertificates* c = edge->certs_.get();
  registry.callback("edgeclass_tls_certificate_expiry_timestamp_seconds",
                    "When the TLS certificate in force expires (Unix time)", metrics::Type::kGauge,
                    [c] { return double(c->not_after_unix()); });
  base::log::info("tls.loaded")
      .kv("cert", config.tls_cert)
      .kv("subject", c->subject())
      .kv("not_after", c->not_after());
  edge->watcher_ = std::jthread([e = edge.get()](std::stop_token st) {
    pthread_setname_np(pthread_self(), "ec-tls-watch");  // top -H, perf
    e->watch(st);
  });
  return edge;
}

TlsEdge::~TlsEdge() {
  if (watcher_.joinable()) {
    watcher_.request_stop();
    wake_.notify_all();
    watcher_.join();
  }
}

void TlsEdge::reload(const char* trigger) {
  std::lock_guard lock(mu_);
  base::Status s = certs_->reload();
  if (s.is_ok()) {
    reloads_->labels({"ok"}).inc();
    base::log::info("tls.reloaded")
        .kv("trigger", trigger)
        .kv("subject", certs_->subject())
        .kv("not_after", certs_->not_after());
  } else {
    reloads_->labels({"error"}).inc();
    base::log::error("tls.reload_failed")
        .kv("trigger", trigger)
        .kv("error", s.message())
        .kv("note", "the previous certificate stays in force");
  }
}

// A Kubernetes Secret volume is updated by swapping a symlink, a certbot renewal by
// rewriting the files: either changes what stat() sees. Waiting one more interval after a
// change lets a writer finish the second file of the pair.
void TlsEdge::watch(std::stop_token stop) {
  const auto interval = std::chrono::milliseconds(tls_watch_interval_ms());
  std::mutex m;
  bool pending = false;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lk(m);
      wake_.wait_for(lk, stop, interval, [] { return false; });
    }
    if (stop.stop_requested()) return;
    bool changed = certs_->files_changed();
    if (changed && !pending) {
      pending = true;  // settle: reload on the next tick
      continue;
    }
    if (pending) {
      pending = false;
      reload("file_change");
    }
  }
}

}  // namespace app
