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
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace app {

class DecisionLog {
 public:
  using Sink = std::function<void(std::string_view line)>;  // line ends with '\n'

  // `mask`: comma-separated JSON pointers starting with /input/ (an empty string: none).
  // Refuses other paths. `sink` defaults to stdout (one write per line).
  static base::Result<std::shared_ptr<const DecisionLog>> make(std::string_view mask,
                                                               Sink sink = nullptr);

  // The event for one decision (thread-safe). `result` nullopt: undefined (omitted).
  void log(std::string_view query, const boost::json::object& input,
           const std::optional<boost::json::value>& result, std::string_view revision,
           int64_t eval_ns) const;

  // The event as log() writes it, without the timestamp and id (for tests).
  boost::json::object event(std::string_view query, const boost::json::object& input,
                            const std::optional<boost::json::value>& result,
                            std::string_view revision, int64_t eval_ns) const;

 private:
  std::vector<std::vector<std::string>> mask_;  // each: path segments below "input"
  std::vector<std::string> mask_text_;
  Sink sink_;
};

}  // namespace app
