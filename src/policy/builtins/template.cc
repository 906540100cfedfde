// strings.render_template: a subset of Go's text/template over Rego values. Supported:
// text, {{pipeline}}, {{if}}/{{else}}/{{end}}, {{range [$i, ]$v := pipeline}}, {{with}},
// trim markers ({{- -}}), fields (.a.b), variables ($x, $x.a), literals, and the functions
// eq, ne, lt, le, gt, ge, not, and, or, len, index. A missing key prints "<undefined>".
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

struct Node {
  enum Kind { kText, kAction, kIf, kRange, kWith } kind = kText;
  std::string text;  // kText, or the pipeline source for the others
  std::vector<std::string> vars;  // range variables
  std::vector<Node> body, else_body;
};

struct Token {
  bool action;
  std::string text;
};

base::Result<std::vector<Token>> lex(std::string_view s) {
  std::vector<Token> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t open = s.find("{{", pos);
    std::string text(s.substr(pos, open == std::string_view::npos ? s.npos : open - pos));
    if (open == std::string_view::npos) {
      out.push_back({false, text});
      break;
    }
    size_t close = s.find("}}", open + 2);
    if (close == std::string_view::npos) return base::invalid_argument("unclosed action");
    std::string inner(s.substr(open + 2, close - open - 2));
    if (inner.size() >= 2 && inner[0] == '-' && inner[1] == ' ') {
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
      inner.erase(0, 1);
    }
    pos = close + 2;
    if (inner.size() >= 2 && inner.back() == '-' && inner[inner.size() - 2] == ' ') {
      inner.pop_back();
      while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
    }
    out.push_back({false, text});
    size_t b = inner.find_first_not_of(" \t\n");
    size_t e = inner.find_last_not_of(" \t\n");
    out.push_back({true, b == std::string::npos ? "" : inner.substr(b, e - b + 1)});
  }
  return out;
}

bool starts(const std::string& s, std::string_view w) {
  return s.rfind(w, 0) == 0 && (s.size() == w.size() || s[w.size()] == ' ');
}

constexpr int kMaxDepth = 100;

base::Status parse_else(const std::vector<Token>& toks, size_t& i, std::string& stop,
                        std::vector<Node>& else_body, int depth);

// Parses nodes until {{end}} / {{else}} (returned in `stop`; empty at the end of input).
base::Status parse(const std::vector<Token>& toks, size_t& i, std::vector<Node>& out, std::string& stop,
                   int depth) {
  stop.clear();
  // Bounds nesting (each level recurses) so a hostile template cannot exhaust the stack.
  if (depth > kMaxDepth) return base::invalid_argument("template nested too deeply");
  while (i < toks.size()) {
    const Token& t = toks[i++];
    if (!t.action) {
      if (!t.text.empty()) out.push_back(Node{Node::kText, t.text, {}, {}, {}});
      continue;
    }
    if (t.text.rfind("/*", 0) == 0) continue;  // comment
    if (t.text == "end" || t.text == "else" || starts(t.text, "else")) {
      stop = t.text;
      return base::Status::ok();
    }
    Node n;
    std::string rest;
    if (starts(t.text, "if")) n.kind = Node::kIf, rest = t.text.substr(2);
    else if (starts(t.text, "range")) n.kind = Node::kRange, rest = t.text.substr(5);
    else if (starts(t.text, "with")) n.kind = Node::kWith, rest = t.text.substr(4);
    else {
      out.push_back(Node{Node::kAction, t.text, {}, {}, {}});
      continue;
    }
    size_t decl = rest.find(":=");
    if (decl != std::string::npos) {
      std::string vars = rest.substr(0, decl);
      size_t p = 0;
      while ((p = vars.find('$', p)) != std::string::npos) {
        size_t e = vars.find_first_of(", ", p);
        n.vars.push_back(vars.substr(p, e == std::string::npos ? std::string::npos : e - p));
        p = e == std::string::npos ? vars.size() : e;
      }
      rest = rest.substr(decl + 2);
    }
    n.text = rest;
    std::string inner_stop;
    EC_RETURN_IF_ERROR(parse(toks, i, n.body, inner_stop, depth + 1));
    EC_RETURN_IF_ERROR(parse_else(toks, i, inner_stop, n.else_body, depth + 1));
    if (inner_stop != "end") return base::invalid_argument("unexpected EOF");
    out.push_back(std::move(n));
  }
  return base::Status::ok();
}

