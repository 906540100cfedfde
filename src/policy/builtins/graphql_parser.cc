// GraphQL lexer and parser (GraphQL spec, October 2021: executable documents and the type
// system definition language) producing the AST OPA returns for graphql.parse_query and
// graphql.parse_schema. OPA converts gqlparser's Go structs to JSON and prunes them: no
// positions, no null members, no empty arrays or objects; empty strings, false and 0 stay. The
// members below are those structs' field names, so a policy written against OPA reads the same
// tree. Errors carry gqlparser's texts and positions. Comments (# ...) are skipped; gqlparser
// keeps them on the nodes they precede.
#include "policy/builtins/graphql_parser.h"

#include <optional>
#include <string>
#include <vector>

#include "base/utf8.h"

namespace policy::builtins::graphql {
namespace {

enum class Tok {
  kInvalid,
  kEof,
  kBang,
  kDollar,
  kAmp,
  kParenL,
  kParenR,
  kSpread,
  kColon,
  kEquals,
  kAt,
  kBracketL,
  kBracketR,
  kBraceL,
  kBraceR,
  kPipe,
  kName,
  kInt,
  kFloat,
  kString,
  kBlockString
};

std::string_view tok_text(Tok k) {
  static constexpr std::string_view kTexts[] = {
      "<Invalid>", "<EOF>", "!", "$", "&", "(",    ")",   "...",   ":",      "=",          "@",
      "[",         "]",     "{", "}", "|", "Name", "Int", "Float", "String", "BlockString"};
  return kTexts[static_cast<int>(k)];
}

struct Token {
  Tok kind = Tok::kEof;
  std::string value;  // names, numbers and (unescaped) strings
  int line = 1, col = 1;
  std::string error;  // kInvalid: the lexer's message (without the final '.')
};

// Go's strconv.Quote for the ASCII names and strings that reach messages.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Token as gqlparser prints it: `Name "x"`, `String "text"`, or the punctuator.
std::string describe(const Token& t) {
  std::string s(tok_text(t.kind));
  if (!t.value.empty()) s += " " + go_quote(t.value);
  return s;
}

// Block string value (spec 2.9.4, BlockStringValue): common indentation removed, blank first
// and last lines dropped.
std::string block_string_value(const std::string& raw) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t nl = raw.find('\n', start);
    lines.push_back(raw.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  auto indent_of = [](const std::string& l) {
    size_t i = 0;
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
    return i;
  };
  size_t common = std::string::npos;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t ind = indent_of(lines[i]);
    if (ind < lines[i].size() && ind < common) common = ind;
  }
  if (common != std::string::npos) {
    for (size_t i = 1; i < lines.size(); ++i) {
      lines[i] = lines[i].size() >= common ? lines[i].substr(common) : std::string();
    }
  }
  auto blank = [&](const std::string& l) { return indent_of(l) == l.size(); };
  size_t b = 0, e = lines.size();
  while (b < e && blank(lines[b])) ++b;
  while (e > b && blank(lines[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) {
    if (i > b) out += '\n';
    out += lines[i];
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(src) {}

  Token next() {
    skip_ignored();
    Token t;
    t.line = line_;
    t.col = col();
    if (pos_ >= s_.size()) return t;
    char c = s_[pos_];
    auto punct = [&](Tok k, size_t n) {
      t.kind = k;
      advance(n);
      return t;
    };
    switch (c) {
      case '!':
        return punct(Tok::kBang, 1);
      case '$':
        return punct(Tok::kDollar, 1);
      case '&':
        return punct(Tok::kAmp, 1);
      case '(':
        return punct(Tok::kParenL, 1);
      case ')':
        return punct(Tok::kParenR, 1);
      case ':':
        return punct(Tok::kColon, 1);
      case '=':
        return punct(Tok::kEquals, 1);
      case '@':
        return punct(Tok::kAt, 1);
      case '[':
        return punct(Tok::kBracketL, 1);
      case ']':
        return punct(Tok::kBracketR, 1);
      case '{':
        return punct(Tok::kBraceL, 1);
      case '}':
        return punct(Tok::kBraceR, 1);
      case '|':
        return punct(Tok::kPipe, 1);
      case '.':
        if (s_.substr(pos_, 3) == "...") return punct(Tok::kSpread, 3);
        break;
      case '"':
        // gqlparser places string tokens after their opening quotes.
        if (s_.substr(pos_, 3) == "\"\"\"") {
          t.col += 3;
          return block_string(t);
        }
        t.col += 1;
        return string(t);
      default:
        break;
    }
    if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      size_t b = pos_;
      while (pos_ < s_.size() &&
             (s_[pos_] == '_' || std::isalnum(static_cast<unsigned char>(s_[pos_])))) {
        advance(1);
      }
      t.kind = Tok::kName;
      t.value = std::string(s_.substr(b, pos_ - b));
      return t;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number(t);
    advance(1);
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      char buf[64];
      std::snprintf(buf, sizeof buf, "Cannot contain the invalid character \"\\u%04x\"", c);
      return error(t, buf);
    }
    if (c == '\'') {
      return error(
          t, "Unexpected single quote character ('), did you mean to use a double quote (\")?");
    }
    return error(t, "Cannot parse the unexpected character \"" + std::string(1, c) + "\"");
  }

 private:
  int col() const { return static_cast<int>(runes_ - line_start_) + 1; }
  void advance(size_t n) {
    for (size_t i = 0; i < n && pos_ < s_.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if ((c & 0xC0) != 0x80) ++runes_;
    }
  }
  void newline() {
    ++line_;
    line_start_ = runes_;
  }
  void skip_ignored() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == ',') {
        advance(1);
      } else if (c == '\n') {
        advance(1);
        newline();
      } else if (c == '\r') {
        advance(1);
        if (pos_ < s_.size() && s_[pos_] == '\n') advance(1);
        newline();
      } else if (s_.substr(pos_, 3) == "\xEF\xBB\xBF") {
        advance(3);
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') advance(1);
      } else {
        return;
      }
    }
  }
  // An Invalid token located where the lexer stopped (gqlparser's makeError).
  Token error(Token t, std::string msg) {
    if (!msg.empty() && msg.back() == '.') msg.pop_back();
    t.kind = Tok::kInvalid;
    t.value.clear();
    t.line = line_;
    t.col = col();
    t.error = std::move(msg);
    return t;
  }
  std::string describe_next() const {
    return pos_ < s_.size() ? "\"" + std::string(1, s_[pos_]) + "\"" : "<EOF>";
  }
  size_t digits() {
    size_t n = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') advance(1), ++n;
    return n;
  }
  Token number(Token t) {
    size_t b = pos_;
    bool is_float = false;
    if (s_[pos_] == '-') advance(1);
    if (pos_ < s_.size() && s_[pos_] == '0') {
      advance(1);
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        return error(t, "Invalid number, unexpected digit after 0: " + describe_next());
      }
    } else if (digits() == 0) {
      return error(t, "Invalid number, expected digit but got: " + describe_next());
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      is_float = true;
      advance(1);
      if (digits() == 0)
        return error(t, "Invalid number, expected digit but got: " + describe_next());
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      is_float = true;
      advance(1);
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) advance(1);
      if (digits() == 0)
        return error(t, "Invalid number, expected digit but got: " + describe_next());
    }
    t.kind = is_float ? Tok::kFloat : Tok::kInt;
    t.value = std::string(s_.substr(b, pos_ - b));
    return t;
  }
  Token string(Token t) {
    advance(1);
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\n' || c == '\r') break;
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        char buf[64];
        std::snprintf(buf, sizeof buf, "Invalid character within String: \"\\u%04x\"", c);
        return error(t, buf);
      }
      if (c == '"') {
        advance(1);
        t.kind = Tok::kString;
        t.value = std::move(out);
        return t;
      }
      if (c != '\\') {
        out += c;
        advance(1);
        continue;
      }
      if (pos_ + 1 >= s_.size()) {
        advance(1);
        return error(t, "Invalid character escape sequence");
      }
      char e = s_[pos_ + 1];
      if (e == 'u') {
        uint32_t v = 0;
        bool ok = pos_ + 6 <= s_.size() - 1 + 1 && pos_ + 6 <= s_.size();
        for (size_t i = 2; ok && i < 6; ++i) {
          char h = s_[pos_ + i];
          v <<= 4;
          if (h >= '0' && h <= '9')
            v |= static_cast<uint32_t>(h - '0');
          else if (h >= 'a' && h <= 'f')
            v |= static_cast<uint32_t>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            v |= static_cast<uint32_t>(h - 'A' + 10);
          else
            ok = false;
        }
        if (!ok) {
          advance(1);
          return error(t, "Invalid character escape sequence: \\" +
                              std::string(s_.substr(pos_, std::min<size_t>(5, s_.size() - pos_))));
        }
        base::append_utf8(out, v);
        advance(6);
        continue;
      }
      switch (e) {
        case '"':
        case '/':
        case '\\':
          out += e;
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
        default:
          advance(1);
          return error(t, "Invalid character escape sequence: \\" + std::string(1, e));
      }
      advance(2);
    }
    return error(t, "Unterminated string");
  }
  Token block_string(Token t) {
    advance(3);
    std::string raw;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (s_.substr(pos_, 3) == "\"\"\"") {
        size_t q = 0;
        while (pos_ + q < s_.size() && s_[pos_ + q] == '"') ++q;
        raw.append(q - 3, '"');
        advance(q);
        t.kind = Tok::kBlockString;
        t.value = block_string_value(raw);
        return t;
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        char buf[64];
        std::snprintf(buf, sizeof buf, "Invalid character within String: \"\\u%04x\"", c);
        return error(t, buf);
      }
      if (s_.substr(pos_, 4) == "\\\"\"\"") {
        raw += "\"\"\"";
        advance(4);
      } else if (c == '\r') {
        if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') advance(1);
        raw += '\n';
        advance(1);
        newline();
      } else {
        raw += c;
        advance(1);
        if (c == '\n') newline();
      }
    }
    return error(t, "Unterminated string");
  }

  std::string_view s_;
  size_t pos_ = 0;
  size_t runes_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

