// The public listener's TLS in the running server: the certificate loaded at start, reloaded
// on SIGHUP and when its files change (polled), with metrics and log lines for both.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "app/config.h"
#include "base/status.h"
#include "http/tls.h"
#include "metrics/registry.h"

namespace app {

class TlsEdge {
 public:
  // nullptr when the configuration has no certificate (plain HTTP). An unreadable or
  // mismatched pair is an error naming the file.
  static base::Result<std::unique_ptr<TlsEdge>> start(const Config& config,
                                                      metrics::Registry& registry);
  ~TlsEdge();

  const http::TlsCertificates* certificates() const { return certs_.get(); }
  // Loads the files again; new connections get the new certificate, open ones keep theirs.
  // A broken pair is logged and the previous certificate stays in force.
  void reload(const char* trigger);

 private:
  explicit TlsEdge(std::unique_ptr<http::TlsCertificates> certs) : certs_(std::move(certs)) {}
  void watch(std::stop_token stop);

  std::unique_ptr<http::TlsCertificates> certs_;
  metrics::CounterFamily* reloads_ = nullptr;
  std::mutex mu_;  // serialises reload() (SIGHUP thread and watcher)
  std::condition_variable_any wake_;
  std::jthread watcher_;  // last: stopped and joined first
};

// Polling interval of the certificate files (EDGECLASS_TLS_WATCH_MS for tests; default 2 s).
int64_t tls_watch_interval_ms();

}  // namespace app
