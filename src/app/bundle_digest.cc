// OPA's digest input for structured bundle files (.manifest, data.json, data.yaml,
// patch.json): the JSON document re-encoded with object keys sorted byte-wise, compact, and
// its primitives as Go encodes them for OPA: numbers keep the spelling of the file (OPA reads
// them as json.Number, so 1.0 stays 1.0), strings are escaped as Go's encoder does without
// HTML escaping (\n \r \t \b \f, other controls as \u00xx, U+2028 and U+2029 escaped, invalid
// UTF-8 as U+FFFD).
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/bundle.h"
#include "base/utf8.h"

namespace app {
namespace {

class Canonicalizer {
 public:
  explicit Canonicalizer(std::string_view s) : s_(s) {}

  std::optional<std::string> run() {
    std::string out;
    if (!value(out, 0)) return std::nullopt;
    space();
    if (i_ != s_.size()) return std::nullopt;
    return out;
  }

 private:
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool literal(std::string_view word, std::string& out) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    out += word;
    return true;
  }
  bool value(std::string& out, int depth) {
    if (depth > 512) return false;
    space();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      std::string str;
      if (!string(str)) return false;
      encode(str, out);
      return true;
    }
    if (c == 't') return literal("true", out);
    if (c == 'f') return literal("false", out);
    if (c == 'n') return literal("null", out);
    return number(out);
  }
  bool number(std::string& out) {
    size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    auto digits = [&] {
      size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > from;
    };
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return false;
    }
    out += s_.substr(start, i_ - start);
    return true;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool u4(uint32_t& cp) {
    if (i_ + 4 > s_.size()) return false;
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      int h = hex(s_[i_ + k]);
      if (h < 0) return false;
      cp = cp * 16 + static_cast<uint32_t>(h);
    }
    i_ += 4;
    return true;
  }
  // A JSON string literal, decoded to bytes.
  bool string(std::string& out) {
    ++i_;  // the opening quote
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!u4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            size_t save = i_;
            i_ += 2;
            uint32_t lo;
            if (u4(lo) && lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              i_ = save;
              cp = 0xFFFD;
            }
          } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;  // a lone surrogate, as Go decodes it
          }
          base::append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  // Go's encoding/json string encoding with SetEscapeHTML(false).
  static void encode(std::string_view s, std::string& out) {
    static const char* kHex = "0123456789abcdef";
    out += '"';
    for (size_t i = 0; i < s.size();) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        switch (c) {
          case '"':
            out += "\\\"";
            break;
          case '\\':
            out += "\\\\";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\r':
            out += "\\r";
            break;
          case '\t':
            out += "\\t";
            break;
          case '\b':
            out += "\\b";
            break;
          case '\f':
            out += "\\f";
            break;
          default:
            if (c < 0x20) {
              out += "\\u00";
              out += kHex[c >> 4];
              out += kHex[c & 0xF];
            } else {
              out += static_cast<char>(c);
            }
        }
        ++i;
        continue;
      }
      size_t n = base::utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      std::string_view seq = s.substr(i, n);
      if (seq == "\xE2\x80\xA8") {
        out += "\\u2028";
      } else if (seq == "\xE2\x80\xA9") {
        out += "\\u2029";
      } else {
        out += seq;
      }
      i += n;
    }
    out += '"';
  }
  bool object(std::string& out, int depth) {
    ++i_;
    std::vector<std::pair<std::string, std::string>> members;  // key bytes, canonical value
    space();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
    } else {
      while (true) {
        space();
        if (i_ >= s_.size() || s_[i_] != '"') return false;
        std::string key, val;
        if (!string(key)) return false;
        space();
        if (i_ >= s_.size() || s_[i_] != ':') return false;
        ++i_;
        if (!value(val, depth + 1)) return false;
        // A repeated key: the last one wins, as in a Go map.
        auto it = std::find_if(members.begin(), members.end(),
                               [&](const auto& m) { return m.first == key; });
        if (it != members.end()) {
          it->second = std::move(val);
        } else {
          members.emplace_back(std::move(key), std::move(val));
        }
        space();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') {
          ++i_;
          break;
        }
        return false;
      }
    }
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out += '{';
    for (size_t k = 0; k < members.size(); ++k) {
      if (k > 0) out += ',';
      encode(members[k].first, out);
      out += ':';
      out += members[k].second;
    }
    out += '}';
    return true;
  }
  bool array(std::string& out, int depth) {
    ++i_;
    out += '[';
    space();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      out += ']';
      return true;
    }
    for (bool first = true;; first = false) {
      if (!first) out += ',';
      if (!value(out, depth + 1)) return false;
      space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        out += ']';
        return true;
      }
      return false;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<std::string> canonical_json(std::string_view text) {
  return Canonicalizer(text).run();
}

}  // namespace app
