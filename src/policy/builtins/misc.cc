// uuid.rfc4122, uuid.parse, semver.is_valid, semver.compare, rand.intn, trace.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "policy/builtins/codec.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

// --- UUID ----------------------------------------------------------------------------------

BuiltinResult uuid_rfc4122(BuiltinContext& ctx, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view key, arg_string("uuid.rfc4122", args, 1));
  // The same key gives the same UUID within one query, as in OPA.
  std::string memo_key = "uuid.rfc4122:";
  memo_key += key;
  if (auto it = ctx.memo.find(memo_key); it != ctx.memo.end()) return ok(it->second);
  unsigned char b[16];
  ctx.random->fill(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  std::string hex = codec::hex_encode(std::string_view(reinterpret_cast<char*>(b), sizeof b));
  std::string s = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                  hex.substr(16, 4) + "-" + hex.substr(20);
  Value v = Value::string(std::move(s));
  ctx.memo.emplace(std::move(memo_key), v);
  return ok(v);
}

// Parses the forms google/uuid accepts: canonical, {braced}, urn:uuid:, or 32 hex digits.
std::optional<std::string> uuid_bytes(std::string_view s) {
  std::string hex;
  if (s.size() == 36 + 9 && s.substr(0, 9) == "urn:uuid:") s.remove_prefix(9);
  if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
  if (s.size() == 36) {
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return std::nullopt;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i != 8 && i != 13 && i != 18 && i != 23) hex.push_back(s[i]);
    }
  } else if (s.size() == 32) {
    hex = std::string(s);
  } else {
    return std::nullopt;
  }
  auto bytes = codec::hex_decode(hex);
  if (!bytes.is_ok()) return std::nullopt;
  return std::move(bytes).value();
}

BuiltinResult uuid_parse(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("uuid.parse", args, 1));
  auto bytes = uuid_bytes(s);
  if (!bytes) return undefined();
  auto b = [&](int i) { return static_cast<unsigned char>((*bytes)[static_cast<size_t>(i)]); };
  int version = b(6) >> 4;
  std::string variant = (b(8) & 0xC0) == 0x80   ? "RFC4122"
                        : (b(8) & 0xE0) == 0xC0 ? "Microsoft"
                        : (b(8) & 0xE0) == 0xE0 ? "Future"
                                                : "Reserved";
  std::vector<ObjectItem> items;
  items.emplace_back(Value::string("version"), Value::integer(version));
  items.emplace_back(Value::string("variant"), Value::string(variant));
  if (version == 1 || version == 2) {
    uint64_t low = static_cast<uint64_t>(b(0)) << 24 | b(1) << 16 | b(2) << 8 | b(3);
    uint64_t mid = static_cast<uint64_t>(b(4)) << 8 | b(5);
    uint64_t hi = (static_cast<uint64_t>(b(6)) << 8 | b(7)) & 0x0FFF;
    int64_t ticks = static_cast<int64_t>(low | mid << 32 | hi << 48);  // 100 ns since 1582-10-15
    constexpr int64_t kGregorianOffset = 122192928000000000;
    items.emplace_back(Value::string("time"), Value::integer((ticks - kGregorianOffset) * 100));
    items.emplace_back(Value::string("clocksequence"), Value::integer((b(8) << 8 | b(9)) & 0x3FFF));
    char node[32];
    std::snprintf(node, sizeof node, "%02x-%02x-%02x-%02x-%02x-%02x", b(10), b(11), b(12), b(13),
                  b(14), b(15));
    items.emplace_back(Value::string("nodeid"), Value::string(node));
    std::string mac = (b(10) & 0x02) ? "local" : "global";
    mac += (b(10) & 0x01) ? ":multicast" : ":unicast";
    items.emplace_back(Value::string("macvariables"), Value::string(mac));
    if (version == 2) {
      items.emplace_back(Value::string("id"), Value::integer(static_cast<int64_t>(low)));
      static constexpr const char* kDomains[] = {"Person", "Group", "Org"};
      std::string domain = b(9) < 3 ? kDomains[b(9)] : "Domain" + std::to_string(b(9));
      items.emplace_back(Value::string("domain"), Value::string(domain));
    }
  }
  return ok(Value::object(std::move(items)));
}

// --- Semantic versions (semver.org 2.0.0) -----------------------------------------------------

struct Version {
  uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string> pre;
};

bool numeric(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool ident_ok(std::string_view s, bool no_leading_zero) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
      return false;
  }
  return !(no_leading_zero && numeric(s) && s.size() > 1 && s[0] == '0');
}

std::vector<std::string_view> split_on(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t i = s.find(sep, start);
    out.push_back(s.substr(start, i == std::string_view::npos ? s.npos : i - start));
    if (i == std::string_view::npos) break;
    start = i + 1;
  }
  return out;
}

std::optional<Version> parse_semver(std::string_view s) {
  Version v;
  size_t plus = s.find('+');
  if (plus != std::string_view::npos) {
    for (auto id : split_on(s.substr(plus + 1), '.')) {
      if (!ident_ok(id, false)) return std::nullopt;
    }
    s = s.substr(0, plus);
  }
  size_t dash = s.find('-');
  if (dash != std::string_view::npos) {
    for (auto id : split_on(s.substr(dash + 1), '.')) {
      if (!ident_ok(id, true)) return std::nullopt;
      v.pre.emplace_back(id);
    }
    s = s.substr(0, dash);
  }
  auto core = split_on(s, '.');
  if (core.size() != 3) return std::nullopt;
  uint64_t* dst[] = {&v.major, &v.minor, &v.patch};
  for (int i = 0; i < 3; ++i) {
    if (!numeric(core[i]) || (core[i].size() > 1 && core[i][0] == '0') || core[i].size() > 18)
      return std::nullopt;
    *dst[i] = std::stoull(std::string(core[i]));
  }
  return v;
}

