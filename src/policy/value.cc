#include "policy/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "base/strings.h"
#include "base/utf8.h"

namespace policy {
namespace {

struct ArrayRep {
  std::vector<Value> items;
};
struct ObjectRep {
  std::vector<ObjectItem> items;
};
struct SetRep {
  std::vector<Value> items;
};

const std::string& empty_string() {
  static const std::string* s = new std::string();
  return *s;
}

int cmp_int_double(int64_t i, double d) {
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  int64_t t = static_cast<int64_t>(d);  // truncates toward zero
  if (i < t) return -1;
  if (i > t) return 1;
  double frac = d - static_cast<double>(t);  // exact
  if (frac > 0) return -1;
  if (frac < 0) return 1;
  return 0;
}

// A big integer against an int64 or double. Big integers lie outside int64's range, so
// against an int64 (or a double of smaller magnitude) the big one's sign decides; larger
// doubles are integral and compared exactly.
int cmp_big_number(const BigInt& big, const Value& other) {
  if (const BigInt* o = other.as_big()) return big.compare(*o);
  int sign_order = big.negative() ? -1 : 1;
  if (other.is_int()) return sign_order;
  double d = other.as_double();
  if (std::fabs(d) < 9223372036854775808.0) return sign_order;
  return big.compare(*BigInt::from_double(d));
}

int cmp_numbers(const Value& a, const Value& b) {
  if (const BigInt* big = a.as_big()) return cmp_big_number(*big, b);
  if (const BigInt* big = b.as_big()) return -cmp_big_number(*big, a);
  bool ai = a.is_int(), bi = b.is_int();
  if (ai && bi) {
    int64_t x = *a.as_int(), y = *b.as_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ai) return cmp_int_double(*a.as_int(), b.as_double());
  if (bi) return -cmp_int_double(*b.as_int(), a.as_double());
  double x = a.as_double(), y = b.as_double();
  return x < y ? -1 : (x > y ? 1 : 0);
}

int cmp_seq(std::span<const Value> a, std::span<const Value> b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int c = a[i].compare(b[i]);
    if (c != 0) return c;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

size_t mix(size_t h, size_t v) { return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }

bool key_less(const ObjectItem& a, const ObjectItem& b) { return a.first < b.first; }

}  // namespace

std::string_view type_name(Type t) {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kBoolean:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kObject:
      return "object";
    case Type::kSet:
      return "set";
  }
  return "unknown";
}

Value Value::boolean(bool b) {
  Value v;
  v.type_ = Type::kBoolean;
  v.scalar_.b = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.type_ = Type::kNumber;
  v.scalar_.i = i;
  return v;
}

Value Value::number(double d) {
  Value v;
  v.type_ = Type::kNumber;
  v.is_double_ = true;
  v.scalar_.d = d;
  return v;
}

Value Value::big_integer(BigInt b) {
  if (auto i = b.to_int64()) return integer(*i);
  Value v;
  v.type_ = Type::kNumber;
  v.is_big_ = true;
  v.scalar_.d = b.to_double();
  v.rep_ = std::make_shared<const BigInt>(std::move(b));
  return v;
}

const BigInt* Value::as_big() const {
  return is_big_ ? static_cast<const BigInt*>(rep_.get()) : nullptr;
}

std::optional<BigInt> Value::exact_integer() const {
  if (is_big_) return *as_big();
  if (is_int()) return BigInt::from_int(scalar_.i);
  return std::nullopt;
}

Value Value::string(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.rep_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::string_ref(const std::string& s) {
  Value v;
  v.type_ = Type::kString;
  // Aliasing an empty owner: no control block, so copies count no references.
  v.rep_ = std::shared_ptr<const void>(std::shared_ptr<const void>(), &s);
  return v;
}

Value Value::array(std::vector<Value> items) {
  Value v;
  v.type_ = Type::kArray;
  v.rep_ = std::make_shared<const ArrayRep>(ArrayRep{std::move(items)});
  return v;
}

Value Value::object(std::vector<ObjectItem> items) {
  // Stable sort so that among equal keys the last one given ends up last; keep it.
  std::stable_sort(items.begin(), items.end(), key_less);
  std::vector<ObjectItem> out;
  out.reserve(items.size());
  for (auto& item : items) {
    if (!out.empty() && out.back().first == item.first) {
      out.back().second = std::move(item.second);
    } else {
      out.push_back(std::move(item));
    }
  }
  return object_sorted(std::move(out));
}

Value Value::object_sorted(std::vector<ObjectItem> items) {
  Value v;
  v.type_ = Type::kObject;
  v.rep_ = std::make_shared<const ObjectRep>(ObjectRep{std::move(items)});
  return v;
}

Value Value::set(std::vector<Value> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return set_sorted(std::move(items));
}

Value Value::set_sorted(std::vector<Value> items) {
  Value v;
  v.type_ = Type::kSet;
  v.rep_ = std::make_shared<const SetRep>(SetRep{std::move(items)});
  return v;
}

Value Value::empty_array() {
  static const Value* v = new Value(array({}));
  return *v;
}
Value Value::empty_object() {
  static const Value* v = new Value(object_sorted({}));
  return *v;
}
Value Value::empty_set() {
  static const Value* v = new Value(set_sorted({}));
  return *v;
}

std::optional<int64_t> Value::as_int() const {
  if (type_ != Type::kNumber || is_big_) return std::nullopt;
  if (!is_double_) return scalar_.i;
  double d = scalar_.d;
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d) {
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

const std::string& Value::as_string() const {
  if (type_ != Type::kString) return empty_string();
  return *static_cast<const std::string*>(rep_.get());
}

std::span<const Value> Value::array_items() const {
  if (type_ != Type::kArray) return {};
  return static_cast<const ArrayRep*>(rep_.get())->items;
}

std::span<const ObjectItem> Value::object_items() const {
  if (type_ != Type::kObject) return {};
  return static_cast<const ObjectRep*>(rep_.get())->items;
}

std::span<const Value> Value::set_items() const {
  if (type_ != Type::kSet) return {};
  return static_cast<const SetRep*>(rep_.get())->items;
}

std::span<const Value> Value::elements() const {
  if (type_ == Type::kArray) return array_items();
  if (type_ == Type::kSet) return set_items();
  return {};
}

size_t Value::size() const {
  switch (type_) {
    case Type::kString:
      return as_string().size();
    case Type::kArray:
      return array_items().size();
    case Type::kObject:
      return object_items().size();
    case Type::kSet:
      return set_items().size();
    default:
      return 0;
  }
}

const Value* Value::find(const Value& key) const {
  auto items = object_items();
  auto it = std::lower_bound(items.begin(), items.end(), key,
                             [](const ObjectItem& a, const Value& k) { return a.first < k; });
  if (it == items.end() || !(it->first == key)) return nullptr;
  return &it->second;
}

const Value* Value::find(std::string_view key) const {
  auto items = object_items();
  auto it = std::lower_bound(items.begin(), items.end(), key,
                             [](const ObjectItem& a, std::string_view k) {
                               Type t = a.first.type();
                               if (t != Type::kString) return t < Type::kString;
                               return std::string_view(a.first.as_string()) < k;
                             });
  if (it == items.end() || !it->first.is_string() || it->first.as_string() != key) return nullptr;
  return &it->second;
}

const Value* Value::at(int64_t index) const {
  auto items = array_items();
  if (index < 0 || static_cast<uint64_t>(index) >= items.size()) return nullptr;
  return &items[static_cast<size_t>(index)];
}

bool Value::contains(const Value& v) const {
  auto items = set_items();
  return std::binary_search(items.begin(), items.end(), v);
}

const Value* Value::get(const Value& key) const {
  switch (type_) {
    case Type::kObject:
      return find(key);
    case Type::kArray: {
      if (!key.is_number()) return nullptr;
      auto i = key.as_int();
      return i ? at(*i) : nullptr;
    }
    case Type::kSet: {
      auto items = set_items();
      auto it = std::lower_bound(items.begin(), items.end(), key);
      if (it == items.end() || !(*it == key)) return nullptr;
      return &*it;
    }
    default:
      return nullptr;
  }
}

int Value::compare(const Value& other) const {
  if (type_ != other.type_) return type_ < other.type_ ? -1 : 1;
  switch (type_) {
    case Type::kNull:
      return 0;
    case Type::kBoolean:
      return static_cast<int>(scalar_.b) - static_cast<int>(other.scalar_.b);
    case Type::kNumber:
      return cmp_numbers(*this, other);
    case Type::kString: {
      if (rep_ == other.rep_) return 0;
      int c = as_string().compare(other.as_string());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Type::kArray:
      if (rep_ == other.rep_) return 0;
      return cmp_seq(array_items(), other.array_items());
    case Type::kSet:
      if (rep_ == other.rep_) return 0;
      return cmp_seq(set_items(), other.set_items());
    case Type::kObject: {
      if (rep_ == other.rep_) return 0;
      auto a = object_items(), b = other.object_items();
      size_t n = std::min(a.size(), b.size());
      for (size_t i = 0; i < n; ++i) {
        int c = a[i].first.compare(b[i].first);
        if (c != 0) return c;
        c = a[i].second.compare(b[i].second);
        if (c != 0) return c;
      }
      return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
    }
  }
  return 0;
}

size_t Value::hash() const {
  size_t h = static_cast<size_t>(type_) * 0x100000001b3ULL;
  switch (type_) {
    case Type::kNull:
      return h;
    case Type::kBoolean:
      return mix(h, scalar_.b ? 1 : 2);
    case Type::kNumber: {
      if (auto i = as_int()) return mix(h, std::hash<int64_t>()(*i));
      // A big integer equals a double only when the double is exactly it.
      if (is_big_ && BigInt::from_double(scalar_.d) != *as_big()) {
        return mix(h, as_big()->hash());
      }
      return mix(h, std::hash<double>()(scalar_.d));
    }
    case Type::kString:
      return mix(h, std::hash<std::string_view>()(as_string()));
    case Type::kArray:
    case Type::kSet:
      for (const Value& v : elements()) h = mix(h, v.hash());
      return h;
    case Type::kObject:
      for (const auto& [k, v] : object_items()) h = mix(mix(h, k.hash()), v.hash());
      return h;
  }
  return h;
}

void append_number(std::string& out, const Value& v) {
  char buf[64];
  if (const BigInt* big = v.as_big()) {
    out += big->to_string();
    return;
  }
  if (v.is_int()) {
    auto r = std::to_chars(buf, buf + sizeof buf, *v.as_int());
    out.append(buf, r.ptr);
    return;
  }
  double d = v.as_double();
  if (std::trunc(d) == d && std::fabs(d) < 1e21) {
    // Integral: print without exponent or fraction, as OPA does for whole numbers.
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    out.append(buf, r.ptr);
    return;
  }
  // Shortest round-trip digits; Go's strconv 'g' style exponent (e+21, e-07).
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general);
  std::string s(buf, r.ptr);
  // to_chars general uses %g switch points (exponent < -4 or >= precision). Go uses
  // exponent < -4 || exponent >= 21 for shortest formatting; re-render in fixed form when
  // the value is within that range.
  int exp10 = d == 0 ? 0 : static_cast<int>(std::floor(std::log10(std::fabs(d))));
  if (exp10 >= -4 && exp10 < 21) {
    r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    out.append(buf, r.ptr);
    return;
  }
  r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  s.assign(buf, r.ptr);
  // Ensure an explicit sign and at least two exponent digits (1e+21, 1e-07).
  auto e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e), ex = s.substr(e + 1);
    char sign = '+';
    if (!ex.empty() && (ex[0] == '+' || ex[0] == '-')) {
      sign = ex[0];
      ex = ex.substr(1);
    }
    if (ex.size() < 2) ex = "0" + ex;
    s = mant + "e" + sign + ex;
  }
  out += s;
}

std::string number_to_string(const Value& v) {
  std::string s;
  append_number(s, v);
  return s;
}

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  // Invalid UTF-8 becomes U+FFFD (as Go's encoding/json does), so the output is valid JSON.
  size_t start = 0, i = 0;
  while (i < s.size()) {
    size_t n = base::utf8_sequence_length(s, i);
    if (n > 0) {
      i += n;
      continue;
    }
    base::append_json_escaped(out, s.substr(start, i - start));
    out += "\xEF\xBF\xBD";
    ++i;
    start = i;
  }
  base::append_json_escaped(out, s.substr(start));
  out.push_back('"');
}

