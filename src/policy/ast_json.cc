// rego.parse_module: a module's AST as a JSON-like Value, in the shape OPA uses
// ({"package": {"path": [...]}, "imports": [...], "rules": [...]}, terms as
// {"type": ..., "value": ...}).
#include "policy/builtin.h"
#include "policy/parser.h"

namespace policy {
namespace {

Value str(std::string s) { return Value::string(std::move(s)); }
Value obj(std::vector<ObjectItem> items) { return Value::object(std::move(items)); }
Value typed(const char* type, Value v) {
  return obj({{str("type"), str(type)}, {str("value"), std::move(v)}});
}

Value term_json(const Term& t);

Value body_json(const Body& b) {
  std::vector<Value> exprs;
  int index = 0;
  for (const Expr& e : b) {
    std::vector<ObjectItem> items = {{str("index"), Value::integer(index++)}};
    switch (e.kind) {
      case ExprKind::kTerm:
        if (e.term && e.term->kind == TermKind::kCall) {
          std::vector<Value> terms;
          for (const auto& i : e.term->items) terms.push_back(term_json(*i));
          items.emplace_back(str("terms"), Value::array(std::move(terms)));
        } else if (e.term) {
          items.emplace_back(str("terms"), term_json(*e.term));
        }
        break;
      case ExprKind::kNot:
        items.emplace_back(str("negated"), Value::boolean(true));
        if (e.body && !e.body->empty() && (*e.body)[0].term) {
          items.emplace_back(str("terms"), term_json(*(*e.body)[0].term));
        }
        break;
      default: {
        const char* kind = e.kind == ExprKind::kSome || e.kind == ExprKind::kSomeIn ? "some"
                           : e.kind == ExprKind::kEvery                               ? "every"
                                                                                      : "logic";
        items.emplace_back(str("terms"), typed(kind, Value()));
      }
    }
    exprs.push_back(obj(std::move(items)));
  }
  return Value::array(std::move(exprs));
}

Value term_json(const Term& t) {
  switch (t.kind) {
    case TermKind::kScalar: {
      const char* type = t.value.is_null()      ? "null"
                         : t.value.is_boolean() ? "boolean"
                         : t.value.is_number()  ? "number"
                                                : "string";
      return typed(type, t.value);
    }
    case TermKind::kVar: return typed("var", str(t.name));
    case TermKind::kRef:
    case TermKind::kCall:
    case TermKind::kArray:
    case TermKind::kSet:
    case TermKind::kTemplate: {
      std::vector<Value> items;
      for (const auto& i : t.items) items.push_back(term_json(*i));
      const char* type = t.kind == TermKind::kRef    ? "ref"
                         : t.kind == TermKind::kCall ? "call"
                         : t.kind == TermKind::kSet  ? "set"
                         : t.kind == TermKind::kArray ? "array"
                                                      : "templatestring";
      return typed(type, Value::array(std::move(items)));
    }
    case TermKind::kObject: {
      std::vector<Value> pairs;
      for (const auto& [k, v] : t.pairs) pairs.push_back(Value::array({term_json(*k), term_json(*v)}));
      return typed("object", Value::array(std::move(pairs)));
    }
    default: {
      std::vector<ObjectItem> items = {{str("term"), term_json(*t.head)},
                                       {str("body"), body_json(*t.body)}};
      if (t.key) items.emplace_back(str("key"), term_json(*t.key));
      const char* type = t.kind == TermKind::kArrayCompr ? "arraycomprehension"
                         : t.kind == TermKind::kSetCompr ? "setcomprehension"
                                                         : "objectcomprehension";
      return typed(type, obj(std::move(items)));
    }
  }
}

Value rule_json(const Rule& r) {
  std::vector<ObjectItem> head;
  std::vector<Value> ref;
  for (const auto& h : r.head) ref.push_back(term_json(*h));
  head.emplace_back(str("ref"), Value::array(std::move(ref)));
  head.emplace_back(str("name"), str(r.head[0]->name));
  if (!r.args.empty()) {
    std::vector<Value> args;
    for (const auto& a : r.args) args.push_back(term_json(*a));
    head.emplace_back(str("args"), Value::array(std::move(args)));
  }
  if (r.key) head.emplace_back(str("key"), term_json(*r.key));
  if (r.value) head.emplace_back(str("value"), term_json(*r.value));
  if (r.assign) head.emplace_back(str("assign"), Value::boolean(true));
  std::vector<ObjectItem> items = {{str("head"), obj(std::move(head))},
                                   {str("body"), body_json(r.body)}};
  if (r.is_default) items.emplace_back(str("default"), Value::boolean(true));
  if (r.else_rule) items.emplace_back(str("else"), rule_json(*r.else_rule));
  return obj(std::move(items));
}

BuiltinResult b_parse_module(BuiltinContext&, std::span<const Value> args) {
  EC_ASSIGN_OR_RETURN(std::string_view file, arg_string("rego.parse_module", args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view src, arg_string("rego.parse_module", args, 2));
  auto m = parse_module(file, src);
  if (!m.is_ok()) return builtin_error("rego.parse_module", m.status().message());
  std::vector<Value> path = {typed("var", str("data"))};
  for (const auto& p : m->package) path.push_back(typed("string", str(p)));
  std::vector<Value> imports;
  for (const auto& imp : m->imports) {
    std::vector<ObjectItem> items = {{str("path"), term_json(*imp.path)}};
    if (!imp.alias.empty()) items.emplace_back(str("alias"), str(imp.alias));
    imports.push_back(obj(std::move(items)));
  }
  std::vector<Value> rules;
  for (const auto& r : m->rules) rules.push_back(rule_json(*r));
  std::vector<ObjectItem> out = {{str("package"), obj({{str("path"), Value::array(std::move(path))}})},
                                 {str("rules"), Value::array(std::move(rules))}};
  if (!imports.empty()) out.emplace_back(str("imports"), Value::array(std::move(imports)));
  return ok(obj(std::move(out)));
}

}  // namespace

void register_rego_builtins(BuiltinRegistry& registry) {
  registry.add("rego.parse_module", 2, b_parse_module);
}

}  // namespace policy
