#include "builtins_test_util.h"

namespace policy::testing {
namespace {

TEST(BuiltinsTime, GoLayouts) {
  BuiltinCaller b;
  // 2006-01-02T15:04:05Z; Go's reference time.
  Value ref = J("1136214245000000000");
  auto fmt = [&](const char* layout) {
    return b.show("time.format", {Value::array({ref, Value::string("UTC"), Value::string(layout)})});
  };
  EXPECT_EQ(fmt("ANSIC"), "\"Mon Jan  2 15:04:05 2006\"");
  EXPECT_EQ(fmt("RFC850"), "\"Monday, 02-Jan-06 15:04:05 UTC\"");
  EXPECT_EQ(fmt("Kitchen"), "\"3:04PM\"");
  EXPECT_EQ(fmt("2006-01-02 __2 002 .000 .999 pm Z07:00"), "\"2006-01-02   2 002 .000  pm Z\"");
  EXPECT_EQ(b.show("time.format", {Value::array({ref, Value::string("America/New_York"), Value::string("MST -0700 Z07")})}),
            "\"EST -0500 -05\"");
  // Omitted date elements are zero/one, as in Go: "3:04PM" is 15:04 on January 1st, year 0.
  EXPECT_EQ(b.reason("time.parse_ns", {J("\"Kitchen\""), J("\"3:04PM\"")}), "eval_builtin_error");  // year 0: out of range
  EXPECT_EQ(b.show("time.parse_ns", {J("\"2006-01-02 3:04PM\""), J("\"2020-05-06 11:30AM\"")}), "1588764600000000000");
  EXPECT_EQ(b.show("time.parse_ns", {J("\"Mon, 02 Jan 2006 15:04:05 MST\""), J("\"Tue, 03 Mar 2020 10:00:00 UTC\"")}),
            "1583229600000000000");
  EXPECT_EQ(b.show("time.parse_ns", {J("\"2006-01-02\""), J("\"2020-13-01\"")}),
            "error: time.parse_ns: parsing time \"2020-13-01\": month out of range");
  EXPECT_EQ(b.show("time.parse_duration_ns", {J("\"1h2m3.5s\"")}), "3723500000000");
  EXPECT_EQ(b.show("time.parse_duration_ns", {J("\"3\"")}),
            "error: time.parse_duration_ns: time: missing unit in duration \"3\"");
}

TEST(BuiltinsTime, ZonesAndDiff) {
  BuiltinCaller b;
  // DST: 2021-07-01T12:00:00Z is 08:00 EDT; 2021-01-01T12:00:00Z is 07:00 EST.
  EXPECT_EQ(b.show("time.clock", {J("[1625140800000000000, \"America/New_York\"]")}), "[8,0,0]");
  EXPECT_EQ(b.show("time.clock", {J("[1609502400000000000, \"America/New_York\"]")}), "[7,0,0]");
  // Southern hemisphere: Sydney is on daylight time (UTC+11) in January.
  EXPECT_EQ(b.show("time.clock", {J("[1609502400000000000, \"Australia/Sydney\"]")}), "[23,0,0]");
  EXPECT_EQ(b.show("time.date", {J("[0, \"Mars/Olympus\"]")}),
            "error: time.date: unknown time zone Mars/Olympus");
  EXPECT_EQ(b.show("time.diff", {J("[0, \"UTC\"]"), J("1000000000")}), "[0,0,0,0,0,1]");
  EXPECT_EQ(b.show("time.weekday", {J("[0, \"Asia/Tokyo\"]")}), "\"Thursday\"");
}

}  // namespace
}  // namespace policy::testing
