#include "policy/lexer.h"

#include <cctype>

#include "policy/builtins/utf8.h"

namespace policy {
namespace {

class Lexer {
 public:
  Lexer(std::string_view file, std::string_view src) : file_(file), src_(src) {}

  base::Result<std::vector<Token>> run() {
    std::vector<Token> out;
    while (true) {
      bool nl = false, sp = false;
      skip_space(nl, sp);
      Token t;
      t.loc = {line_, col()};
      t.newline_before = nl;
      t.space_before = sp;
      if (pos_ >= src_.size()) {
        t.kind = Tok::kEof;
        out.push_back(std::move(t));
        return out;
      }
      EC_RETURN_IF_ERROR(next(t));
      out.push_back(std::move(t));
    }
  }

 private:
  int col() const { return static_cast<int>(pos_ - line_start_) + 1; }
  base::Status error(std::string msg) const {
    return base::invalid_argument(std::string(file_) + ":" + std::to_string(line_) + ":" +
                                      std::to_string(col()) + ": rego_parse_error: " + msg,
                                  "rego_parse_error");
  }
  char peek(size_t k = 0) const { return pos_ + k < src_.size() ? src_[pos_ + k] : '\0'; }
  void newline() {
    ++line_;
    line_start_ = pos_ + 1;
  }

  void skip_space(bool& nl, bool& sp) {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '\n') {
        nl = sp = true;
        newline();
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        sp = true;
        ++pos_;
      } else if (c == '#') {
        sp = true;
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  base::Status read_string(Token& t) {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= src_.size() || src_[pos_] == '\n') return error("non-terminated string");
      char c = src_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= src_.size()) return error("non-terminated string");
      char e = src_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          auto hex4 = [&](uint32_t& v) {
            if (pos_ + 4 > src_.size()) return false;
            v = 0;
            for (int i = 0; i < 4; ++i) {
              char h = src_[pos_++];
              v <<= 4;
              if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
              else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
              else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
              else return false;
            }
            return true;
          };
          uint32_t v;
          if (!hex4(v)) return error("invalid unicode escape in string");
          if (v >= 0xD800 && v < 0xDC00 && peek() == '\\' && peek(1) == 'u') {
            size_t save = pos_;
            pos_ += 2;
            uint32_t lo;
            if (hex4(lo) && lo >= 0xDC00 && lo < 0xE000) {
              v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          builtins::utf8_append(out, char32_t(v));
          break;
        }
        default: return error("invalid escape in string");
      }
    }
    t.kind = Tok::kString;
    t.text = std::move(out);
    return base::Status::ok();
  }

  base::Status next(Token& t) {
    char c = src_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) {
        ++pos_;
      }
      t.kind = Tok::kIdent;
      t.text = std::string(src_.substr(start, pos_ - start));
      return base::Status::ok();
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
      size_t start = pos_;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
      if (peek() == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
        ++pos_;
        while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
      }
      if (peek() == 'e' || peek() == 'E') {
        size_t save = pos_;
        ++pos_;
        if (peek() == '+' || peek() == '-') ++pos_;
        if (!std::isdigit(static_cast<unsigned char>(peek()))) {
          pos_ = save;
        } else {
          while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
        }
      }
      t.kind = Tok::kNumber;
      t.text = std::string(src_.substr(start, pos_ - start));
      return base::Status::ok();
    }
    if (c == '"') return read_string(t);
    if (c == '`') {
      size_t start = ++pos_;
      while (pos_ < src_.size() && src_[pos_] != '`') {
        if (src_[pos_] == '\n') newline();
        ++pos_;
      }
      if (pos_ >= src_.size()) return error("non-terminated raw string");
      t.kind = Tok::kRawString;
      t.text = std::string(src_.substr(start, pos_ - start));
      ++pos_;
      return base::Status::ok();
    }
    if (c == '$' && (peek(1) == '"' || peek(1) == '`')) {
      char q = peek(1);
      pos_ += 2;
      size_t start = pos_;
      int depth = 0;
      while (pos_ < src_.size()) {
        char d = src_[pos_];
        if (depth == 0 && d == q) break;
        if (d == '\\' && pos_ + 1 < src_.size() && (q == '"' || src_[pos_ + 1] == '{')) {
          pos_ += 2;
          continue;
        }
        if (d == '{') ++depth;
        if (d == '}' && depth > 0) --depth;
        if (d == '\n') {
          if (q == '"' && depth == 0) return error("non-terminated template string");
          newline();
        }
        ++pos_;
      }
      if (pos_ >= src_.size()) return error("non-terminated template string");
      t.kind = Tok::kTemplate;
      t.text = std::string(1, q) + std::string(src_.substr(start, pos_ - start));
      ++pos_;
      return base::Status::ok();
    }
    ++pos_;
    switch (c) {
      case '{': t.kind = Tok::kLBrace; break;
      case '}': t.kind = Tok::kRBrace; break;
      case '[': t.kind = Tok::kLBrack; break;
      case ']': t.kind = Tok::kRBrack; break;
      case '(': t.kind = Tok::kLParen; break;
      case ')': t.kind = Tok::kRParen; break;
      case '.': t.kind = Tok::kDot; break;
      case ',': t.kind = Tok::kComma; break;
      case ';': t.kind = Tok::kSemi; break;
      case ':':
        if (peek() == '=') {
          ++pos_;
          t.kind = Tok::kAssign;
        } else {
          t.kind = Tok::kColon;
        }
        break;
      case '=':
        if (peek() == '=') {
          ++pos_;
          t.kind = Tok::kEq;
        } else {
          t.kind = Tok::kUnify;
        }
        break;
      case '!':
        if (peek() != '=') return error("unexpected '!'");
        ++pos_;
        t.kind = Tok::kNeq;
        break;
      case '<':
        if (peek() == '=') {
          ++pos_;
          t.kind = Tok::kLte;
        } else {
          t.kind = Tok::kLt;
        }
        break;
      case '>':
        if (peek() == '=') {
          ++pos_;
          t.kind = Tok::kGte;
        } else {
          t.kind = Tok::kGt;
        }
        break;
      case '+': t.kind = Tok::kPlus; break;
      case '-': t.kind = Tok::kMinus; break;
      case '*': t.kind = Tok::kStar; break;
      case '/': t.kind = Tok::kSlash; break;
      case '%': t.kind = Tok::kPercent; break;
      case '|': t.kind = Tok::kPipe; break;
      case '&': t.kind = Tok::kAmp; break;
      default:
        --pos_;
        return error(std::string("unexpected character '") + c + "'");
    }
    return base::Status::ok();
  }

  std::string_view file_;
  std::string_view src_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

}  // namespace

base::Result<std::vector<Token>> tokenize(std::string_view filename, std::string_view source) {
  return Lexer(filename, source).run();
}

}  // namespace policy
