// Structured logging: one JSON object per line on stdout, for Loki.
//
//   base::log::info("listening").kv("addr", "127.0.0.1:8080").kv("threads", 2);
//
// The line is written when the temporary goes out of scope, with one write(2) call so lines
// from different threads never interleave. Lines below the configured level cost one compare.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>

namespace base::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError, kOff };

void set_level(Level level);
Level level();
// "debug", "info", "warn", "error", "off"; false when unknown.
bool parse_level(std::string_view name, Level* out);

// Replaces where lines go (tests capture them; the server queues them for a writer thread,
// app/log_writer.h). Not for use while other threads log.
void set_sink(std::function<void(std::string_view line)> sink);

// Writes one whole preformatted line (ending in a newline) where log lines go: through the
// sink when one is set, else with one write(2) on stdout. For other JSON lines that share
// stdout (OPA decision logs), so that they never interleave with log lines.
void emit(std::string_view line);

class Line {
 public:
  Line(Level level, std::string_view msg);
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  ~Line();

  Line& kv(std::string_view key, std::string_view value);
  Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, const std::string& value) {
    return kv(key, std::string_view(value));
  }
  Line& kv(std::string_view key, int64_t value);
  Line& kv(std::string_view key, int value) { return kv(key, int64_t(value)); }
  Line& kv(std::string_view key, unsigned value) { return kv(key, int64_t(value)); }
  Line& kv(std::string_view key, uint64_t value) { return kv(key, int64_t(value)); }
  // int64_t is long on 64-bit Linux and long long on wasm32: the other one needs an overload.
  Line& kv(std::string_view key,
           std::conditional_t<std::is_same_v<int64_t, long>, long long, long> value) {
    return kv(key, int64_t(value));
  }
  Line& kv(std::string_view key, double value);
  Line& kv(std::string_view key, bool value);

 private:
  bool enabled_;
  std::string buf_;
};

// Keeps one kind of event from flooding the log: due() is true at most once per interval,
// and tells how many events were not logged since the last line. For refusals under attack
// (one line every few seconds with a count, not one per connection). Thread-safe, lock-free.
//
//   static base::log::Every every(10'000'000'000);
//   if (uint64_t skipped; every.due(now_mono_ns, &skipped))
//     base::log::warn("http.refused").kv("suppressed", skipped);
class Every {
 public:
  explicit Every(int64_t interval_ns) : interval_ns_(interval_ns) {}
  // Counts one event at `now_mono_ns`; true when it should be logged, with `*suppressed` set
  // to the events since the last logged one.
  bool due(int64_t now_mono_ns, uint64_t* suppressed);

 private:
  const int64_t interval_ns_;
  std::atomic<int64_t> next_ns_{0};      // earliest time of the next line
  std::atomic<uint64_t> suppressed_{0};  // events not logged since the last line
};

inline Line debug(std::string_view msg) { return Line(Level::kDebug, msg); }
inline Line info(std::string_view msg) { return Line(Level::kInfo, msg); }
inline Line warn(std::string_view msg) { return Line(Level::kWarn, msg); }
inline Line error(std::string_view msg) { return Line(Level::kError, msg); }

}  // namespace base::log
