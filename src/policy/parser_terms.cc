// Parser: terms, operators, collections, comprehensions and template strings.
#include <charconv>
#include <cmath>

#include "policy/parser_impl.h"

namespace policy::internal {

base::Status Parser::parse_args(std::vector<TermPtr>& out, std::string_view error_text) {
  while (!at(Tok::kRParen)) {
    EC_ASSIGN_OR_RETURN(TermPtr a, parse_in(false));
    out.push_back(std::move(a));
    if (at(Tok::kComma)) {
      advance();
    } else if (!at(Tok::kRParen)) {
      return error(std::string(error_text));
    }
  }
  advance();
  return base::Status::ok();
}

base::Result<TermPtr> Parser::parse_in(bool no_pipe) {
  // Bounds recursion on hostile input (deeply nested terms).
  DepthGuard guard(depth_);
  if (depth_ > kMaxDepth) return error("expression nested too deeply");
  // Speculative parses (blocks vs. objects, groups vs. parenthesized terms) backtrack; bound
  // the total work so hostile input cannot take exponential time.
  if (work_ > 64 * toks_.size() + 100000) return error("expression too complex");
  EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_rel(no_pipe));
  while (is_kw("in")) {
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_rel(no_pipe));
    lhs = call2("internal.member_2", loc, lhs, rhs);
  }
  return lhs;
}

base::Result<TermPtr> Parser::parse_rel(bool no_pipe) {
  EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_bor(no_pipe));
  while (true) {
    const char* op = nullptr;
    switch (cur().kind) {
      case Tok::kEq:
        op = "equal";
        break;
      case Tok::kNeq:
        op = "neq";
        break;
      case Tok::kLt:
        op = "lt";
        break;
      case Tok::kLte:
        op = "lte";
        break;
      case Tok::kGt:
        op = "gt";
        break;
      case Tok::kGte:
        op = "gte";
        break;
      default:
        break;
    }
    if (!op) return lhs;
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_bor(no_pipe));
    lhs = call2(op, loc, lhs, rhs);
  }
}

base::Result<TermPtr> Parser::parse_bor(bool no_pipe) {
  EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_band());
  while (at(Tok::kPipe) && !no_pipe) {
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_band());
    lhs = call2("or", loc, lhs, rhs);
  }
  return lhs;
}

base::Result<TermPtr> Parser::parse_band() {
  EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_arith());
  while (at(Tok::kAmp)) {
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_arith());
    lhs = call2("and", loc, lhs, rhs);
  }
  return lhs;
}

base::Result<TermPtr> Parser::parse_arith() {
  EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_factor());
  while ((at(Tok::kPlus) || at(Tok::kMinus)) && !cur().newline_before) {
    std::string op = at(Tok::kPlus) ? "plus" : "minus";
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_factor());
    lhs = call2(op, loc, lhs, rhs);
  }
  return lhs;
}

base::Result<TermPtr> Parser::parse_factor() {
  EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_unary());
  while (at(Tok::kStar) || at(Tok::kSlash) || at(Tok::kPercent)) {
    std::string op = at(Tok::kStar) ? "mul" : (at(Tok::kSlash) ? "div" : "rem");
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_unary());
    lhs = call2(op, loc, lhs, rhs);
  }
  return lhs;
}

base::Result<TermPtr> Parser::parse_unary() {
  if (at(Tok::kMinus) && peek_kind(1) == Tok::kNumber && !peek_tok(1).space_before) {
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(Value v, number_value("-" + cur().text));
    advance();
    return make_scalar(std::move(v), loc);
  }
  if (at(Tok::kMinus)) {
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr t, parse_unary());
    return call2("minus", loc, make_scalar(Value::integer(0), loc), t);
  }
  return parse_term(false);
}

base::Result<Value> Parser::number_value(const std::string& text) {
  bool integral = text.find_first_of(".eE") == std::string::npos;
  if (integral) {
    int64_t i;
    auto r = std::from_chars(text.data(), text.data() + text.size(), i);
    if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return Value::integer(i);
    // Beyond int64: exact, as OPA keeps integer literals.
    if (auto big = BigInt::parse(text)) return Value::big_integer(std::move(*big));
  }
  double d = std::strtod(text.c_str(), nullptr);
  if (std::isinf(d) || std::isnan(d)) return error("number too large");
  if (!integral && std::trunc(d) == d && std::fabs(d) < 9e18) {
    return Value::integer(static_cast<int64_t>(d));
  }
  return Value::number(d);
}

