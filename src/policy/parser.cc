#include "policy/parser.h"

#include <charconv>
#include <cmath>
#include <set>

namespace policy {
namespace {

class Parser {
 public:
  Parser(std::string_view file, std::vector<Token> toks, bool v1)
      : file_(file), toks_(std::move(toks)), v1_(v1) {
    if (v1) keywords_ = {"if", "contains", "in", "every"};
  }

  base::Result<ModuleAst> module() {
    ModuleAst m;
    m.file = std::string(file_);
    if (!is_ident("package")) return error("expected package declaration");
    m.package_loc = cur().loc;
    advance();
    EC_ASSIGN_OR_RETURN(TermPtr pkg, parse_ref_path());
    for (auto& t : pkg->items) m.package.push_back(t->kind == TermKind::kVar ? t->name
                                                                              : t->value.as_string());
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

  base::Result<Body> query() {
    EC_ASSIGN_OR_RETURN(Body b, parse_literals(Tok::kEof));
    if (b.empty()) return error("empty query");
    return b;
  }

 private:
  // --- token helpers ---
  const Token& cur() const { return toks_[pos_]; }
  Tok peek_kind(size_t k) const {
    return pos_ + k < toks_.size() ? toks_[pos_ + k].kind : Tok::kEof;
  }
  const Token& peek_tok(size_t k) const {
    return pos_ + k < toks_.size() ? toks_[pos_ + k] : toks_.back();
  }
  bool at(Tok k) const { return cur().kind == k; }
  void advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
    ++work_;
  }
  bool is_ident(std::string_view s) const { return at(Tok::kIdent) && cur().text == s; }
  bool is_kw(std::string_view s) const { return is_ident(s) && keyword_on(s) && !dot_follows(); }
  // `every.foo`: a keyword directly followed by `.name` is a ref, not a keyword.
  bool dot_follows() const {
    return peek_kind(1) == Tok::kDot && !peek_tok(1).space_before && peek_kind(2) == Tok::kIdent;
  }
  bool keyword_on(std::string_view s) const {
    if (s == "if" || s == "contains" || s == "in" || s == "every" || s == "and" || s == "or") {
      return keywords_.count(std::string(s)) > 0;
    }
    return true;
  }
  bool is_reserved(std::string_view s) const {
    static const std::set<std::string, std::less<>> always = {
        "not", "with", "as", "default", "else", "some", "package", "import",
        "true", "false", "null"};
    if (always.count(s)) return true;
    return (s == "if" || s == "contains" || s == "in" || s == "every" || s == "and" ||
            s == "or") &&
           keyword_on(s);
  }
  base::Status error(std::string msg) const { return error_at(cur().loc, std::move(msg)); }
  base::Status error_at(Location loc, std::string msg) const {
    return base::invalid_argument(std::string(file_) + ":" + std::to_string(loc.line) + ":" +
                                      std::to_string(loc.col) + ": rego_parse_error: " + msg,
                                  "rego_parse_error");
  }
  base::Status expect(Tok k, std::string_view what) {
    if (!at(k)) return error("expected " + std::string(what));
    advance();
    return base::Status::ok();
  }

  // --- module level ---
  base::Result<TermPtr> parse_ref_path() {
    // name(.name | [string])*, keywords allowed after the first segment.
    if (!at(Tok::kIdent)) return error("expected name");
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
      } else {
        break;
      }
    }
    return ref;
  }

