// Operator and aggregate builtins of the core language.
#include <algorithm>
#include <cmath>
#include <limits>

#include "policy/builtin.h"

namespace policy {

void register_rego_builtins(BuiltinRegistry& registry);  // ast_json.cc

namespace {

using Args = std::span<const Value>;

// A float result. Integral ones become integers, as OPA prints an integral big.Float result
// as an integer (so sprintf and json see 18446744073709551616, not 1.8446744073709552e+19).
Value num(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 9.2e18) return Value::integer(static_cast<int64_t>(d));
  if (auto big = BigInt::from_double(d)) return Value::big_integer(std::move(*big));
  return Value::number(d);
}

int64_t rune_count(const std::string& s);

// OPA keeps integer arithmetic exact at any size: when both operands are integers and the
// int64 operation would overflow (or an operand is already beyond int64), the result is
// computed on big integers. nullopt when an operand is not an integer (then it is float
// arithmetic, as in OPA).
std::optional<Value> exact_arith(const Value& x, const Value& y,
                                 BigInt (*op)(const BigInt&, const BigInt&)) {
  auto bx = x.exact_integer();
  if (!bx) return std::nullopt;
  auto by = y.exact_integer();
  if (!by) return std::nullopt;
  return Value::big_integer(op(*bx, *by));
}
BigInt big_add(const BigInt& a, const BigInt& b) { return a + b; }
BigInt big_sub(const BigInt& a, const BigInt& b) { return a - b; }
BigInt big_mul(const BigInt& a, const BigInt& b) { return a * b; }

BuiltinResult cmp_op(Args a, bool (*pred)(int)) {
  return ok(Value::boolean(pred(a[0].compare(a[1]))));
}

BuiltinResult b_equal(BuiltinContext&, Args a) {
  return cmp_op(a, [](int c) { return c == 0; });
}
BuiltinResult b_neq(BuiltinContext&, Args a) {
  return cmp_op(a, [](int c) { return c != 0; });
}
BuiltinResult b_lt(BuiltinContext&, Args a) {
  return cmp_op(a, [](int c) { return c < 0; });
}
BuiltinResult b_lte(BuiltinContext&, Args a) {
  return cmp_op(a, [](int c) { return c <= 0; });
}
BuiltinResult b_gt(BuiltinContext&, Args a) {
  return cmp_op(a, [](int c) { return c > 0; });
}
BuiltinResult b_gte(BuiltinContext&, Args a) {
  return cmp_op(a, [](int c) { return c >= 0; });
}

// x + y and x * y of two numbers: int64 while it fits, then exact big integers, else floats.
Value add_numbers(const Value& x, const Value& y) {
  if (x.is_int() && y.is_int()) {
    int64_t r;
    if (!__builtin_add_overflow(*x.as_int(), *y.as_int(), &r)) return Value::integer(r);
  }
  if (auto exact = exact_arith(x, y, big_add)) return *exact;
  return num(x.as_double() + y.as_double());
}
Value mul_numbers(const Value& x, const Value& y) {
  if (x.is_int() && y.is_int()) {
    int64_t r;
    if (!__builtin_mul_overflow(*x.as_int(), *y.as_int(), &r)) return Value::integer(r);
  }
  if (auto exact = exact_arith(x, y, big_mul)) return *exact;
  return num(x.as_double() * y.as_double());
}

BuiltinResult b_plus(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_type("plus", a, 1, Type::kNumber));
  EC_RETURN_IF_ERROR(check_type("plus", a, 2, Type::kNumber));
  return ok(add_numbers(a[0], a[1]));
}

BuiltinResult b_minus(BuiltinContext&, Args a) {
  if (a[0].is_set() && a[1].is_set()) {
    std::vector<Value> out;
    for (const Value& v : a[0].set_items()) {
      if (!a[1].contains(v)) out.push_back(v);
    }
    return ok(Value::set_sorted(std::move(out)));
  }
  EC_RETURN_IF_ERROR(check_types("minus", a, 1, {Type::kNumber, Type::kSet}));
  if (a[0].is_set()) return operand_error("minus", 2, "set", a[1]);
  EC_RETURN_IF_ERROR(check_type("minus", a, 2, Type::kNumber));
  if (a[0].is_int() && a[1].is_int()) {
    int64_t r;
    if (!__builtin_sub_overflow(*a[0].as_int(), *a[1].as_int(), &r)) return ok(Value::integer(r));
  }
  if (auto exact = exact_arith(a[0], a[1], big_sub)) return ok(*exact);
  return ok(num(a[0].as_double() - a[1].as_double()));
}

BuiltinResult b_mul(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_type("mul", a, 1, Type::kNumber));
  EC_RETURN_IF_ERROR(check_type("mul", a, 2, Type::kNumber));
  return ok(mul_numbers(a[0], a[1]));
}

