// Go's time.Parse and time.ParseDuration.
#include <cctype>
#include <string>

#include "policy/builtins/gotime.h"
#include "policy/builtins/gotime_chunk.h"

namespace policy::builtins::gotime {

namespace {

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

base::Status parse_error(std::string_view layout, std::string_view value, std::string_view elem,
                         std::string_view value_elem, std::string_view msg = {}) {
  if (!msg.empty()) {
    return base::invalid_argument("parsing time " + quote(value) + std::string(msg));
  }
  return base::invalid_argument("parsing time " + quote(value) + " as " + quote(layout) +
                                ": cannot parse " + quote(value_elem) + " as " + quote(elem));
}

bool is_digit(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// Reads 1-2 digits (exactly 2 when `fixed`).
bool getnum(std::string_view& s, bool fixed, int& out) {
  if (!is_digit(s, 0)) return false;
  if (!is_digit(s, 1)) {
    if (fixed) return false;
    out = s[0] - '0';
    s.remove_prefix(1);
    return true;
  }
  out = (s[0] - '0') * 10 + (s[1] - '0');
  s.remove_prefix(2);
  return true;
}

bool getnum3(std::string_view& s, bool fixed, int& out) {
  int n = 0;
  size_t i = 0;
  for (; i < 3 && is_digit(s, i); ++i) n = n * 10 + (s[i] - '0');
  if (i == 0 || (fixed && i != 3)) return false;
  out = n;
  s.remove_prefix(i);
  return true;
}

// Case-insensitive prefix lookup in a name table; returns the index or -1.
int lookup(std::string_view& s, const char* const* table, int n, size_t len_limit) {
  for (int i = 0; i < n; ++i) {
    std::string_view name = table[i];
    if (len_limit) name = name.substr(0, len_limit);
    if (s.size() >= name.size()) {
      bool eq = true;
      for (size_t k = 0; k < name.size(); ++k) {
        if (std::tolower(static_cast<unsigned char>(s[k])) !=
            std::tolower(static_cast<unsigned char>(name[k]))) {
          eq = false;
          break;
        }
      }
      if (eq) {
        s.remove_prefix(name.size());
        return i;
      }
    }
  }
  return -1;
}

// Matches literal layout text; runs of spaces in the layout match runs of spaces in the value.
bool skip(std::string_view& value, std::string_view prefix) {
  while (!prefix.empty()) {
    if (prefix[0] == ' ') {
      if (!value.empty() && value[0] != ' ') return false;
      while (!prefix.empty() && prefix[0] == ' ') prefix.remove_prefix(1);
      while (!value.empty() && value[0] == ' ') value.remove_prefix(1);
      continue;
    }
    if (value.empty() || value[0] != prefix[0]) return false;
    prefix.remove_prefix(1);
    value.remove_prefix(1);
  }
  return true;
}

bool parse_nanos(std::string_view& s, size_t n, int32_t& out) {
  // s[0] is the separator; digits follow.
  if (n < 2) return false;
  int64_t ns = 0;
  size_t i = 1;
  for (; i < n && i <= 9; ++i) {
    if (!is_digit(s, i)) return false;
    ns = ns * 10 + (s[i] - '0');
  }
  for (size_t k = i; k < n; ++k) {
    if (!is_digit(s, k)) return false;
  }
  for (size_t k = i; k <= 9; ++k) ns *= 10;
  out = static_cast<int32_t>(ns);
  s.remove_prefix(n);
  return true;
}

}  // namespace

base::Result<Instant> parse(std::string_view layout_in, std::string_view value_in) {
  std::string_view layout = layout_in;
  std::string_view value = value_in;
  int64_t year = 0;  // Go: omitted elements are zero (or one when zero is impossible)
  int month = -1, day = -1, yday = -1, hour = 0, minute = 0, second = 0;
  int32_t nsec = 0;
  bool pm_set = false, am_set = false;
  bool have_offset = false;
  int zone_offset = 0;
  std::string zone_name;

  while (true) {
    Chunk k = next_chunk(layout);
    std::string_view std_str = layout.substr(k.prefix.size(),
                                             layout.size() - k.prefix.size() - k.suffix.size());
    std::string_view before = value;
    if (!skip(value, k.prefix)) return parse_error(layout_in, value_in, k.prefix, value);
    if (k.std == Std::kNone) {
      if (!value.empty()) {
        return parse_error(layout_in, value_in, {}, {}, ": extra text: " + quote(value));
      }
      break;
    }
    layout = k.suffix;
    std::string_view hold = value;
    bool ok = true;
    std::string range_err;
    switch (k.std) {
      case Std::kYear: {
        int v;
        ok = value.size() >= 2 && getnum(value, true, v);
        if (ok) year = v >= 69 ? 1900 + v : 2000 + v;
        break;
      }
      case Std::kLongYear: {
        ok = value.size() >= 4 && is_digit(value, 0) && is_digit(value, 1) &&
             is_digit(value, 2) && is_digit(value, 3);
        if (ok) {
          year = std::stoi(std::string(value.substr(0, 4)));
          value.remove_prefix(4);
        }
        break;
      }
      case Std::kMonth:
      case Std::kLongMonth: {
        int m = lookup(value, kLongMonthNames, 12, k.std == Std::kMonth ? 3 : 0);
        ok = m >= 0;
        month = m + 1;
        break;
      }
      case Std::kNumMonth:
      case Std::kZeroMonth:
        ok = getnum(value, k.std == Std::kZeroMonth, month);
        if (ok && (month <= 0 || month > 12)) range_err = "month";
        break;
      case Std::kWeekDay:
      case Std::kLongWeekDay:
        ok = lookup(value, kLongDayNames, 7, k.std == Std::kWeekDay ? 3 : 0) >= 0;
        break;
      case Std::kDay:
      case Std::kUnderDay:
      case Std::kZeroDay:
        if (k.std == Std::kUnderDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
        ok = getnum(value, k.std == Std::kZeroDay, day);
        break;
      case Std::kUnderYearDay:
      case Std::kZeroYearDay:
        for (int i = 0; i < 2 && k.std == Std::kUnderYearDay; ++i) {
          if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        }
        ok = getnum3(value, k.std == Std::kZeroYearDay, yday);
        break;
      case Std::kHour:
        ok = getnum(value, false, hour);
        if (ok && (hour < 0 || hour >= 24)) range_err = "hour";
        break;
      case Std::kHour12:
      case Std::kZeroHour12:
        ok = getnum(value, k.std == Std::kZeroHour12, hour);
        if (ok && (hour < 0 || hour > 12)) range_err = "hour";
        break;
      case Std::kMinute:
      case Std::kZeroMinute:
        ok = getnum(value, k.std == Std::kZeroMinute, minute);
        if (ok && (minute < 0 || minute >= 60)) range_err = "minute";
        break;
      case Std::kSecond:
      case Std::kZeroSecond: {
        ok = getnum(value, k.std == Std::kZeroSecond, second);
        if (!ok) break;
        if (second < 0 || second >= 60) {
          range_err = "second";
          break;
        }
        // A fractional second in the value that the layout does not spell out.
        if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && is_digit(value, 1)) {
          Chunk next = next_chunk(layout);
          if ((next.std == Std::kFracSecond0 || next.std == Std::kFracSecond9) &&
              next.prefix.empty()) {
            break;
          }
          size_t n = 2;
          while (is_digit(value, n)) ++n;
          ok = parse_nanos(value, n, nsec);
        }
        break;
      }
      case Std::kPM:
      case Std::kpm: {
        if (value.size() < 2) {
          ok = false;
          break;
        }
        std::string p(value.substr(0, 2));
        for (char& ch : p) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (k.std == Std::kpm) {
          std::string raw(value.substr(0, 2));
          if (raw == "pm") pm_set = true;
          else if (raw == "am") am_set = true;
          else ok = false;
        } else if (value.substr(0, 2) == "PM") {
          pm_set = true;
        } else if (value.substr(0, 2) == "AM") {
          am_set = true;
        } else {
          ok = false;
        }
        if (ok) value.remove_prefix(2);
        break;
      }
      case Std::kTZ: {
        if (value.size() >= 3 && value.substr(0, 3) == "UTC") {
          zone_name = "UTC";
          value.remove_prefix(3);
          break;
        }
        size_t n = 0;
        while (n < value.size() && value[n] >= 'A' && value[n] <= 'Z') ++n;
        if (n < 3) {
          ok = false;
          break;
        }
        zone_name = std::string(value.substr(0, n));
        value.remove_prefix(n);
        break;
      }
      case Std::kFracSecond0: {
        size_t n = 1 + static_cast<size_t>(k.digits);
        ok = value.size() >= n && (value[0] == '.' || value[0] == ',') &&
             parse_nanos(value, n, nsec);
        break;
      }
      case Std::kFracSecond9: {
        if (value.size() < 2 || !(value[0] == '.' || value[0] == ',') || !is_digit(value, 1)) {
          break;  // omitted
        }
        size_t n = 1;
        while (n < 10 && is_digit(value, n)) ++n;
        ok = parse_nanos(value, n, nsec);
        break;
      }
      default: {  // numeric zones
        bool iso = k.std == Std::kISO8601TZ || k.std == Std::kISO8601SecondsTZ ||
                   k.std == Std::kISO8601ShortTZ || k.std == Std::kISO8601ColonTZ ||
                   k.std == Std::kISO8601ColonSecondsTZ;
        if (iso && !value.empty() && value[0] == 'Z') {
          value.remove_prefix(1);
          have_offset = true;
          zone_offset = 0;
          zone_name = "UTC";
          break;
        }
        bool colon = k.std == Std::kISO8601ColonTZ || k.std == Std::kNumColonTZ ||
                     k.std == Std::kISO8601ColonSecondsTZ || k.std == Std::kNumColonSecondsTZ;
        bool short_tz = k.std == Std::kISO8601ShortTZ || k.std == Std::kNumShortTZ;
        bool secs = k.std == Std::kISO8601SecondsTZ || k.std == Std::kNumSecondsTz ||
                    k.std == Std::kISO8601ColonSecondsTZ || k.std == Std::kNumColonSecondsTZ;
        if (value.empty() || (value[0] != '+' && value[0] != '-')) {
          ok = false;
          break;
        }
        int sign = value[0] == '-' ? -1 : 1;
        value.remove_prefix(1);
        int hh = 0, mm = 0, ss = 0;
        ok = getnum(value, true, hh);
        if (ok && !short_tz) {
          if (colon) {
            ok = !value.empty() && value[0] == ':';
            if (ok) value.remove_prefix(1);
          }
          ok = ok && getnum(value, true, mm);
          if (ok && secs) {
            if (colon) {
              ok = !value.empty() && value[0] == ':';
              if (ok) value.remove_prefix(1);
            }
            ok = ok && getnum(value, true, ss);
          }
        }
        if (ok) {
          if (hh > 24 || mm > 60 || ss > 60) {
            range_err = "time zone offset hour";
          }
          have_offset = true;
          zone_offset = sign * (hh * 3600 + mm * 60 + ss);
        }
        break;
      }
    }
    if (!range_err.empty()) {
      return parse_error(layout_in, value_in, {}, {}, ": " + range_err + " out of range");
    }
    if (!ok) return parse_error(layout_in, value_in, std_str, hold);
    (void)before;
  }

  if (pm_set && hour < 12) hour += 12;
  if (am_set && hour == 12) hour = 0;

  if (yday >= 0) {
    int m = 1, d = yday;
    if (yday < 1 || yday > (days_in_month(year, 2) == 29 ? 366 : 365)) {
      return parse_error(layout_in, value_in, {}, {}, ": day-of-year out of range");
    }
    while (d > days_in_month(year, m)) d -= days_in_month(year, m++);
    if (month >= 0 && month != m) {
      return parse_error(layout_in, value_in, {}, {}, ": day-of-year does not match month");
    }
    if (day >= 0 && day != d) {
      return parse_error(layout_in, value_in, {}, {}, ": day-of-year does not match day");
    }
    month = m;
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > days_in_month(year, month)) {
    return parse_error(layout_in, value_in, {}, {}, ": day out of range");
  }

  Instant t = from_fields(year, month, day, hour, minute, second, nsec, Zone::utc());
  if (have_offset) t.seconds -= zone_offset;
  return t;
}

base::Result<int64_t> parse_duration(std::string_view orig) {
  auto invalid = [&] { return base::invalid_argument("time: invalid duration " + quote(orig)); };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  unsigned __int128 total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s, 0))) return invalid();
    unsigned __int128 v = 0;
    size_t i = 0;
    while (is_digit(s, i)) {
      v = v * 10 + (s[i] - '0');
      if (v > (static_cast<unsigned __int128>(1) << 63)) return invalid();
      ++i;
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    unsigned __int128 frac = 0, scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      while (is_digit(s, j)) {
        if (scale < static_cast<unsigned __int128>(1'000'000'000'000'000'000ULL)) {
          frac = frac * 10 + (s[j] - '0');
          scale *= 10;
        }
        ++j;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s, u)) ++u;
    if (u == 0) return base::invalid_argument("time: missing unit in duration " + quote(orig));
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1000;
    else if (unit == "ms") mult = 1'000'000;
    else if (unit == "s") mult = 1'000'000'000ULL;
    else if (unit == "m") mult = 60'000'000'000ULL;
    else if (unit == "h") mult = 3'600'000'000'000ULL;
    else {
      return base::invalid_argument("time: unknown unit " + quote(unit) + " in duration " +
                                    quote(orig));
    }
    unsigned __int128 part = v * mult + frac * mult / scale;
    total += part;
    if (total > (static_cast<unsigned __int128>(1) << 63)) return invalid();
  }
  if (!neg && total > static_cast<unsigned __int128>(INT64_MAX)) return invalid();
  int64_t r = static_cast<int64_t>(total);
  if (neg) r = total == (static_cast<unsigned __int128>(1) << 63) ? INT64_MIN : -r;
  return r;
}

}  // namespace policy::builtins::gotime
