// The Rego parser class, shared by parser.cc (modules, rules, bodies) and parser_terms.cc
// (terms, operators, templates). Internal to src/policy.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/parser.h"

namespace policy::internal {

class Parser {
 public:
  Parser(std::string_view file, std::vector<Token> toks, bool v1)
      : file_(file), toks_(std::move(toks)), v1_(v1) {
    if (v1) keywords_ = {"if", "contains", "in", "every"};
  }

  base::Result<ModuleAst> module();

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
  bool is_reserved(std::string_view s) const;
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
  base::Result<TermPtr> parse_ref_path();

  base::Status parse_import(ModuleAst& m);

  base::Result<RulePtr> parse_rule();

  Expr true_expr(Location loc) {
    Expr e;
    e.loc = loc;
    e.term = make_scalar(Value::boolean(true), loc);
    return e;
  }

  base::Status parse_rule_body(Rule& rule, bool& has_body);

  bool is_binary_op_here() const;

  // --- bodies ---
  // Literals until `end` (not consumed). Separated by ';' or newlines.
  base::Result<Body> parse_literals(Tok end);

  // literal (or literal)*, with `and` binding tighter.
  base::Result<Expr> parse_literal_or();
  // operand (and operand)*; `after_op` when it follows an `or` (see parse_logic_operand).
  base::Result<Expr> parse_literal_and(bool after_op = false);
  Expr combine(ExprKind k, Location loc, Expr lhs, Expr rhs);
  BodyPtr to_body(Expr e) {
    if (e.kind == ExprKind::kTerm && !e.term && e.body) return e.body;  // explicit block
    auto b = std::make_shared<Body>();
    b->push_back(std::move(e));
    return b;
  }
  bool logic_on() const { return keywords_.count("and") || keywords_.count("or"); }

  // An operand of and/or/not: an explicit `{ body }`, a parenthesized group, or a literal.
  base::Result<Expr> parse_logic_operand(bool after_op = false);

  base::Result<Expr> parse_literal();

  base::Result<Expr> parse_literal_expr();

  base::Result<Expr> parse_withs(Expr e);

  // --- terms ---
  TermPtr call2(std::string op, Location loc, TermPtr a, TermPtr b) {
    auto c = make_term(TermKind::kCall, loc);
    c->items = {make_var(std::move(op), loc), std::move(a), std::move(b)};
    return c;
  }

  base::Result<TermPtr> parse_in(bool no_pipe);
  // The arguments of a call or function head after its `(`, up to and including the `)`,
  // appended to `out`; `error_text` when something other than `,` or `)` follows one.
  base::Status parse_args(std::vector<TermPtr>& out, std::string_view error_text);

  base::Result<TermPtr> parse_rel(bool no_pipe);

  base::Result<TermPtr> parse_bor(bool no_pipe);

  base::Result<TermPtr> parse_band();

  base::Result<TermPtr> parse_arith();

  base::Result<TermPtr> parse_factor();

  base::Result<TermPtr> parse_unary();

  base::Result<Value> number_value(const std::string& text);

  // A primary term with ref/call suffixes. `ref_only`: for `with` targets.
  base::Result<TermPtr> parse_term(bool ref_only);

  TermPtr extend_ref(TermPtr t, TermPtr op);

  base::Result<TermPtr> parse_primary();

  base::Result<TermPtr> parse_array();

  base::Result<TermPtr> parse_brace();

  // $"text {expr} text": literal parts and expressions alternate in items (literal strings
  // are scalars; expressions are any term). `\{` escapes a brace in $"..." strings.
  base::Result<TermPtr> parse_template();

  std::string_view file_;
  std::vector<Token> toks_;
  size_t pos_ = 0;  // index of the current token in toks_
  bool v1_;         // Rego v1 rules (v0 otherwise)
  bool prev_semi_ = false;
  static constexpr int kMaxDepth = 256;
  int depth_ = 0;
  // One level of depth_ for as long as it lives: the recursive parse functions hold one and
  // refuse input nested deeper than kMaxDepth.
  struct DepthGuard {
    int& d;
    explicit DepthGuard(int& depth) : d(depth) { ++d; }
    ~DepthGuard() { --d; }
  };
  size_t work_ = 0;  // tokens consumed, counting re-parses after backtracking

 public:
  // Keywords enabled in this module (v1: all; v0: through `import future.keywords...`).
  std::set<std::string> keywords_;
  bool saw_rego_v1_ = false;  // the module imports rego.v1
};

}  // namespace policy::internal