// Builds a pruned object: members that are null, empty arrays or empty objects are left out.
class Obj {
 public:
  Obj& add(std::string_view key, Value v) {
    if (v.is_null()) return *this;
    if ((v.is_array() || v.is_object()) && v.size() == 0) return *this;
    items_.emplace_back(Value::string(std::string(key)), std::move(v));
    return *this;
  }
  Obj& str(std::string_view key, std::string v) { return add(key, Value::string(std::move(v))); }
  Obj& flag(std::string_view key, bool v) { return add(key, Value::boolean(v)); }
  Value done() { return Value::object(std::move(items_)); }

 private:
  std::vector<ObjectItem> items_;
};

Value list(std::vector<Value> items) {
  std::erase_if(items, [](const Value& v) {
    return v.is_null() || ((v.is_array() || v.is_object()) && v.size() == 0);
  });
  return Value::array(std::move(items));
}

class Parser {
 public:
  // With `positions`, fields, fragment spreads, inline fragments, operations and variable
  // definitions carry "Position": [line, column] (for validation messages; OPA's AST has none).
  explicit Parser(std::string_view src, bool positions = false)
      : lex_(src), positions_(positions) {}

  base::Result<Value> query_document() {
    std::vector<Value> ops, frags;
    while (peek().kind != Tok::kEof && ok()) {
      const Token& t = peek();
      if (t.kind == Tok::kName &&
          (t.value == "query" || t.value == "mutation" || t.value == "subscription")) {
        ops.push_back(operation());
      } else if (t.kind == Tok::kName && t.value == "fragment") {
        frags.push_back(fragment_definition());
      } else if (t.kind == Tok::kBraceL) {
        ops.push_back(operation());
      } else {
        unexpected(peek());
      }
    }
    if (!ok()) return failure();
    return Obj()
        .add("Operations", list(std::move(ops)))
        .add("Fragments", list(std::move(frags)))
        .done();
  }

