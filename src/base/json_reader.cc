#include "base/json_reader.h"

#include <boost/json/parse.hpp>
#include <algorithm>

namespace base {

Result<boost::json::value> parse_json(std::string_view text) {
  if (text.empty()) return invalid_argument("the request body is empty; send a JSON object", "invalid_json");
  boost::json::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 32;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  if (ec) {
    return invalid_argument("the request body is not valid JSON (" + ec.message() + ")",
                            "invalid_json");
  }
  return v;
}

JsonReader::JsonReader(const boost::json::value& v, std::string where) : where_(std::move(where)) {
  obj_ = v.if_object();
  if (!obj_) {
    status_ = invalid_argument(
        where_.empty() ? "the request body must be a JSON object"
                       : where_.substr(0, where_.size() - 1) + " must be a JSON object",
        "invalid_body");
  }
}

const boost::json::value* JsonReader::lookup(std::string_view key, bool required) {
  if (!obj_ || !status_.is_ok()) return nullptr;
  seen_.emplace_back(key);
  auto it = obj_->find(key);
  if (it == obj_->end() || (it->value().is_null() && !required)) {
    if (required) fail(invalid_argument("missing required field '" + field(key) + "'", "missing_field"));
    return nullptr;
  }
  return &it->value();
}

std::optional<std::string> JsonReader::optional_string(std::string_view key, size_t min_len,
                                                       size_t max_len) {
  const auto* v = lookup(key, false);
  if (!v) return std::nullopt;
  const auto* s = v->if_string();
  if (!s) {
    fail(invalid_argument("field '" + field(key) + "' must be a string", "invalid_field"));
    return std::nullopt;
  }
  std::string_view sv(s->data(), s->size());
  size_t len = utf8_length(sv);
  if (len < min_len || len > max_len) {
    fail(invalid_argument("field '" + field(key) + "' must be " + std::to_string(min_len) +
                              " to " + std::to_string(max_len) + " characters long (got " +
                              std::to_string(len) + ")",
                          "invalid_field"));
    return std::nullopt;
  }
  return std::string(sv);
}

std::optional<std::string> JsonReader::required_string(std::string_view key, size_t min_len,
                                                       size_t max_len) {
  if (!lookup(key, true)) return std::nullopt;
  seen_.pop_back();
  return optional_string(key, min_len, max_len);
}

std::optional<int64_t> JsonReader::optional_int(std::string_view key, int64_t min, int64_t max) {
  const auto* v = lookup(key, false);
  if (!v) return std::nullopt;
  std::optional<int64_t> n;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= uint64_t(INT64_MAX)) n = int64_t(v->get_uint64());
  else if (v->is_double()) {
    double d = v->get_double();
    if (d == double(int64_t(d)) && d >= -9e15 && d <= 9e15) n = int64_t(d);
  }
  if (!n) {
    fail(invalid_argument("field '" + field(key) + "' must be an integer", "invalid_field"));
    return std::nullopt;
  }
  if (*n < min || *n > max) {
    fail(invalid_argument("field '" + field(key) + "' must be between " + std::to_string(min) +
                              " and " + std::to_string(max) + " (got " + std::to_string(*n) + ")",
                          "invalid_field"));
    return std::nullopt;
  }
  return n;
}

std::optional<int64_t> JsonReader::required_int(std::string_view key, int64_t min, int64_t max) {
  if (!lookup(key, true)) return std::nullopt;
  seen_.pop_back();
  return optional_int(key, min, max);
}

std::optional<std::string> JsonReader::optional_enum(
    std::string_view key, std::initializer_list<std::string_view> allowed) {
  auto s = optional_string(key, 0, 64);
  if (!s) return std::nullopt;
  for (auto a : allowed) {
    if (a == *s) return s;
  }
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  fail(invalid_argument("field '" + field(key) + "' must be one of " + list + " (got '" + *s + "')",
                        "invalid_field"));
  return std::nullopt;
}

std::optional<std::string> JsonReader::required_enum(
    std::string_view key, std::initializer_list<std::string_view> allowed) {
  if (!lookup(key, true)) return std::nullopt;
  seen_.pop_back();
  return optional_enum(key, allowed);
}

const boost::json::array* JsonReader::required_array(std::string_view key, size_t min_items,
                                                     size_t max_items) {
  const auto* v = lookup(key, true);
  if (!v) return nullptr;
  const auto* a = v->if_array();
  if (!a) {
    fail(invalid_argument("field '" + field(key) + "' must be an array", "invalid_field"));
    return nullptr;
  }
  if (a->size() < min_items || a->size() > max_items) {
    fail(invalid_argument("field '" + field(key) + "' must have " + std::to_string(min_items) +
                              " to " + std::to_string(max_items) + " items (got " +
                              std::to_string(a->size()) + ")",
                          "invalid_field"));
    return nullptr;
  }
  return a;
}

const boost::json::value* JsonReader::optional_value(std::string_view key) {
  return lookup(key, false);
}

Status JsonReader::finish() {
  if (!status_.is_ok() || !obj_) return status_;
  for (const auto& kv : *obj_) {
    std::string_view k = kv.key();
    if (std::find(seen_.begin(), seen_.end(), k) == seen_.end()) {
      return invalid_argument("unknown field '" + field(k) + "'", "unknown_field");
    }
  }
  return Status::ok();
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c >> 6) != 2;
  return n;
}

}  // namespace base
