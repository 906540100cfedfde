// String builtins: concat, contains, format_int, indexof, lower, replace, split, substring,
// trim*, strings.*. Positions and lengths count Unicode code points, as OPA does.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "policy/builtins/utf8.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

BuiltinResult concat(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "concat";
  EC_ASSIGN_OR_RETURN(std::string_view delim, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(auto items, collection_operand(kName, args, 2));
  std::string out;
  bool first = true;
  for (const Value& v : items) {
    if (!v.is_string()) {
      return type_error(kName, "operand 2 must be " + std::string(type_name(args[1].type())) +
                                   " of strings but got " + std::string(type_name(args[1].type())) +
                                   " containing " + std::string(type_name(v.type())));
    }
    if (!first) out += delim;
    out += v.as_string();
    first = false;
  }
  return ok(Value::string(std::move(out)));
}

template <int Kind>
BuiltinResult affix(BuiltinContext&, Args args) {
  static constexpr std::string_view kNames[] = {"contains", "startswith", "endswith"};
  std::string_view name = kNames[Kind];
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(name, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view t, arg_string(name, args, 2));
  bool r = Kind == 0   ? s.find(t) != std::string_view::npos
           : Kind == 1 ? s.substr(0, t.size()) == t
                       : (s.size() >= t.size() && s.substr(s.size() - t.size()) == t);
  return ok(Value::boolean(r));
}

// Digits of the integer part of `x` (|x| >= 2^63, so x is an integer times a power of two) in
// `base`, exactly, as Go's big.Int formatting of the float would give.
std::string big_digits(double x, int base) {
  int exp = 0;
  double m = std::frexp(std::fabs(x), &exp);  // |x| = m * 2^exp, m in [0.5, 1)
  uint64_t mant = static_cast<uint64_t>(std::ldexp(m, 53));
  int shift = exp - 53;  // |x| = mant * 2^shift, shift >= 10 here
  if (base == 10) {
    char buf[400];
    auto r =
        std::to_chars(buf, buf + sizeof buf, std::trunc(std::fabs(x)), std::chars_format::fixed);
    return std::string(buf, r.ptr);
  }
  std::string bits;
  for (int b = 63; b >= 0; --b) bits.push_back((mant >> b) & 1 ? '1' : '0');
  bits.erase(0, bits.find('1'));
  bits.append(static_cast<size_t>(shift), '0');
  int group = base == 2 ? 1 : base == 8 ? 3 : 4;
  while (bits.size() % group) bits.insert(bits.begin(), '0');
  std::string out;
  for (size_t i = 0; i < bits.size(); i += static_cast<size_t>(group)) {
    int v = 0;
    for (int k = 0; k < group; ++k) v = v * 2 + (bits[i + static_cast<size_t>(k)] - '0');
    out.push_back("0123456789abcdef"[v]);
  }
  return out;
}

BuiltinResult format_int(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "format_int";
  EC_ASSIGN_OR_RETURN(double x, arg_number(kName, args, 1));
  EC_ASSIGN_OR_RETURN(double base_d, arg_number(kName, args, 2));
  if (base_d != 2 && base_d != 8 && base_d != 10 && base_d != 16) {
    return type_error(kName, "operand 2 must be one of {2, 8, 10, 16}");
  }
  int base = static_cast<int>(base_d);
  if (!args[0].as_int() && std::fabs(x) >= 9223372036854775808.0) {
    return ok(Value::string((x < 0 ? "-" : "") + big_digits(x, base)));
  }
  int64_t i = args[0].as_int() ? *args[0].as_int() : static_cast<int64_t>(x);  // truncates
  bool neg = i < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
  std::string digits;
  do {
    digits.push_back("0123456789abcdef"[u % static_cast<uint64_t>(base)]);
    u /= static_cast<uint64_t>(base);
  } while (u);
  if (neg) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return ok(Value::string(std::move(digits)));
}

// Code-point index of each occurrence of `needle` in `hay` (all when `all`).
std::vector<int64_t> rune_indexes(std::string_view hay, std::string_view needle, bool all) {
  std::u32string h = utf8_decode(hay), n = utf8_decode(needle);
  std::vector<int64_t> out;
  if (n.empty()) {
    out.push_back(0);
    return out;
  }
  for (size_t i = 0; i + n.size() <= h.size(); ++i) {
    if (std::equal(n.begin(), n.end(), h.begin() + static_cast<ptrdiff_t>(i))) {
      out.push_back(static_cast<int64_t>(i));
      if (!all) break;
    }
  }
  return out;
}

BuiltinResult indexof(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("indexof", args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view t, arg_string("indexof", args, 2));
  if (t.empty()) return builtin_error("indexof", "empty search character");
  auto idx = rune_indexes(s, t, false);
  return ok(Value::integer(idx.empty() ? -1 : idx[0]));
}

BuiltinResult indexof_n(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("indexof_n", args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view t, arg_string("indexof_n", args, 2));
  if (t.empty()) return builtin_error("indexof_n", "empty search character");
  std::vector<Value> out;
  for (int64_t i : rune_indexes(s, t, true)) out.push_back(Value::integer(i));
  return ok(Value::array(std::move(out)));
}

// Simple (one-to-one) case mappings for Latin-1, Latin Extended-A, Greek, Cyrillic and
// Armenian, the scripts policies meet in practice; other characters are left as they are.
bool latin_ext_a_upper(char32_t c) {
  if (c >= 0x100 && c <= 0x137) return c % 2 == 0 && c != 0x130;
  if (c >= 0x139 && c <= 0x148) return c % 2 == 1;
  if (c >= 0x14A && c <= 0x177) return c % 2 == 0;
  if (c >= 0x179 && c <= 0x17E) return c % 2 == 1;
  return false;
}

char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
      (c >= 0x410 && c <= 0x42F)) {
    return c + 32;
  }
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (latin_ext_a_upper(c)) return c + 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x531 && c <= 0x556) return c + 48;
  if (c == 0x386) return 0x3AC;  // Greek capitals with tonos
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  return c;
}
char32_t to_upper(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7) || (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) ||
      (c >= 0x430 && c <= 0x44F)) {
    return c - 32;
  }
  if (c == 0x3C2) return 0x3A3;  // final sigma
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  if (c > 0x100 && latin_ext_a_upper(c - 1)) return c - 1;
  if (c == 0xFF) return 0x178;
  if (c >= 0x561 && c <= 0x586) return c - 48;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  return c;
}

