#include "policy/builtins/gotime.h"

#include <array>
#include <cstdlib>
#include <utility>

namespace policy::builtins::gotime {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  if (m <= 2) ++y;
}

// ---- POSIX TZ rules table ------------------------------------------------------------------

struct ZoneEntry {
  const char* name;
  const char* posix;
};

// Current rules of common IANA zones (tzdata 2024). Names not listed fail to load.
constexpr ZoneEntry kZones[] = {
    {"UTC", "UTC0"},
    {"Etc/UTC", "UTC0"},
    {"GMT", "GMT0"},
    {"Etc/GMT", "GMT0"},
    {"Zulu", "UTC0"},
    {"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Detroit", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Toronto", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Indiana/Indianapolis", "EST5EDT,M3.2.0,M11.1.0"},
    {"US/Eastern", "EST5EDT,M3.2.0,M11.1.0"},
    {"EST5EDT", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Chicago", "CST6CDT,M3.2.0,M11.1.0"},
    {"America/Winnipeg", "CST6CDT,M3.2.0,M11.1.0"},
    {"US/Central", "CST6CDT,M3.2.0,M11.1.0"},
    {"CST6CDT", "CST6CDT,M3.2.0,M11.1.0"},
    {"America/Mexico_City", "CST6"},
    {"America/Denver", "MST7MDT,M3.2.0,M11.1.0"},
    {"America/Edmonton", "MST7MDT,M3.2.0,M11.1.0"},
    {"America/Boise", "MST7MDT,M3.2.0,M11.1.0"},
    {"US/Mountain", "MST7MDT,M3.2.0,M11.1.0"},
    {"MST7MDT", "MST7MDT,M3.2.0,M11.1.0"},
    {"America/Phoenix", "MST7"},
    {"US/Arizona", "MST7"},
    {"America/Los_Angeles", "PST8PDT,M3.2.0,M11.1.0"},
    {"America/Vancouver", "PST8PDT,M3.2.0,M11.1.0"},
    {"America/Tijuana", "PST8PDT,M3.2.0,M11.1.0"},
    {"US/Pacific", "PST8PDT,M3.2.0,M11.1.0"},
    {"PST8PDT", "PST8PDT,M3.2.0,M11.1.0"},
    {"America/Anchorage", "AKST9AKDT,M3.2.0,M11.1.0"},
    {"US/Alaska", "AKST9AKDT,M3.2.0,M11.1.0"},
    {"Pacific/Honolulu", "HST10"},
    {"US/Hawaii", "HST10"},
    {"America/Halifax", "AST4ADT,M3.2.0,M11.1.0"},
    {"America/St_Johns", "NST3:30NDT,M3.2.0,M11.1.0"},
    {"America/Puerto_Rico", "AST4"},
    {"America/Sao_Paulo", "<-03>3"},
    {"America/Argentina/Buenos_Aires", "<-03>3"},
    {"America/Buenos_Aires", "<-03>3"},
    {"America/Montevideo", "<-03>3"},
    {"America/Bogota", "<-05>5"},
    {"America/Lima", "<-05>5"},
    {"America/Caracas", "<-04>4"},
    {"America/Santiago", "<-04>4<-03>,M9.1.6/24,M4.1.6/24"},
    {"Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"},
    {"Europe/Dublin", "GMT0IST,M3.5.0/1,M10.5.0"},
    {"Europe/Lisbon", "WET0WEST,M3.5.0/1,M10.5.0"},
    {"Atlantic/Canary", "WET0WEST,M3.5.0/1,M10.5.0"},
    {"Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Madrid", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Rome", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Brussels", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Vienna", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Zurich", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Stockholm", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Oslo", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Copenhagen", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Warsaw", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Prague", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Budapest", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Belgrade", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Luxembourg", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"CET", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Athens", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Helsinki", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Kiev", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Kyiv", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Bucharest", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Sofia", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Riga", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Tallinn", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Vilnius", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"EET", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Moscow", "MSK-3"},
    {"Europe/Istanbul", "<+03>-3"},
    {"Asia/Istanbul", "<+03>-3"},
    {"Asia/Kolkata", "IST-5:30"},
    {"Asia/Calcutta", "IST-5:30"},
    {"Asia/Shanghai", "CST-8"},
    {"Asia/Chongqing", "CST-8"},
    {"PRC", "CST-8"},
    {"Asia/Hong_Kong", "HKT-8"},
    {"Asia/Taipei", "CST-8"},
    {"Asia/Singapore", "<+08>-8"},
    {"Asia/Kuala_Lumpur", "<+08>-8"},
    {"Asia/Manila", "PST-8"},
    {"Australia/Perth", "AWST-8"},
    {"Asia/Tokyo", "JST-9"},
    {"Japan", "JST-9"},
    {"Asia/Seoul", "KST-9"},
    {"Asia/Dubai", "<+04>-4"},
    {"Asia/Karachi", "PKT-5"},
    {"Asia/Tashkent", "<+05>-5"},
    {"Asia/Dhaka", "<+06>-6"},
    {"Asia/Bangkok", "<+07>-7"},
    {"Asia/Ho_Chi_Minh", "<+07>-7"},
    {"Asia/Jakarta", "WIB-7"},
    {"Asia/Tehran", "<+0330>-3:30"},
    {"Asia/Kabul", "<+0430>-4:30"},
    {"Asia/Kathmandu", "<+0545>-5:45"},
    {"Asia/Riyadh", "<+03>-3"},
    {"Asia/Baghdad", "<+03>-3"},
    {"Asia/Jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0"},
    {"Asia/Tel_Aviv", "IST-2IDT,M3.4.4/26,M10.5.0"},
    {"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
    {"Australia/Melbourne", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
    {"Australia/Hobart", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
    {"Australia/Brisbane", "AEST-10"},
    {"Australia/Adelaide", "ACST-9:30ACDT,M10.1.0,M4.1.0/3"},
    {"Australia/Darwin", "ACST-9:30"},
    {"Pacific/Auckland", "NZST-12NZDT,M9.5.0,M4.1.0/3"},
    {"Africa/Cairo", "EET-2EEST,M4.5.5/0,M10.5.4/24"},
    {"Africa/Johannesburg", "SAST-2"},
    {"Africa/Lagos", "WAT-1"},
    {"Africa/Nairobi", "EAT-3"},
    {"Africa/Casablanca", "<+01>-1"},
};

bool parse_tz_name(std::string_view& s, std::string& name) {
  if (!s.empty() && s[0] == '<') {
    size_t end = s.find('>');
    if (end == std::string_view::npos) return false;
    name = std::string(s.substr(1, end - 1));
    s.remove_prefix(end + 1);
    return true;
  }
  size_t i = 0;
  while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) ++i;
  if (i < 3) return false;
  name = std::string(s.substr(0, i));
  s.remove_prefix(i);
  return true;
}

// Parses [+-]hh[:mm[:ss]] into seconds.
bool parse_tz_offset(std::string_view& s, int& out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    if (s[0] == '-') sign = -1;
    s.remove_prefix(1);
  }
  int parts[3] = {0, 0, 0};
  for (int p = 0; p < 3; ++p) {
    if (p > 0) {
      if (s.empty() || s[0] != ':') break;
      s.remove_prefix(1);
    }
    size_t i = 0;
    int v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    if (i == 0) return false;
    parts[p] = v;
    s.remove_prefix(i);
  }
  out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

}  // namespace

bool parse_posix_tz(std::string_view spec, Zone& z) {
  std::string_view s = spec;
  if (!parse_tz_name(s, z.std_abbr_)) return false;
  int off;
  if (!parse_tz_offset(s, off)) return false;
  z.std_offset_ = -off;
  if (s.empty()) return true;
  z.has_dst_ = true;
  if (!parse_tz_name(s, z.dst_abbr_)) return false;
  z.dst_offset_ = z.std_offset_ + 3600;
  if (!s.empty() && s[0] != ',') {
    if (!parse_tz_offset(s, off)) return false;
    z.dst_offset_ = -off;
  }
  auto parse_rule = [&](Zone::Rule& r) {
    if (s.size() < 2 || s[0] != ',' || s[1] != 'M') return false;
    s.remove_prefix(2);
    int nums[3];
    for (int k = 0; k < 3; ++k) {
      if (k > 0) {
        if (s.empty() || s[0] != '.') return false;
        s.remove_prefix(1);
      }
      size_t i = 0;
      int v = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
      if (i == 0) return false;
      nums[k] = v;
      s.remove_prefix(i);
    }
    r.month = nums[0];
    r.week = nums[1];
    r.weekday = nums[2];
    r.time = 7200;
    if (!s.empty() && s[0] == '/') {
      s.remove_prefix(1);
      if (!parse_tz_offset(s, r.time)) return false;
    }
    return true;
  };
  return parse_rule(z.start_) && parse_rule(z.end_) && s.empty();
}

Zone Zone::utc() { return Zone(); }

Zone Zone::fixed(std::string abbr, int offset_seconds) {
  Zone z;
  z.std_abbr_ = std::move(abbr);
  z.std_offset_ = offset_seconds;
  return z;
}

base::Result<Zone> Zone::load(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Local") return utc();
  for (const ZoneEntry& e : kZones) {
    if (name == e.name) {
      Zone z;
      if (!parse_posix_tz(e.posix, z)) break;
      return z;
    }
  }
  return base::invalid_argument("unknown time zone " + std::string(name));
}

Zone::Offset Zone::offset_at(int64_t t) const {
  if (!has_dst_) return {std_offset_, std_abbr_};
  int64_t y;
  int m, d;
  civil_from_days(floor_div(t + std_offset_, kSecondsPerDay), y, m, d);
  auto transition = [&](const Rule& r, int offset_before) {
    int64_t first = days_from_civil(y, r.month, 1);
    int wd_first = static_cast<int>(floor_mod(first + 4, 7));  // 1970-01-01 was a Thursday
    int day = 1 + (r.weekday - wd_first + 7) % 7 + (r.week - 1) * 7;
    while (day > days_in_month(y, r.month)) day -= 7;
    return (first + day - 1) * kSecondsPerDay + r.time - offset_before;
  };
  int64_t start = transition(start_, std_offset_);
  int64_t end = transition(end_, dst_offset_);
  bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  if (dst) return {dst_offset_, dst_abbr_};
  return {std_offset_, std_abbr_};
}

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int days_in_month(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && is_leap(year)) return 29;
  return kDays[month - 1];
}

Instant from_unix_nanos(int64_t ns) {
  Instant t;
  t.seconds = floor_div(ns, 1'000'000'000);
  t.nanos = static_cast<int32_t>(floor_mod(ns, 1'000'000'000));
  return t;
}

base::Result<int64_t> to_unix_nanos(Instant t) {
  __int128 v = static_cast<__int128>(t.seconds) * 1'000'000'000 + t.nanos;
  if (v > INT64_MAX || v < INT64_MIN) return base::invalid_argument("time outside of valid range");
  return static_cast<int64_t>(v);
}

Civil to_civil(Instant t, const Zone& zone) {
  Zone::Offset off = zone.offset_at(t.seconds);
  Civil c;
  int64_t local = t.seconds + off.seconds;
  int64_t days = floor_div(local, kSecondsPerDay);
  int64_t secs = local - days * kSecondsPerDay;
  civil_from_days(days, c.year, c.month, c.day);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.nanosecond = t.nanos;
  c.weekday = static_cast<int>(floor_mod(days + 4, 7));
  c.yearday = static_cast<int>(days - days_from_civil(c.year, 1, 1) + 1);
  c.offset = off.seconds;
  c.abbr = std::move(off.abbr);
  return c;
}

Instant from_fields(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                    int64_t second, int64_t nanos, const Zone& zone) {
  // Normalize month into [1, 12], carrying into the year; the rest carries through seconds.
  int64_t m0 = month - 1;
  year += floor_div(m0, 12);
  m0 = floor_mod(m0, 12);
  second += floor_div(nanos, 1'000'000'000);
  nanos = floor_mod(nanos, 1'000'000'000);
  int64_t days = days_from_civil(year, static_cast<int>(m0 + 1), 1) + (day - 1);
  int64_t local = days * kSecondsPerDay + hour * 3600 + minute * 60 + second;
  // Go: guess with the offset in effect at `local` as if it were UTC, then correct once.
  int off = zone.offset_at(local).seconds;
  int64_t utc = local - off;
  int off2 = zone.offset_at(utc).seconds;
  if (off2 != off) utc = local - off2;
  return Instant{utc, static_cast<int32_t>(nanos)};
}

std::string_view expand_layout(std::string_view layout) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"ANSIC", "Mon Jan _2 15:04:05 2006"},
      {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"},
      {"RubyDate", "Mon Jan 02 15:04:05 -0700 2006"},
      {"RFC822", "02 Jan 06 15:04 MST"},
      {"RFC822Z", "02 Jan 06 15:04 -0700"},
      {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
      {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},
      {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
      {"RFC3339", "2006-01-02T15:04:05Z07:00"},
      {"RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"},
      {"Kitchen", "3:04PM"},
      {"Stamp", "Jan _2 15:04:05"},
      {"StampMilli", "Jan _2 15:04:05.000"},
      {"StampMicro", "Jan _2 15:04:05.000000"},
      {"StampNano", "Jan _2 15:04:05.000000000"},
      {"DateTime", "2006-01-02 15:04:05"},
      {"DateOnly", "2006-01-02"},
      {"TimeOnly", "15:04:05"},
  };
  for (auto [name, value] : kNames) {
    if (layout == name) return value;
  }
  return layout;
}

}  // namespace policy::builtins::gotime
