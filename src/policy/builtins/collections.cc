// array.*, set union/intersection, numbers.range*, rounding, bits.* and units.* builtins.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

// An integer result, exact beyond int64 (a big integer).
Value int_value(__int128 v) {
  if (v <= INT64_MAX && v >= INT64_MIN) return Value::integer(static_cast<int64_t>(v));
  bool negative = v < 0;
  unsigned __int128 m = negative ? -static_cast<unsigned __int128>(v) : v;
  std::string digits;
  while (m != 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  return Value::big_integer(*BigInt::parse((negative ? "-" : "") + digits));
}

// A float result; integral ones are integers (exact beyond int64), as OPA prints them.
Value number_value(double d) {
  if (d == std::floor(d) && std::fabs(d) < 9.2e18) return Value::integer(static_cast<int64_t>(d));
  if (auto big = BigInt::from_double(d)) return Value::big_integer(std::move(*big));
  return Value::number(d);
}

// OPA computes round, ceil, floor and abs of integers beyond the int32 window on big.Float
// with a 64-bit mantissa, so a big integer comes back rounded to 64 significant bits (x86-64's
// long double has exactly that mantissa, and glibc rounds both conversions correctly).
Value big_through_float64(const BigInt& b) {
  long double ld = std::strtold(b.to_string().c_str(), nullptr);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.0Lf", ld);
  return Value::big_integer(*BigInt::parse(buf));
}

BuiltinResult array_concat(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("array.concat", args, 1, Type::kArray));
  EC_RETURN_IF_ERROR(check_type("array.concat", args, 2, Type::kArray));
  std::vector<Value> out(args[0].array_items().begin(), args[0].array_items().end());
  out.insert(out.end(), args[1].array_items().begin(), args[1].array_items().end());
  return ok(Value::array(std::move(out)));
}

BuiltinResult array_slice(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "array.slice";
  EC_RETURN_IF_ERROR(check_type(kName, args, 1, Type::kArray));
  EC_ASSIGN_OR_RETURN(int64_t start, int_operand(kName, args, 2));
  EC_ASSIGN_OR_RETURN(int64_t stop, int_operand(kName, args, 3));
  auto items = args[0].array_items();
  int64_t len = static_cast<int64_t>(items.size());
  start = std::max<int64_t>(start, 0);
  stop = std::min(stop, len);
  if (start >= stop) return ok(Value::empty_array());
  return ok(Value::array(std::vector<Value>(items.begin() + start, items.begin() + stop)));
}

BuiltinResult array_reverse(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("array.reverse", args, 1, Type::kArray));
  std::vector<Value> out(args[0].array_items().rbegin(), args[0].array_items().rend());
  return ok(Value::array(std::move(out)));
}

BuiltinResult array_flatten(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("array.flatten", args, 1, Type::kArray));
  std::vector<Value> out;
  for (const Value& v : args[0].array_items()) {
    if (v.is_array()) {
      out.insert(out.end(), v.array_items().begin(), v.array_items().end());
    } else {
      out.push_back(v);
    }
  }
  return ok(Value::array(std::move(out)));
}

template <bool Union>
BuiltinResult set_fold(BuiltinContext&, Args args) {
  std::string_view name = Union ? "union" : "intersection";
  EC_RETURN_IF_ERROR(check_type(name, args, 1, Type::kSet));
  std::vector<Value> acc;
  bool first = true;
  for (const Value& s : args[0].set_items()) {
    if (!s.is_set()) {
      return type_error(name, "operand 1 must be set of sets but got set containing " +
                                  std::string(type_name(s.type())));
    }
    auto items = s.set_items();
    if (Union) {
      acc.insert(acc.end(), items.begin(), items.end());
    } else if (first) {
      acc.assign(items.begin(), items.end());
    } else {
      std::vector<Value> kept;
      for (const Value& v : acc) {
        if (s.contains(v)) kept.push_back(v);
      }
      acc = std::move(kept);
    }
    first = false;
  }
  return ok(Value::set(std::move(acc)));
}

// Far beyond any real policy; stops a hostile bound from exhausting the node's memory.
constexpr __int128 kMaxRange = 10'000'000;

BuiltinResult range_of(std::string_view name, int64_t a, int64_t b, int64_t step) {
  __int128 span = a <= b ? static_cast<__int128>(b) - a : static_cast<__int128>(a) - b;
  if (span / step + 1 > kMaxRange) return builtin_error(name, "range too large");
  std::vector<Value> out;
  if (a <= b) {
    for (__int128 i = a; i <= b; i += step) out.push_back(Value::integer(static_cast<int64_t>(i)));
  } else {
    for (__int128 i = a; i >= b; i -= step) out.push_back(Value::integer(static_cast<int64_t>(i)));
  }
  return ok(Value::array(std::move(out)));
}

BuiltinResult numbers_range(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(int64_t a, int_operand("numbers.range", args, 1));
  EC_ASSIGN_OR_RETURN(int64_t b, int_operand("numbers.range", args, 2));
  return range_of("numbers.range", a, b, 1);
}