  base::Result<Value> schema_document() {
    std::vector<Value> schema, schema_ext, directives, defs, exts;
    while (peek().kind != Tok::kEof && ok()) {
      std::string description;
      bool has_description = false;
      if (peek().kind == Tok::kString || peek().kind == Tok::kBlockString) {
        description = next().value;
        has_description = true;
      }
      const Token& t = peek();
      if (t.kind != Tok::kName) {
        unexpected(t);
        break;
      }
      const std::string& v = t.value;
      if (v == "scalar" || v == "type" || v == "interface" || v == "union" || v == "enum" ||
          v == "input") {
        defs.push_back(type_definition(description, false));
      } else if (v == "schema") {
        schema.push_back(schema_definition(description, false));
      } else if (v == "directive") {
        directives.push_back(directive_definition(description));
      } else if (v == "extend") {
        if (has_description && !description.empty()) unexpected(prev_);
        next();
        const Token& k = peek();
        if (k.kind == Tok::kName && k.value == "schema") {
          schema_ext.push_back(schema_definition("", true));
        } else if (k.kind == Tok::kName &&
                   (k.value == "scalar" || k.value == "type" || k.value == "interface" ||
                    k.value == "union" || k.value == "enum" || k.value == "input")) {
          exts.push_back(type_definition("", true));
        } else {
          unexpected(k);
        }
      } else {
        unexpected(t);
        break;
      }
    }
    if (!ok()) return failure();
    return Obj()
        .add("Schema", list(std::move(schema)))
        .add("SchemaExtension", list(std::move(schema_ext)))
        .add("Directives", list(std::move(directives)))
        .add("Definitions", list(std::move(defs)))
        .add("Extensions", list(std::move(exts)))
        .done();
  }

