#include "policy/builtins/glob_pattern.h"

#include "policy/builtins/utf8.h"

#include <algorithm>
#include <utility>

namespace policy::builtins {

struct GlobPattern::Node {
  enum Kind { kLiteral, kAny, kSuper, kSingle, kClass, kAlt } kind = kLiteral;
  char32_t ch = 0;                                    // kLiteral
  bool negated = false;                               // kClass
  std::vector<std::pair<char32_t, char32_t>> ranges;  // kClass, inclusive
  std::vector<Seq> alternatives;                      // kAlt
};

namespace {

using Node = GlobPattern::Node;
using Seq = GlobPattern::Seq;

class Parser {
 public:
  explicit Parser(std::u32string p) : p_(std::move(p)) {}

  // Parses a sequence until end of input, or (inside braces) until `,` or `}`.
  base::Result<Seq> parse_seq(int depth) {
    Seq seq;
    while (pos_ < p_.size()) {
      char32_t c = p_[pos_];
      if (depth > 0 && (c == ',' || c == '}')) return seq;
      ++pos_;
      Node n;
      switch (c) {
        case '*':
          if (pos_ < p_.size() && p_[pos_] == '*') {
            ++pos_;
            n.kind = Node::kSuper;
          } else {
            n.kind = Node::kAny;
          }
          break;
        case '?':
          n.kind = Node::kSingle;
          break;
        case '\\':
          if (pos_ >= p_.size()) return base::invalid_argument("unexpected end of input after escape");
          n.ch = p_[pos_++];
          break;
        case '[': {
          EC_RETURN_IF_ERROR(parse_class(n));
          break;
        }
        case '{': {
          // Each level recurses; real patterns nest a few levels at most.
          if (depth >= 64) return base::invalid_argument("'{' nested more than 64 levels");
          n.kind = Node::kAlt;
          for (;;) {
            EC_ASSIGN_OR_RETURN(Seq alt, parse_seq(depth + 1));
            n.alternatives.push_back(std::move(alt));
            if (pos_ >= p_.size()) return base::invalid_argument("unexpected end of input in '{'");
            char32_t d = p_[pos_++];
            if (d == '}') break;
          }
          break;
        }
        case ']':
          return base::invalid_argument("unexpected ']'");
        default:
          n.ch = c;
      }
      seq.push_back(std::move(n));
    }
    if (depth > 0) return seq;  // caller reports the missing '}'
    return seq;
  }

 private:
  base::Status parse_class(Node& n) {
    n.kind = Node::kClass;
    if (pos_ < p_.size() && p_[pos_] == '!') {
      n.negated = true;
      ++pos_;
    }
    bool closed = false;
    while (pos_ < p_.size()) {
      char32_t c = p_[pos_++];
      if (c == ']') {
        closed = true;
        break;
      }
      if (c == '\\' && pos_ < p_.size()) c = p_[pos_++];
      if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        char32_t hi = p_[pos_ + 1];
        pos_ += 2;
        if (hi == '\\' && pos_ < p_.size()) hi = p_[pos_++];
        if (hi < c) return base::invalid_argument("invalid range in character class");
        n.ranges.push_back({c, hi});
      } else {
        n.ranges.push_back({c, c});
      }
    }
    if (!closed) return base::invalid_argument("unexpected end of input in '['");
    return base::Status::ok();
  }

  std::u32string p_;
  size_t pos_ = 0;
};

// A continuation: after finishing `seq` from `index`, go on with `next`.
struct Cont {
  const Seq* seq;
  size_t index;
  const Cont* next;
};

class Matcher {
 public:
  Matcher(const std::u32string& text, const std::vector<char32_t>& delims)
      : t_(text), delims_(delims) {}

  bool is_delim(char32_t c) const {
    return std::find(delims_.begin(), delims_.end(), c) != delims_.end();
  }

  bool match(const Seq& seq, size_t i, size_t pos, const Cont* k) {
    if (++steps_ > kMaxSteps) return false;
    if (i == seq.size()) {
      if (k == nullptr) return pos == t_.size();
      return match(*k->seq, k->index, pos, k->next);
    }
    const Node& n = seq[i];
    switch (n.kind) {
      case Node::kLiteral:
        return pos < t_.size() && t_[pos] == n.ch && match(seq, i + 1, pos + 1, k);
      case Node::kSingle:
        return pos < t_.size() && !is_delim(t_[pos]) && match(seq, i + 1, pos + 1, k);
      case Node::kClass: {
        if (pos >= t_.size()) return false;
        char32_t c = t_[pos];
        bool in = false;
        for (auto [lo, hi] : n.ranges) {
          if (c >= lo && c <= hi) {
            in = true;
            break;
          }
        }
        if (in == n.negated) return false;
        return match(seq, i + 1, pos + 1, k);
      }
      case Node::kAny:
      case Node::kSuper: {
        for (size_t end = pos;; ++end) {
          if (match(seq, i + 1, end, k)) return true;
          if (end >= t_.size()) return false;
          if (n.kind == Node::kAny && is_delim(t_[end])) return false;
        }
      }
      case Node::kAlt: {
        Cont after{&seq, i + 1, k};
        for (const Seq& alt : n.alternatives) {
          if (match(alt, 0, pos, &after)) return true;
        }
        return false;
      }
    }
    return false;
  }

 private:
  // Bounds pathological patterns (many stars) so a policy cannot stall the evaluator.
  static constexpr size_t kMaxSteps = 10'000'000;
  const std::u32string& t_;
  const std::vector<char32_t>& delims_;
  size_t steps_ = 0;
};

}  // namespace

base::Result<GlobPattern> GlobPattern::compile(std::string_view pattern,
                                               std::vector<char32_t> delimiters) {
  // Matching recurses once per pattern element; keep that well inside any thread's stack.
  if (pattern.size() > 1024) return base::invalid_argument("glob pattern longer than 1024 bytes");
  Parser parser(utf8_decode(pattern));
  EC_ASSIGN_OR_RETURN(Seq seq, parser.parse_seq(0));
  GlobPattern g;
  g.root_ = std::make_shared<const Seq>(std::move(seq));
  g.delimiters_ = std::move(delimiters);
  return g;
}

bool GlobPattern::matches(std::string_view text) const {
  std::u32string t = utf8_decode(text);
  Matcher m(t, delimiters_);
  return m.match(*root_, 0, 0, nullptr);
}

std::string glob_quote_meta(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) {
    switch (c) {
      case '*':
      case '?':
      case '\\':
      case '[':
      case ']':
      case '{':
      case '}':
        out.push_back('\\');
        break;
      default:
        break;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace policy::builtins