BuiltinResult numbers_range_step(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "numbers.range_step";
  EC_ASSIGN_OR_RETURN(int64_t a, int_operand(kName, args, 1));
  EC_ASSIGN_OR_RETURN(int64_t b, int_operand(kName, args, 2));
  EC_RETURN_IF_ERROR(check_type(kName, args, 3, Type::kNumber));
  const Value& s = args[2];
  double sd = s.as_double();
  if (sd != std::floor(sd)) {
    return type_error(kName, "operand 3 must be integer number but got floating-point number");
  }
  if (sd <= 0) return builtin_error(kName, "step must be a positive integer");
  // A step beyond int64 can only reach the first element.
  int64_t step = s.as_int() ? *s.as_int() : INT64_MAX;
  return range_of(kName, a, b, step);
}

template <int Kind>  // 0 round, 1 ceil, 2 floor, 3 abs
BuiltinResult rounding(BuiltinContext&, Args args) {
  static constexpr std::string_view kNames[] = {"round", "ceil", "floor", "abs"};
  EC_RETURN_IF_ERROR(check_type(kNames[Kind], args, 1, Type::kNumber));
  const Value& v = args[0];
  if (const BigInt* big = v.as_big()) {
    return ok(big_through_float64(Kind == 3 && big->negative() ? big->negated() : *big));
  }
  if (auto i = v.as_int()) {
    if (Kind == 3) return ok(int_value(*i < 0 ? -static_cast<__int128>(*i) : *i));
    return ok(Value::integer(*i));
  }
  double d = v.as_double();
  double r = Kind == 0   ? std::round(d)
             : Kind == 1 ? std::ceil(d)
             : Kind == 2 ? std::floor(d)
                         : std::fabs(d);
  return ok(number_value(r));
}

template <int Kind>  // 0 or, 1 and, 2 xor, 3 lsh, 4 rsh
BuiltinResult bits2(BuiltinContext&, Args args) {
  static constexpr std::string_view kNames[] = {"bits.or", "bits.and", "bits.xor", "bits.lsh",
                                                "bits.rsh"};
  std::string_view name = kNames[Kind];
  EC_ASSIGN_OR_RETURN(int64_t a, int_operand(name, args, 1));
  EC_ASSIGN_OR_RETURN(int64_t b, int_operand(name, args, 2));
  switch (Kind) {
    case 0:
      return ok(Value::integer(a | b));
    case 1:
      return ok(Value::integer(a & b));
    case 2:
      return ok(Value::integer(a ^ b));
    default:
      break;
  }
  if (b < 0) {
    return type_error(name,
                      "operand 2 must be an unsigned integer number but got a negative integer");
  }
  if (Kind == 4) return ok(Value::integer(b >= 64 ? (a < 0 ? -1 : 0) : a >> b));
  if (b >= 63) {
    double r = std::ldexp(static_cast<double>(a), static_cast<int>(std::min<int64_t>(b, 2000)));
    if (!std::isfinite(r)) return builtin_error(name, "shift result too large");
    return ok(Value::number(r));
  }
  return ok(int_value(static_cast<__int128>(a) << b));
}

BuiltinResult bits_negate(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(int64_t a, int_operand("bits.negate", args, 1));
  return ok(Value::integer(~a));
}

// Splits "10Ki" into ("10", "Ki") as OPA does: the number is the longest prefix of digits,
// dots, signs and exponents ("1e3", "-2.5E-1"); an 'e' not followed by a digit or sign starts
// the unit ("5e" = 5 and unit "e", exa). Returns false when an exponent has more than six
// digits (OPA: "exponent too large").
bool num_and_unit(std::string_view s, std::string& num, std::string& unit) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (digit(c) || c == '.' || c == '+' || c == '-') continue;
    if (c != 'e' && c != 'E') break;
    if (i + 1 == s.size() || !(digit(s[i + 1]) || s[i + 1] == '+' || s[i + 1] == '-')) break;
    if (s[i + 1] == '+' || s[i + 1] == '-') ++i;
    size_t end = i + 1;
    while (end < s.size() && digit(s[end])) ++end;
    if (end - (i + 1) > 6) return false;
  }
  num = std::string(s.substr(0, i));
  unit = std::string(s.substr(i));
  return true;
}

