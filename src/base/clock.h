// Time seam. Code that needs "now" takes a Clock& so tests can move time by hand
// (quiz deadlines, token expiry) instead of sleeping.
#pragma once

#include <cstdint>

namespace base {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch (for timestamps and JWT exp).
  virtual int64_t now_unix_ms() const = 0;
  // Monotonic time in nanoseconds from an arbitrary origin (for durations and deadlines).
  virtual int64_t now_mono_ns() const = 0;
};

// The process clock (CLOCK_REALTIME / CLOCK_MONOTONIC).
class SystemClock final : public Clock {
 public:
  int64_t now_unix_ms() const override;
  int64_t now_mono_ns() const override;
  // A shared instance; stateless, safe from any thread.
  static SystemClock& instance();
};

// A clock that only moves when told to. Not thread-safe: tests own it.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_ms = 1'700'000'000'000) : unix_ms_(unix_ms) {}
  int64_t now_unix_ms() const override { return unix_ms_; }
  int64_t now_mono_ns() const override { return mono_ns_; }
  void advance_ms(int64_t ms) {
    unix_ms_ += ms;
    mono_ns_ += ms * 1'000'000;
  }

 private:
  int64_t unix_ms_;
  int64_t mono_ns_ = 0;
};

}  // namespace base