template <bool Upper>
BuiltinResult change_case(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(Upper ? "upper" : "lower", args, 1));
  std::u32string u = utf8_decode(s);
  for (char32_t& c : u) c = Upper ? to_upper(c) : to_lower(c);
  return ok(Value::string(utf8_encode(u)));
}

// Go's strings.Replace(s, old, new, -1).
std::string replace_all(std::string_view s, std::string_view old, std::string_view repl) {
  std::string out;
  if (old.empty()) {
    std::u32string u = utf8_decode(s);
    out += repl;
    for (char32_t c : u) {
      utf8_append(out, c);
      out += repl;
    }
    return out;
  }
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(old, pos);
    if (hit == std::string_view::npos) break;
    out += s.substr(pos, hit - pos);
    out += repl;
    pos = hit + old.size();
  }
  out += s.substr(pos);
  return out;
}

// Results above this size are refused rather than built (a hostile input could otherwise ask
// for terabytes, e.g. replacing "" in a long string).
constexpr size_t kMaxResult = size_t{64} << 20;

BuiltinResult replace(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("replace", args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view old, arg_string("replace", args, 2));
  EC_ASSIGN_OR_RETURN(std::string_view repl, arg_string("replace", args, 3));
  if (old.empty() && (s.size() + 1) * repl.size() > kMaxResult) {
    return builtin_error("replace", "result too large");
  }
  return ok(Value::string(replace_all(s, old, repl)));
}

