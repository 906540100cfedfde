// The one typed reading layer for JSON request bodies and live messages. Every accessor
// returns a Result: a field that is missing (when required), null, of the wrong type or out
// of range is an error naming the field, and any field the reader was not asked about is an
// error at finish(), so a typo ("capcity") gets a clear 400 instead of being ignored.
// No accessor hands out a value it has not checked, so no input can make a caller crash.
//
//   JsonReader r(body);
//   EC_ASSIGN_OR_RETURN(std::string title, r.string("title", 1, 200));
//   EC_ASSIGN_OR_RETURN(std::optional<int64_t> cap, r.optional_integer("capacity", 1, 100000));
//   EC_RETURN_IF_ERROR(r.finish());   // unknown fields
//
// Error codes: `invalid_body` (not an object), `missing_field` (a required field is absent),
// `invalid_field` (null, wrong type, out of range), `unknown_field`. `null` is never taken to
// mean "absent": an optional field is either left out or given a value.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace base {

// Parses `text` as JSON without exceptions (depth at most 32). Errors (`invalid_json`) say
// that `what` ("the request body", "a live message") is empty or not JSON, and where.
Result<boost::json::value> parse_json(std::string_view text,
                                      std::string_view what = "the request body");

class JsonReader {
 public:
  // `where` prefixes field names in messages (e.g. "questions[2]."). `v` must outlive the
  // reader and every pointer it returns.
  explicit JsonReader(const boost::json::value& v, std::string where = {});

  // Required fields. Strings are measured in Unicode code points.
  Result<std::string> string(std::string_view key, size_t min_len, size_t max_len);
  Result<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  Result<bool> boolean(std::string_view key);
  // One of `allowed` (e.g. status values).
  Result<std::string> one_of(std::string_view key, std::initializer_list<std::string_view> allowed);
  // An array of `min_items` to `max_items` elements (never null on success).
  Result<const boost::json::array*> array(std::string_view key, size_t min_items, size_t max_items);
  // Any non-null value (never null on success); its shape is the caller's to check.
  Result<const boost::json::value*> value(std::string_view key);

  // Optional fields: std::nullopt / nullptr when the field is absent.
  Result<std::optional<std::string>> optional_string(std::string_view key, size_t min_len,
                                                     size_t max_len);
  Result<std::optional<int64_t>> optional_integer(std::string_view key, int64_t min, int64_t max);
  Result<std::optional<bool>> optional_boolean(std::string_view key);
  Result<std::optional<std::string>> optional_one_of(
      std::string_view key, std::initializer_list<std::string_view> allowed);
  Result<const boost::json::value*> optional_value(std::string_view key);
  // Absent → nullptr; any JSON value including null (OPA's `input` may be null).
  const boost::json::value* optional_any(std::string_view key);

  // OK when the body was an object and has no field the reader was not asked about.
  Status finish() const;
  // "where" + key, as messages name fields.
  std::string field(std::string_view key) const { return where_ + std::string(key); }

 private:
  // The field's value: nullptr when absent (or when the body is not an object: then
  // `shape_` holds the error). Records the key as known.
  const boost::json::value* find(std::string_view key);
  Status missing(std::string_view key) const;
  Status invalid(std::string_view key, std::string_view what) const;
  Result<std::string> check_string(std::string_view key, const boost::json::value& v,
                                   size_t min_len, size_t max_len) const;
  Result<int64_t> check_integer(std::string_view key, const boost::json::value& v, int64_t min,
                                int64_t max) const;
  Result<std::string> check_one_of(std::string_view key, const boost::json::value& v,
                                   std::initializer_list<std::string_view> allowed) const;

  const boost::json::object* obj_ = nullptr;
  std::string where_;
  std::vector<std::string> seen_;
  Status shape_;  // not OK when the body is not an object
};

// A JSON value's type as a message names it: "null", "a string", "an array", ...
std::string_view json_type_name(const boost::json::value& v);

}  // namespace base