  base::Status parse_import(ModuleAst& m) {
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

  base::Result<RulePtr> parse_rule() {
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
      while (!at(Tok::kRParen)) {
        EC_ASSIGN_OR_RETURN(TermPtr a, parse_in(false));
        rule->args.push_back(std::move(a));
        if (at(Tok::kComma)) {
          advance();
        } else if (!at(Tok::kRParen)) {
          return error("expected , or )");
        }
      }
      advance();
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

  Expr true_expr(Location loc) {
    Expr e;
    e.loc = loc;
    e.term = make_scalar(Value::boolean(true), loc);
    return e;
  }

  base::Status parse_rule_body(Rule& rule, bool& has_body) {
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

  bool is_binary_op_here() const {
    switch (cur().kind) {
      case Tok::kEq: case Tok::kNeq: case Tok::kLt: case Tok::kLte: case Tok::kGt:
      case Tok::kGte: case Tok::kPlus: case Tok::kStar: case Tok::kSlash:
      case Tok::kPercent: case Tok::kPipe: case Tok::kAmp: case Tok::kUnify:
      case Tok::kAssign:
        return !cur().newline_before;
      default: return false;
    }
  }

  // --- bodies ---
  // Literals until `end` (not consumed). Separated by ';' or newlines.
  base::Result<Body> parse_literals(Tok end) {
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

  // literal (or literal)*, with `and` binding tighter.
  base::Result<Expr> parse_literal_or() {
    EC_ASSIGN_OR_RETURN(Expr lhs, parse_literal_and());
    while (is_kw("or")) {
      Location loc = cur().loc;
      advance();
      EC_ASSIGN_OR_RETURN(Expr rhs, parse_literal_and_rhs());
      lhs = combine(ExprKind::kOr, loc, std::move(lhs), std::move(rhs));
    }
    if (lhs.kind == ExprKind::kTerm && !lhs.term && lhs.body) {
      // A bare `{ ... }` / `( ... )` group: a test of its body.
      Expr t = true_expr(lhs.loc);
      lhs = combine(ExprKind::kAnd, lhs.loc, std::move(lhs), std::move(t));
    }
    return lhs;
  }
  base::Result<Expr> parse_literal_and() {
    EC_ASSIGN_OR_RETURN(Expr lhs, parse_logic_operand());
    while (is_kw("and")) {
      Location loc = cur().loc;
      advance();
      EC_ASSIGN_OR_RETURN(Expr rhs, parse_logic_operand(true));
      lhs = combine(ExprKind::kAnd, loc, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }
  base::Result<Expr> parse_literal_and_rhs() {
    EC_ASSIGN_OR_RETURN(Expr lhs, parse_logic_operand(true));
    while (is_kw("and")) {
      Location loc = cur().loc;
      advance();
      EC_ASSIGN_OR_RETURN(Expr rhs, parse_logic_operand(true));
      lhs = combine(ExprKind::kAnd, loc, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }
  Expr combine(ExprKind k, Location loc, Expr lhs, Expr rhs) {
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
  BodyPtr to_body(Expr e) {
    if (e.kind == ExprKind::kTerm && !e.term && e.body) return e.body;  // explicit block
    auto b = std::make_shared<Body>();
    b->push_back(std::move(e));
    return b;
  }
  bool logic_on() const { return keywords_.count("and") || keywords_.count("or"); }

  // An operand of and/or/not: an explicit `{ body }`, a parenthesized group, or a literal.
  base::Result<Expr> parse_logic_operand(bool after_op = false) {
    struct DepthGuard {
      int& d;
      explicit DepthGuard(int& depth) : d(depth) { ++d; }
      ~DepthGuard() { --d; }
    } guard(depth_);
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

  base::Result<Expr> parse_literal() {
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

  base::Result<Expr> parse_literal_expr() {
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

  base::Result<Expr> parse_withs(Expr e) {
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

  // --- terms ---
  TermPtr call2(std::string op, Location loc, TermPtr a, TermPtr b) {
    auto c = make_term(TermKind::kCall, loc);
    c->items = {make_var(std::move(op), loc), std::move(a), std::move(b)};
    return c;
  }

  bool op_continues() const { return true; }

  base::Result<TermPtr> parse_in(bool no_pipe) {
    // Bounds recursion on hostile input (deeply nested terms).
    struct DepthGuard {
      int& d;
      explicit DepthGuard(int& depth) : d(depth) { ++d; }
      ~DepthGuard() { --d; }
    } guard(depth_);
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

  base::Result<TermPtr> parse_rel(bool no_pipe) {
    EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_bor(no_pipe));
    while (true) {
      const char* op = nullptr;
      switch (cur().kind) {
        case Tok::kEq: op = "equal"; break;
        case Tok::kNeq: op = "neq"; break;
        case Tok::kLt: op = "lt"; break;
        case Tok::kLte: op = "lte"; break;
        case Tok::kGt: op = "gt"; break;
        case Tok::kGte: op = "gte"; break;
        default: break;
      }
      if (!op) return lhs;
      Location loc = cur().loc;
      advance();
      EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_bor(no_pipe));
      lhs = call2(op, loc, lhs, rhs);
    }
  }

  base::Result<TermPtr> parse_bor(bool no_pipe) {
    EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_band());
    while (at(Tok::kPipe) && !no_pipe) {
      Location loc = cur().loc;
      advance();
      EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_band());
      lhs = call2("or", loc, lhs, rhs);
    }
    return lhs;
  }

  base::Result<TermPtr> parse_band() {
    EC_ASSIGN_OR_RETURN(TermPtr lhs, parse_arith());
    while (at(Tok::kAmp)) {
      Location loc = cur().loc;
      advance();
      EC_ASSIGN_OR_RETURN(TermPtr rhs, parse_arith());
      lhs = call2("and", loc, lhs, rhs);
    }
    return lhs;
  }

  base::Result<TermPtr> parse_arith() {
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

  base::Result<TermPtr> parse_factor() {
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

  base::Result<TermPtr> parse_unary() {
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

  base::Result<Value> number_value(const std::string& text) {
    bool integral = text.find_first_of(".eE") == std::string::npos;
    if (integral) {
      int64_t i;
      auto r = std::from_chars(text.data(), text.data() + text.size(), i);
      if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return Value::integer(i);
    }
    double d = std::strtod(text.c_str(), nullptr);
    if (std::isinf(d) || std::isnan(d)) return error("number too large");
    if (!integral && std::trunc(d) == d && std::fabs(d) < 9e18) {
      return Value::integer(static_cast<int64_t>(d));
    }
    return Value::number(d);
  }

  // A primary term with ref/call suffixes. `ref_only`: for `with` targets.
  base::Result<TermPtr> parse_term(bool ref_only) {
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
        while (!at(Tok::kRParen)) {
          EC_ASSIGN_OR_RETURN(TermPtr a, parse_in(false));
          call->items.push_back(std::move(a));
          if (at(Tok::kComma)) {
            advance();
          } else if (!at(Tok::kRParen)) {
            return error("expected , or ) in call");
          }
        }
        advance();
        t = call;
      } else {
        return t;
      }
    }
  }

  TermPtr extend_ref(TermPtr t, TermPtr op) {
    if (t->kind == TermKind::kRef) {
      auto r = std::make_shared<Term>(*t);
      r->items.push_back(std::move(op));
      return r;
    }
    auto r = make_term(TermKind::kRef, t->loc);
    r->items = {std::move(t), std::move(op)};
    return r;
  }

  base::Result<TermPtr> parse_primary() {
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
      case Tok::kTemplate: return parse_template();
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
        if (is_reserved(name) &&
            !(peek_kind(1) == Tok::kLParen && !peek_tok(1).space_before &&
              (name == "contains" || name == "in" || name == "if" || name == "every" ||
               name == "and" || name == "or"))) {
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
      case Tok::kLBrack: return parse_array();
      case Tok::kLBrace: return parse_brace();
      default: return error("unexpected token");
    }
  }

  base::Result<TermPtr> parse_array() {
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

  base::Result<TermPtr> parse_brace() {
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

  // $"text {expr} text": literal parts and expressions alternate in items (literal strings
  // are scalars; expressions are any term). `\{` escapes a brace in $"..." strings.
  base::Result<TermPtr> parse_template() {
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
          case 'n': lit += '\n'; break;
          case 't': lit += '\t'; break;
          case 'r': lit += '\r'; break;
          case '"': lit += '"'; break;
          case '\\': lit += '\\'; break;
          case '/': lit += '/'; break;
          case '{': lit += '{'; break;
          case '}': lit += '}'; break;
          default: lit += '\\'; lit += e; break;
        }
        continue;
      }
      if (c == '{') {
        int depth = 1;
        size_t j = i + 1;
        bool in_str = false;
        while (j < s.size() && depth > 0) {
          if (in_str) {
            if (s[j] == '\\') ++j;
            else if (s[j] == '"') in_str = false;
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

  std::string_view file_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  bool v1_;
  bool prev_semi_ = false;
  static constexpr int kMaxDepth = 256;
  int depth_ = 0;
  size_t work_ = 0;  // tokens consumed, counting re-parses after backtracking

 public:
  std::set<std::string> keywords_;
  bool saw_rego_v1_ = false;
};

base::Result<ModuleAst> parse_with(std::string_view filename, std::vector<Token> toks,
                                   bool v1) {
  Parser p(filename, std::move(toks), v1);
  return p.module();
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

base::Result<ModuleAst> parse_module(std::string_view filename, std::string_view source,
                                     Syntax syntax) {
  EC_ASSIGN_OR_RETURN(std::vector<Token> toks, tokenize(filename, source));
  if (syntax == Syntax::kV1) return parse_with(filename, std::move(toks), true);
  if (syntax == Syntax::kV0) return parse_with(filename, std::move(toks), false);
  auto v1 = parse_with(filename, toks, true);
  if (v1.is_ok() || has_rego_v1_import(toks)) return v1;
  auto v0 = parse_with(filename, std::move(toks), false);
  if (v0.is_ok()) return v0;
  return v1;
}

base::Result<Body> parse_query(std::string_view source) {
  EC_ASSIGN_OR_RETURN(std::vector<Token> toks, tokenize("query", source));
  Parser p("query", std::move(toks), true);
  return p.query();
}

}  // namespace policy
