// Go layout strings: tokenizing, formatting and parsing (time.Format / time.Parse), plus
// time.ParseDuration.
#include <cstdio>
#include <optional>
#include <string>

#include "policy/builtins/gotime.h"
#include "policy/builtins/gotime_chunk.h"

namespace policy::builtins::gotime {

const char* const kLongMonthNames[12] = {"January", "February", "March",     "April",
                                         "May",     "June",     "July",      "August",
                                         "September", "October", "November", "December"};
const char* const kLongDayNames[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};

namespace {

bool starts(std::string_view s, size_t i, std::string_view p) { return s.substr(i, p.size()) == p; }
bool is_digit_at(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

}  // namespace

Chunk next_chunk(std::string_view layout) {
  for (size_t i = 0; i < layout.size(); ++i) {
    auto hit = [&](Std std, size_t len) {
      return Chunk{layout.substr(0, i), std, 0, '.', layout.substr(i + len)};
    };
    char c = layout[i];
    switch (c) {
      case 'J':
        if (starts(layout, i, "Jan")) {
          if (starts(layout, i, "January")) return hit(Std::kLongMonth, 7);
          if (!(i + 3 < layout.size() && layout[i + 3] >= 'a' && layout[i + 3] <= 'z'))
            return hit(Std::kMonth, 3);
        }
        break;
      case 'M':
        if (starts(layout, i, "Mon")) {
          if (starts(layout, i, "Monday")) return hit(Std::kLongWeekDay, 6);
          if (!(i + 3 < layout.size() && layout[i + 3] >= 'a' && layout[i + 3] <= 'z'))
            return hit(Std::kWeekDay, 3);
        }
        if (starts(layout, i, "MST")) return hit(Std::kTZ, 3);
        break;
      case '0':
        if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          static constexpr Std kZero[] = {Std::kZeroMonth, Std::kZeroDay, Std::kZeroHour12,
                                          Std::kZeroMinute, Std::kZeroSecond, Std::kYear};
          return hit(kZero[layout[i + 1] - '1'], 2);
        }
        if (starts(layout, i, "002")) return hit(Std::kZeroYearDay, 3);
        break;
      case '1':
        if (starts(layout, i, "15")) return hit(Std::kHour, 2);
        return hit(Std::kNumMonth, 1);
      case '2':
        if (starts(layout, i, "2006")) return hit(Std::kLongYear, 4);
        return hit(Std::kDay, 1);
      case '_':
        if (starts(layout, i, "_2")) {
          if (starts(layout, i, "_2006")) {
            return Chunk{layout.substr(0, i + 1), Std::kLongYear, 0, '.', layout.substr(i + 5)};
          }
          return hit(Std::kUnderDay, 2);
        }
        if (starts(layout, i, "__2")) return hit(Std::kUnderYearDay, 3);
        break;
      case '3':
        return hit(Std::kHour12, 1);
      case '4':
        return hit(Std::kMinute, 1);
      case '5':
        return hit(Std::kSecond, 1);
      case 'P':
        if (starts(layout, i, "PM")) return hit(Std::kPM, 2);
        break;
      case 'p':
        if (starts(layout, i, "pm")) return hit(Std::kpm, 2);
        break;
      case '-':
        if (starts(layout, i, "-070000")) return hit(Std::kNumSecondsTz, 7);
        if (starts(layout, i, "-07:00:00")) return hit(Std::kNumColonSecondsTZ, 9);
        if (starts(layout, i, "-0700")) return hit(Std::kNumTZ, 5);
        if (starts(layout, i, "-07:00")) return hit(Std::kNumColonTZ, 6);
        if (starts(layout, i, "-07")) return hit(Std::kNumShortTZ, 3);
        break;
      case 'Z':
        if (starts(layout, i, "Z070000")) return hit(Std::kISO8601SecondsTZ, 7);
        if (starts(layout, i, "Z07:00:00")) return hit(Std::kISO8601ColonSecondsTZ, 9);
        if (starts(layout, i, "Z0700")) return hit(Std::kISO8601TZ, 5);
        if (starts(layout, i, "Z07:00")) return hit(Std::kISO8601ColonTZ, 6);
        if (starts(layout, i, "Z07")) return hit(Std::kISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
          char ch = layout[i + 1];
          size_t j = i + 1;
          while (j < layout.size() && layout[j] == ch) ++j;
          if (!is_digit_at(layout, j)) {
            Chunk k = hit(ch == '0' ? Std::kFracSecond0 : Std::kFracSecond9, j - i);
            k.digits = static_cast<int>(j - i - 1);
            k.sep = c;
            return k;
          }
        }
        break;
      default:
        break;
    }
  }
  return Chunk{layout, Std::kNone, 0, '.', {}};
}

namespace {


void append_int(std::string& out, int64_t v, int width, char pad = '0') {
  std::string digits = std::to_string(v < 0 ? -v : v);
  if (v < 0) out.push_back('-');
  for (int i = static_cast<int>(digits.size()); i < width; ++i) out.push_back(pad);
  out += digits;
}

void append_tz(std::string& out, int offset, Std std) {
  bool iso = std == Std::kISO8601TZ || std == Std::kISO8601SecondsTZ ||
             std == Std::kISO8601ShortTZ || std == Std::kISO8601ColonTZ ||
             std == Std::kISO8601ColonSecondsTZ;
  if (iso && offset == 0) {
    out.push_back('Z');
    return;
  }
  int zone = offset / 60;
  int abs_off = offset < 0 ? -offset : offset;
  if (zone < 0) {
    out.push_back('-');
    zone = -zone;
  } else {
    out.push_back('+');
  }
  append_int(out, zone / 60, 2);
  bool colon = std == Std::kISO8601ColonTZ || std == Std::kNumColonTZ ||
               std == Std::kISO8601ColonSecondsTZ || std == Std::kNumColonSecondsTZ;
  if (std == Std::kISO8601ShortTZ || std == Std::kNumShortTZ) return;
  if (colon) out.push_back(':');
  append_int(out, zone % 60, 2);
  if (std == Std::kISO8601SecondsTZ || std == Std::kNumSecondsTz ||
      std == Std::kISO8601ColonSecondsTZ || std == Std::kNumColonSecondsTZ) {
    if (colon) out.push_back(':');
    append_int(out, abs_off % 60, 2);
  }
}

}  // namespace

std::string format(Instant t, const Zone& zone, std::string_view layout) {
  Civil c = to_civil(t, zone);
  std::string out;
  while (!layout.empty()) {
    Chunk k = next_chunk(layout);
    out += k.prefix;
    if (k.std == Std::kNone) break;
    layout = k.suffix;
    switch (k.std) {
      case Std::kYear:
        append_int(out, ((c.year % 100) + 100) % 100, 2);
        break;
      case Std::kLongYear:
        append_int(out, c.year, 4);
        break;
      case Std::kMonth:
        out += std::string_view(kLongMonthNames[c.month - 1]).substr(0, 3);
        break;
      case Std::kLongMonth:
        out += kLongMonthNames[c.month - 1];
        break;
      case Std::kNumMonth:
        append_int(out, c.month, 0);
        break;
      case Std::kZeroMonth:
        append_int(out, c.month, 2);
        break;
      case Std::kWeekDay:
        out += std::string_view(kLongDayNames[c.weekday]).substr(0, 3);
        break;
      case Std::kLongWeekDay:
        out += kLongDayNames[c.weekday];
        break;
      case Std::kDay:
        append_int(out, c.day, 0);
        break;
      case Std::kUnderDay:
        append_int(out, c.day, 2, ' ');
        break;
      case Std::kZeroDay:
        append_int(out, c.day, 2);
        break;
      case Std::kUnderYearDay:
        append_int(out, c.yearday, 3, ' ');
        break;
      case Std::kZeroYearDay:
        append_int(out, c.yearday, 3);
        break;
      case Std::kHour:
        append_int(out, c.hour, 2);
        break;
      case Std::kHour12:
        append_int(out, c.hour % 12 == 0 ? 12 : c.hour % 12, 0);
        break;
      case Std::kZeroHour12:
        append_int(out, c.hour % 12 == 0 ? 12 : c.hour % 12, 2);
        break;
      case Std::kMinute:
        append_int(out, c.minute, 0);
        break;
      case Std::kZeroMinute:
        append_int(out, c.minute, 2);
        break;
      case Std::kSecond:
        append_int(out, c.second, 0);
        break;
      case Std::kZeroSecond:
        append_int(out, c.second, 2);
        break;
      case Std::kPM:
        out += c.hour >= 12 ? "PM" : "AM";
        break;
      case Std::kpm:
        out += c.hour >= 12 ? "pm" : "am";
        break;
      case Std::kTZ:
        if (!c.abbr.empty()) {
          out += c.abbr;
        } else {
          append_tz(out, c.offset, Std::kNumTZ);
        }
        break;
      case Std::kFracSecond0:
      case Std::kFracSecond9: {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%09d", c.nanosecond);
        std::string digits(buf, k.digits < 9 ? k.digits : 9);
        if (k.std == Std::kFracSecond9) {
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (digits.empty()) break;
        }
        out.push_back(k.sep);
        out += digits;
        break;
      }
      default:
        append_tz(out, c.offset, k.std);
        break;
    }
  }
  return out;
}

}  // namespace policy::builtins::gotime
