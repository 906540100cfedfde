// Pulls an OPA bundle over HTTP (EDGECLASS_POLICY_BUNDLE_URL) with ETag polling: each poll
// sends If-None-Match with the ETag of the bundle last downloaded; 304 changes nothing, 200
// hands the new bundle to `activate` (which compiles it and swaps the policies atomically).
// A bundle that fails to download, verify or compile leaves the active one in force.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app/bundle.h"
#include "base/status.h"

namespace app {

struct HttpReply {
  unsigned status = 0;
  std::string etag;
  std::string body;
};

// One HTTP(S) request on the calling thread (10 s deadline on each send and receive): GET
// when `body` is empty, POST otherwise. https:// servers must chain to `ca_file` (or the
// system's roots) and name the URL's host. Errors start with `what` ("bundle: ...").
base::Result<HttpReply> http_exchange(
    const std::string& url, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& ca_file,
    size_t body_limit, std::string_view what);

// What OPA's status API reports per bundle (times in Unix ms, 0 = never).
struct BundleStatus {
  std::string name = "edgeclass";
  std::string url;
  std::string active_revision;
  std::string etag;
  int64_t last_successful_activation_ms = 0;
  int64_t last_successful_download_ms = 0;
  int64_t last_successful_request_ms = 0;
  int64_t last_request_ms = 0;
  std::string last_error;  // of the last poll; empty when it succeeded
  uint64_t activations = 0;
  uint64_t failures = 0;
  bool verified = false;  // the active bundle's signature was verified
};

// OPA's status document for one bundle: {"name", "active_revision",
// "last_successful_activation", "last_successful_download", "last_successful_request",
// "last_request" (RFC 3339), "code"/"message" when the last poll failed}.
boost::json::object bundle_status_json(const BundleStatus& s);

class BundlePoller {
 public:
  using Activate = std::function<base::Status(Bundle bundle)>;
  BundlePoller(std::string url, BundleVerification verify, std::chrono::milliseconds interval,
               Activate activate);
  ~BundlePoller();

  // One request and, on 200, the activation. URLs: http(s)://host[:port]/path.
  base::Status poll_once();
  // Polls every `interval` on a thread of its own until stop() (or destruction).
  void start();
  void stop();
  BundleStatus status() const;
  // PEM file of the CAs that https:// bundle servers must chain to (default: the system's).
  void set_ca_file(std::string path) { ca_file_ = std::move(path); }

 private:
  std::string url_;
  std::string ca_file_;
  BundleVerification verify_;
  std::chrono::milliseconds interval_;
  Activate activate_;
  std::mutex poll_mu_;  // one poll at a time (the poller's thread and SIGHUP)
  // The bundle last activated (a delta applied): what the next delta bundle patches.
  // Guarded by poll_mu_.
  std::optional<Bundle> active_;
  mutable std::mutex mu_;
  BundleStatus status_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace app
