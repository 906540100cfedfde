// Time arithmetic with the semantics of Go's `time` package, which OPA's time.* builtins
// expose: layouts written as the reference time "Mon Jan 2 15:04:05 MST 2006", durations such
// as "1h30m", and IANA zone names.
//
// No file I/O: zones come from a built-in table of POSIX TZ rules for common IANA names (their
// current rules; historical changes before those rules are not modelled).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace policy::builtins::gotime {

// A zone: a fixed offset, or a standard/daylight pair with yearly switch rules.
class Zone {
 public:
  static Zone utc();
  static Zone fixed(std::string abbr, int offset_seconds);
  // Looks up an IANA name ("America/New_York"), "UTC", "" (UTC) or "Local" (treated as UTC:
  // the portable core has no local zone). Fails with Go's message for unknown names.
  static base::Result<Zone> load(std::string_view name);

  struct Offset {
    int seconds;       // east of UTC
    std::string abbr;  // e.g. "PST"; may be a numeric form such as "+0530"
  };
  // The offset in effect at `unix_seconds`.
  Offset offset_at(int64_t unix_seconds) const;

 private:
  struct Rule {
    int month = 0, week = 0, weekday = 0;  // Mm.w.d
    int time = 7200;                       // seconds after local midnight
  };
  std::string std_abbr_ = "UTC";
  int std_offset_ = 0;
  bool has_dst_ = false;
  std::string dst_abbr_;
  int dst_offset_ = 0;
  Rule start_, end_;
  friend bool parse_posix_tz(std::string_view spec, Zone& out);
};

// A broken-down time in some zone.
struct Civil {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int32_t nanosecond = 0;
  int weekday = 4;  // 0 = Sunday
  int yearday = 1;  // 1..366
  int offset = 0;   // seconds east of UTC
  std::string abbr = "UTC";
};

// An instant: seconds since the Unix epoch plus nanoseconds in [0, 1e9).
struct Instant {
  int64_t seconds = 0;
  int32_t nanos = 0;
};

Instant from_unix_nanos(int64_t ns);
// Fails ("time outside of valid range") when the instant does not fit int64 nanoseconds.
base::Result<int64_t> to_unix_nanos(Instant t);

Civil to_civil(Instant t, const Zone& zone);
// Go's time.Date: normalizes out-of-range fields (month 13 = January next year, etc.) and
// interprets the fields in `zone`.
Instant from_fields(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                    int64_t second, int64_t nanos, const Zone& zone);

// Days from 1970-01-01 to the given proleptic Gregorian date (month 1..12).
int64_t days_from_civil(int64_t y, int month, int day);
int days_in_month(int64_t year, int month);

// Maps OPA's layout names ("RFC3339", "ANSIC", "RFC1123Z", ...) to Go layouts; other
// strings come back unchanged.
std::string_view expand_layout(std::string_view layout);

// Go's time.Parse(layout, value). Errors carry Go's message
// (`parsing time "v" as "l": cannot parse "x" as "y"`).
base::Result<Instant> parse(std::string_view layout, std::string_view value);

// Go's Time.Format for `t` shown in `zone`.
std::string format(Instant t, const Zone& zone, std::string_view layout);

// Go's time.ParseDuration: "300ms", "-1.5h", "2h45m". Result in nanoseconds.
base::Result<int64_t> parse_duration(std::string_view s);

}  // namespace policy::builtins::gotime