void Value::append_json(std::string& out) const {
  switch (type_) {
    case Type::kNull:
      out += "null";
      return;
    case Type::kBoolean:
      out += scalar_.b ? "true" : "false";
      return;
    case Type::kNumber:
      append_number(out, *this);
      return;
    case Type::kString:
      append_quoted(out, as_string());
      return;
    case Type::kArray:
    case Type::kSet: {
      out.push_back('[');
      bool first = true;
      for (const Value& v : elements()) {
        if (!first) out.push_back(',');
        first = false;
        v.append_json(out);
      }
      out.push_back(']');
      return;
    }
    case Type::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, v] : object_items()) {
        if (!first) out.push_back(',');
        first = false;
        if (k.is_string()) {
          append_quoted(out, k.as_string());
        } else {
          append_quoted(out, k.to_json());
        }
        out.push_back(':');
        v.append_json(out);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string Value::to_json() const {
  std::string s;
  append_json(s);
  return s;
}

void Value::append_rego(std::string& out) const {
  switch (type_) {
    case Type::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Value& v : array_items()) {
        if (!first) out += ", ";
        first = false;
        v.append_rego(out);
      }
      out.push_back(']');
      return;
    }
    case Type::kSet: {
      if (set_items().empty()) {
        out += "set()";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (const Value& v : set_items()) {
        if (!first) out += ", ";
        first = false;
        v.append_rego(out);
      }
      out.push_back('}');
      return;
    }
    case Type::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, v] : object_items()) {
        if (!first) out += ", ";
        first = false;
        k.append_rego(out);
        out += ": ";
        v.append_rego(out);
      }
      out.push_back('}');
      return;
    }
    default:
      append_json(out);
      return;
  }
}