 private:
  bool ok() const { return error_.empty(); }
  base::Status failure() const {
    return base::invalid_argument(error_ + " in GraphQL string at location " +
                                  std::to_string(err_line_) + ":" + std::to_string(err_col_));
  }
  void fail_at(const Token& t, std::string msg) {
    if (!ok()) return;
    error_ = std::move(msg);
    err_line_ = t.line;
    err_col_ = t.col;
  }
  const Token& peek() {
    if (!peeked_) {
      peek_ = lex_.next();
      peeked_ = true;
    }
    return ok() ? peek_ : prev_;
  }
  Token next() {
    if (!ok()) return prev_;
    peek();
    peeked_ = false;
    prev_ = peek_;
    if (prev_.kind == Tok::kInvalid) fail_at(prev_, prev_.error);
    return prev_;
  }
  void unexpected(const Token& t) { fail_at(t, "Unexpected " + describe(t)); }
  Token expect(Tok k) {
    const Token& t = peek();
    if (t.kind == k) return next();
    fail_at(t, "Expected " + std::string(tok_text(k)) + ", found " + std::string(tok_text(t.kind)));
    return t;
  }
  void expect_keyword(std::string_view kw) {
    const Token& t = peek();
    if (t.kind == Tok::kName && t.value == kw) {
      next();
      return;
    }
    fail_at(t, "Expected " + go_quote(kw) + ", found " + describe(t));
  }
  bool skip(Tok k) {
    if (!ok() || peek().kind != k) return false;
    next();
    return true;
  }
  // `start item+ end`; no item is "expected at least one definition".
  template <typename F>
  void some(Tok start, Tok end, F item) {
    if (!skip(start)) return;
    bool called = false;
    while (ok() && peek().kind != end) {
      called = true;
      item();
    }
    if (!called) {
      fail_at(peek(),
              "expected at least one definition, found " + std::string(tok_text(peek().kind)));
      return;
    }
    next();
  }
  // `start item* end`.
  template <typename F>
  void many(Tok start, Tok end, F item) {
    if (!skip(start)) return;
    while (ok() && peek().kind != end) item();
    next();
  }
  std::string name() { return expect(Tok::kName).value; }

