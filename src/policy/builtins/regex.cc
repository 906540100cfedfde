// regex.* builtins on RE2, whose syntax and leftmost-first semantics are Go's regexp
// package (which OPA uses). Compiled patterns are cached in the query's BuiltinContext.
#include <re2/re2.h>

#include <memory>
#include <string>
#include <vector>

#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

// The compiled pattern (cached per query), or a builtin error naming the syntax problem.
base::Result<std::shared_ptr<const RE2>> compile(BuiltinContext& ctx, std::string_view name,
                                                 std::string_view pattern) {
  std::string key = "re:";
  key += pattern;
  auto it = ctx.cache.find(key);
  if (it != ctx.cache.end()) return std::static_pointer_cast<const RE2>(it->second);
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), opts);
  if (!re->ok()) {
    return builtin_error(name, "error parsing regexp: " + re->error());
  }
  ctx.cache.emplace(std::move(key), std::const_pointer_cast<RE2>(re));
  return re;
}

// Go's Regexp.FindAll*Index: successive non-overlapping matches; an empty match right after
// the previous match is skipped. Each match is its submatch spans (group 0 first); unmatched
// groups have data() == nullptr. At most `n` matches when n >= 0.
std::vector<std::vector<re2::StringPiece>> find_all(const RE2& re, std::string_view text,
                                                    int64_t n) {
  std::vector<std::vector<re2::StringPiece>> out;
  re2::StringPiece t(text.data(), text.size());
  int groups = re.NumberOfCapturingGroups() + 1;
  size_t pos = 0;
  const char* prev_end = nullptr;
  while ((n < 0 || static_cast<int64_t>(out.size()) < n) && pos <= text.size()) {
    std::vector<re2::StringPiece> m(static_cast<size_t>(groups));
    if (!re.Match(t, pos, text.size(), RE2::UNANCHORED, m.data(), groups)) break;
    bool accept = true;
    size_t mend = static_cast<size_t>(m[0].data() - text.data()) + m[0].size();
    if (mend == pos && m[0].empty()) {
      if (m[0].data() == prev_end) accept = false;
      // Advance one code point.
      size_t w = 1;
      if (pos < text.size()) {
        unsigned char c = static_cast<unsigned char>(text[pos]);
        w = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
      }
      pos += w;
    } else {
      pos = mend;
    }
    prev_end = m[0].data() + m[0].size();
    if (accept) out.push_back(std::move(m));
  }
  return out;
}

Value piece(const re2::StringPiece& p) {
  if (p.data() == nullptr) return Value::string("");
  return Value::string(std::string(p.data(), p.size()));
}

