// Structured logging: one JSON object per line on stdout, for Loki.
//
//   base::log::info("listening").kv("addr", "127.0.0.1:8080").kv("threads", 2);
//
// The line is written when the temporary goes out of scope, with one write(2) call so lines
// from different threads never interleave. Lines below the configured level cost one compare.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace base::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError, kOff };

void set_level(Level level);
Level level();
// "debug", "info", "warn", "error", "off"; false when unknown.
bool parse_level(std::string_view name, Level* out);

// Replaces where lines go (tests capture them). Not for use while other threads log.
void set_sink(std::function<void(std::string_view line)> sink);

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
  Line& kv(std::string_view key, long long value) { return kv(key, int64_t(value)); }
  Line& kv(std::string_view key, double value);
  Line& kv(std::string_view key, bool value);

 private:
  bool enabled_;
  std::string buf_;
};

inline Line debug(std::string_view msg) { return Line(Level::kDebug, msg); }
inline Line info(std::string_view msg) { return Line(Level::kInfo, msg); }
inline Line warn(std::string_view msg) { return Line(Level::kWarn, msg); }
inline Line error(std::string_view msg) { return Line(Level::kError, msg); }

}  // namespace base::log