// After a branch ended with `stop`: parses an {{else}} branch, or an {{else if ...}} /
// {{else with ...}} chain that shares the enclosing {{end}}; leaves the final stop in `stop`.
base::Status parse_else(const std::vector<Token>& toks, size_t& i, std::string& stop,
                        std::vector<Node>& else_body, int depth) {
  if (stop == "else") return parse(toks, i, else_body, stop, depth + 1);
  if (!starts(stop, "else")) return base::Status::ok();
  std::string rest = stop.substr(4);
  size_t b = rest.find_first_not_of(' ');
  rest = b == std::string::npos ? "" : rest.substr(b);
  Node nested;
  if (starts(rest, "if")) {
    nested.kind = Node::kIf;
    nested.text = rest.substr(2);
  } else if (starts(rest, "with")) {
    nested.kind = Node::kWith;
    nested.text = rest.substr(4);
  } else {
    return base::invalid_argument("unexpected {{" + stop + "}}");
  }
  EC_RETURN_IF_ERROR(parse(toks, i, nested.body, stop, depth + 1));
  EC_RETURN_IF_ERROR(parse_else(toks, i, stop, nested.else_body, depth + 1));
  else_body.push_back(std::move(nested));
  return base::Status::ok();
}

struct Scope {
  Value dot;
  std::vector<std::pair<std::string, Value>> vars;
};

bool truthy(const std::optional<Value>& v) {
  if (!v) return false;
  switch (v->type()) {
    case Type::kNull: return false;
    case Type::kBoolean: return v->as_bool();
    case Type::kNumber: return v->as_double() != 0;
    case Type::kString: return !v->as_string().empty();
    default: return v->size() > 0;
  }
}

