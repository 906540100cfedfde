// Decision logs in OPA's format: one JSON line per decision on stdout (EDGECLASS_DECISION_LOG
// =stdout; off by default), with the configured input paths erased
// (EDGECLASS_DECISION_LOG_MASK, OPA's "/input/..." JSON pointers).
//
//   {"decision_id": "4a1f…", "path": "education/allow", "input": {…}, "result": true,
//    "bundles": {"edgeclass": {"revision": "r7"}}, "timestamp": "2026-12-06T22:40:00.123Z",
//    "metrics": {"timer_rego_query_eval_ns": 870}, "erased": ["/input/user/name"],
//    "labels": {"app": "edgeclass"}}
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "classroom/rego_authorizer.h"

namespace app {

class DecisionLog final : public classroom::DecisionObserver {
 public:
  using Sink = std::function<void(std::string_view line)>;  // line ends with '\n'

  // `mask`: comma-separated JSON pointers starting with /input/ (an empty string: none).
  // Refuses other paths. `sink` defaults to stdout (one write per line).
  static base::Result<std::shared_ptr<const DecisionLog>> make(std::string_view mask,
                                                               Sink sink = nullptr);

  // The event for one decision (thread-safe). `result` nullopt: undefined (omitted).
  void log(std::string_view query, const boost::json::object& input,
           const std::optional<boost::json::value>& result, std::string_view revision,
           int64_t eval_ns) const override;

  // The event as log() writes it, without the timestamp and id (for tests).
  boost::json::object event(std::string_view query, const boost::json::object& input,
                            const std::optional<boost::json::value>& result,
                            std::string_view revision, int64_t eval_ns) const;

 private:
  std::vector<std::vector<std::string>> mask_;  // each: path segments below "input"
  std::vector<std::string> mask_text_;
  Sink sink_;
};

// Ships decision events to a decision log service as OPA does: POST of a gzip'd JSON array
// (Content-Encoding: gzip) every `interval`, on a thread of its own. Events wait in a bounded
// buffer (the oldest are dropped and counted when the service is down that long); a failed
// upload is retried with the next one.
class DecisionUploader {
 public:
  DecisionUploader(std::string url, std::string ca_file, std::chrono::milliseconds interval,
                   size_t max_buffered = 10000);
  ~DecisionUploader();
  void push(std::string_view line);  // one event (a JSON line); thread-safe, never blocks long
  void start();
  void stop();  // flushes what is buffered (one last attempt)
  uint64_t sent() const;
  uint64_t dropped() const;
  uint64_t failed_uploads() const;

 private:
  void flush();
  std::string url_, ca_file_;
  std::chrono::milliseconds interval_;
  size_t max_buffered_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> buffer_;
  bool stopping_ = false;
  uint64_t sent_ = 0, dropped_ = 0, failed_ = 0;
  std::thread thread_;
};

}  // namespace app