std::string Value::to_rego() const {
  std::string s;
  append_rego(s);
  return s;
}

boost::json::value Value::to_json_value() const {
  switch (type_) {
    case Type::kNull:
      return nullptr;
    case Type::kBoolean:
      return scalar_.b;
    case Type::kNumber:
      if (is_int()) return *as_int();
      if (auto i = as_int()) return *i;
      return scalar_.d;
    case Type::kString:
      return boost::json::string(as_string());
    case Type::kArray:
    case Type::kSet: {
      boost::json::array a;
      a.reserve(size());
      for (const Value& v : elements()) a.push_back(v.to_json_value());
      return a;
    }
    case Type::kObject: {
      boost::json::object o;
      for (const auto& [k, v] : object_items()) {
        o[k.is_string() ? k.as_string() : k.to_json()] = v.to_json_value();
      }
      return o;
    }
  }
  return nullptr;
}

Value Value::from_json(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return Value();
    case boost::json::kind::bool_:
      return boolean(v.get_bool());
    case boost::json::kind::int64:
      return integer(v.get_int64());
    case boost::json::kind::uint64: {
      uint64_t u = v.get_uint64();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return integer(static_cast<int64_t>(u));
      return big_integer(*BigInt::parse(std::to_string(u)));
    }
    case boost::json::kind::double_: {
      double d = v.get_double();
      return number(d);
    }
    case boost::json::kind::string:
      return string(std::string(v.get_string()));
    case boost::json::kind::array: {
      std::vector<Value> items;
      items.reserve(v.get_array().size());
      for (const auto& e : v.get_array()) items.push_back(from_json(e));
      return array(std::move(items));
    }
    case boost::json::kind::object:
      return from_json(v.get_object());
  }
  return Value();
}

Value Value::from_json(const boost::json::object& o) {
  std::vector<ObjectItem> items;
  items.reserve(o.size());
  for (const auto& kv : o) items.emplace_back(string(std::string(kv.key())), from_json(kv.value()));
  return object(std::move(items));
}

}  // namespace policy