BuiltinResult b_div(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_type("div", a, 1, Type::kNumber));
  EC_RETURN_IF_ERROR(check_type("div", a, 2, Type::kNumber));
  if (a[1].as_double() == 0) return builtin_error("div", "divide by zero");
  if (a[0].is_int() && a[1].is_int()) {
    int64_t x = *a[0].as_int(), y = *a[1].as_int();
    if (y != -1 && x % y == 0) return ok(Value::integer(x / y));
  }
  // Big integers divide as floats, as in OPA (which is exact only for small ints).
  return ok(num(a[0].as_double() / a[1].as_double()));
}

BuiltinResult b_rem(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_type("rem", a, 1, Type::kNumber));
  EC_RETURN_IF_ERROR(check_type("rem", a, 2, Type::kNumber));
  if (a[0].is_big() || a[1].is_big()) {
    auto bx = a[0].exact_integer(), by = a[1].exact_integer();
    if (bx && by) {
      auto qr = BigInt::quo_rem(*bx, *by);
      if (!qr) return builtin_error("rem", "modulo by zero");
      return ok(Value::big_integer(std::move(qr->second)));
    }
  }
  auto x = a[0].as_int(), y = a[1].as_int();
  if (!x || !y) return builtin_error("rem", "modulo on floating-point number");
  if (*y == 0) return builtin_error("rem", "modulo by zero");
  if (*y == -1) return ok(Value::integer(0));
  return ok(Value::integer(*x % *y));
}

BuiltinResult b_or(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_type("or", a, 1, Type::kSet));
  EC_RETURN_IF_ERROR(check_type("or", a, 2, Type::kSet));
  std::vector<Value> out;
  std::set_union(a[0].set_items().begin(), a[0].set_items().end(), a[1].set_items().begin(),
                 a[1].set_items().end(), std::back_inserter(out));
  return ok(Value::set_sorted(std::move(out)));
}

BuiltinResult b_and(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_type("and", a, 1, Type::kSet));
  EC_RETURN_IF_ERROR(check_type("and", a, 2, Type::kSet));
  std::vector<Value> out;
  std::set_intersection(a[0].set_items().begin(), a[0].set_items().end(), a[1].set_items().begin(),
                        a[1].set_items().end(), std::back_inserter(out));
  return ok(Value::set_sorted(std::move(out)));
}

BuiltinResult b_count(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(
      check_types("count", a, 1, {Type::kArray, Type::kObject, Type::kSet, Type::kString}));
  if (a[0].is_string()) return ok(Value::integer(rune_count(a[0].as_string())));
  return ok(Value::integer(static_cast<int64_t>(a[0].size())));
}

base::Status check_numbers(std::string_view name, Args a) {
  EC_RETURN_IF_ERROR(check_types(name, a, 1, {Type::kArray, Type::kSet}));
  for (const Value& v : a[0].elements()) {
    if (!v.is_number()) {
      return type_error(name, "operand 1 must be one of {array, set} but got " +
                                  std::string(a[0].is_array() ? "array" : "set") + " containing " +
                                  std::string(type_name(v.type())));
    }
  }
  return base::Status::ok();
}

BuiltinResult b_sum(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_numbers("sum", a));
  Value acc = Value::integer(0);
  for (const Value& v : a[0].elements()) acc = add_numbers(acc, v);
  return ok(acc);
}

BuiltinResult b_product(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_numbers("product", a));
  Value acc = Value::integer(1);
  for (const Value& v : a[0].elements()) acc = mul_numbers(acc, v);
  return ok(acc);
}

BuiltinResult b_max(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_types("max", a, 1, {Type::kArray, Type::kSet}));
  auto e = a[0].elements();
  if (e.empty()) return undefined();
  return ok(*std::max_element(e.begin(), e.end()));
}

BuiltinResult b_min(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_types("min", a, 1, {Type::kArray, Type::kSet}));
  auto e = a[0].elements();
  if (e.empty()) return undefined();
  return ok(*std::min_element(e.begin(), e.end()));
}

BuiltinResult b_sort(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_types("sort", a, 1, {Type::kArray, Type::kSet}));
  std::vector<Value> v(a[0].elements().begin(), a[0].elements().end());
  std::sort(v.begin(), v.end());
  return ok(Value::array(std::move(v)));
}

template <Type T>
BuiltinResult b_is(BuiltinContext&, Args a) {
  return ok(Value::boolean(a[0].type() == T));
}

BuiltinResult b_type_name(BuiltinContext&, Args a) {
  return ok(Value::string(std::string(type_name(a[0].type()))));
}

BuiltinResult b_to_number(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(
      check_types("to_number", a, 1, {Type::kNull, Type::kBoolean, Type::kNumber, Type::kString}));
  const Value& v = a[0];
  if (v.is_null()) return ok(Value::integer(0));
  if (v.is_boolean()) return ok(Value::integer(v.as_bool() ? 1 : 0));
  if (v.is_number()) return ok(v);
  const std::string& s = v.as_string();
  {
    std::string l;
    for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!l.empty() && (l[0] == '-' || l[0] == '+')) l = l.substr(1);
    if (l == "nan" || l == "inf" || l == "infinity") {
      return type_error("to_number", "invalid number literal " + Value::string(s).to_json());
    }
  }
  auto parsed = Value::parse_json(s);
  if (parsed.is_ok() && parsed->is_number() && !s.empty() && s[0] != ' ') {
    const Value& n = *parsed;
    if (!n.is_int()) {
      if (auto i = n.as_int()) {
        if (s.find_first_of(".eE") == std::string::npos) return ok(Value::integer(*i));
      }
    }
    return ok(n);
  }
  // Go's strconv.ParseFloat also accepts forms JSON does not (e.g. "+1", ".5", "1.").
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d) &&
      s.find_first_of("xXnN") == std::string::npos && s[0] != ' ') {
    return ok(num(d));
  }
  return builtin_error("to_number", "strconv.ParseFloat: parsing " + Value::string(s).to_json() +
                                        ": invalid syntax");
}