int compare_semver(const Version& a, const Version& b) {
  auto cmp = [](uint64_t x, uint64_t y) { return x < y ? -1 : x > y ? 1 : 0; };
  if (int c = cmp(a.major, b.major)) return c;
  if (int c = cmp(a.minor, b.minor)) return c;
  if (int c = cmp(a.patch, b.patch)) return c;
  if (a.pre.empty() || b.pre.empty())
    return a.pre.empty() == b.pre.empty() ? 0 : (a.pre.empty() ? 1 : -1);
  for (size_t i = 0; i < a.pre.size() && i < b.pre.size(); ++i) {
    const std::string &x = a.pre[i], &y = b.pre[i];
    bool xn = numeric(x), yn = numeric(y);
    int c;
    if (xn && yn) {
      c = x.size() != y.size() ? (x.size() < y.size() ? -1 : 1) : x.compare(y);
    } else if (xn != yn) {
      c = xn ? -1 : 1;
    } else {
      c = x.compare(y);
    }
    if (c != 0) return c < 0 ? -1 : 1;
  }
  return cmp(a.pre.size(), b.pre.size());
}

BuiltinResult semver_is_valid(BuiltinContext&, Args args) {
  if (!args[0].is_string()) return ok(Value::boolean(false));
  return ok(Value::boolean(parse_semver(args[0].as_string()).has_value()));
}

BuiltinResult semver_compare(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "semver.compare";
  EC_ASSIGN_OR_RETURN(std::string_view a, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view b, arg_string(kName, args, 2));
  auto va = parse_semver(a);
  if (!va)
    return builtin_error(kName,
                         "operand 1: string \"" + std::string(a) + "\" is not a valid SemVer");
  auto vb = parse_semver(b);
  if (!vb)
    return builtin_error(kName,
                         "operand 2: string \"" + std::string(b) + "\" is not a valid SemVer");
  return ok(Value::integer(compare_semver(*va, *vb)));
}

// --- rand.intn, trace -------------------------------------------------------------------------

BuiltinResult rand_intn(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "rand.intn";
  EC_ASSIGN_OR_RETURN(std::string_view key, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(int64_t n, int_operand(kName, args, 2));
  if (n == 0) return ok(Value::integer(0));
  if (n < 0) n = -n;
  std::string memo_key = "rand.intn:" + std::string(key) + ":" + std::to_string(n);
  if (auto it = ctx.memo.find(memo_key); it != ctx.memo.end()) return ok(it->second);
  Value v = Value::integer(static_cast<int64_t>(ctx.random->next_u64() % static_cast<uint64_t>(n)));
  ctx.memo.emplace(std::move(memo_key), v);
  return ok(v);
}

BuiltinResult trace(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("trace", args, 1, Type::kString));
  return ok(Value::boolean(true));
}

}  // namespace

void register_semver_builtins(BuiltinRegistry& r) {
  r.add("semver.is_valid", 1, semver_is_valid);
  r.add("semver.compare", 2, semver_compare);
}

// internal.template_string(parts): what OPA compiles $"..." into. Strings, numbers, booleans
// and null are written as they are; any other part must be a set of the expression's values:
// empty is "<undefined>", one value is written (strings raw, others as Rego text), more than
// one is refused. (Our evaluator renders template strings itself; this is for direct calls.)
BuiltinResult template_string(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "internal.template_string";
  EC_RETURN_IF_ERROR(check_type(kName, args, 1, Type::kArray));
  std::string out;
  for (const Value& part : args[0].array_items()) {
    if (part.is_string()) {
      out += part.as_string();
    } else if (part.is_number() || part.is_boolean() || part.is_null()) {
      out += part.to_rego();
    } else if (!part.is_set()) {
      return builtin_error(kName, "illegal argument type: " + std::string(type_name(part.type())));
    } else if (part.size() == 0) {
      out += "<undefined>";
    } else if (part.size() > 1) {
      return builtin_error(kName, "template-strings must not produce multiple outputs");
    } else {
      const Value& v = part.set_items()[0];
      out += v.is_string() ? v.as_string() : v.to_rego();
    }
  }
  return ok(Value::string(std::move(out)));
}

// internal.test_case(parts): marks a test case for OPA's tracers; true.
BuiltinResult test_case(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("internal.test_case", args, 1, Type::kArray));
  return ok(Value::boolean(true));
}

void register_misc_builtins(BuiltinRegistry& r) {
  r.add("internal.template_string", 1, template_string);
  r.add("internal.test_case", 1, test_case);
  r.add("uuid.rfc4122", 1, uuid_rfc4122, /*deterministic=*/false);
  r.add("uuid.parse", 1, uuid_parse);
  r.add("rand.intn", 2, rand_intn, /*deterministic=*/false);
  r.add("trace", 1, trace);
}

}  // namespace policy::builtins