BuiltinResult match(BuiltinContext& ctx, Args args, std::string_view name) {
  EC_ASSIGN_OR_RETURN(std::string_view pattern, arg_string(name, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view value, arg_string(name, args, 2));
  EC_ASSIGN_OR_RETURN(auto re, compile(ctx, name, pattern));
  return ok(Value::boolean(
      RE2::PartialMatch(re2::StringPiece(value.data(), value.size()), *re)));
}

BuiltinResult regex_match(BuiltinContext& ctx, Args args) { return match(ctx, args, "regex.match"); }
BuiltinResult re_match(BuiltinContext& ctx, Args args) { return match(ctx, args, "re_match"); }

BuiltinResult is_valid(BuiltinContext& ctx, Args args) {
  if (!args[0].is_string()) return ok(Value::boolean(false));
  return ok(Value::boolean(compile(ctx, "regex.is_valid", args[0].as_string()).is_ok()));
}

BuiltinResult regex_split(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "regex.split";
  EC_ASSIGN_OR_RETURN(std::string_view pattern, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(auto re, compile(ctx, kName, pattern));
  std::vector<Value> out;
  if (!pattern.empty() && s.empty()) {
    out.push_back(Value::string(""));
    return ok(Value::array(std::move(out)));
  }
  size_t beg = 0, end = 0;
  for (const auto& m : find_all(*re, s, -1)) {
    size_t mstart = static_cast<size_t>(m[0].data() - s.data());
    end = mstart;
    if (mstart + m[0].size() != 0) out.push_back(Value::string(std::string(s.substr(beg, end - beg))));
    beg = mstart + m[0].size();
  }
  if (end != s.size()) out.push_back(Value::string(std::string(s.substr(beg))));
  return ok(Value::array(std::move(out)));
}

BuiltinResult find_n(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "regex.find_n";
  EC_ASSIGN_OR_RETURN(std::string_view pattern, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(int64_t n, int_operand(kName, args, 3));
  EC_ASSIGN_OR_RETURN(auto re, compile(ctx, kName, pattern));
  std::vector<Value> out;
  for (const auto& m : find_all(*re, s, n)) out.push_back(piece(m[0]));
  return ok(Value::array(std::move(out)));
}

BuiltinResult find_all_submatch(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "regex.find_all_string_submatch_n";
  EC_ASSIGN_OR_RETURN(std::string_view pattern, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(int64_t n, int_operand(kName, args, 3));
  EC_ASSIGN_OR_RETURN(auto re, compile(ctx, kName, pattern));
  std::vector<Value> out;
  for (const auto& m : find_all(*re, s, n)) {
    std::vector<Value> groups;
    for (const auto& g : m) groups.push_back(piece(g));
    out.push_back(Value::array(std::move(groups)));
  }
  return ok(Value::array(std::move(out)));
}

// Go's Regexp.Expand for ReplaceAllString: $1, ${1}, $name, ${name}, $$.
void expand(std::string& out, std::string_view repl, const RE2& re,
            const std::vector<re2::StringPiece>& m) {
  const auto& names = re.NamedCapturingGroups();
  for (size_t i = 0; i < repl.size(); ++i) {
    if (repl[i] != '$' || i + 1 >= repl.size()) {
      out.push_back(repl[i]);
      continue;
    }
    if (repl[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    std::string_view name;
    size_t next;
    auto is_word = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    };
    if (repl[i + 1] == '{') {
      size_t close = repl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out.push_back('$');
        continue;
      }
      name = repl.substr(i + 2, close - i - 2);
      bool valid = !name.empty();
      for (char c : name) valid = valid && is_word(c);
      if (!valid) {
        out.push_back('$');
        continue;
      }
      next = close + 1;
    } else {
      size_t j = i + 1;
      while (j < repl.size() && is_word(repl[j])) ++j;
      if (j == i + 1) {
        out.push_back('$');
        continue;
      }
      name = repl.substr(i + 1, j - i - 1);
      next = j;
    }
    int index = -1;
    bool numeric = true;
    for (char c : name) numeric = numeric && c >= '0' && c <= '9';
    if (numeric) {
      index = name.size() < 6 ? std::stoi(std::string(name)) : -1;
    } else {
      auto it = names.find(std::string(name));
      if (it != names.end()) index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < m.size() && m[index].data() != nullptr) {
      out.append(m[index].data(), m[index].size());
    }
    i = next - 1;
  }
}

BuiltinResult regex_replace(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "regex.replace";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view pattern, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(std::string_view repl, arg_string(kName, args, 3));
  EC_ASSIGN_OR_RETURN(auto re, compile(ctx, kName, pattern));
  std::string out;
  size_t last = 0;
  for (const auto& m : find_all(*re, s, -1)) {
    size_t start = static_cast<size_t>(m[0].data() - s.data());
    out += s.substr(last, start - last);
    expand(out, repl, *re, m);
    last = start + m[0].size();
    if (out.size() > (size_t{64} << 20)) return builtin_error(kName, "result too large");
  }
  out += s.substr(last);
  return ok(Value::string(std::move(out)));
}

// Escapes regex meta characters (Go's regexp.QuoteMeta).
std::string quote_meta(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

BuiltinResult template_match(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "regex.template_match";
  EC_ASSIGN_OR_RETURN(std::string_view tmpl, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view value, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(std::string_view open, arg_string(kName, args, 3));
  EC_ASSIGN_OR_RETURN(std::string_view close, arg_string(kName, args, 4));
  if (open.empty() || close.empty()) return builtin_error(kName, "delimiters must not be empty");
  // Literal text is quoted; text between (possibly nested) delimiters is a regex.
  std::string pattern = "^";
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t start = tmpl.find(open, i);
    if (start == std::string_view::npos) {
      pattern += quote_meta(tmpl.substr(i));
      break;
    }
    pattern += quote_meta(tmpl.substr(i, start - i));
    int level = 0;
    size_t j = start;
    size_t end = std::string_view::npos;
    while (j < tmpl.size()) {
      if (tmpl.substr(j, open.size()) == open) {
        ++level;
        j += open.size();
      } else if (tmpl.substr(j, close.size()) == close) {
        if (--level == 0) {
          end = j;
          break;
        }
        j += close.size();
      } else {
        ++j;
      }
    }
    if (end == std::string_view::npos) {
      return builtin_error(kName, "unbalanced braces in template: " + std::string(tmpl));
    }
    pattern += "(";
    pattern += tmpl.substr(start + open.size(), end - start - open.size());
    pattern += ")";
    i = end + close.size();
  }
  pattern += "$";
  EC_ASSIGN_OR_RETURN(auto re, compile(ctx, kName, pattern));
  return ok(Value::boolean(RE2::PartialMatch(re2::StringPiece(value.data(), value.size()), *re)));
}

}  // namespace

void register_regex_builtins(BuiltinRegistry& r) {
  r.add("regex.match", 2, regex_match);
  r.add("re_match", 2, re_match);
  r.add("regex.is_valid", 1, is_valid);
  r.add("regex.split", 2, regex_split);
  r.add("regex.find_n", 3, find_n);
  r.add("regex.find_all_string_submatch_n", 3, find_all_submatch);
  r.add("regex.replace", 3, regex_replace);
  r.add("regex.template_match", 4, template_match);
}

}  // namespace policy::builtins
