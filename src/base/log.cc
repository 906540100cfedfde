#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>

#include "base/clock.h"
#include "base/strings.h"

namespace base::log {

namespace {
std::atomic<Level> g_level{Level::kInfo};
std::function<void(std::string_view)>& sink() {
  static std::function<void(std::string_view)> s;
  return s;
}
constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error", "off"};
}  // namespace

void set_level(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view name, Level* out) {
  for (int i = 0; i < 5; ++i) {
    if (kLevelNames[i] == name) {
      *out = Level(i);
      return true;
    }
  }
  return false;
}

void set_sink(std::function<void(std::string_view)> s) { sink() = std::move(s); }

Line::Line(Level lvl, std::string_view msg) : enabled_(lvl >= level() && lvl != Level::kOff) {
  if (!enabled_) return;
  buf_.reserve(160);
  buf_ += "{\"ts\":\"";
  buf_ += format_utc_ms(SystemClock::instance().now_unix_ms());
  buf_ += "\",\"level\":\"";
  buf_ += kLevelNames[int(lvl)];
  buf_ += "\",\"msg\":\"";
  append_json_escaped(buf_, msg);
  buf_ += '"';
}

Line::~Line() {
  if (!enabled_) return;
  buf_ += "}\n";
  emit(buf_);
}

void emit(std::string_view line) {
  if (sink()) {
    sink()(line);
    return;
  }
  // One write per line: atomic for pipes up to PIPE_BUF, and never interleaved mid-line
  // for regular files opened with O_APPEND.
  const char* p = line.data();
  size_t n = line.size();
  while (n > 0) {
    ssize_t w = ::write(STDOUT_FILENO, p, n);
    if (w <= 0) return;  // nowhere to log to; dropping the line is the only option
    p += w;
    n -= size_t(w);
  }
}

Line& Line::kv(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  buf_ += ",\"";
  append_json_escaped(buf_, key);
  buf_ += "\":\"";
  append_json_escaped(buf_, value);
  buf_ += '"';
  return *this;
}

Line& Line::kv(std::string_view key, int64_t value) {
  if (!enabled_) return *this;
  buf_ += ",\"";
  append_json_escaped(buf_, key);
  buf_ += "\":";
  buf_ += std::to_string(value);
  return *this;
}

Line& Line::kv(std::string_view key, double value) {
  if (!enabled_) return *this;
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%.6g", value);
  buf_ += ",\"";
  append_json_escaped(buf_, key);
  buf_ += "\":";
  buf_ += tmp;
  return *this;
}

Line& Line::kv(std::string_view key, bool value) {
  if (!enabled_) return *this;
  buf_ += ",\"";
  append_json_escaped(buf_, key);
  buf_ += "\":";
  buf_ += value ? "true" : "false";
  return *this;
}

bool Every::due(int64_t now_mono_ns, uint64_t* suppressed) {
  int64_t next = next_ns_.load(std::memory_order_relaxed);
  if (now_mono_ns < next || !next_ns_.compare_exchange_strong(next, now_mono_ns + interval_ns_,
                                                              std::memory_order_relaxed)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  *suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
  return true;
}

}  // namespace base::log
