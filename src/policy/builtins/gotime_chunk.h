// Internal to gotime: the layout tokenizer shared by format and parse.
#pragma once

#include <string_view>

namespace policy::builtins::gotime {

enum class Std {
  kNone,
  kLongMonth,     // January
  kMonth,         // Jan
  kNumMonth,      // 1
  kZeroMonth,     // 01
  kLongWeekDay,   // Monday
  kWeekDay,       // Mon
  kDay,           // 2
  kUnderDay,      // _2
  kZeroDay,       // 02
  kUnderYearDay,  // __2
  kZeroYearDay,   // 002
  kHour,          // 15
  kHour12,        // 3
  kZeroHour12,    // 03
  kMinute,        // 4
  kZeroMinute,    // 04
  kSecond,        // 5
  kZeroSecond,    // 05
  kLongYear,      // 2006
  kYear,          // 06
  kPM,            // PM
  kpm,            // pm
  kTZ,            // MST
  kISO8601TZ,         // Z0700
  kISO8601SecondsTZ,  // Z070000
  kISO8601ShortTZ,    // Z07
  kISO8601ColonTZ,    // Z07:00
  kISO8601ColonSecondsTZ,  // Z07:00:00
  kNumTZ,             // -0700
  kNumSecondsTz,      // -070000
  kNumShortTZ,        // -07
  kNumColonTZ,        // -07:00
  kNumColonSecondsTZ,  // -07:00:00
  kFracSecond0,       // .000 (digits = count)
  kFracSecond9,       // .999
};

struct Chunk {
  std::string_view prefix;
  Std std = Std::kNone;
  int digits = 0;  // fractional seconds width
  char sep = '.';  // fractional separator
  std::string_view suffix;
};

// Finds the first layout element in `layout` (Go's nextStdChunk).
Chunk next_chunk(std::string_view layout);

extern const char* const kLongMonthNames[12];
extern const char* const kLongDayNames[7];

}  // namespace policy::builtins::gotime