base::Result<TermPtr> Parser::parse_term(bool ref_only) {
  EC_ASSIGN_OR_RETURN(TermPtr t, parse_primary());
  while (true) {
    if (at(Tok::kDot) && !cur().newline_before && peek_kind(1) == Tok::kIdent) {
      advance();
      t = extend_ref(t, make_scalar(Value::string(cur().text), cur().loc));
      advance();
    } else if (at(Tok::kLBrack) && !cur().space_before) {
      advance();
      EC_ASSIGN_OR_RETURN(TermPtr k, parse_in(false));
      EC_RETURN_IF_ERROR(expect(Tok::kRBrack, "]"));
      t = extend_ref(t, k);
    } else if (at(Tok::kLParen) && !cur().space_before &&
               (t->kind == TermKind::kVar || t->kind == TermKind::kRef)) {
      Location loc = cur().loc;
      advance();
      auto call = make_term(TermKind::kCall, t->loc);
      call->loc = loc;
      call->loc = t->loc;
      call->items.push_back(t);
      EC_RETURN_IF_ERROR(parse_args(call->items, "expected , or ) in call"));
      t = call;
    } else {
      return t;
    }
  }
}

TermPtr Parser::extend_ref(TermPtr t, TermPtr op) {
  if (t->kind == TermKind::kRef) {
    auto r = std::make_shared<Term>(*t);
    r->items.push_back(std::move(op));
    return r;
  }
  auto r = make_term(TermKind::kRef, t->loc);
  r->items = {std::move(t), std::move(op)};
  return r;
}

base::Result<TermPtr> Parser::parse_primary() {
  const Token& tk = cur();
  Location loc = tk.loc;
  switch (tk.kind) {
    case Tok::kNumber: {
      EC_ASSIGN_OR_RETURN(Value v, number_value(tk.text));
      advance();
      return make_scalar(std::move(v), loc);
    }
    case Tok::kString:
    case Tok::kRawString: {
      auto t = make_scalar(Value::string(tk.text), loc);
      advance();
      return t;
    }
    case Tok::kTemplate:
      return parse_template();
    case Tok::kIdent: {
      std::string name = tk.text;
      if (dot_follows()) {
        advance();
        return make_var(name, loc);
      }
      if (name == "true" || name == "false") {
        advance();
        return make_scalar(Value::boolean(name == "true"), loc);
      }
      if (name == "null") {
        advance();
        return make_scalar(Value(), loc);
      }
      if (name == "set" && peek_kind(1) == Tok::kLParen && peek_kind(2) == Tok::kRParen) {
        advance();
        advance();
        advance();
        return make_term(TermKind::kSet, loc);
      }
      if (is_reserved(name) && !(peek_kind(1) == Tok::kLParen && !peek_tok(1).space_before &&
                                 (name == "contains" || name == "in" || name == "if" ||
                                  name == "every" || name == "and" || name == "or"))) {
        return error("unexpected " + name + " keyword");
      }
      advance();
      return make_var(name, loc);
    }
    case Tok::kLParen: {
      advance();
      EC_ASSIGN_OR_RETURN(TermPtr t, parse_in(false));
      if (at(Tok::kComma) && keyword_on("in")) {
        // (k, v in xs)
        advance();
        EC_ASSIGN_OR_RETURN(TermPtr v, parse_rel(false));
        if (!is_kw("in")) return error("expected in");
        advance();
        EC_ASSIGN_OR_RETURN(TermPtr dom, parse_rel(false));
        auto call = make_term(TermKind::kCall, t->loc);
        call->items = {make_var("internal.member_3", t->loc), t, v, dom};
        t = call;
      }
      EC_RETURN_IF_ERROR(expect(Tok::kRParen, ")"));
      return t;
    }
    case Tok::kLBrack:
      return parse_array();
    case Tok::kLBrace:
      return parse_brace();
    default:
      return error("unexpected token");
  }
}

base::Result<TermPtr> Parser::parse_array() {
  Location loc = cur().loc;
  advance();
  auto t = make_term(TermKind::kArray, loc);
  if (at(Tok::kRBrack)) {
    advance();
    return t;
  }
  EC_ASSIGN_OR_RETURN(TermPtr first, parse_in(true));
  if (at(Tok::kPipe)) {
    advance();
    t->kind = TermKind::kArrayCompr;
    t->head = first;
    EC_ASSIGN_OR_RETURN(Body b, parse_literals(Tok::kRBrack));
    advance();
    t->body = std::make_shared<Body>(std::move(b));
    return t;
  }
  t->items.push_back(first);
  while (at(Tok::kComma)) {
    advance();
    if (at(Tok::kRBrack)) break;
    EC_ASSIGN_OR_RETURN(TermPtr x, parse_in(false));
    t->items.push_back(std::move(x));
  }
  EC_RETURN_IF_ERROR(expect(Tok::kRBrack, "]"));
  return t;
}