BuiltinResult replace_n(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "strings.replace_n";
  EC_RETURN_IF_ERROR(check_type(kName, args, 1, Type::kObject));
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (const auto& [k, v] : args[0].object_items()) {
    if (!k.is_string())
      return type_error(kName, "operand 1 non-string key found in pattern object");
    if (!v.is_string()) {
      return type_error(kName, "operand 1 non-string value found in pattern object");
    }
    pairs.emplace_back(k.as_string(), v.as_string());
  }
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 2));
  // Go's strings.NewReplacer: at each position the first pair (in key order) that matches.
  std::string out;
  size_t i = 0;
  while (i <= s.size()) {
    bool hit = false;
    for (auto [old, repl] : pairs) {
      if (!old.empty() && s.substr(i, old.size()) == old) {
        out += repl;
        i += old.size();
        hit = true;
        break;
      }
    }
    if (hit) continue;
    if (i == s.size()) break;
    out.push_back(s[i++]);
  }
  return ok(Value::string(std::move(out)));
}

BuiltinResult split(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("split", args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view d, arg_string("split", args, 2));
  std::vector<Value> out;
  if (d.empty()) {
    for (char32_t c : utf8_decode(s)) {
      std::string one;
      utf8_append(one, c);
      out.push_back(Value::string(std::move(one)));
    }
    return ok(Value::array(std::move(out)));
  }
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(d, pos);
    if (hit == std::string_view::npos) break;
    out.push_back(Value::string(std::string(s.substr(pos, hit - pos))));
    pos = hit + d.size();
  }
  out.push_back(Value::string(std::string(s.substr(pos))));
  return ok(Value::array(std::move(out)));
}

// strings.split_n(x, delimiter, n): the parts of split(x, delimiter), keeping the first n
// (n > 0) or the last -n (n < 0); none when n is 0. Not Go's SplitN: the last part kept is
// not the unsplit rest ("a.b.c.d", ".", 2 gives ["a", "b"]).
BuiltinResult split_n(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "strings.split_n";
  EC_RETURN_IF_ERROR(check_type(kName, args, 1, Type::kString));
  EC_RETURN_IF_ERROR(check_type(kName, args, 2, Type::kString));
  EC_ASSIGN_OR_RETURN(int64_t n, int_operand(kName, args, 3));
  EC_ASSIGN_OR_RETURN(std::optional<Value> parts, split(ctx, args.first(2)));
  std::span<const Value> all = parts->array_items();
  size_t keep =
      static_cast<size_t>(std::min<uint64_t>(n < 0 ? -static_cast<uint64_t>(n) : n, all.size()));
  std::span<const Value> kept = n >= 0 ? all.first(keep) : all.last(keep);
  return ok(Value::array(std::vector<Value>(kept.begin(), kept.end())));
}

BuiltinResult substring(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "substring";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(int64_t start, int_operand(kName, args, 2));
  EC_ASSIGN_OR_RETURN(int64_t length, int_operand(kName, args, 3));
  if (start < 0) return builtin_error(kName, "negative offset");
  std::u32string u = utf8_decode(s);
  if (start >= static_cast<int64_t>(u.size())) return ok(Value::string(""));
  size_t end = u.size();
  if (length >= 0 && start + length < static_cast<int64_t>(u.size())) {
    end = static_cast<size_t>(start + length);
  }
  return ok(Value::string(utf8_encode(std::u32string_view(u).substr(start, end - start))));
}

bool is_space(char32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Kind: 0 trim, 1 trim_left, 2 trim_right.
template <int Kind>
BuiltinResult trim_cutset(BuiltinContext&, Args args) {
  static constexpr std::string_view kNames[] = {"trim", "trim_left", "trim_right"};
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kNames[Kind], args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view cut, arg_string(kNames[Kind], args, 2));
  std::u32string u = utf8_decode(s), c = utf8_decode(cut);
  auto in_cut = [&](char32_t ch) { return c.find(ch) != std::u32string::npos; };
  size_t b = 0, e = u.size();
  if (Kind != 2) {
    while (b < e && in_cut(u[b])) ++b;
  }
  if (Kind != 1) {
    while (e > b && in_cut(u[e - 1])) --e;
  }
  return ok(Value::string(utf8_encode(std::u32string_view(u).substr(b, e - b))));
}

template <bool Prefix>
BuiltinResult trim_affix(BuiltinContext&, Args args) {
  std::string_view name = Prefix ? "trim_prefix" : "trim_suffix";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(name, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view a, arg_string(name, args, 2));
  if (Prefix && s.substr(0, a.size()) == a) s.remove_prefix(a.size());
  if (!Prefix && s.size() >= a.size() && s.substr(s.size() - a.size()) == a) {
    s.remove_suffix(a.size());
  }
  return ok(Value::string(std::string(s)));
}

