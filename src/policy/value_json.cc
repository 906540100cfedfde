// JSON text to Value, directly (boost::json's SAX parser, no intermediate boost::json::value),
// so that integers of any size stay exact as in OPA (json.unmarshal("18446744073709551617")
// is that integer, not the nearest double).
#include <boost/json/basic_parser_impl.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "policy/value.h"

namespace policy {
namespace {

class ValueBuilder {
 public:
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

  using ec_t = boost::system::error_code;
  using sv = boost::json::string_view;

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t&) {
    frames_.push_back(Frame{false, {}, {}, {}});
    return true;
  }
  bool on_array_end(std::size_t, ec_t&) {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    put(Value::array(std::move(f.items)));
    return true;
  }
  bool on_object_begin(ec_t&) {
    frames_.push_back(Frame{true, {}, {}, {}});
    return true;
  }
  bool on_object_end(std::size_t, ec_t&) {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    put(Value::object(std::move(f.members)));
    return true;
  }
  bool on_string_part(sv s, std::size_t, ec_t&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(sv s, std::size_t, ec_t&) {
    text_.append(s.data(), s.size());
    put(Value::string(std::move(text_)));
    text_.clear();
    return true;
  }
  bool on_key_part(sv s, std::size_t, ec_t&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_key(sv s, std::size_t, ec_t&) {
    text_.append(s.data(), s.size());
    frames_.back().key = std::move(text_);
    text_.clear();
    return true;
  }
  bool on_number_part(sv s, ec_t&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, sv, ec_t&) {
    text_.clear();
    put(Value::integer(i));
    return true;
  }
  bool on_uint64(uint64_t, sv s, ec_t&) { return on_number_text(s); }
  bool on_double(double d, sv s, ec_t&) {
    text_.append(s.data(), s.size());
    // Integers too large for uint64 arrive here: keep them exact.
    if (text_.find_first_of(".eE") == std::string::npos) {
      if (auto big = BigInt::parse(text_)) {
        text_.clear();
        put(Value::big_integer(std::move(*big)));
        return true;
      }
    }
    text_.clear();
    put(Value::number(d));
    return true;
  }
  bool on_bool(bool b, ec_t&) {
    put(Value::boolean(b));
    return true;
  }
  bool on_null(ec_t&) {
    put(Value());
    return true;
  }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }

  Value take() { return std::move(result_); }

 private:
  struct Frame {
    bool is_object;
    std::vector<Value> items;
    std::vector<ObjectItem> members;
    std::string key;
  };

  bool on_number_text(sv s) {
    text_.append(s.data(), s.size());
    put(Value::big_integer(*BigInt::parse(text_)));
    text_.clear();
    return true;
  }

  void put(Value v) {
    if (frames_.empty()) {
      result_ = std::move(v);
      return;
    }
    Frame& f = frames_.back();
    if (f.is_object) {
      f.members.emplace_back(Value::string(std::move(f.key)), std::move(v));
      f.key.clear();
    } else {
      f.items.push_back(std::move(v));
    }
  }

  std::vector<Frame> frames_;
  std::string text_;  // the string, key or number being read in parts
  Value result_;
};

}  // namespace

base::Result<Value> Value::parse_json(std::string_view text) {
  boost::json::parse_options opts;
  opts.max_depth = 256;  // Kubernetes objects nest deeper than Boost's default of 32
  boost::json::basic_parser<ValueBuilder> parser(opts);
  boost::system::error_code ec;
  size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && n != text.size()) {
    // Only whitespace may follow the document.
    if (text.substr(n).find_first_not_of(" \t\r\n") != std::string_view::npos) {
      ec = boost::json::error::extra_data;
    }
  }
  if (ec) return base::invalid_argument("invalid JSON: " + ec.message());
  return parser.handler().take();
}

}  // namespace policy
