#include "policy/ast.h"

namespace policy {

TermPtr make_term(TermKind kind, Location loc) {
  auto t = std::make_shared<Term>();
  t->kind = kind;
  t->loc = loc;
  return t;
}

TermPtr make_scalar(Value v, Location loc) {
  auto t = make_term(TermKind::kScalar, loc);
  t->value = std::move(v);
  t->ground = true;
  return t;
}

TermPtr make_var(std::string name, Location loc) {
  auto t = make_term(TermKind::kVar, loc);
  t->wildcard = name == "_";
  t->name = std::move(name);
  return t;
}

std::string term_to_string(const Term& t) {
  switch (t.kind) {
    case TermKind::kScalar: return t.value.to_rego();
    case TermKind::kVar: return t.name;
    case TermKind::kRef: {
      std::string s = term_to_string(*t.items[0]);
      for (size_t i = 1; i < t.items.size(); ++i) {
        const Term& op = *t.items[i];
        if (op.kind == TermKind::kScalar && op.value.is_string()) {
          s += "." + op.value.as_string();
        } else {
          s += "[" + term_to_string(op) + "]";
        }
      }
      return s;
    }
    case TermKind::kCall: {
      std::string s = term_to_string(*t.items[0]) + "(";
      for (size_t i = 1; i < t.items.size(); ++i) {
        if (i > 1) s += ", ";
        s += term_to_string(*t.items[i]);
      }
      return s + ")";
    }
    case TermKind::kArray: {
      std::string s = "[";
      for (size_t i = 0; i < t.items.size(); ++i) {
        if (i) s += ", ";
        s += term_to_string(*t.items[i]);
      }
      return s + "]";
    }
    case TermKind::kSet: {
      std::string s = "{";
      for (size_t i = 0; i < t.items.size(); ++i) {
        if (i) s += ", ";
        s += term_to_string(*t.items[i]);
      }
      return s + "}";
    }
    case TermKind::kObject: {
      std::string s = "{";
      for (size_t i = 0; i < t.pairs.size(); ++i) {
        if (i) s += ", ";
        s += term_to_string(*t.pairs[i].first) + ": " + term_to_string(*t.pairs[i].second);
      }
      return s + "}";
    }
    default: return "<term>";
  }
}

}  // namespace policy