BuiltinResult trim_space(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("trim_space", args, 1));
  std::u32string u = utf8_decode(s);
  size_t b = 0, e = u.size();
  while (b < e && is_space(u[b])) ++b;
  while (e > b && is_space(u[e - 1])) --e;
  return ok(Value::string(utf8_encode(std::u32string_view(u).substr(b, e - b))));
}

BuiltinResult reverse(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("strings.reverse", args, 1));
  std::u32string u = utf8_decode(s);
  std::reverse(u.begin(), u.end());
  return ok(Value::string(utf8_encode(u)));
}

BuiltinResult count(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("strings.count", args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view t, arg_string("strings.count", args, 2));
  if (t.empty()) return ok(Value::integer(static_cast<int64_t>(utf8_decode(s).size() + 1)));
  int64_t n = 0;
  for (size_t pos = s.find(t); pos != std::string_view::npos; pos = s.find(t, pos + t.size())) ++n;
  return ok(Value::integer(n));
}

// strings.any_prefix_match / any_suffix_match: operands are a string or an array/set of
// strings.
template <bool Prefix>
BuiltinResult any_match(BuiltinContext&, Args args) {
  std::string_view name = Prefix ? "strings.any_prefix_match" : "strings.any_suffix_match";
  auto strings_of = [&](int pos) -> base::Result<std::vector<std::string_view>> {
    const Value& v = args[static_cast<size_t>(pos - 1)];
    std::vector<std::string_view> out;
    if (v.is_string()) {
      out.push_back(v.as_string());
      return out;
    }
    EC_RETURN_IF_ERROR(check_types(name, args, pos, {Type::kString, Type::kSet, Type::kArray}));
    for (const Value& e : v.elements()) {
      if (!e.is_string()) {
        return type_error(name, "operand " + std::to_string(pos) + " must be " +
                                    std::string(v.is_set() ? "set" : "array") +
                                    " of strings but got " +
                                    std::string(v.is_set() ? "set" : "array") + " containing " +
                                    std::string(type_name(e.type())));
      }
      out.push_back(e.as_string());
    }
    return out;
  };
  EC_ASSIGN_OR_RETURN(auto subjects, strings_of(1));
  EC_ASSIGN_OR_RETURN(auto affixes, strings_of(2));
  for (std::string_view s : subjects) {
    for (std::string_view a : affixes) {
      bool hit = Prefix ? s.substr(0, a.size()) == a
                        : (s.size() >= a.size() && s.substr(s.size() - a.size()) == a);
      if (hit) return ok(Value::boolean(true));
    }
  }
  return ok(Value::boolean(false));
}

}  // namespace

void register_string_builtins(BuiltinRegistry& r) {
  r.add("concat", 2, concat);
  r.add("contains", 2, affix<0>);
  r.add("startswith", 2, affix<1>);
  r.add("endswith", 2, affix<2>);
  r.add("format_int", 2, format_int);
  r.add("indexof", 2, indexof);
  r.add("indexof_n", 2, indexof_n);
  r.add("lower", 1, change_case<false>);
  r.add("upper", 1, change_case<true>);
  r.add("replace", 3, replace);
  r.add("strings.replace_n", 2, replace_n);
  r.add("split", 2, split);
  r.add("strings.split_n", 3, split_n);
  r.add("substring", 3, substring);
  r.add("trim", 2, trim_cutset<0>);
  r.add("trim_left", 2, trim_cutset<1>);
  r.add("trim_right", 2, trim_cutset<2>);
  r.add("trim_prefix", 2, trim_affix<true>);
  r.add("trim_suffix", 2, trim_affix<false>);
  r.add("trim_space", 1, trim_space);
  r.add("strings.reverse", 1, reverse);
  r.add("strings.count", 2, count);
  r.add("strings.any_prefix_match", 2, any_match<true>);
  r.add("strings.any_suffix_match", 2, any_match<false>);
}

}  // namespace policy::builtins
