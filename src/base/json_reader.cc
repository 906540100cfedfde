#include "base/json_reader.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <optional>

#include "base/utf8.h"

namespace base {

Result<boost::json::value> parse_json(std::string_view text, std::string_view what) {
  if (text.empty()) {
    return invalid_argument(std::string(what) + " is empty; send a JSON object", "invalid_json");
  }
  boost::json::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 32;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  if (ec) {
    return invalid_argument(std::string(what) + " is not valid JSON (" + ec.message() + ")",
                            "invalid_json");
  }
  return v;
}

JsonReader::JsonReader(const boost::json::value& v, std::string where) : where_(std::move(where)) {
  obj_ = v.if_object();
  if (!obj_) {
    shape_ =
        invalid_argument((where_.empty() ? std::string("the request body")
                                         : "'" + where_.substr(0, where_.size() - 1) + "'") +
                             " must be a JSON object (got " + std::string(json_type_name(v)) + ")",
                         "invalid_body");
  }
}

const boost::json::value* JsonReader::find(std::string_view key) {
  if (!obj_) return nullptr;
  seen_.emplace_back(key);
  auto it = obj_->find(key);
  return it == obj_->end() ? nullptr : &it->value();
}

Status JsonReader::missing(std::string_view key) const {
  if (!shape_.is_ok()) return shape_;
  return invalid_argument("missing required field '" + field(key) + "'", "missing_field");
}

Status JsonReader::invalid(std::string_view key, std::string_view what) const {
  return invalid_argument("field '" + field(key) + "' " + std::string(what), "invalid_field");
}

Result<std::string> JsonReader::check_string(std::string_view key, const boost::json::value& v,
                                             size_t min_len, size_t max_len) const {
  const auto* s = v.if_string();
  if (!s) return invalid(key, "must be a string (got " + std::string(json_type_name(v)) + ")");
  std::string_view sv(s->data(), s->size());
  size_t len = utf8_length(sv);
  if (len < min_len || len > max_len) {
    return invalid(key, "must be " + std::to_string(min_len) + " to " + std::to_string(max_len) +
                            " characters long (got " + std::to_string(len) + ")");
  }
  return std::string(sv);
}

Result<int64_t> JsonReader::check_integer(std::string_view key, const boost::json::value& v,
                                          int64_t min, int64_t max) const {
  std::optional<int64_t> n;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    if (v.get_uint64() <= uint64_t(INT64_MAX))
      n = int64_t(v.get_uint64());
    else
      n = INT64_MAX;  // out of any range we accept; reported below
  } else if (v.is_double()) {
    double d = v.get_double();
    if (d >= -9e15 && d <= 9e15 && d == double(int64_t(d)))
      n = int64_t(d);
    else if (d == d && (d > 9e15 || d < -9e15))
      n = d > 0 ? INT64_MAX : INT64_MIN;
  }
  if (!n) return invalid(key, "must be an integer (got " + std::string(json_type_name(v)) + ")");
  if (*n < min || *n > max) {
    std::string got =
        *n == INT64_MAX || *n == INT64_MIN ? "a number out of range" : std::to_string(*n);
    return invalid(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                            " (got " + got + ")");
  }
  return *n;
}

Result<std::string> JsonReader::check_one_of(
    std::string_view key, const boost::json::value& v,
    std::initializer_list<std::string_view> allowed) const {
  EC_ASSIGN_OR_RETURN(std::string s, check_string(key, v, 0, 64));
  for (auto a : allowed) {
    if (a == s) return s;
  }
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  return invalid(key, "must be one of " + list + " (got '" + s + "')");
}

Result<std::string> JsonReader::string(std::string_view key, size_t min_len, size_t max_len) {
  const auto* v = find(key);
  if (!v) return missing(key);
  return check_string(key, *v, min_len, max_len);
}

Result<int64_t> JsonReader::integer(std::string_view key, int64_t min, int64_t max) {
  const auto* v = find(key);
  if (!v) return missing(key);
  return check_integer(key, *v, min, max);
}

