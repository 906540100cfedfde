// time.* builtins. "now" is the query's fixed BuiltinContext::now_ns; zones come from the
// built-in table in gotime.cc.
#include <string>
#include <vector>

#include "policy/builtins/gotime.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

using gotime::Instant;
using gotime::Zone;

struct ZonedTime {
  Instant t;
  Zone zone;
  std::string layout = "2006-01-02T15:04:05.999999999Z07:00";
};

// OPA's tzTime: a number of nanoseconds, or [ns, zone] / [ns, zone, layout].
base::Result<ZonedTime> zoned(std::string_view name, Args args, int pos) {
  const Value& a = args[static_cast<size_t>(pos - 1)];
  ZonedTime out;
  const Value* ns = &a;
  if (a.is_array()) {
    auto items = a.array_items();
    if (items.empty()) {
      return type_error(name, "operand " + std::to_string(pos) +
                                  " must be either number (ns) or [number (ns), string (tz)]");
    }
    ns = &items[0];
    if (items.size() > 1) {
      if (!items[1].is_string()) return operand_error(name, pos, "string", items[1]);
      auto z = Zone::load(items[1].as_string());
      if (!z.is_ok()) return builtin_error(name, z.status().message());
      out.zone = std::move(z).value();
    }
    if (items.size() > 2) {
      if (!items[2].is_string()) return operand_error(name, pos, "string", items[2]);
      out.layout = std::string(gotime::expand_layout(items[2].as_string()));
    }
  } else if (!a.is_number()) {
    return operand_error(name, pos, "either number (ns) or [number (ns), string (tz)]", a);
  }
  if (!ns->is_number()) return operand_error(name, pos, "number", *ns);
  auto i = ns->as_int();
  if (!i) return builtin_error(name, "timestamp too big");
  out.t = gotime::from_unix_nanos(*i);
  return out;
}

BuiltinResult nanos_result(std::string_view name, Instant t) {
  auto ns = gotime::to_unix_nanos(t);
  if (!ns.is_ok()) return builtin_error(name, ns.status().message());
  return ok(Value::integer(*ns));
}

BuiltinResult now_ns(BuiltinContext& ctx, Args) { return ok(Value::integer(ctx.now_ns)); }

BuiltinResult parse_ns(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "time.parse_ns";
  EC_ASSIGN_OR_RETURN(std::string_view layout, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view value, arg_string(kName, args, 2));
  auto t = gotime::parse(gotime::expand_layout(layout), value);
  if (!t.is_ok()) return builtin_error(kName, t.status().message());
  return nanos_result(kName, *t);
}

BuiltinResult parse_rfc3339_ns(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "time.parse_rfc3339_ns";
  EC_ASSIGN_OR_RETURN(std::string_view value, arg_string(kName, args, 1));
  auto t = gotime::parse(gotime::expand_layout("RFC3339"), value);
  if (!t.is_ok()) return builtin_error(kName, t.status().message());
  return nanos_result(kName, *t);
}

BuiltinResult parse_duration_ns(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "time.parse_duration_ns";
  EC_ASSIGN_OR_RETURN(std::string_view value, arg_string(kName, args, 1));
  auto d = gotime::parse_duration(value);
  if (!d.is_ok()) return builtin_error(kName, d.status().message());
  return ok(Value::integer(*d));
}

BuiltinResult date(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(ZonedTime z, zoned("time.date", args, 1));
  gotime::Civil c = gotime::to_civil(z.t, z.zone);
  return ok(Value::array({Value::integer(c.year), Value::integer(c.month), Value::integer(c.day)}));
}

BuiltinResult clock(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(ZonedTime z, zoned("time.clock", args, 1));
  gotime::Civil c = gotime::to_civil(z.t, z.zone);
  return ok(
      Value::array({Value::integer(c.hour), Value::integer(c.minute), Value::integer(c.second)}));
}

BuiltinResult weekday(BuiltinContext&, Args args) {
  static constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
  EC_ASSIGN_OR_RETURN(ZonedTime z, zoned("time.weekday", args, 1));
  return ok(Value::string(kDays[gotime::to_civil(z.t, z.zone).weekday]));
}

BuiltinResult add_date(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "time.add_date";
  EC_ASSIGN_OR_RETURN(int64_t ns, int_operand(kName, args, 1));
  EC_ASSIGN_OR_RETURN(int64_t years, int_operand(kName, args, 2));
  EC_ASSIGN_OR_RETURN(int64_t months, int_operand(kName, args, 3));
  EC_ASSIGN_OR_RETURN(int64_t days, int_operand(kName, args, 4));
  Zone utc = Zone::utc();
  gotime::Civil c = gotime::to_civil(gotime::from_unix_nanos(ns), utc);
  Instant t = gotime::from_fields(c.year + years, c.month + months, c.day + days, c.hour,
                                  c.minute, c.second, c.nanosecond, utc);
  return nanos_result(kName, t);
}

BuiltinResult diff(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "time.diff";
  EC_ASSIGN_OR_RETURN(ZonedTime a, zoned(kName, args, 1));
  EC_ASSIGN_OR_RETURN(ZonedTime b, zoned(kName, args, 2));
  // Both are shown in the first operand's zone; the earlier one comes first.
  Instant t1 = a.t, t2 = b.t;
  if (t1.seconds > t2.seconds || (t1.seconds == t2.seconds && t1.nanos > t2.nanos)) {
    std::swap(t1, t2);
  }
  gotime::Civil c1 = gotime::to_civil(t1, a.zone), c2 = gotime::to_civil(t2, a.zone);
  int64_t year = c2.year - c1.year;
  int64_t month = c2.month - c1.month;
  int64_t day = c2.day - c1.day;
  int64_t hour = c2.hour - c1.hour;
  int64_t min = c2.minute - c1.minute;
  int64_t sec = c2.second - c1.second;
  // Borrow from the next larger unit, as a person counting on a calendar would.
  if (sec < 0) sec += 60, --min;
  if (min < 0) min += 60, --hour;
  if (hour < 0) hour += 24, --day;
  if (day < 0) {
    day += gotime::days_in_month(c1.year, c1.month);
    --month;
  }
  if (month < 0) month += 12, --year;
  return ok(Value::array({Value::integer(year), Value::integer(month), Value::integer(day),
                          Value::integer(hour), Value::integer(min), Value::integer(sec)}));
}

BuiltinResult format(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(ZonedTime z, zoned("time.format", args, 1));
  return ok(Value::string(gotime::format(z.t, z.zone, z.layout)));
}

}  // namespace

void register_time_builtins(BuiltinRegistry& r) {
  r.add("time.now_ns", 0, now_ns, /*deterministic=*/false);
  r.add("time.parse_ns", 2, parse_ns);
  r.add("time.parse_rfc3339_ns", 1, parse_rfc3339_ns);
  r.add("time.parse_duration_ns", 1, parse_duration_ns);
  r.add("time.date", 1, date);
  r.add("time.clock", 1, clock);
  r.add("time.weekday", 1, weekday);
  r.add("time.add_date", 4, add_date);
  r.add("time.diff", 2, diff);
  r.add("time.format", 1, format);
}

}  // namespace policy::builtins
