// Rego values: the documents that policies read (input, data) and produce.
//
// A Value is one of null, boolean, number, string, array, object (keys may be any Value) or
// set. Copies are cheap: scalars are stored inline and composites share immutable storage
// (std::shared_ptr<const ...>), so a Value can be copied, cached and shared across threads
// freely. Nothing ever mutates a composite after it is built.
//
// Ordering follows OPA (ast.Compare): values of different types order by type
// (null < boolean < number < string < array < object < set); numbers compare numerically
// (1 == 1.0); strings bytewise; arrays and sets element by element then by length; objects
// by sorted (key, value) pairs then by size. Objects and sets keep their members sorted in
// that order, so iteration, printing and JSON output are deterministic.
//
// Numbers are int64 when they are integers that fit, big integers (BigInt, exact) when they
// are integers that do not, otherwise double. Integer-valued doubles compare (and hash) equal
// to the same integer.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "policy/bigint.h"

namespace policy {

// In OPA's type order; the numeric values are used for cross-type comparison.
enum class Type : uint8_t { kNull = 0, kBoolean, kNumber, kString, kArray, kObject, kSet };

// OPA's type name: "null", "boolean", "number", "string", "array", "object", "set".
std::string_view type_name(Type t);

class Value;
using ObjectItem = std::pair<Value, Value>;

class Value {
 public:
  // null.
  Value() = default;

  static Value null() { return Value(); }
  static Value boolean(bool b);
  static Value integer(int64_t i);
  // A double; stays a double even when integral (it still compares equal to integers).
  // NaN and infinities are not Rego numbers: callers must reject them first.
  static Value number(double d);
  // An exact integer of any size: an int64 when it fits, otherwise a big integer.
  static Value big_integer(BigInt b);
  static Value string(std::string s);
  // The string `s` by reference, not copied: `s` must outlive this Value and every copy of it
  // (strings of static storage, or of a document built for one evaluation, such as a
  // decision's input read in place by Engine::eval_ref). Equal to string(s) in every respect
  // but lifetime; copies of it cost no reference counting.
  static Value string_ref(const std::string& s);
  static Value array(std::vector<Value> items);
  // Sorts the pairs by key; when a key repeats, the last pair wins.
  static Value object(std::vector<ObjectItem> items);
  // Sorts and removes duplicates.
  static Value set(std::vector<Value> items);
  // Builders for the common cases (already sorted, no duplicates): skips the sort. The caller
  // promises the order; a wrong order breaks lookup.
  static Value object_sorted(std::vector<ObjectItem> items);
  static Value set_sorted(std::vector<Value> items);
  static Value empty_array();
  static Value empty_object();
  static Value empty_set();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_boolean() const { return type_ == Type::kBoolean; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_set() const { return type_ == Type::kSet; }
  // True for arrays, objects and sets.
  bool is_collection() const { return type_ >= Type::kArray; }

  // Accessors: the type must match (checked by assert only).
  bool as_bool() const { return scalar_.b; }
  // True when the number is stored as an int64 (not a double, even an integral one).
  bool is_int() const { return type_ == Type::kNumber && !is_double_ && !is_big_; }
  // True when the number is an integer beyond int64 (held exactly).
  bool is_big() const { return is_big_; }
  // The big integer; nullptr unless is_big().
  const BigInt* as_big() const;
  // The exact integer of an int64 or big number; nullopt for doubles (even integral ones,
  // which OPA treats as floats in arithmetic) and for other types.
  std::optional<BigInt> exact_integer() const;
  // The integer value if this number is integral and fits int64 (also for integral doubles).
  std::optional<int64_t> as_int() const;
  // The number as a double (rounds big integers to the nearest double).
  double as_double() const {
    return is_double_ || is_big_ ? scalar_.d : static_cast<double>(scalar_.i);
  }
  const std::string& as_string() const;
  // Array items in order.
  std::span<const Value> array_items() const;
  // Object pairs sorted by key.
  std::span<const ObjectItem> object_items() const;
  // Set members sorted.
  std::span<const Value> set_items() const;
  // Members of an array or set, in order (empty for other types).
  std::span<const Value> elements() const;
  // Number of items of a collection, of bytes of a string; 0 otherwise.
  size_t size() const;

  // Object lookup by key; nullptr when absent or not an object.
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  // Array element by index; nullptr when out of range or not an array.
  const Value* at(int64_t index) const;
  // Set membership (false when not a set).
  bool contains(const Value& v) const;
  // Generic lookup as Rego's `x[k]`: object key, array index (integral number) or set member
  // (yields the member itself). nullptr when undefined.
  const Value* get(const Value& key) const;

  // Total order as OPA: <0, 0, >0.
  int compare(const Value& other) const;
  friend bool operator==(const Value& a, const Value& b) { return a.compare(b) == 0; }
  friend bool operator<(const Value& a, const Value& b) { return a.compare(b) < 0; }
  // Consistent with ==: equal values hash equal.
  size_t hash() const;

  // JSON text (compact). Sets become sorted arrays; non-string object keys are printed as
  // their JSON text in a string.
  std::string to_json() const;
  void append_json(std::string& out) const;
  // Rego term syntax (compact): sets as {1, 2} / set(), strings quoted, e.g. {"a": {1}}.
  std::string to_rego() const;
  void append_rego(std::string& out) const;
  // Converts to a boost::json value (same mapping as to_json).
  boost::json::value to_json_value() const;
  // Converts from JSON: objects become objects with string keys, arrays arrays; numbers keep
  // integers exact where they fit int64.
  static Value from_json(const boost::json::value& v);
  // The same for an object at hand, without first copying it into a boost::json::value.
  static Value from_json(const boost::json::object& o);
  // Parses JSON text.
  static base::Result<Value> parse_json(std::string_view text);

 private:
  Type type_ = Type::kNull;
  bool is_double_ = false;
  bool is_big_ = false;  // rep_ holds the BigInt; scalar_.d its nearest double
  union Scalar {
    bool b;
    int64_t i;
    double d;
  } scalar_{.i = 0};
  // String, array, object, set or big integer storage; null for other scalars.
  std::shared_ptr<const void> rep_;
};

struct ValueHash {
  size_t operator()(const Value& v) const { return v.hash(); }
};

// Appends the number `v` as OPA prints it: integers exactly, other numbers in the shortest
// form that round-trips (e.g. 0.1, 1e+21).
void append_number(std::string& out, const Value& v);
std::string number_to_string(const Value& v);

// Appends `s` as a quoted JSON string.
void append_quoted(std::string& out, std::string_view s);

}  // namespace policy
