// net.cidr_* builtins and net.lookup_ip_addr (literal addresses and "localhost" only: the
// portable core does no DNS).
#include <algorithm>
#include <string>
#include <vector>

#include "policy/builtins/ip.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

using u128 = unsigned __int128;

base::Result<ip::Prefix> cidr(std::string_view name, std::string_view s) {
  auto p = ip::parse_prefix(s);
  if (!p) return builtin_error(name, "invalid CIDR address: " + std::string(s));
  return *p;
}

BuiltinResult cidr_contains(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "net.cidr_contains";
  EC_ASSIGN_OR_RETURN(std::string_view a, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view b, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(ip::Prefix net, cidr(kName, a));
  if (auto addr = ip::parse_addr(b)) return ok(Value::boolean(net.contains(*addr)));
  EC_ASSIGN_OR_RETURN(ip::Prefix inner, cidr(kName, b));
  return ok(Value::boolean(inner.len >= net.len && net.contains(inner.addr)));
}

BuiltinResult cidr_intersects(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "net.cidr_intersects";
  EC_ASSIGN_OR_RETURN(std::string_view a, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view b, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(ip::Prefix x, cidr(kName, a));
  EC_ASSIGN_OR_RETURN(ip::Prefix y, cidr(kName, b));
  return ok(Value::boolean(x.contains(y.addr) || y.contains(x.addr)));
}

BuiltinResult cidr_is_valid(BuiltinContext&, Args args) {
  if (!args[0].is_string()) return ok(Value::boolean(false));
  return ok(Value::boolean(ip::parse_prefix(args[0].as_string()).has_value()));
}

BuiltinResult cidr_expand(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "net.cidr_expand";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(ip::Prefix p, cidr(kName, s));
  if (p.addr.width() - p.len > 20)
    return builtin_error(kName, "CIDR range too large to expand: " + std::string(s));
  std::vector<Value> out;
  for (u128 v = p.first();; ++v) {
    out.push_back(Value::string(ip::format(ip::Addr{v, p.addr.v4})));
    if (v == p.last()) break;
  }
  return ok(Value::set(std::move(out)));
}

// One element of a cidr_contains_matches operand: its key and the address text.
struct Item {
  Value key;
  std::string text;
};

base::Result<std::vector<Item>> match_items(std::string_view name, const Value& v, int pos) {
  std::vector<Item> out;
  auto elem_text = [&](const Value& e, std::string& text) -> base::Status {
    if (e.is_string()) {
      text = e.as_string();
      return base::Status::ok();
    }
    if (e.is_array() && !e.array_items().empty() && e.array_items()[0].is_string()) {
      text = e.array_items()[0].as_string();
      return base::Status::ok();
    }
    return builtin_error(
        name, "operand " + std::to_string(pos) + ": element must be string or non-empty array");
  };
  std::string text;
  switch (v.type()) {
    case Type::kString:
      out.push_back({v, v.as_string()});
      break;
    case Type::kArray:
      for (size_t i = 0; i < v.array_items().size(); ++i) {
        EC_RETURN_IF_ERROR(elem_text(v.array_items()[i], text));
        out.push_back({Value::integer(static_cast<int64_t>(i)), text});
      }
      break;
    case Type::kSet:
      for (const Value& e : v.set_items()) {
        EC_RETURN_IF_ERROR(elem_text(e, text));
        out.push_back({e, text});
      }
      break;
    case Type::kObject:
      for (const auto& [k, e] : v.object_items()) {
        EC_RETURN_IF_ERROR(elem_text(e, text));
        out.push_back({k, text});
      }
      break;
    default:
      return operand_error(name, pos, "one of {array, object, set, string}", v);
  }
  return out;
}

BuiltinResult cidr_contains_matches(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "net.cidr_contains_matches";
  EC_ASSIGN_OR_RETURN(auto cidrs, match_items(kName, args[0], 1));
  EC_ASSIGN_OR_RETURN(auto addrs, match_items(kName, args[1], 2));
  std::vector<Value> out;
  for (const Item& c : cidrs) {
    EC_ASSIGN_OR_RETURN(ip::Prefix net, cidr(kName, c.text));
    for (const Item& a : addrs) {
      bool hit = false;
      if (auto addr = ip::parse_addr(a.text)) {
        hit = net.contains(*addr);
      } else {
        EC_ASSIGN_OR_RETURN(ip::Prefix inner, cidr(kName, a.text));
        hit = inner.len >= net.len && net.contains(inner.addr);
      }
      if (hit) out.push_back(Value::array({c.key, a.key}));
    }
  }
  return ok(Value::set(std::move(out)));
}

// Appends the fewest prefixes that cover [lo, hi] exactly.
void cover(u128 lo, u128 hi, bool v4, std::vector<Value>& out) {
  int width = v4 ? 32 : 128;
  while (true) {
    int len = width;
    // Grow the block while it stays aligned and inside the range.
    while (len > 0) {
      int host = width - (len - 1);
      if (host >= 128) {
        // The whole IPv6 space (::/0): only when the range is everything.
        if (lo != 0 || hi != ~static_cast<u128>(0)) break;
      } else {
        u128 size = static_cast<u128>(1) << host;
        if ((lo & (size - 1)) != 0 || lo + (size - 1) > hi) break;
      }
      --len;
    }
    ip::Prefix p{ip::Addr{lo, v4}, len};
    out.push_back(Value::string(ip::format(p)));
    u128 end = p.last();
    if (end >= hi) break;
    lo = end + 1;
  }
}

// net.cidr_merge as OPA computes it: an IPv4 address without a prefix stands for its classful
// network (Go's IP.DefaultMask: /8 below 128.0.0.0, /16 below 192.0.0.0, else /24) and is
// printed with the address unmasked when it merges with nothing ("192.0.2.1" gives
// "192.0.2.1/24"); an IPv6 address needs a prefix. Overlapping and adjacent ranges merge and are
// printed as the fewest CIDRs covering them; a range that merged with nothing is printed as given.
BuiltinResult cidr_merge(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "net.cidr_merge";
  EC_ASSIGN_OR_RETURN(auto items, collection_operand(kName, args, 1));
  struct Range {
    u128 lo, hi;
    std::string text;  // the network as given, for a range that merges with nothing
  };
  std::vector<Range> ranges[2];  // [v4, v6]
  for (const Value& e : items) {
    if (!e.is_string()) return builtin_error(kName, "element must be string");
    ip::Prefix p;
    std::string text;
    if (auto a = ip::parse_addr(e.as_string())) {
      if (!a->v4) return builtin_error(kName, "IPv6 invalid: needs prefix length");
      uint32_t top = static_cast<uint32_t>(a->bits >> 24);
      int len = top < 128 ? 8 : top < 192 ? 16 : 24;
      text = ip::format(*a) + "/" + std::to_string(len);
      p = *ip::parse_prefix(text);
    } else if (auto pp = ip::parse_prefix(e.as_string())) {
      p = *pp;
      text = ip::format(p);
    } else {
      return builtin_error(kName, "invalid CIDR address: " + e.as_string());
    }
    ranges[p.addr.v4 ? 0 : 1].push_back(Range{p.first(), p.last(), std::move(text)});
  }
  std::vector<Value> out;
  for (int fam = 0; fam < 2; ++fam) {
    auto& r = ranges[fam];
    std::sort(r.begin(), r.end(), [](const Range& x, const Range& y) {
      return x.lo != y.lo ? x.lo < y.lo : x.hi < y.hi;
    });
    for (size_t i = 0; i < r.size();) {
      u128 lo = r[i].lo, hi = r[i].hi;
      size_t j = i + 1;
      while (j < r.size() &&
             (r[j].lo <= hi || (hi != ~static_cast<u128>(0) && r[j].lo == hi + 1))) {
        hi = std::max(hi, r[j].hi);
        ++j;
      }
      if (j == i + 1) {
        out.push_back(Value::string(r[i].text));
      } else {
        cover(lo, hi, fam == 0, out);
      }
      i = j;
    }
  }
  return ok(Value::set(std::move(out)));
}

BuiltinResult lookup_ip_addr(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "net.lookup_ip_addr";
  EC_ASSIGN_OR_RETURN(std::string_view name, arg_string(kName, args, 1));
  if (auto a = ip::parse_addr(name)) return ok(Value::set({Value::string(ip::format(*a))}));
  if (name == "localhost")
    return ok(Value::set({Value::string("127.0.0.1"), Value::string("::1")}));
  return builtin_error(kName, "lookup " + std::string(name) + ": name resolution is not available");
}

}  // namespace

void register_net_builtins(BuiltinRegistry& r) {
  r.add("net.cidr_contains", 2, cidr_contains);
  r.add("net.cidr_intersects", 2, cidr_intersects);
  r.add("net.cidr_is_valid", 1, cidr_is_valid);
  r.add("net.cidr_expand", 1, cidr_expand);
  r.add("net.cidr_contains_matches", 2, cidr_contains_matches);
  r.add("net.cidr_merge", 1, cidr_merge);
  r.add("net.lookup_ip_addr", 1, lookup_ip_addr, /*deterministic=*/false);
}

}  // namespace policy::builtins
