#include "app/decision_log.h"

#include <pthread.h>

#include <boost/json/serialize.hpp>
#include <mutex>
#include <random>

#include "app/bundle.h"
#include "app/bundle_fetch.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strings.h"

namespace app {

namespace json = boost::json;

namespace {

// Decision logs on stdout go where log lines go (base::log::emit): whole lines, queued
// behind a slow output rather than waited for (app/log_writer.h).
void write_stdout(std::string_view line) { base::log::emit(line); }

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

DecisionUploader::DecisionUploader(std::string url, std::string ca_file,
                                   std::chrono::milliseconds interval, size_t max_buffered)
    : url_(std::move(url)),
      ca_file_(std::move(ca_file)),
      interval_(interval),
      max_buffered_(max_buffered) {}

DecisionUploader::~DecisionUploader() { stop(); }

void DecisionUploader::push(std::string_view line) {
  while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::lock_guard<std::mutex> lock(mu_);
  if (buffer_.size() >= max_buffered_) {
    buffer_.pop_front();
    ++dropped_;
  }
  buffer_.emplace_back(line);
}

void DecisionUploader::flush() {
  std::deque<std::string> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(buffer_);
  }
  if (batch.empty()) return;
  std::string body = "[";
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i) body += ',';
    body += batch[i];
  }
  body += ']';
  auto reply = http_exchange(url_, gzip_bytes(body),
                             {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}},
                             ca_file_, 1 << 20, "decision log");
  bool ok = reply.is_ok() && reply->status / 100 == 2;
  std::lock_guard<std::mutex> lock(mu_);
  if (ok) {
    sent_ += batch.size();
    return;
  }
  ++failed_;
  base::log::warn("policy.decision_log_upload_failed")
      .kv("url", url_)
      .kv("events", uint64_t(batch.size()))
      .kv("error",
          reply.is_ok() ? "HTTP " + std::to_string(reply->status) : reply.status().message());
  // Put the batch back in front of newer events, within the bound.
  while (!batch.empty() && buffer_.size() < max_buffered_) {
    buffer_.push_front(std::move(batch.back()));
    batch.pop_back();
  }
  dropped_ += batch.size();
}

void DecisionUploader::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ec-decision-log");  // top -H, perf
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, interval_, [this] { return stopping_; });
      lock.unlock();
      flush();
      lock.lock();
    }
  });
}

void DecisionUploader::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t DecisionUploader::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}
uint64_t DecisionUploader::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}
uint64_t DecisionUploader::failed_uploads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

}  // namespace app
