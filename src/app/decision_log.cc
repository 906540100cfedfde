#include "app/decision_log.h"

#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <mutex>
#include <random>

#include "base/clock.h"
#include "base/strings.h"

namespace app {

namespace json = boost::json;

namespace {

std::mutex stdout_mu;

void write_stdout(std::string_view line) {
  std::lock_guard<std::mutex> lock(stdout_mu);
  const char* p = line.data();
  size_t n = line.size();
  while (n > 0) {
    ssize_t w = ::write(STDOUT_FILENO, p, n);
    if (w <= 0) return;  // stdout closed: decisions are not held up by their log
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// A random (version 4) UUID.
std::string uuid4() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~uint64_t(0xF000)) | 0x4000;
  lo = (lo & ~(uint64_t(0xC) << 60)) | (uint64_t(0x8) << 60);
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xFFFF), unsigned(hi & 0xFFFF), unsigned(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

// Removes the member at `path` (object keys) from `o`; true when something was removed.
bool erase_path(json::object& o, const std::vector<std::string>& path, size_t i = 0) {
  auto it = o.find(path[i]);
  if (it == o.end()) return false;
  if (i + 1 == path.size()) {
    o.erase(it);
    return true;
  }
  if (!it->value().is_object()) return false;
  return erase_path(it->value().as_object(), path, i + 1);
}

}  // namespace

base::Result<std::shared_ptr<const DecisionLog>> DecisionLog::make(std::string_view mask,
                                                                   Sink sink) {
  auto log = std::make_shared<DecisionLog>();
  log->sink_ = sink ? std::move(sink) : Sink(write_stdout);
  for (std::string_view item : base::split(mask, ',')) {
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::string p(item);
    if (p.empty()) continue;
    if (!p.starts_with("/input/") || p.size() <= 7) {
      return base::invalid_argument(
          "EDGECLASS_DECISION_LOG_MASK: '" + p + "' is not a path such as /input/user/name",
          "bad_mask");
    }
    std::vector<std::string> segs;
    for (std::string_view s : base::split(std::string_view(p).substr(7), '/')) {
      if (s.empty()) {
        return base::invalid_argument(
            "EDGECLASS_DECISION_LOG_MASK: '" + p + "' has an empty segment", "bad_mask");
      }
      segs.emplace_back(s);
    }
    log->mask_.push_back(std::move(segs));
    log->mask_text_.push_back(std::move(p));
  }
  return std::shared_ptr<const DecisionLog>(std::move(log));
}

json::object DecisionLog::event(std::string_view query, const json::object& input,
                                const std::optional<json::value>& result, std::string_view revision,
                                int64_t eval_ns) const {
  std::string path(query.starts_with("data.") ? query.substr(5) : query);
  for (char& c : path) {
    if (c == '.') c = '/';
  }
  json::object e{{"labels", json::object{{"app", "edgeclass"}}}, {"path", path}};
  json::object in = input;
  json::array erased;
  for (size_t i = 0; i < mask_.size(); ++i) {
    if (erase_path(in, mask_[i])) erased.emplace_back(mask_text_[i]);
  }
  e["input"] = std::move(in);
  if (result) e["result"] = *result;
  if (!erased.empty()) e["erased"] = std::move(erased);
  json::object bundles;
  if (!revision.empty()) bundles["edgeclass"] = json::object{{"revision", revision}};
  if (!bundles.empty()) e["bundles"] = std::move(bundles);
  e["metrics"] = json::object{{"timer_rego_query_eval_ns", eval_ns}};
  return e;
}

void DecisionLog::log(std::string_view query, const json::object& input,
                      const std::optional<json::value>& result, std::string_view revision,
                      int64_t eval_ns) const {
  json::object e = event(query, input, result, revision, eval_ns);
  e["decision_id"] = uuid4();
  base::SystemClock clock;
  e["timestamp"] = base::format_utc_ms(clock.now_unix_ms());
  std::string line = json::serialize(e);
  line += '\n';
  sink_(line);
}

}  // namespace app