  // --- executable documents ---
  Value operation() {
    Obj o;
    position(o, peek());
    if (peek().kind == Tok::kBraceL) {
      return o.str("Name", "")
          .str("Operation", "query")
          .add("SelectionSet", required_selection_set())
          .done();
    }
    std::string op = operation_type();
    std::string op_name;
    if (peek().kind == Tok::kName) op_name = next().value;
    Value vars = variable_definitions();
    Value dirs = directives(false);
    Value sel = required_selection_set();
    return o.str("Operation", op)
        .str("Name", op_name)
        .add("VariableDefinitions", vars)
        .add("Directives", dirs)
        .add("SelectionSet", sel)
        .done();
  }
  std::string operation_type() {
    Token t = next();
    if (t.value == "query" || t.value == "mutation" || t.value == "subscription") return t.value;
    unexpected(t);
    return "";
  }
  Value variable_definitions() {
    std::vector<Value> defs;
    some(Tok::kParenL, Tok::kParenR, [&] {
      Obj d;
      position(d, peek());
      expect(Tok::kDollar);
      d.str("Variable", name());
      expect(Tok::kColon);
      d.add("Type", type_reference());
      if (skip(Tok::kEquals)) d.add("DefaultValue", value_literal(true));
      d.add("Directives", directives(false));
      d.flag("Used", false);
      defs.push_back(d.done());
    });
    return list(std::move(defs));
  }
  Value required_selection_set() {
    if (peek().kind != Tok::kBraceL) {
      fail_at(peek(), "Expected {, found " + std::string(tok_text(peek().kind)));
      return Value();
    }
    return selection_set();
  }
  Value selection_set() {
    Nest nest(*this);
    if (!ok()) return Value();
    std::vector<Value> sel;
    some(Tok::kBraceL, Tok::kBraceR, [&] { sel.push_back(selection()); });
    return list(std::move(sel));
  }
  Value selection() {
    if (peek().kind == Tok::kSpread) {
      next();
      if (peek().kind == Tok::kName && peek().value != "on") {
        Obj fs;
        position(fs, peek());
        fs.str("Name", fragment_name());
        fs.add("Directives", directives(false));
        return fs.done();
      }
      Obj f;
      position(f, peek());  // gqlparser places an inline fragment after its "..."
      std::string type_condition;
      if (peek().value == "on") {
        next();
        type_condition = name();
      }
      f.str("TypeCondition", type_condition);
      f.add("Directives", directives(false));
      f.add("SelectionSet", required_selection_set());
      return f.done();
    }
    Obj f;
    position(f, peek());
    std::string alias = name(), field_name = alias;
    if (skip(Tok::kColon)) field_name = name();
    f.str("Alias", alias).str("Name", field_name);
    f.add("Arguments", arguments(false));
    f.add("Directives", directives(false));
    if (peek().kind == Tok::kBraceL) f.add("SelectionSet", selection_set());
    return f.done();
  }
  std::string fragment_name() {
    if (peek().value == "on") {
      unexpected(peek());
      return "";
    }
    return name();
  }
  Value fragment_definition() {
    Obj f;
    position(f, peek());
    expect_keyword("fragment");
    f.str("Name", fragment_name());
    f.add("VariableDefinition", variable_definitions());
    expect_keyword("on");
    f.str("TypeCondition", name());
    f.add("Directives", directives(false));
    f.add("SelectionSet", required_selection_set());
    return f.done();
  }
  Value arguments(bool is_const) {
    std::vector<Value> args;
    some(Tok::kParenL, Tok::kParenR, [&] {
      Obj a;
      a.str("Name", name());
      expect(Tok::kColon);
      a.add("Value", value_literal(is_const));
      args.push_back(a.done());
    });
    return list(std::move(args));
  }
  Value directives(bool is_const) {
    std::vector<Value> dirs;
    while (ok() && peek().kind == Tok::kAt) {
      Obj d;
      position(d, peek());
      next();
      d.str("Name", name());
      d.add("Arguments", arguments(is_const));
      d.str("Location", "");
      dirs.push_back(d.done());
    }
    return list(std::move(dirs));
  }
  Value value_node(std::string raw, Value children, int kind, const Token& start) {
    Obj o;
    position(o, start);
    return o.str("Raw", std::move(raw))
        .add("Children", std::move(children))
        .add("Kind", Value::integer(kind))
        .flag("ExpectedTypeHasDefault", false)
        .done();
  }
  Value value_literal(bool is_const) {
    Nest nest(*this);
    if (!ok()) return Value();
    const Token t = peek();
    int kind = 0;  // gqlparser's ValueKind: Variable 0, Int 1, Float 2, String 3, Block 4,
                   // Boolean 5, Null 6, Enum 7, List 8, Object 9
    switch (t.kind) {
      case Tok::kBracketL: {
        std::vector<Value> items;
        many(Tok::kBracketL, Tok::kBracketR, [&] {
          items.push_back(Obj().str("Name", "").add("Value", value_literal(is_const)).done());
        });
        return value_node("", list(std::move(items)), 8, t);
      }
      case Tok::kBraceL: {
        std::vector<Value> fields;
        many(Tok::kBraceL, Tok::kBraceR, [&] {
          Obj c;
          position(c, peek());
          c.str("Name", name());
          expect(Tok::kColon);
          c.add("Value", value_literal(is_const));
          fields.push_back(c.done());
        });
        return value_node("", list(std::move(fields)), 9, t);
      }
      case Tok::kDollar:
        if (is_const) {
          unexpected(t);
          return Value();
        }
        next();
        return value_node(name(), Value(), 0, t);
      case Tok::kInt:
        kind = 1;
        break;
      case Tok::kFloat:
        kind = 2;
        break;
      case Tok::kString:
        kind = 3;
        break;
      case Tok::kBlockString:
        kind = 4;
        break;
      case Tok::kName:
        kind = t.value == "true" || t.value == "false" ? 5 : t.value == "null" ? 6 : 7;
        break;
      default:
        unexpected(t);
        return Value();
    }
    Token v = next();
    return value_node(v.value, Value(), kind, t);
  }
  Value type_reference() {
    Nest nest(*this);
    if (!ok()) return Value();
    Obj t;
    if (skip(Tok::kBracketL)) {
      t.str("NamedType", "");
      t.add("Elem", type_reference());
      expect(Tok::kBracketR);
    } else {
      t.str("NamedType", name());
    }
    t.flag("NonNull", skip(Tok::kBang));
    return t.done();
  }