// No network access in the portable core: http.send always fails (tests mock it with `with`).
BuiltinResult b_http_send(BuiltinContext&, Args a) {
  EC_RETURN_IF_ERROR(check_type("http.send", a, 1, Type::kObject));
  static const char* const kAllowed[] = {"method",
                                         "url",
                                         "body",
                                         "enable_redirect",
                                         "force_json_decode",
                                         "force_yaml_decode",
                                         "headers",
                                         "raw_body",
                                         "tls_use_system_certs",
                                         "tls_ca_cert",
                                         "tls_ca_cert_file",
                                         "tls_ca_cert_env_variable",
                                         "tls_client_cert",
                                         "tls_client_cert_file",
                                         "tls_client_cert_env_variable",
                                         "tls_client_key",
                                         "tls_client_key_file",
                                         "tls_client_key_env_variable",
                                         "tls_insecure_skip_verify",
                                         "tls_server_name",
                                         "timeout",
                                         "cache",
                                         "force_cache",
                                         "force_cache_duration_seconds",
                                         "raise_error",
                                         "caching_mode",
                                         "max_retry_attempts",
                                         "cache_ignored_headers"};
  std::vector<std::string> bad;
  for (const auto& [k, v] : a[0].object_items()) {
    bool ok_key = false;
    if (k.is_string()) {
      for (const char* name : kAllowed) ok_key = ok_key || k.as_string() == name;
    }
    if (!ok_key) bad.push_back(k.to_json());
  }
  auto fmt = [](const std::vector<std::string>& keys) {
    std::string s = "{";
    for (size_t i = 0; i < keys.size(); ++i) s += (i ? ", " : "") + keys[i];
    return s + "}";
  };
  if (!bad.empty()) return type_error("http.send", "invalid request parameters(s): " + fmt(bad));
  std::vector<std::string> missing;
  for (const char* req : {"method", "url"}) {
    if (!a[0].find(req)) missing.push_back(Value::string(req).to_json());
  }
  if (!missing.empty()) {
    return type_error("http.send", "missing required request parameters(s): " + fmt(missing));
  }
  return builtin_error("http.send", "network access is not available in this engine");
}

// Runtime information: this engine exposes none.
BuiltinResult b_opa_runtime(BuiltinContext&, Args) { return ok(Value::empty_object()); }

// Unicode code points of a UTF-8 string; each invalid byte counts as one (as Go does).
int64_t rune_count(const std::string& s) {
  int64_t n = 0;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t j = 1; valid && j < len; ++j) {
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) valid = false;
    }
    if (valid && len == 2 && c < 0xC2) valid = false;
    if (valid && len == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) valid = false;
    }
    if (valid && len == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90) || c > 0xF4) valid = false;
    }
    i += valid ? len : 1;
    ++n;
  }
  return n;
}

}  // namespace

void register_core_builtins(BuiltinRegistry& r) {
  r.add("equal", 2, b_equal);
  r.add("neq", 2, b_neq);
  r.add("lt", 2, b_lt);
  r.add("lte", 2, b_lte);
  r.add("gt", 2, b_gt);
  r.add("gte", 2, b_gte);
  r.add("plus", 2, b_plus);
  r.add("minus", 2, b_minus);
  r.add("mul", 2, b_mul);
  r.add("div", 2, b_div);
  r.add("rem", 2, b_rem);
  r.add("or", 2, b_or);
  r.add("and", 2, b_and);
  r.add("count", 1, b_count);
  r.add("sum", 1, b_sum);
  r.add("product", 1, b_product);
  r.add("max", 1, b_max);
  r.add("min", 1, b_min);
  r.add("sort", 1, b_sort);
  r.add("is_number", 1, b_is<Type::kNumber>);
  r.add("is_string", 1, b_is<Type::kString>);
  r.add("is_boolean", 1, b_is<Type::kBoolean>);
  r.add("is_array", 1, b_is<Type::kArray>);
  r.add("is_set", 1, b_is<Type::kSet>);
  r.add("is_object", 1, b_is<Type::kObject>);
  r.add("is_null", 1, b_is<Type::kNull>);
  r.add("type_name", 1, b_type_name);
  r.add("to_number", 1, b_to_number);
  r.add("http.send", 1, b_http_send, /*deterministic=*/false);
  // Nondeterministic as in OPA: never folded at compile time.
  r.add("opa.runtime", 0, b_opa_runtime, /*deterministic=*/false);
  register_rego_builtins(r);
}

}  // namespace policy
