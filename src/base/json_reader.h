// Strict reading of JSON request bodies: every field is checked for type and range, and any
// field the reader was not asked about is an error, so a typo ("capcity") gets a clear 400
// instead of being silently ignored.
//
//   JsonReader r(body);
//   auto title = r.required_string("title", 1, 200);
//   auto capacity = r.optional_int("capacity", 1, 100000);
//   EC_RETURN_IF_ERROR(r.finish());   // first error, or unknown fields
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace base {

// Parses `text` as JSON without exceptions. Errors name the offset and say it is not JSON.
Result<boost::json::value> parse_json(std::string_view text);

class JsonReader {
 public:
  // `where` prefixes field names in messages (e.g. "questions[2]."). `v` must outlive the reader.
  explicit JsonReader(const boost::json::value& v, std::string where = {});

  // Each accessor records the first error and then returns empty values.
  std::optional<std::string> required_string(std::string_view key, size_t min_len,
                                             size_t max_len);
  std::optional<std::string> optional_string(std::string_view key, size_t min_len,
                                             size_t max_len);
  std::optional<int64_t> required_int(std::string_view key, int64_t min, int64_t max);
  std::optional<int64_t> optional_int(std::string_view key, int64_t min, int64_t max);
  // One of `allowed` (e.g. status values).
  std::optional<std::string> optional_enum(std::string_view key,
                                           std::initializer_list<std::string_view> allowed);
  std::optional<std::string> required_enum(std::string_view key,
                                           std::initializer_list<std::string_view> allowed);
  // Raw access to an array field (checked to be an array with at most `max_items`).
  const boost::json::array* required_array(std::string_view key, size_t min_items,
                                           size_t max_items);
  const boost::json::value* optional_value(std::string_view key);

  bool ok() const { return status_.is_ok(); }
  // OK, or the first error seen, or an error naming the first unknown field.
  Status finish();
  void fail(Status s) {
    if (status_.is_ok()) status_ = std::move(s);
  }
  std::string field(std::string_view key) const { return where_ + std::string(key); }

 private:
  const boost::json::value* lookup(std::string_view key, bool required);

  const boost::json::object* obj_ = nullptr;
  std::string where_;
  std::vector<std::string> seen_;
  Status status_;
};

// True when `s` is valid UTF-8 (JSON strings from Boost.JSON are, but checked for chat/titles).
bool is_valid_utf8(std::string_view s);
// Number of Unicode code points in valid UTF-8 `s`.
size_t utf8_length(std::string_view s);

}  // namespace base
