#include "policy/parser.h"

#include <charconv>
#include <cmath>
#include <set>

#include "policy/annotations.h"
#include "policy/parser_impl.h"

namespace policy {
namespace internal {

base::Result<ModuleAst> Parser::module() {
  ModuleAst m;
  m.file = std::string(file_);
  if (!is_ident("package")) return error("expected package declaration");
  m.package_loc = cur().loc;
  advance();
  EC_ASSIGN_OR_RETURN(TermPtr pkg, parse_ref_path());
  for (auto& t : pkg->items)
    m.package.push_back(t->kind == TermKind::kVar ? t->name : t->value.as_string());
  while (!at(Tok::kEof)) {
    if (is_ident("import") && peek_kind(1) == Tok::kIdent) {
      EC_RETURN_IF_ERROR(parse_import(m));
      continue;
    }
    EC_ASSIGN_OR_RETURN(RulePtr r, parse_rule());
    m.rules.push_back(std::move(r));
  }
  return m;
}

bool Parser::is_reserved(std::string_view s) const {
  static const std::set<std::string, std::less<>> always = {
      "not", "with", "as", "default", "else", "some", "package", "import", "true", "false", "null"};
  if (always.count(s)) return true;
  return (s == "if" || s == "contains" || s == "in" || s == "every" || s == "and" || s == "or") &&
         keyword_on(s);
}

base::Result<TermPtr> Parser::parse_ref_path() {
  // name(.name | [string])*, keywords allowed after the first segment.
  if (!at(Tok::kIdent)) {
    return error(at(Tok::kEof) ? "unexpected eof token: expected ident" : "expected name");
  }
  auto ref = make_term(TermKind::kRef, cur().loc);
  ref->items.push_back(make_var(cur().text, cur().loc));
  advance();
  while (true) {
    if (at(Tok::kDot) && !cur().space_before && peek_kind(1) == Tok::kIdent) {
      advance();
      ref->items.push_back(make_scalar(Value::string(cur().text), cur().loc));
      advance();
    } else if (at(Tok::kLBrack) && !cur().space_before &&
               (peek_kind(1) == Tok::kString || peek_kind(1) == Tok::kRawString) &&
               peek_kind(2) == Tok::kRBrack) {
      advance();
      ref->items.push_back(make_scalar(Value::string(cur().text), cur().loc));
      advance();
      advance();
    } else if (at(Tok::kDot) && !cur().space_before) {
      advance();
      return error(at(Tok::kEof) ? "unexpected eof token: expected ident"
                                 : "unexpected token: expected ident");
    } else {
      break;
    }
  }
  return ref;
}

base::Status Parser::parse_import(ModuleAst& m) {
  Import imp;
  imp.loc = cur().loc;
  advance();
  EC_ASSIGN_OR_RETURN(imp.path, parse_ref_path());
  if (is_ident("as") && !cur().newline_before) {
    advance();
    if (!at(Tok::kIdent)) return error("expected alias name");
    imp.alias = cur().text;
    advance();
  }
  const auto& items = imp.path->items;
  std::string head = items[0]->name;
  if (head == "future" && items.size() >= 2 && items[1]->value.is_string() &&
      items[1]->value.as_string() == "keywords") {
    if (items.size() == 2) {
      for (const char* k : {"if", "contains", "in", "every"}) keywords_.insert(k);
    } else {
      keywords_.insert(items[2]->value.as_string());
    }
    return base::Status::ok();
  }
  if (head == "rego" && items.size() == 2 && items[1]->value.as_string() == "v1") {
    for (const char* k : {"if", "contains", "in", "every"}) keywords_.insert(k);
    saw_rego_v1_ = true;
    return base::Status::ok();
  }
  if (head != "data" && head != "input") {
    return error_at(imp.loc, "unexpected import path, must begin with one of: {data, input}");
  }
  m.imports.push_back(std::move(imp));
  return base::Status::ok();
}

base::Result<RulePtr> Parser::parse_rule() {
  auto rule = std::make_shared<Rule>();
  rule->loc = cur().loc;
  rule->file = std::string(file_);
  if (is_ident("default") && peek_kind(1) == Tok::kIdent && !dot_follows()) {
    rule->is_default = true;
    advance();
  }
  if (!at(Tok::kIdent)) return error("unexpected token, expected rule");
  // Head ref.
  rule->head.push_back(make_var(cur().text, cur().loc));
  advance();
  while (!cur().space_before || at(Tok::kDot)) {
    if (at(Tok::kDot) && peek_kind(1) == Tok::kIdent) {
      advance();
      rule->head.push_back(make_scalar(Value::string(cur().text), cur().loc));
      advance();
    } else if (at(Tok::kLBrack) && !cur().space_before) {
      advance();
      EC_ASSIGN_OR_RETURN(TermPtr k, parse_in(false));
      rule->head.push_back(std::move(k));
      EC_RETURN_IF_ERROR(expect(Tok::kRBrack, "]"));
    } else {
      break;
    }
  }
  if (at(Tok::kLParen) && !cur().space_before) {
    rule->kind = RuleKind::kFunction;
    advance();
    EC_RETURN_IF_ERROR(parse_args(rule->args, "expected , or )"));
  }
  if (is_kw("contains")) {
    if (rule->kind == RuleKind::kFunction) return error("function cannot use contains");
    advance();
    rule->kind = RuleKind::kPartialSet;
    EC_ASSIGN_OR_RETURN(rule->key, parse_in(false));
  } else if (at(Tok::kUnify) || at(Tok::kAssign)) {
    rule->assign = at(Tok::kAssign);
    advance();
    EC_ASSIGN_OR_RETURN(rule->value, parse_in(false));
  } else if (!v1_ && rule->kind != RuleKind::kFunction && rule->head.size() == 2 &&
             !rule->is_default) {
    // v0 `p[x] { ... }`: partial set.
    rule->kind = RuleKind::kPartialSet;
    rule->key = rule->head[1];
    rule->head.pop_back();
  }
  if (rule->is_default) {
    if (!rule->value) return error_at(rule->loc, "default rule must have a value");
    return rule;
  }
  bool has_body = false;
  EC_RETURN_IF_ERROR(parse_rule_body(*rule, has_body));
  if (!has_body && !rule->value && rule->kind != RuleKind::kPartialSet) {
    return error_at(rule->loc, "rule must have a value or a body");
  }
  if (!has_body && rule->kind == RuleKind::kPartialSet && !v1_ && !rule->value &&
      keywords_.count("contains") == 0) {
    return error_at(rule->loc, "partial set rule needs a body");
  }
  // else chain.
  Rule* last = rule.get();
  while (is_ident("else") && !dot_follows()) {
    Location loc = cur().loc;
    advance();
    auto e = std::make_shared<Rule>();
    e->loc = loc;
    e->file = rule->file;
    e->kind = rule->kind;
    e->head = rule->head;
    e->args = rule->args;
    if (at(Tok::kUnify) || at(Tok::kAssign)) {
      e->assign = at(Tok::kAssign);
      advance();
      EC_ASSIGN_OR_RETURN(e->value, parse_in(false));
    }
    bool eb = false;
    EC_RETURN_IF_ERROR(parse_rule_body(*e, eb));
    if (!eb) {
      if (!e->value) return error_at(loc, "else must have a value or a body");
      e->body.push_back(true_expr(loc));
    }
    last->else_rule = e;
    last = e.get();
  }
  return rule;
}

base::Status Parser::parse_rule_body(Rule& rule, bool& has_body) {
  if (is_kw("if")) {
    advance();
    has_body = true;
    if (at(Tok::kLBrace)) {
      // Either a body block or a single literal starting with an object/set term.
      size_t save = pos_;
      advance();
      auto b = parse_literals(Tok::kRBrace);
      if (b.is_ok() && at(Tok::kRBrace)) {
        advance();
        if (!is_binary_op_here()) {
          rule.body = std::move(b).value();
          if (rule.body.empty()) return error_at(toks_[save].loc, "found empty body");
          return base::Status::ok();
        }
      }
      pos_ = save;
    }
    EC_ASSIGN_OR_RETURN(Expr e, parse_literal_or());
    rule.body.push_back(std::move(e));
    return base::Status::ok();
  }
  if (at(Tok::kLBrace)) {
    if (v1_) return error("`if` keyword is required before rule body");
    advance();
    EC_ASSIGN_OR_RETURN(rule.body, parse_literals(Tok::kRBrace));
    EC_RETURN_IF_ERROR(expect(Tok::kRBrace, "}"));
    if (rule.body.empty()) return error("found empty body");
    has_body = true;
    return base::Status::ok();
  }
  rule.body.push_back(true_expr(rule.loc));
  return base::Status::ok();
}

bool Parser::is_binary_op_here() const {
  switch (cur().kind) {
    case Tok::kEq:
    case Tok::kNeq:
    case Tok::kLt:
    case Tok::kLte:
    case Tok::kGt:
    case Tok::kGte:
    case Tok::kPlus:
    case Tok::kStar:
    case Tok::kSlash:
    case Tok::kPercent:
    case Tok::kPipe:
    case Tok::kAmp:
    case Tok::kUnify:
    case Tok::kAssign:
      return !cur().newline_before;
    default:
      return false;
  }
}

base::Result<Body> Parser::parse_literals(Tok end) {
  Body body;
  while (!at(end)) {
    if (at(Tok::kEof)) return error("unexpected end of input");
    if (!body.empty() && !cur().newline_before && !prev_semi_) {
      return error("expected ; or newline between expressions");
    }
    prev_semi_ = false;
    EC_ASSIGN_OR_RETURN(Expr e, parse_literal_or());
    body.push_back(std::move(e));
    if (at(Tok::kSemi)) {
      advance();
      prev_semi_ = true;
    }
  }
  prev_semi_ = false;
  return body;
}

base::Result<Expr> Parser::parse_literal_or() {
  EC_ASSIGN_OR_RETURN(Expr lhs, parse_literal_and());
  while (is_kw("or")) {
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(Expr rhs, parse_literal_and(/*after_op=*/true));
    lhs = combine(ExprKind::kOr, loc, std::move(lhs), std::move(rhs));
  }
  if (lhs.kind == ExprKind::kTerm && !lhs.term && lhs.body) {
    // A bare `{ ... }` / `( ... )` group: a test of its body.
    Expr t = true_expr(lhs.loc);
    lhs = combine(ExprKind::kAnd, lhs.loc, std::move(lhs), std::move(t));
  }
  return lhs;
}

base::Result<Expr> Parser::parse_literal_and(bool after_op) {
  EC_ASSIGN_OR_RETURN(Expr lhs, parse_logic_operand(after_op));
  while (is_kw("and")) {
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(Expr rhs, parse_logic_operand(true));
    lhs = combine(ExprKind::kAnd, loc, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

Expr Parser::combine(ExprKind k, Location loc, Expr lhs, Expr rhs) {
  Expr e;
  e.kind = k;
  e.loc = loc;
  // `a and b with m`: the modifiers of a plain last operand apply to the whole expression.
  if (!rhs.withs.empty() && !(rhs.kind == ExprKind::kTerm && !rhs.term)) {
    e.withs = std::move(rhs.withs);
    rhs.withs.clear();
  }
  e.body = to_body(std::move(lhs));
  e.rhs = to_body(std::move(rhs));
  return e;
}

base::Result<Expr> Parser::parse_logic_operand(bool after_op) {
  DepthGuard guard(depth_);
  if (depth_ > kMaxDepth) return error("expression nested too deeply");
  if (at(Tok::kLBrace) && (logic_on() || after_op)) {
    size_t save = pos_;
    Location loc = cur().loc;
    advance();
    auto b = parse_literals(Tok::kRBrace);
    if (b.is_ok() && at(Tok::kRBrace)) {
      advance();
      if (is_kw("and") || is_kw("or") || (after_op && !is_binary_op_here())) {
        Expr e;
        e.loc = loc;
        e.body = std::make_shared<Body>(std::move(b).value());
        return e;
      }
    }
    pos_ = save;
  }
  if (at(Tok::kLParen) && logic_on()) {
    size_t save = pos_;
    advance();
    auto inner = parse_literal_or();
    if (inner.is_ok() && at(Tok::kRParen) &&
        !(inner->kind == ExprKind::kTerm && inner->term && inner->withs.empty())) {
      advance();
      if (!is_binary_op_here() && !at(Tok::kDot) && !at(Tok::kLBrack)) {
        Expr e = std::move(inner).value();
        if (e.kind == ExprKind::kTerm) return e;  // explicit block inside parens
        Expr g;
        g.loc = e.loc;
        g.body = std::make_shared<Body>();
        g.body->push_back(std::move(e));
        return g;
      }
    }
    pos_ = save;
  }
  if (after_op) return parse_literal();
  return parse_literal();
}

base::Result<Expr> Parser::parse_literal() {
  Expr e;
  e.loc = cur().loc;
  if (is_ident("some") && !dot_follows() && peek_kind(1) != Tok::kLBrack) {
    advance();
    std::vector<TermPtr> terms;
    while (true) {
      EC_ASSIGN_OR_RETURN(TermPtr t, parse_rel(false));
      terms.push_back(std::move(t));
      if (at(Tok::kComma)) {
        advance();
        continue;
      }
      break;
    }
    if (is_kw("in")) {
      advance();
      if (terms.size() > 2) return error("unexpected , in some");
      e.kind = ExprKind::kSomeIn;
      EC_ASSIGN_OR_RETURN(e.domain, parse_rel(false));
      if (terms.size() == 2) e.key = terms[0];
      e.val = terms.back();
    } else {
      e.kind = ExprKind::kSome;
      for (auto& t : terms) {
        if (t->kind != TermKind::kVar) return error_at(t->loc, "expected var in some");
      }
      e.vars = std::move(terms);
    }
    return parse_withs(std::move(e));
  }
  if (is_kw("every")) {
    advance();
    e.kind = ExprKind::kEvery;
    EC_ASSIGN_OR_RETURN(TermPtr a, parse_rel(false));
    if (at(Tok::kComma)) {
      advance();
      e.key = a;
      EC_ASSIGN_OR_RETURN(a, parse_rel(false));
    }
    e.val = a;
    if (!is_kw("in")) return error("expected `in` in every");
    advance();
    EC_ASSIGN_OR_RETURN(e.domain, parse_rel(false));
    EC_RETURN_IF_ERROR(expect(Tok::kLBrace, "{"));
    EC_ASSIGN_OR_RETURN(Body b, parse_literals(Tok::kRBrace));
    advance();
    e.body = std::make_shared<Body>(std::move(b));
    return parse_withs(std::move(e));
  }
  if (is_ident("not") && !dot_follows() && peek_kind(1) != Tok::kLBrack) {
    advance();
    e.kind = ExprKind::kNot;
    if ((logic_on() && at(Tok::kLParen)) || at(Tok::kLBrace)) {
      EC_ASSIGN_OR_RETURN(Expr inner, parse_logic_operand(true));
      e.body = to_body(std::move(inner));
      return parse_withs(std::move(e));
    }
    EC_ASSIGN_OR_RETURN(Expr inner, parse_literal_expr());
    e.body = std::make_shared<Body>();
    // `with` after `not x` applies to the negation as a whole.
    e.withs = std::move(inner.withs);
    inner.withs.clear();
    e.body->push_back(std::move(inner));
    return e;
  }
  return parse_literal_expr();
}

base::Result<Expr> Parser::parse_literal_expr() {
  Expr e;
  e.loc = cur().loc;
  EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_in(false));
  if (at(Tok::kComma) && keyword_on("in")) {
    // `k, v in xs`
    size_t save = pos_;
    advance();
    auto v = parse_rel(false);
    if (v.is_ok() && is_kw("in")) {
      advance();
      EC_ASSIGN_OR_RETURN(TermPtr dom, parse_rel(false));
      auto call = make_term(TermKind::kCall, lhs->loc);
      call->items = {make_var("internal.member_3", lhs->loc), lhs, v.value(), dom};
      lhs = call;
    } else {
      pos_ = save;
    }
  }
  if (at(Tok::kUnify) || at(Tok::kAssign)) {
    std::string op = at(Tok::kUnify) ? "eq" : "assign";
    Location loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_in(false));
    auto call = make_term(TermKind::kCall, loc);
    call->items = {make_var(op, loc), lhs, rhs};
    lhs = call;
  }
  e.term = lhs;
  return parse_withs(std::move(e));
}

base::Result<Expr> Parser::parse_withs(Expr e) {
  while (is_ident("with") && !dot_follows()) {
    advance();
    WithMod w;
    EC_ASSIGN_OR_RETURN(w.target, parse_term(true));
    if (!is_ident("as")) return error("expected `as` in with");
    advance();
    EC_ASSIGN_OR_RETURN(w.value, parse_in(false));
    e.withs.push_back(std::move(w));
  }
  return e;
}

}  // namespace internal

namespace {

base::Result<ModuleAst> parse_with(std::string_view filename, std::vector<Token> toks, bool v1) {
  internal::Parser p(filename, std::move(toks), v1);
  return p.module();
}

bool has_future_keywords_import(const std::vector<Token>& toks) {
  for (size_t i = 0; i + 3 < toks.size(); ++i) {
    if (toks[i].kind == Tok::kIdent && toks[i].text == "import" && toks[i + 1].text == "future" &&
        toks[i + 2].kind == Tok::kDot && toks[i + 3].text == "keywords") {
      return true;
    }
  }
  return false;
}

bool has_rego_v1_import(const std::vector<Token>& toks) {
  for (size_t i = 0; i + 3 < toks.size(); ++i) {
    if (toks[i].kind == Tok::kIdent && toks[i].text == "import" && toks[i + 1].text == "rego" &&
        toks[i + 2].kind == Tok::kDot && toks[i + 3].text == "v1") {
      return true;
    }
  }
  return false;
}

}  // namespace

namespace {
base::Result<ModuleAst> parse_module_syntax(std::string_view filename, std::string_view source,
                                            Syntax syntax);
}  // namespace

base::Result<ModuleAst> parse_module(std::string_view filename, std::string_view source,
                                     Syntax syntax) {
  auto m = parse_module_syntax(filename, source, syntax);
  if (!m.is_ok() || source.find("METADATA") == std::string_view::npos) return m;
  auto ann = find_annotations(source);
  if (auto it = ann.find(m->package_loc.line); it != ann.end()) {
    // A block above `package` is scoped to the package unless it says "subpackages".
    std::vector<ObjectItem> items;
    for (const auto& [k, v] : it->second.object_items()) {
      bool rule_scope =
          k.is_string() && k.as_string() == "scope" && v.is_string() && v.as_string() == "rule";
      items.emplace_back(k, rule_scope ? Value::string("package") : v);
    }
    m->package_annotations = Value::object(std::move(items));
  }
  for (auto& r : m->rules) {
    auto it = ann.find(r->loc.line);
    if (it == ann.end()) continue;
    for (Rule* e = r.get(); e; e = e->else_rule.get()) e->annotations = it->second;
  }
  return m;
}

namespace {
base::Result<ModuleAst> parse_module_syntax(std::string_view filename, std::string_view source,
                                            Syntax syntax) {
  EC_ASSIGN_OR_RETURN(std::vector<Token> toks, tokenize(filename, source));
  if (syntax == Syntax::kV1) return parse_with(filename, std::move(toks), true);
  if (syntax == Syntax::kV0) return parse_with(filename, std::move(toks), false);
  // `import future.keywords...` without `import rego.v1` marks a module written for OPA 0.x,
  // where e.g. `deny[msg] if { ... }` is a partial set (in v1 it would be an object).
  if (!has_rego_v1_import(toks) && has_future_keywords_import(toks)) {
    auto v0 = parse_with(filename, toks, false);
    if (v0.is_ok()) return v0;
  }
  auto v1 = parse_with(filename, toks, true);
  if (v1.is_ok() || has_rego_v1_import(toks)) return v1;
  auto v0 = parse_with(filename, std::move(toks), false);
  if (v0.is_ok()) return v0;
  return v1;
}
}  // namespace

base::Result<Body> parse_query(std::string_view source) {
  EC_ASSIGN_OR_RETURN(std::vector<Token> toks, tokenize("query", source));
  internal::Parser p("query", std::move(toks), true);
  return p.query();
}

}  // namespace policy