base::Result<TermPtr> Parser::parse_brace() {
  Location loc = cur().loc;
  advance();
  if (at(Tok::kRBrace)) {
    advance();
    return make_term(TermKind::kObject, loc);
  }
  EC_ASSIGN_OR_RETURN(TermPtr first, parse_in(true));
  if (at(Tok::kColon)) {
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr v, parse_in(true));
    if (at(Tok::kPipe)) {
      advance();
      auto t = make_term(TermKind::kObjectCompr, loc);
      t->key = first;
      t->head = v;
      EC_ASSIGN_OR_RETURN(Body b, parse_literals(Tok::kRBrace));
      advance();
      t->body = std::make_shared<Body>(std::move(b));
      return t;
    }
    auto t = make_term(TermKind::kObject, loc);
    t->pairs.emplace_back(first, v);
    while (at(Tok::kComma)) {
      advance();
      if (at(Tok::kRBrace)) break;
      EC_ASSIGN_OR_RETURN(TermPtr k, parse_in(false));
      EC_RETURN_IF_ERROR(expect(Tok::kColon, ":"));
      EC_ASSIGN_OR_RETURN(TermPtr val, parse_in(false));
      t->pairs.emplace_back(k, val);
    }
    EC_RETURN_IF_ERROR(expect(Tok::kRBrace, "}"));
    return t;
  }
  if (at(Tok::kPipe)) {
    advance();
    auto t = make_term(TermKind::kSetCompr, loc);
    t->head = first;
    EC_ASSIGN_OR_RETURN(Body b, parse_literals(Tok::kRBrace));
    advance();
    t->body = std::make_shared<Body>(std::move(b));
    return t;
  }
  auto t = make_term(TermKind::kSet, loc);
  t->items.push_back(first);
  while (at(Tok::kComma)) {
    advance();
    if (at(Tok::kRBrace)) break;
    EC_ASSIGN_OR_RETURN(TermPtr x, parse_in(false));
    t->items.push_back(std::move(x));
  }
  EC_RETURN_IF_ERROR(expect(Tok::kRBrace, "}"));
  return t;
}

base::Result<TermPtr> Parser::parse_template() {
  const Token tk = cur();
  advance();
  auto t = make_term(TermKind::kTemplate, tk.loc);
  char q = tk.text[0];
  std::string_view s = std::string_view(tk.text).substr(1);
  std::string lit;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (q == '`' && c == '\\' && i + 1 < s.size() && s[i + 1] == '{') {
      lit += '{';
      i += 2;
      continue;
    }
    if (q == '"' && c == '\\' && i + 1 < s.size()) {
      char e = s[i + 1];
      i += 2;
      switch (e) {
        case 'n':
          lit += '\n';
          break;
        case 't':
          lit += '\t';
          break;
        case 'r':
          lit += '\r';
          break;
        case '"':
          lit += '"';
          break;
        case '\\':
          lit += '\\';
          break;
        case '/':
          lit += '/';
          break;
        case '{':
          lit += '{';
          break;
        case '}':
          lit += '}';
          break;
        default:
          lit += '\\';
          lit += e;
          break;
      }
      continue;
    }
    if (c == '{') {
      int depth = 1;
      size_t j = i + 1;
      bool in_str = false;
      while (j < s.size() && depth > 0) {
        if (in_str) {
          if (s[j] == '\\')
            ++j;
          else if (s[j] == '"')
            in_str = false;
        } else if (s[j] == '"') {
          in_str = true;
        } else if (s[j] == '{') {
          ++depth;
        } else if (s[j] == '}') {
          --depth;
        }
        ++j;
      }
      if (depth != 0) return error_at(tk.loc, "unterminated template expression");
      std::string inner(s.substr(i + 1, j - i - 2));
      if (q == '"') {
        // Inner quotes were escaped in the source text of a $"..." string.
        std::string un;
        for (size_t k = 0; k < inner.size(); ++k) {
          if (inner[k] == '\\' && k + 1 < inner.size() && inner[k + 1] == '"') continue;
          un += inner[k];
        }
        inner = un;
      }
      auto toks = tokenize(file_, inner);
      if (!toks.is_ok()) return error_at(tk.loc, "invalid template expression");
      Parser sub(file_, std::move(toks).value(), true);
      sub.keywords_ = keywords_;
      auto term = sub.parse_in(false);
      if (!term.is_ok()) return term.status();
      if (sub.is_ident("with")) {
        // {expr with m as v}: evaluated as a one-element array comprehension
        // [__tv | __tv = expr with ...] that the template unwraps.
        Expr e;
        e.loc = term.value()->loc;
        auto tv = make_var("__template_value", e.loc);
        auto eq = make_term(TermKind::kCall, e.loc);
        eq->items = {make_var("eq", e.loc), tv, term.value()};
        e.term = eq;
        auto withs = sub.parse_withs(std::move(e));
        if (!withs.is_ok()) return withs.status();
        auto compr = make_term(TermKind::kArrayCompr, e.loc);
        compr->head = make_var("__template_value", e.loc);
        compr->body = std::make_shared<Body>();
        compr->body->push_back(std::move(withs).value());
        compr->template_unwrap = true;
        term = compr;
      }
      if (!sub.at(Tok::kEof)) return error_at(tk.loc, "invalid template expression");
      t->items.push_back(make_scalar(Value::string(lit), tk.loc));
      lit.clear();
      t->items.push_back(std::move(term).value());
      i = j;
      continue;
    }
    lit += c;
    ++i;
  }
  t->items.push_back(make_scalar(Value::string(lit), tk.loc));
  return t;
}

}  // namespace policy::internal
