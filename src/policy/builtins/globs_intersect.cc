// regex.globs_match: whether two "glob-style" regexes have a non-empty string in common.
// The syntax is the small one OPA documents for it: `.` any character, `[a-z0-9]` classes
// (`^` negates), `\x` a literal x, and the postfix `*` / `+` on the previous element.
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "policy/builtins/utf8.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

struct CharSet {
  bool negated = false;  // "." is a negated empty set
  std::vector<std::pair<char32_t, char32_t>> ranges;

  bool contains(char32_t c) const {
    for (auto [lo, hi] : ranges) {
      if (c >= lo && c <= hi) return true;
    }
    return false;
  }
};

// True when some character belongs to both sets.
bool intersects(const CharSet& a, const CharSet& b) {
  if (a.negated && b.negated) return true;
  if (!a.negated && !b.negated) {
    for (auto [alo, ahi] : a.ranges) {
      for (auto [blo, bhi] : b.ranges) {
        if (alo <= bhi && blo <= ahi) return true;
      }
    }
    return false;
  }
  const CharSet& pos = a.negated ? b : a;
  const CharSet& neg = a.negated ? a : b;
  // Some character of `pos` that `neg` does not exclude: try each range's ends and the
  // characters right after the excluded ranges.
  for (auto [lo, hi] : pos.ranges) {
    std::vector<char32_t> candidates{lo, hi};
    for (auto [nlo, nhi] : neg.ranges) {
      if (nhi + 1 >= lo && nhi + 1 <= hi) candidates.push_back(nhi + 1);
      if (nlo >= lo + 1 && nlo - 1 <= hi) candidates.push_back(nlo - 1);
    }
    for (char32_t c : candidates) {
      if (c >= lo && c <= hi && !neg.contains(c)) return true;
    }
  }
  return false;
}

struct Elem {
  CharSet set;
  bool repeat = false;  // followed by '*': zero or more
};

base::Result<std::vector<Elem>> parse(std::string_view text) {
  std::u32string s = utf8_decode(text);
  std::vector<Elem> out;
  auto error = [&](size_t pos, const std::string& what) {
    return base::invalid_argument("input:" + std::string(text) + ", pos:" + std::to_string(pos + 1) + ", " +
                                  what + ": the input provided is invalid");
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    if (c == '*' || c == '+') {
      if (out.empty() || out.back().repeat) return error(i, "quantifier with no preceding element");
      if (c == '*') {
        out.back().repeat = true;
      } else {
        Elem copy = out.back();
        copy.repeat = true;
        out.push_back(copy);
      }
      continue;
    }
    Elem e;
    if (c == '.') {
      e.set.negated = true;
    } else if (c == '\\') {
      if (i + 1 >= s.size()) return error(i, "escape at end of input");
      ++i;
      e.set.ranges.push_back({s[i], s[i]});
    } else if (c == ']') {
      return error(i, "set-close ']' with no preceding '['");
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < s.size() && s[j] == '^') e.set.negated = true, ++j;
      bool closed = false;
      for (; j < s.size(); ++j) {
        char32_t lo = s[j];
        if (lo == ']') {
          closed = true;
          break;
        }
        if (lo == '\\' && j + 1 < s.size()) lo = s[++j];
        char32_t hi = lo;
        if (j + 2 < s.size() && s[j + 1] == '-' && s[j + 2] != ']') {
          hi = s[j + 2];
          j += 2;
          if (hi < lo) return error(j, "range with bounds out of order");
        }
        e.set.ranges.push_back({lo, hi});
      }
      if (!closed) return error(i, "set-open '[' with no closing ']'");
      i = j;
    } else {
      e.set.ranges.push_back({c, c});
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Positions reachable from `i` by skipping repeatable elements.
std::vector<size_t> closure(const std::vector<Elem>& g, size_t i) {
  std::vector<size_t> out{i};
  while (i < g.size() && g[i].repeat) out.push_back(++i);
  return out;
}

bool intersect(const std::vector<Elem>& a, const std::vector<Elem>& b) {
  // Search over (position in a, position in b, consumed anything) pairs.
  std::set<std::tuple<size_t, size_t, bool>> seen;
  std::vector<std::tuple<size_t, size_t, bool>> stack;
  for (size_t i : closure(a, 0)) {
    for (size_t j : closure(b, 0)) stack.emplace_back(i, j, false);
  }
  while (!stack.empty()) {
    auto st = stack.back();
    stack.pop_back();
    if (!seen.insert(st).second) continue;
    auto [i, j, consumed] = st;
    if (i == a.size() && j == b.size() && consumed) return true;
    if (i == a.size() || j == b.size()) continue;
    if (!intersects(a[i].set, b[j].set)) continue;
    // Consume one character with a[i] and b[j]; a repeat element may stay put.
    std::vector<size_t> ni = closure(a, i + 1), nj = closure(b, j + 1);
    if (a[i].repeat) ni.push_back(i);
    if (b[j].repeat) nj.push_back(j);
    for (size_t x : ni) {
      for (size_t y : nj) {
        for (size_t xx : closure(a, x)) {
          for (size_t yy : closure(b, y)) stack.emplace_back(xx, yy, true);
        }
      }
    }
  }
  return false;
}

BuiltinResult globs_match(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "regex.globs_match";
  EC_ASSIGN_OR_RETURN(std::string_view g1, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view g2, arg_string(kName, args, 2));
  auto a = parse(g1);
  if (!a.is_ok()) return builtin_error(kName, a.status().message());
  auto b = parse(g2);
  if (!b.is_ok()) return builtin_error(kName, b.status().message());
  return ok(Value::boolean(intersect(*a, *b)));
}

}  // namespace

void register_globs_builtins(BuiltinRegistry& r) { r.add("regex.globs_match", 2, globs_match); }

}  // namespace policy::builtins
