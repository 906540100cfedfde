#include "policy/type_check.h"

#include <optional>
#include <vector>

#include "policy/capabilities.h"

namespace policy {
namespace {

// The operand types of a signature "(T1, T2) => R", split at the top level; nullopt for a
// variadic or malformed one.
std::optional<std::vector<std::string_view>> operand_types(std::string_view sig) {
  if (sig.empty() || sig[0] != '(') return std::nullopt;
  size_t close = std::string_view::npos;
  int depth = 0;
  for (size_t i = 0; i < sig.size(); ++i) {
    char c = sig[i];
    if (c == '(' || c == '<' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == '>' || c == ']' || c == '}') {
      // "=>" is not a closing bracket.
      if (c == '>' && i > 0 && sig[i - 1] == '=') continue;
      if (--depth == 0 && c == ')') {
        close = i;
        break;
      }
    }
  }
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view inner = sig.substr(1, close - 1);
  if (inner.starts_with("...")) return std::nullopt;
  std::vector<std::string_view> out;
  depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= inner.size(); ++i) {
    char c = i < inner.size() ? inner[i] : ',';
    if (c == '<' || c == '[' || c == '{') ++depth;
    if (c == '>' || c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      std::string_view t = inner.substr(start, i - start);
      while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
      if (!t.empty()) out.push_back(t);
      start = i + 1;
    }
  }
  return out;
}

// The members of "any<A|B|C>".
std::vector<std::string_view> union_members(std::string_view t) {
  std::vector<std::string_view> out;
  std::string_view inner = t.substr(4, t.size() - 5);
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= inner.size(); ++i) {
    char c = i < inner.size() ? inner[i] : '|';
    if (c == '<' || c == '[' || c == '{') ++depth;
    if (c == '>' || c == ']' || c == '}') --depth;
    if (c == '|' && depth == 0) {
      out.push_back(inner.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool accepts(std::string_view decl, Type t) {
  if (decl == "any") return true;
  if (decl.starts_with("any<")) {
    for (std::string_view m : union_members(decl)) {
      if (accepts(m, t)) return true;
    }
    return false;
  }
  if (decl.starts_with("array")) return t == Type::kArray;
  if (decl.starts_with("set")) return t == Type::kSet;
  if (decl.starts_with("object")) return t == Type::kObject;
  return decl == type_name(t);
}

// The declared type in OPA's notation: "any<string, array[any], object[any: any]>".
std::string opa_type_string(std::string_view decl) {
  std::string out;
  for (size_t i = 0; i < decl.size(); ++i) {
    char c = decl[i];
    if (c == '|' || (c == ',' && (i + 1 >= decl.size() || decl[i + 1] != ' '))) {
      out += ", ";
    } else if (c == ':' && (i + 1 >= decl.size() || decl[i + 1] != ' ')) {
      out += ": ";
    } else if (c == '{') {
      out += '<';
    } else if (c == '}') {
      out += '>';
    } else {
      out += c;
    }
  }
  return out;
}

// The type of an argument when it is known at compile time ("any" for input references).
std::optional<std::string> known_type(const Term& t) {
  switch (t.kind) {
    case TermKind::kScalar:
      return std::string(type_name(t.value.type()));
    case TermKind::kTemplate:
      return "string";
    case TermKind::kRef:
      if (!t.items.empty() && t.items[0]->kind == TermKind::kVar && t.items[0]->name == "input")
        return "any";
      return std::nullopt;
    case TermKind::kVar:
      if (t.name == "input") return "any";
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string builtin_argument_error(std::string_view name, std::span<const TermPtr> args) {
  const BuiltinDecl* decl = find_decl(name);
  if (decl == nullptr) return "";
  auto want = operand_types(decl->signature);
  if (!want || want->empty() || args.size() < want->size()) return "";
  std::vector<std::string> have;
  bool mismatch = false;
  for (size_t i = 0; i < want->size(); ++i) {
    auto t = known_type(*args[i]);
    if (!t) return "";  // not judged at compile time
    if (*t != "any" &&
        !accepts((*want)[i],
                 args[i]->kind == TermKind::kTemplate ? Type::kString : args[i]->value.type()))
      mismatch = true;
    have.push_back(*t);
  }
  if (!mismatch) return "";
  std::string msg = std::string(name) + ": invalid argument(s)\n\thave: (";
  for (size_t i = 0; i < have.size(); ++i) msg += (i ? ", " : "") + have[i];
  msg += ")\n\twant: (";
  for (size_t i = 0; i < want->size(); ++i) msg += (i ? ", " : "") + opa_type_string((*want)[i]);
  return msg + ")";
}

}  // namespace policy