Result<bool> JsonReader::boolean(std::string_view key) {
  const auto* v = find(key);
  if (!v) return missing(key);
  if (!v->is_bool()) {
    return invalid(key, "must be true or false (got " + std::string(json_type_name(*v)) + ")");
  }
  return v->get_bool();
}

Result<std::string> JsonReader::one_of(std::string_view key,
                                       std::initializer_list<std::string_view> allowed) {
  const auto* v = find(key);
  if (!v) return missing(key);
  return check_one_of(key, *v, allowed);
}

Result<const boost::json::array*> JsonReader::array(std::string_view key, size_t min_items,
                                                    size_t max_items) {
  const auto* v = find(key);
  if (!v) return missing(key);
  const auto* a = v->if_array();
  if (!a) return invalid(key, "must be an array (got " + std::string(json_type_name(*v)) + ")");
  if (a->size() < min_items || a->size() > max_items) {
    return invalid(key, "must have " + std::to_string(min_items) + " to " +
                            std::to_string(max_items) + " items (got " + std::to_string(a->size()) +
                            ")");
  }
  return a;
}

Result<const boost::json::value*> JsonReader::value(std::string_view key) {
  EC_ASSIGN_OR_RETURN(const boost::json::value* v, optional_value(key));
  if (!v) return missing(key);
  return v;
}

Result<std::optional<std::string>> JsonReader::optional_string(std::string_view key, size_t min_len,
                                                               size_t max_len) {
  EC_ASSIGN_OR_RETURN(const boost::json::value* v, optional_value(key));
  if (!v) return std::optional<std::string>();
  EC_ASSIGN_OR_RETURN(std::string s, check_string(key, *v, min_len, max_len));
  return std::optional<std::string>(std::move(s));
}

Result<std::optional<int64_t>> JsonReader::optional_integer(std::string_view key, int64_t min,
                                                            int64_t max) {
  EC_ASSIGN_OR_RETURN(const boost::json::value* v, optional_value(key));
  if (!v) return std::optional<int64_t>();
  EC_ASSIGN_OR_RETURN(int64_t n, check_integer(key, *v, min, max));
  return std::optional<int64_t>(n);
}

Result<std::optional<bool>> JsonReader::optional_boolean(std::string_view key) {
  EC_ASSIGN_OR_RETURN(const boost::json::value* v, optional_value(key));
  if (!v) return std::optional<bool>();
  if (!v->is_bool()) {
    return invalid(key, "must be true or false (got " + std::string(json_type_name(*v)) + ")");
  }
  return std::optional<bool>(v->get_bool());
}

Result<std::optional<std::string>> JsonReader::optional_one_of(
    std::string_view key, std::initializer_list<std::string_view> allowed) {
  EC_ASSIGN_OR_RETURN(const boost::json::value* v, optional_value(key));
  if (!v) return std::optional<std::string>();
  EC_ASSIGN_OR_RETURN(std::string s, check_one_of(key, *v, allowed));
  return std::optional<std::string>(std::move(s));
}

Result<const boost::json::value*> JsonReader::optional_value(std::string_view key) {
  if (!shape_.is_ok()) return shape_;
  const auto* v = find(key);
  if (v && v->is_null()) {
    return invalid(key, "must not be null (leave the field out instead)");
  }
  return v;
}

const boost::json::value* JsonReader::optional_any(std::string_view key) { return find(key); }

Status JsonReader::finish() const {
  if (!shape_.is_ok()) return shape_;
  for (const auto& kv : *obj_) {
    std::string_view k = kv.key();
    if (std::find(seen_.begin(), seen_.end(), k) == seen_.end()) {
      return invalid_argument("unknown field '" + field(k) + "'", "unknown_field");
    }
  }
  return Status::ok();
}

std::string_view json_type_name(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "a value";
}

}  // namespace base