std::string show(const std::optional<Value>& v) {
  if (!v) return "<undefined>";
  switch (v->type()) {
    case Type::kNull: return "<nil>";
    case Type::kBoolean: return v->as_bool() ? "true" : "false";
    case Type::kNumber: return number_to_string(*v);
    case Type::kString: return v->as_string();
    case Type::kObject: {
      std::string s = "map[";
      bool first = true;
      for (const auto& [k, x] : v->object_items()) {
        if (!first) s += " ";
        first = false;
        s += show(k) + ":" + show(x);
      }
      return s + "]";
    }
    default: {
      std::string s = "[";
      bool first = true;
      for (const Value& x : v->elements()) {
        if (!first) s += " ";
        first = false;
        s += show(x);
      }
      return s + "]";
    }
  }
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    if (s[i] == '"') {
      j = s.find('"', i + 1);
      j = j == std::string::npos ? s.size() : j + 1;
    } else {
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    }
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<Value> field_path(std::optional<Value> base, std::string_view path) {
  size_t pos = 0;
  while (base && pos < path.size()) {
    size_t dot = path.find('.', pos);
    std::string key(path.substr(pos, dot == std::string_view::npos ? path.npos : dot - pos));
    pos = dot == std::string_view::npos ? path.size() : dot + 1;
    if (key.empty()) continue;
    const Value* next = base->find(key);
    if (next == nullptr) return std::nullopt;
    base = *next;
  }
  return base;
}

std::optional<Value> term(const std::string& w, const Scope& sc) {
  if (w == ".") return sc.dot;
  if (w[0] == '.') return field_path(sc.dot, std::string_view(w).substr(1));
  if (w[0] == '$') {
    size_t dot = w.find('.');
    std::string name = w.substr(0, dot);
    for (auto it = sc.vars.rbegin(); it != sc.vars.rend(); ++it) {
      if (it->first == name) {
        return dot == std::string::npos ? std::optional<Value>(it->second)
                                        : field_path(it->second, std::string_view(w).substr(dot + 1));
      }
    }
    return std::nullopt;
  }
  if (w[0] == '"') return Value::string(w.substr(1, w.size() >= 2 ? w.size() - 2 : 0));
  if (w == "true" || w == "false") return Value::boolean(w == "true");
  if (w == "nil") return Value::null();
  auto n = Value::parse_json(w);
  if (n.is_ok()) return *n;
  return std::nullopt;
}

std::optional<Value> pipeline(const std::string& src, const Scope& sc) {
  std::vector<std::string> w = words(src);
  if (w.empty()) return std::nullopt;
  const std::string& f = w[0];
  auto arg = [&](size_t i) { return i < w.size() ? term(w[i], sc) : std::nullopt; };
  auto cmp = [&](auto pred) -> std::optional<Value> {
    auto a = arg(1), b = arg(2);
    if (!a || !b) return Value::boolean(false);
    return Value::boolean(pred(a->compare(*b)));
  };
  if (f == "eq") return cmp([](int c) { return c == 0; });
  if (f == "ne") return cmp([](int c) { return c != 0; });
  if (f == "lt") return cmp([](int c) { return c < 0; });
  if (f == "le") return cmp([](int c) { return c <= 0; });
  if (f == "gt") return cmp([](int c) { return c > 0; });
  if (f == "ge") return cmp([](int c) { return c >= 0; });
  if (f == "not") return Value::boolean(!truthy(arg(1)));
  if (f == "and" || f == "or") {
    std::optional<Value> last;
    for (size_t i = 1; i < w.size(); ++i) {
      last = arg(i);
      if (truthy(last) == (f == "or")) return last;
    }
    return last;
  }
  if (f == "len") {
    auto a = arg(1);
    return a ? std::optional<Value>(Value::integer(static_cast<int64_t>(a->size()))) : std::nullopt;
  }
  if (f == "index") {
    auto a = arg(1);
    for (size_t i = 2; a && i < w.size(); ++i) {
      auto k = arg(i);
      const Value* next = k ? a->get(*k) : nullptr;
      a = next ? std::optional<Value>(*next) : std::nullopt;
    }
    return a;
  }
  return term(f, sc);
}

void render(const std::vector<Node>& nodes, Scope& sc, std::string& out) {
  for (const Node& n : nodes) {
    switch (n.kind) {
      case Node::kText:
        out += n.text;
        break;
      case Node::kAction: {
        size_t decl = n.text.find(":=");
        if (decl != std::string::npos && n.text[0] == '$') {
          std::string name = n.text.substr(0, n.text.find_first_of(" :"));
          sc.vars.emplace_back(name, pipeline(n.text.substr(decl + 2), sc).value_or(Value()));
        } else {
          out += show(pipeline(n.text, sc));
        }
        break;
      }
      case Node::kIf:
        render(truthy(pipeline(n.text, sc)) ? n.body : n.else_body, sc, out);
        break;
      case Node::kWith: {
        auto v = pipeline(n.text, sc);
        if (truthy(v)) {
          Scope inner{*v, sc.vars};
          render(n.body, inner, out);
        } else {
          render(n.else_body, sc, out);
        }
        break;
      }
      case Node::kRange: {
        auto v = pipeline(n.text, sc);
        if (!truthy(v)) {
          render(n.else_body, sc, out);
          break;
        }
        auto each = [&](const Value& key, const Value& item) {
          Scope inner{item, sc.vars};
          if (n.vars.size() == 1) inner.vars.emplace_back(n.vars[0], item);
          if (n.vars.size() == 2) {
            inner.vars.emplace_back(n.vars[0], key);
            inner.vars.emplace_back(n.vars[1], item);
          }
          render(n.body, inner, out);
        };
        if (v->is_object()) {
          for (const auto& [k, item] : v->object_items()) each(k, item);
        } else {
          int64_t i = 0;
          for (const Value& item : v->elements()) each(Value::integer(i++), item);
        }
        break;
      }
    }
  }
}

BuiltinResult render_template(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "strings.render_template";
  EC_ASSIGN_OR_RETURN(std::string_view tmpl, arg_string(kName, args, 1));
  EC_RETURN_IF_ERROR(check_type(kName, args, 2, Type::kObject));
  auto toks = lex(tmpl);
  if (!toks.is_ok()) return builtin_error(kName, "template: " + toks.status().message());
  std::vector<Node> nodes;
  size_t i = 0;
  std::string stop;
  base::Status st = parse(*toks, i, nodes, stop, 0);
  if (!st.is_ok()) return builtin_error(kName, "template: " + st.message());
  if (!stop.empty()) return builtin_error(kName, "template: unexpected {{" + stop + "}}");
  Scope sc{args[1], {{"$", args[1]}}};
  std::string out;
  render(nodes, sc, out);
  return ok(Value::string(std::move(out)));
}

}  // namespace

void register_template_builtins(BuiltinRegistry& r) {
  r.add("strings.render_template", 2, render_template);
}

}  // namespace policy::builtins