  // --- type system ---
  std::string description() {
    if (peek().kind == Tok::kString || peek().kind == Tok::kBlockString) return next().value;
    return "";
  }
  Value schema_definition(std::string desc, bool extension) {
    expect_keyword("schema");
    Obj s;
    s.str("Description", desc);
    Value dirs = directives(true);
    s.add("Directives", dirs);
    std::vector<Value> ops;
    some(Tok::kBraceL, Tok::kBraceR, [&] {
      Obj o;
      o.str("Operation", operation_type());
      expect(Tok::kColon);
      o.str("Type", name());
      ops.push_back(o.done());
    });
    if (extension && dirs.size() == 0 && ops.empty()) unexpected(peek());
    s.add("OperationTypes", list(std::move(ops)));
    return s.done();
  }
  Value input_value_definition() {
    Obj f;
    f.str("Description", description());
    f.str("Name", name());
    expect(Tok::kColon);
    f.add("Type", type_reference());
    if (skip(Tok::kEquals)) f.add("DefaultValue", value_literal(true));
    f.add("Directives", directives(true));
    return f.done();
  }
  Value argument_definitions() {
    std::vector<Value> args;
    some(Tok::kParenL, Tok::kParenR, [&] { args.push_back(input_value_definition()); });
    return list(std::move(args));
  }
  Value type_definition(const std::string& desc, bool extension) {
    std::string keyword = next().value;  // scalar, type, ...
    static const std::pair<std::string_view, std::string_view> kKinds[] = {
        {"scalar", "SCALAR"}, {"type", "OBJECT"}, {"interface", "INTERFACE"},
        {"union", "UNION"},   {"enum", "ENUM"},   {"input", "INPUT_OBJECT"}};
    std::string kind;
    for (const auto& [kw, k] : kKinds) {
      if (keyword == kw) kind = k;
    }
    Obj d;
    d.str("Kind", kind).str("Description", desc).str("Name", name());
    std::vector<Value> interfaces, fields, types, values;
    if (keyword == "type" || keyword == "interface") {
      if (peek().value == "implements") {
        next();
        skip(Tok::kAmp);
        interfaces.push_back(Value::string(name()));
        while (skip(Tok::kAmp) && ok()) interfaces.push_back(Value::string(name()));
      }
    }
    Value dirs = directives(keyword != "input" || !extension);
    if (keyword == "type" || keyword == "interface") {
      some(Tok::kBraceL, Tok::kBraceR, [&] {
        Obj f;
        f.str("Description", description());
        f.str("Name", name());
        f.add("Arguments", argument_definitions());
        expect(Tok::kColon);
        f.add("Type", type_reference());
        f.add("Directives", directives(true));
        fields.push_back(f.done());
      });
    } else if (keyword == "input") {
      some(Tok::kBraceL, Tok::kBraceR, [&] { fields.push_back(input_value_definition()); });
    } else if (keyword == "union") {
      if (skip(Tok::kEquals)) {
        skip(Tok::kPipe);
        types.push_back(Value::string(name()));
        while (skip(Tok::kPipe) && ok()) types.push_back(Value::string(name()));
      }
    } else if (keyword == "enum") {
      some(Tok::kBraceL, Tok::kBraceR, [&] {
        Obj v;
        v.str("Description", description());
        v.str("Name", name());
        v.add("Directives", directives(true));
        values.push_back(v.done());
      });
    }
    if (extension && dirs.size() == 0 && interfaces.empty() && fields.empty() && types.empty() &&
        values.empty()) {
      unexpected(peek());
    }
    d.add("Directives", dirs);
    d.add("Interfaces", list(std::move(interfaces)));
    d.add("Fields", list(std::move(fields)));
    d.add("Types", list(std::move(types)));
    d.add("EnumValues", list(std::move(values)));
    d.flag("BuiltIn", false);
    return d.done();
  }
  Value directive_definition(const std::string& desc) {
    expect_keyword("directive");
    expect(Tok::kAt);
    Obj d;
    d.str("Description", desc).str("Name", name());
    d.add("Arguments", argument_definitions());
    bool repeatable = false;
    if (peek().kind == Tok::kName && peek().value == "repeatable") {
      repeatable = true;
      next();
    }
    d.flag("IsRepeatable", repeatable);
    expect_keyword("on");
    std::vector<Value> locations;
    skip(Tok::kPipe);
    do {
      static constexpr std::string_view kLocations[] = {"QUERY",
                                                        "MUTATION",
                                                        "SUBSCRIPTION",
                                                        "FIELD",
                                                        "FRAGMENT_DEFINITION",
                                                        "FRAGMENT_SPREAD",
                                                        "INLINE_FRAGMENT",
                                                        "VARIABLE_DEFINITION",
                                                        "SCHEMA",
                                                        "SCALAR",
                                                        "OBJECT",
                                                        "FIELD_DEFINITION",
                                                        "ARGUMENT_DEFINITION",
                                                        "INTERFACE",
                                                        "UNION",
                                                        "ENUM",
                                                        "ENUM_VALUE",
                                                        "INPUT_OBJECT",
                                                        "INPUT_FIELD_DEFINITION"};
      Token t = expect(Tok::kName);
      bool known = false;
      for (std::string_view l : kLocations) known = known || t.value == l;
      if (!known) unexpected(t);
      locations.push_back(Value::string(t.value));
    } while (skip(Tok::kPipe) && ok());
    d.add("Locations", list(std::move(locations)));
    return d.done();
  }

  // Nesting guard: lists, objects, list types and selection sets recurse; a hostile document
  // must not exhaust the stack (gqlparser, in Go, has no such limit; we refuse beyond it).
  static constexpr int kMaxDepth = 256;
  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.fail_at(p.peek(), "Document nested deeper than 256 levels");
    }
    ~Nest() { --p.depth_; }
  };
  int depth_ = 0;

  // Adds "Position" to `o` when positions are kept: where `t` starts.
  void position(Obj& o, const Token& t) {
    if (positions_)
      o.add("Position", Value::array({Value::integer(t.line), Value::integer(t.col)}));
  }

  Lexer lex_;
  bool positions_ = false;
  Token peek_, prev_;
  bool peeked_ = false;
  std::string error_;
  int err_line_ = 0, err_col_ = 0;
};

}  // namespace

base::Result<Value> parse_query(std::string_view src, bool positions) {
  return Parser(src, positions).query_document();
}

base::Result<Value> parse_schema(std::string_view src) { return Parser(src).schema_document(); }

}  // namespace policy::builtins::graphql