// Go's big.Float/big.Rat SetString for decimals: [sign] digits [. digits] [(e|E) [sign] digits],
// with at least one mantissa digit.
bool parse_decimal(const std::string& num, double& out) {
  size_t i = 0, n = num.size();
  auto digits = [&]() {
    size_t b = i;
    while (i < n && num[i] >= '0' && num[i] <= '9') ++i;
    return i - b;
  };
  if (i < n && (num[i] == '+' || num[i] == '-')) ++i;
  size_t mant = digits();
  if (i < n && num[i] == '.') {
    ++i;
    mant += digits();
  }
  if (mant == 0) return false;
  if (i < n && (num[i] == 'e' || num[i] == 'E')) {
    ++i;
    if (i < n && (num[i] == '+' || num[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  if (i != n) return false;
  out = std::strtod(num.c_str(), nullptr);
  return true;
}

template <bool Bytes>
BuiltinResult units_parse(BuiltinContext&, Args args) {
  std::string_view name = Bytes ? "units.parse_bytes" : "units.parse";
  EC_ASSIGN_OR_RETURN(std::string_view raw, arg_string(name, args, 1));
  std::string s;
  for (char c : raw) {
    if (c != '"') s.push_back(c);
  }
  if (s.find(' ') != std::string::npos)
    return builtin_error(name, "spaces not allowed in resource strings");
  std::string num, unit;
  if (!num_and_unit(s, num, unit)) return builtin_error(name, "exponent too large");
  if (num.empty())
    return builtin_error(name, Bytes ? "no byte amount provided" : "no amount provided");
  std::string u = unit;
  if (Bytes) {
    for (char& c : u) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (u.size() > 1) {
    for (size_t k = 1; k < u.size(); ++k)
      u[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(u[k])));
  }
  struct Unit {
    const char* name;
    double mult;
  };
  static constexpr Unit kUnits[] = {{"", 1},
                                    {"k", 1e3},
                                    {"K", 1e3},
                                    {"ki", 1024.0},
                                    {"Ki", 1024.0},
                                    {"M", 1e6},
                                    {"mi", 1048576.0},
                                    {"Mi", 1048576.0},
                                    {"g", 1e9},
                                    {"G", 1e9},
                                    {"gi", 1073741824.0},
                                    {"Gi", 1073741824.0},
                                    {"t", 1e12},
                                    {"T", 1e12},
                                    {"ti", 1099511627776.0},
                                    {"Ti", 1099511627776.0},
                                    {"p", 1e15},
                                    {"P", 1e15},
                                    {"pi", 1125899906842624.0},
                                    {"Pi", 1125899906842624.0},
                                    {"e", 1e18},
                                    {"E", 1e18},
                                    {"ei", 1152921504606846976.0},
                                    {"Ei", 1152921504606846976.0},
                                    {"m", 1e-3}};
  static constexpr Unit kByteUnits[] = {{"", 1},
                                        {"k", 1e3},
                                        {"kb", 1e3},
                                        {"ki", 1024.0},
                                        {"kib", 1024.0},
                                        {"m", 1e6},
                                        {"mb", 1e6},
                                        {"mi", 1048576.0},
                                        {"mib", 1048576.0},
                                        {"g", 1e9},
                                        {"gb", 1e9},
                                        {"gi", 1073741824.0},
                                        {"gib", 1073741824.0},
                                        {"t", 1e12},
                                        {"tb", 1e12},
                                        {"ti", 1099511627776.0},
                                        {"tib", 1099511627776.0},
                                        {"p", 1e15},
                                        {"pb", 1e15},
                                        {"pi", 1125899906842624.0},
                                        {"pib", 1125899906842624.0},
                                        {"e", 1e18},
                                        {"eb", 1e18},
                                        {"ei", 1152921504606846976.0},
                                        {"eib", 1152921504606846976.0}};
  std::span<const Unit> table =
      Bytes ? std::span<const Unit>(kByteUnits) : std::span<const Unit>(kUnits);
  // OPA checks the unit before the number.
  const Unit* found = nullptr;
  for (const Unit& x : table) {
    if (u == x.name) found = &x;
  }
  if (!found)
    return builtin_error(name, std::string(Bytes ? "byte unit " : "unit ") + u + " not recognized");
  std::string_view conv =
      Bytes ? "could not parse byte amount to a number" : "could not parse amount to a number";
  double n = 0;
  if (!parse_decimal(num, n)) return builtin_error(name, conv);
  double r = n * found->mult;
  // Beyond a double (OPA's big numbers have no such limit): refused rather than wrong.
  if (!std::isfinite(r)) return builtin_error(name, conv);
  if (Bytes) return ok(number_value(std::trunc(r)));
  if (r != std::trunc(r)) {
    // OPA computes exactly and prints a non-integer with 10 decimals.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10f", r);
    r = std::strtod(buf, nullptr);
  }
  return ok(number_value(r));
}

}  // namespace

void register_collection_builtins(BuiltinRegistry& r) {
  r.add("array.concat", 2, array_concat);
  r.add("array.slice", 3, array_slice);
  r.add("array.reverse", 1, array_reverse);
  r.add("array.flatten", 1, array_flatten);
  r.add("union", 1, set_fold<true>);
  r.add("intersection", 1, set_fold<false>);
  r.add("numbers.range", 2, numbers_range);
  r.add("numbers.range_step", 3, numbers_range_step);
  r.add("round", 1, rounding<0>);
  r.add("ceil", 1, rounding<1>);
  r.add("floor", 1, rounding<2>);
  r.add("abs", 1, rounding<3>);
  r.add("bits.or", 2, bits2<0>);
  r.add("bits.and", 2, bits2<1>);
  r.add("bits.xor", 2, bits2<2>);
  r.add("bits.lsh", 2, bits2<3>);
  r.add("bits.rsh", 2, bits2<4>);
  r.add("bits.negate", 1, bits_negate);
  r.add("units.parse", 1, units_parse<false>);
  r.add("units.parse_bytes", 1, units_parse<true>);
}

}  // namespace policy::builtins
