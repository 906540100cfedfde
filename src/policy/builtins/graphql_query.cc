// Validation of executable documents against a schema, as gqlparser's default rule set (the
// one OPA's graphql.* builtins apply) words its errors: fields, arguments and their values,
// selections, fragments (known, used, possible where spread, without cycles), variables
// (defined, used, input types, allowed where used), directives, overlapping fields that
// cannot be merged, and the introspection fields (__schema, __type, __typename).
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/builtins/graphql_check.h"
#include "policy/builtins/graphql_parser.h"

namespace policy::builtins::graphql {

namespace {

// Validation of an executable document against a checked schema. The first problem wins.
class QueryChecker {
 public:
  explicit QueryChecker(const SchemaView& schema) : schema_(schema) {}

  // Empty when valid; otherwise the message, with line_ and col_ set.
  std::string check(const Value& doc) {
    for (const Value& f : list_of(doc, "Fragments"))
      fragments_[std::string(str_of(f, "Name"))] = &f;
    for (const Value& op : list_of(doc, "Operations")) {
      std::string kind(str_of(op, "Operation"));
      auto root = schema_.roots.find(kind);
      if (root == schema_.roots.end())
        return fail(op, "Schema does not support operation type \"" + kind + "\"");
      defined_vars_.clear();
      used_vars_.clear();
      visited_.clear();
      var_defs_.clear();
      for (const Value& v : list_of(op, "VariableDefinitions")) {
        std::string type(named_type(*v.find("Type")));
        auto it = schema_.types.find(type);
        if (it == schema_.types.end()) return fail(v, "Unknown type \"" + type + "\".");
        const std::string& k = it->second.kind;
        if (k != "SCALAR" && k != "ENUM" && k != "INPUT_OBJECT") {
          return fail(v, "Variable \"$" + std::string(str_of(v, "Variable")) +
                             "\" cannot be non-input type \"" + type_string(*v.find("Type")) +
                             "\".");
        }
        defined_vars_.insert(std::string(str_of(v, "Variable")));
        var_defs_[std::string(str_of(v, "Variable"))] = &v;
      }
      for (const Value& v : list_of(op, "VariableDefinitions")) {
        if (const Value* dv = v.find("DefaultValue")) {
          if (std::string e = check_value(*dv, *v.find("Type")); !e.empty()) return e;
        }
      }
      if (std::string e = check_directives(list_of(op, "Directives"), op); !e.empty()) return e;
      if (std::string e = selections(list_of(op, "SelectionSet"), root->second); !e.empty())
        return e;
      for (const std::string& used : used_vars_) {
        if (!defined_vars_.count(used))
          return fail(op, "Variable \"$" + used + "\" is not defined.");
      }
      for (const Value& v : list_of(op, "VariableDefinitions")) {
        std::string name(str_of(v, "Variable"));
        if (!used_vars_.count(name)) return fail(v, "Variable \"$" + name + "\" is never used.");
      }
    }
    for (const Value& f : list_of(doc, "Fragments")) {
      if (std::string e = fragment_cycles(f); !e.empty()) return e;
    }
    for (const auto& [name, f] : fragments_) {
      if (!used_fragments_.count(name)) return fail(*f, "Fragment \"" + name + "\" is never used.");
    }
    return "";
  }

  int line_ = 0, col_ = 0;

 private:
  std::string fail(const Value& node, std::string msg) {
    std::span<const Value> pos = list_of(node, "Position");
    if (pos.size() == 2) {
      line_ = static_cast<int>(pos[0].as_int().value_or(0));
      col_ = static_cast<int>(pos[1].as_int().value_or(0));
    }
    return msg;
  }
  // --- NoFragmentCycles: a fragment must not spread itself, directly or through others ---
  static void spreads_in(std::span<const Value> set, std::vector<const Value*>& out) {
    for (const Value& sel : set) {
      if (sel.find("Alias") == nullptr && sel.find("TypeCondition") == nullptr &&
          sel.find("SelectionSet") == nullptr) {
        out.push_back(&sel);
      } else {
        spreads_in(list_of(sel, "SelectionSet"), out);
      }
    }
  }
  std::string fragment_cycles(const Value& fragment) {
    std::vector<const Value*> path;  // the spreads from `fragment` to the current one
    std::map<std::string, size_t> index_on_path;
    std::string error;
    std::function<void(const Value&)> visit = [&](const Value& frag) {
      std::string name(str_of(frag, "Name"));
      if (!error.empty() || !cycle_checked_.insert(name).second) return;
      std::vector<const Value*> spreads;
      spreads_in(list_of(frag, "SelectionSet"), spreads);
      if (spreads.empty()) return;
      index_on_path[name] = path.size();
      for (const Value* spread : spreads) {
        std::string target(str_of(*spread, "Name"));
        auto cycle = index_on_path.find(target);
        path.push_back(spread);
        if (cycle == index_on_path.end()) {
          auto it = fragments_.find(target);
          if (it != fragments_.end()) visit(*it->second);
        } else if (error.empty()) {
          std::string via;
          for (size_t i = cycle->second; i + 1 < path.size(); ++i) {
            via += (via.empty() ? " via " : ", ") + std::string(str_of(*path[i], "Name"));
          }
          error =
              fail(*spread, "Cannot spread fragment \"" + target + "\" within itself" + via + ".");
        }
        path.pop_back();
        if (!error.empty()) return;
      }
      index_on_path.erase(name);
    };
    visit(fragment);
    return error;
  }

  // --- PossibleFragmentSpreads ---
  // The object types a value of type `name` can be.
  std::set<std::string> possible_types(const std::string& name) const {
    std::set<std::string> out;
    auto it = schema_.types.find(name);
    if (it == schema_.types.end()) return out;
    const TypeInfo& t = it->second;
    if (t.kind == "OBJECT") {
      out.insert(name);
    } else if (t.kind == "UNION") {
      out.insert(t.members.begin(), t.members.end());
    } else if (t.kind == "INTERFACE") {
      for (const auto& [other, info] : schema_.types) {
        if (info.kind == "OBJECT" && std::find(info.interfaces.begin(), info.interfaces.end(),
                                               name) != info.interfaces.end())
          out.insert(other);
      }
    }
    return out;
  }
  bool composite(const std::string& name) const {
    auto it = schema_.types.find(name);
    return it != schema_.types.end() &&
           (it->second.kind == "OBJECT" || it->second.kind == "INTERFACE" ||
            it->second.kind == "UNION");
  }
  // True when some object can be of both types (or a type is unknown or not composite: other
  // rules speak about those).
  bool can_spread(const std::string& parent, const std::string& fragment_type) const {
    if (!composite(parent) || !composite(fragment_type)) return true;
    std::set<std::string> a = possible_types(parent), b = possible_types(fragment_type);
    for (const std::string& t : a) {
      if (b.count(t)) return true;
    }
    return false;
  }

  // --- ValuesOfCorrectType and VariablesInAllowedPosition ---
  std::string unexpected(const Value& v, const Value& type) {
    return fail(v, unexpected_message(v, type));
  }
  std::string unexpected_message(const Value& v, const Value& type) const {
    std::string want = type_string(type), shown = value_string(v);
    if (want == "Int" || want == "Int!") {
      std::string raw(str_of(v, "Raw"));
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(raw.c_str(), &end, 10);
      bool whole = !raw.empty() && end == raw.c_str() + raw.size();
      if (whole && (errno == ERANGE || n < INT32_MIN || n > INT32_MAX))
        return "Int cannot represent non 32-bit signed integer value: " + shown;
      return "Int cannot represent non-integer value: " + shown;
    }
    if (want == "String" || want == "String!" || want == "[String]")
      return "String cannot represent a non string value: " + shown;
    if (want == "Boolean" || want == "Boolean!")
      return "Boolean cannot represent a non boolean value: " + shown;
    if (want == "Float" || want == "Float!")
      return "Float cannot represent non numeric value: " + shown;
    if (want == "ID" || want == "ID!")
      return "ID cannot represent a non-string and non-integer value: " + shown;
    auto def = schema_.types.find(std::string(named_type(type)));
    if (def != schema_.types.end() && def->second.kind == "ENUM")
      return "Enum \"" + want + "\" cannot represent non-enum value: " + shown + ".";
    return "Expected value of type \"" + want + "\", found " + shown + ".";
  }
  // gqlparser's Type.IsCompatible: may a variable of type `var` be used where `want` is
  // expected?
  static bool compatible(const Value& var, const Value& want) {
    if (named_type_here(var) != named_type_here(want)) return false;
    const Value* ve = var.find("Elem");
    const Value* we = want.find("Elem");
    if (ve != nullptr && we == nullptr) return false;
    if (ve != nullptr && !compatible(*ve, *we)) return false;
    if (non_null(want)) return non_null(var);
    return true;
  }
  static std::string_view named_type_here(const Value& t) { return str_of(t, "NamedType"); }
  std::string variable_position(const Value& v, const Value& want) {
    auto it = var_defs_.find(std::string(str_of(v, "Raw")));
    if (it == var_defs_.end()) return "";
    const Value& def = *it->second;
    Value expected = want;
    // A variable with a default value may stand where a non-null value is expected.
    const Value* dv = def.find("DefaultValue");
    if (dv != nullptr && value_kind(*dv) != 6 && non_null(want)) {
      std::vector<ObjectItem> items(want.object_items().begin(), want.object_items().end());
      for (auto& [k, val] : items) {
        if (k.is_string() && k.as_string() == "NonNull") val = Value::boolean(false);
      }
      expected = Value::object(std::move(items));
    }
    if (compatible(*def.find("Type"), expected)) return "";
    return fail(v, "Variable \"" + value_string(v) + "\" of type \"" +
                       type_string(*def.find("Type")) + "\" used in position expecting type \"" +
                       type_string(want) + "\".");
  }
  // Checks the literal `v` where a value of type `type` is expected: its parts first, then
  // itself (gqlparser visits values children first).
  std::string check_value(const Value& v, const Value& type) {
    int kind = value_kind(v);
    auto def_it = schema_.types.find(std::string(named_type(type)));
    const TypeInfo* def = def_it == schema_.types.end() ? nullptr : &def_it->second;
    if (kind == 8) {
      if (const Value* elem = type.find("Elem")) {
        for (const Value& c : list_of(v, "Children")) {
          if (std::string e = check_value(*c.find("Value"), *elem); !e.empty()) return e;
        }
      }
    } else if (kind == 9 && def != nullptr) {
      for (const Value& c : list_of(v, "Children")) {
        for (const Value& f : def->fields) {
          if (str_of(f, "Name") != str_of(c, "Name")) continue;
          if (std::string e = check_value(*c.find("Value"), *f.find("Type")); !e.empty()) return e;
        }
      }
    }
    if (def == nullptr) return "";
    if (kind == 0) return variable_position(v, type);
    if (kind == 6) {
      if (non_null(type))
        return fail(v, "Expected value of type \"" + type_string(type) + "\", found null.");
      return "";
    }
    std::string tname(named_type(type));
    auto one_of = [&](std::initializer_list<std::string_view> names) {
      return std::find(names.begin(), names.end(), tname) != names.end();
    };
    if (def->kind == "SCALAR" && !one_of({"Int", "Float", "String", "Boolean", "ID"})) return "";
    std::string raw(str_of(v, "Raw"));
    if (kind == 1) {
      errno = 0;
      std::strtoll(raw.c_str(), nullptr, 10);
      if (errno == ERANGE) return unexpected(v, type);  // not even a 64-bit integer
    }
    std::vector<std::string> enum_values;
    if (def->kind == "ENUM") {
      for (const Value& e : def->values) enum_values.emplace_back(str_of(e, "Name"));
    }
    switch (kind) {
      case 8:
        if (type.find("Elem") == nullptr) return unexpected(v, type);
        return "";
      case 1:
        if (!one_of({"Int", "Float", "ID"})) return unexpected(v, type);
        return "";
      case 2:
        if (!one_of({"Float"})) return unexpected(v, type);
        return "";
      case 3:
      case 4:
        if (def->kind == "ENUM") {
          return fail(v, "Enum \"" + type_string(type) +
                             "\" cannot represent non-enum value: " + value_string(v) + "." +
                             suggest("Did you mean the enum value", raw, enum_values, true));
        }
        if (!one_of({"String", "ID"})) return unexpected(v, type);
        return "";
      case 7:
        if (def->kind != "ENUM") {
          return fail(v, unexpected_message(v, type));
        }
        if (std::find(enum_values.begin(), enum_values.end(), raw) == enum_values.end()) {
          return fail(v, "Value \"" + value_string(v) + "\" does not exist in \"" +
                             type_string(type) + "\" enum." +
                             suggest("Did you mean the enum value", raw, enum_values, true));
        }
        return "";
      case 5:
        if (!one_of({"Boolean"})) return unexpected(v, type);
        return "";
      case 9: {
        for (const Value& f : def->fields) {
          if (!non_null(*f.find("Type")) || f.find("DefaultValue") != nullptr) continue;
          bool given = false;
          for (const Value& c : list_of(v, "Children"))
            given = given || str_of(c, "Name") == str_of(f, "Name");
          if (!given) {
            return fail(v, "Field \"" + tname + "." + std::string(str_of(f, "Name")) +
                               "\" of required type \"" + type_string(*f.find("Type")) +
                               "\" was not provided.");
          }
        }
        std::vector<std::string> names;
        for (const Value& f : def->fields) names.emplace_back(str_of(f, "Name"));
        for (const Value& c : list_of(v, "Children")) {
          std::string cname(str_of(c, "Name"));
          if (std::find(names.begin(), names.end(), cname) == names.end()) {
            return fail(c, "Field \"" + cname + "\" is not defined by type \"" + tname + "\"." +
                               suggest("Did you mean", cname, names, true));
          }
        }
        return "";
      }
      default:
        return "";
    }
  }

  // --- OverlappingFieldsCanBeMerged ---
  struct FieldRef {
    std::string parent;  // the type the field is selected on
    const Value* node;   // the field in the document
    const Value* def;    // its definition (nullptr when unknown)
    std::string args;    // its arguments, canonical (arguments_key)
  };
  using FieldMap = std::vector<std::pair<std::string, std::vector<FieldRef>>>;
  // The fields a selection set selects, by response name in document order, through inline
  // fragments and fragment spreads.
  void collect(std::span<const Value> set, const std::string& parent, FieldMap& out,
               std::set<std::string>& seen_fragments) const {
    for (const Value& sel : set) {
      if (sel.find("Alias") != nullptr) {
        std::string response(str_of(sel, "Alias"));
        const Value* def = field_def(parent, str_of(sel, "Name"));
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const auto& e) { return e.first == response; });
        if (it == out.end()) {
          out.emplace_back(response, std::vector<FieldRef>{});
          it = out.end() - 1;
        }
        it->second.push_back(FieldRef{parent, &sel, def, arguments_key(sel)});
      } else if (sel.find("TypeCondition") != nullptr) {
        std::string type(str_of(sel, "TypeCondition"));
        collect(list_of(sel, "SelectionSet"), type.empty() ? parent : type, out, seen_fragments);
      } else {
        std::string name(str_of(sel, "Name"));
        auto it = fragments_.find(name);
        if (it == fragments_.end() || !seen_fragments.insert(name).second) continue;
        collect(list_of(*it->second, "SelectionSet"),
                std::string(str_of(*it->second, "TypeCondition")), out, seen_fragments);
      }
    }
  }
  const Value* field_def(const std::string& parent, std::string_view name) const {
    if (name == "__typename") return &typename_field();
    auto root = schema_.roots.find("query");
    if (root != schema_.roots.end() && root->second == parent) {
      if (const Value* f = root_field(name)) return f;
    }
    auto it = schema_.types.find(parent);
    if (it == schema_.types.end()) return nullptr;
    for (const Value& d : it->second.fields) {
      if (str_of(d, "Name") == name) return &d;
    }
    return nullptr;
  }
  bool is_object(const std::string& type) const {
    auto it = schema_.types.find(type);
    return it != schema_.types.end() && it->second.kind == "OBJECT";
  }
  bool is_leaf(std::string_view type) const {
    auto it = schema_.types.find(std::string(type));
    return it != schema_.types.end() && (it->second.kind == "SCALAR" || it->second.kind == "ENUM");
  }
  bool types_conflict(const Value& a, const Value& b) const {
    if (non_null(a) != non_null(b)) return true;
    const Value* ae = a.find("Elem");
    const Value* be = b.find("Elem");
    if (ae != nullptr || be != nullptr) {
      if (ae == nullptr || be == nullptr) return true;
      return types_conflict(*ae, *be);
    }
    std::string_view an = str_of(a, "NamedType"), bn = str_of(b, "NamedType");
    if (is_leaf(an) || is_leaf(bn)) return an != bn;
    return false;
  }
  static std::string arguments_key(const Value& field) {
    std::vector<std::string> args;
    for (const Value& a : list_of(field, "Arguments")) {
      const Value* v = a.find("Value");
      args.push_back(std::string(str_of(a, "Name")) + ":" + (v ? value_string(*v) : ""));
    }
    std::sort(args.begin(), args.end());
    std::string key;
    for (const std::string& a : args) key += a + "\n";
    return key;
  }
  // Why `a` and `b` (same response name) cannot be merged; "" when they can.
  // With `deep` false, only the fields themselves (names, arguments, return types) are
  // compared, not their subfields: cheap, and counted against a larger budget of its own.
  std::string conflict(const FieldRef& a, const FieldRef& b, bool exclusive, int depth = 0,
                       bool deep = true) {
    // Fragments that spread themselves (reported by NoFragmentCycles) nest without end, and
    // fields spreading the same large fragments compare quadratically at every level: the
    // comparisons of one document are bounded (gqlparser caches them instead), so a hostile
    // query costs at most that much; beyond it no further overlap is reported.
    size_t& budget = deep ? overlap_budget_ : shallow_budget_;
    if (budget == 0 || depth > 64) return "";
    --budget;
    exclusive = exclusive || (a.parent != b.parent && is_object(a.parent) && is_object(b.parent));
    if (!exclusive) {
      std::string an(str_of(*a.node, "Name")), bn(str_of(*b.node, "Name"));
      if (an != bn) return "\"" + an + "\" and \"" + bn + "\" are different fields";
      if (a.args != b.args) return "they have differing arguments";
    }
    if (a.def != nullptr && b.def != nullptr &&
        types_conflict(*a.def->find("Type"), *b.def->find("Type"))) {
      return "they return conflicting types \"" + type_string(*a.def->find("Type")) + "\" and \"" +
             type_string(*b.def->find("Type")) + "\"";
    }
    if (!deep) return "";
    auto sa = list_of(*a.node, "SelectionSet"), sb = list_of(*b.node, "SelectionSet");
    if (sa.empty() || sb.empty() || a.def == nullptr || b.def == nullptr) return "";
    FieldMap ma, mb;
    std::set<std::string> seen_a, seen_b;
    collect(sa, std::string(named_type(*a.def->find("Type"))), ma, seen_a);
    collect(sb, std::string(named_type(*b.def->find("Type"))), mb, seen_b);
    std::string subs;
    for (const auto& [name, fa] : ma) {
      // (a plain reference: clang-14 cannot capture a structured binding)
      const std::string& key = name;
      auto it = std::find_if(mb.begin(), mb.end(), [&](const auto& e) { return e.first == key; });
      if (it == mb.end()) continue;
      std::string why;
      for (const FieldRef& x : fa) {
        for (const FieldRef& y : it->second) {
          if (why.empty()) why = conflict(x, y, exclusive, depth + 1);
        }
      }
      if (why.empty()) continue;
      if (!subs.empty()) subs += " and ";
      subs += "subfields \"" + name + "\" conflict because " + why;
    }
    return subs;
  }
  std::string overlapping(std::span<const Value> set, const std::string& parent) {
    FieldMap fields;
    std::set<std::string> seen;
    collect(set, parent, fields, seen);
    // The fields themselves first, then their subfields (which the budget bounds), so that a
    // conflict at this level is found whatever the subfields cost.
    for (bool deep : {false, true}) {
      for (const auto& [name, refs] : fields) {
        for (size_t i = 0; i < refs.size(); ++i) {
          for (size_t j = i + 1; j < refs.size(); ++j) {
            if (refs[i].node == refs[j].node) continue;
            std::string why = conflict(refs[i], refs[j], false, 0, deep);
            if (!why.empty()) {
              return fail(*refs[i].node, "Fields \"" + name + "\" conflict because " + why +
                                             ". Use different aliases on the fields to fetch "
                                             "both if this was intentional.");
            }
          }
        }
      }
    }
    return "";
  }

  void uses(const Value& value) {
    const Value* kind = value.find("Kind");
    if (kind != nullptr && kind->is_number() && kind->as_int() == 0)
      used_vars_.insert(std::string(str_of(value, "Raw")));
    for (const Value& c : list_of(value, "Children")) {
      if (const Value* v = c.find("Value")) uses(*v);
    }
  }
  std::string check_directives(std::span<const Value> dirs, const Value& at) {
    for (const Value& d : dirs) {
      std::string name(str_of(d, "Name"));
      if (!schema_.directives.count(name)) return fail(at, "Unknown directive \"@" + name + "\".");
      for (const Value& a : list_of(d, "Arguments")) {
        if (const Value* v = a.find("Value")) uses(*v);
      }
    }
    return "";
  }
  std::string selections(std::span<const Value> set, const std::string& parent) {
    // Fragments spreading fragments nest without bound in the text; keep the stack bounded.
    if (depth_ > 512) return "Fragment spreads nested deeper than 512 levels";
    ++depth_;
    std::string e = selections_at_depth(set, parent);
    --depth_;
    return e;
  }
  std::string selections_at_depth(std::span<const Value> set, const std::string& parent) {
    if (std::string e = overlapping(set, parent); !e.empty()) return e;
    auto pt = schema_.types.find(parent);
    for (const Value& sel : set) {
      if (std::string e = check_directives(list_of(sel, "Directives"), sel); !e.empty()) return e;
      if (sel.find("Alias") != nullptr) {
        if (std::string e = field(sel, parent, pt == schema_.types.end() ? nullptr : &pt->second);
            !e.empty())
          return e;
      } else if (sel.find("TypeCondition") != nullptr) {
        std::string type(str_of(sel, "TypeCondition"));
        if (type.empty()) type = parent;
        if (!schema_.types.count(type)) return fail(sel, "Unknown type \"" + type + "\".");
        if (!can_spread(parent, type)) {
          return fail(sel, "Fragment cannot be spread here as objects of type \"" + parent +
                               "\" can never be of type \"" + type + "\".");
        }
        if (std::string e = selections(list_of(sel, "SelectionSet"), type); !e.empty()) return e;
      } else {
        std::string name(str_of(sel, "Name"));
        auto it = fragments_.find(name);
        if (it == fragments_.end()) return fail(sel, "Unknown fragment \"" + name + "\".");
        used_fragments_.insert(name);
        std::string type(str_of(*it->second, "TypeCondition"));
        if (schema_.types.count(type) && !can_spread(parent, type)) {
          return fail(sel, "Fragment \"" + name + "\" cannot be spread here as objects of type \"" +
                               parent + "\" can never be of type \"" + type + "\".");
        }
        if (!visited_.insert(name).second) continue;
        if (!schema_.types.count(type)) return fail(*it->second, "Unknown type \"" + type + "\".");
        if (std::string e = selections(list_of(*it->second, "SelectionSet"), type); !e.empty())
          return e;
      }
    }
    return "";
  }
  std::string field(const Value& f, const std::string& parent, const TypeInfo* pt) {
    std::string name(str_of(f, "Name"));
    for (const Value& a : list_of(f, "Arguments")) {
      if (const Value* v = a.find("Value")) uses(*v);
    }
    if (name == "__typename" && list_of(f, "SelectionSet").empty()) return "";
    const Value* def = pt != nullptr ? field_def(parent, name) : nullptr;
    if (def == nullptr) {
      std::vector<std::string> names;
      if (pt != nullptr) {
        for (const Value& d : pt->fields) names.emplace_back(str_of(d, "Name"));
      }
      return fail(f, "Cannot query field \"" + name + "\" on type \"" + parent + "\"." +
                         suggest("Did you mean", name, names, true));
    }
    for (const Value& a : list_of(f, "Arguments")) {
      bool known = false;
      for (const Value& d : list_of(*def, "Arguments"))
        known = known || str_of(d, "Name") == str_of(a, "Name");
      if (!known) {
        return fail(f, "Unknown argument \"" + std::string(str_of(a, "Name")) + "\" on field \"" +
                           parent + "." + name + "\".");
      }
    }
    for (const Value& d : list_of(*def, "Arguments")) {
      const Value* nn = d.find("Type")->find("NonNull");
      if (nn == nullptr || !nn->as_bool() || d.find("DefaultValue") != nullptr) continue;
      bool given = false;
      for (const Value& a : list_of(f, "Arguments"))
        given = given || str_of(a, "Name") == str_of(d, "Name");
      if (!given) {
        return fail(f, "Field \"" + name + "\" argument \"" + std::string(str_of(d, "Name")) +
                           "\" of type \"" + type_string(*d.find("Type")) +
                           "\" is required, but it was not provided.");
      }
    }
    for (const Value& a : list_of(f, "Arguments")) {
      for (const Value& d : list_of(*def, "Arguments")) {
        if (str_of(d, "Name") != str_of(a, "Name")) continue;
        if (std::string e = check_value(*a.find("Value"), *d.find("Type")); !e.empty()) return e;
      }
    }
    std::string type(named_type(*def->find("Type")));
    auto it = schema_.types.find(type);
    if (it == schema_.types.end()) return "";
    bool leaf = it->second.kind == "SCALAR" || it->second.kind == "ENUM";
    bool has_selection = !list_of(f, "SelectionSet").empty();
    if (leaf && has_selection) {
      return fail(f, "Field \"" + name + "\" must not have a selection since type \"" +
                         type_string(*def->find("Type")) + "\" has no subfields.");
    }
    if (!leaf && !has_selection) {
      return fail(f, "Field \"" + name + "\" of type \"" + type_string(*def->find("Type")) +
                         "\" must have a selection of subfields. Did you mean \"" + name +
                         " { ... }\"?");
    }
    return selections(list_of(f, "SelectionSet"), type);
  }

  const SchemaView& schema_;
  int depth_ = 0;
  // Field comparisons left for OverlappingFieldsCanBeMerged in this document: with their
  // subfields, and of the fields alone.
  size_t overlap_budget_ = 5000;
  size_t shallow_budget_ = 200000;
  std::map<std::string, const Value*> fragments_;
  std::set<std::string> used_fragments_, defined_vars_, used_vars_, visited_;
  std::set<std::string> cycle_checked_;           // fragments NoFragmentCycles has seen
  std::map<std::string, const Value*> var_defs_;  // the operation's variable definitions
};

}  // namespace

QueryProblem check_query(const SchemaView& schema, const Value& doc) {
  QueryChecker checker(schema);
  QueryProblem p;
  p.message = checker.check(doc);
  p.line = checker.line_;
  p.col = checker.col_;
  return p;
}

}  // namespace policy::builtins::graphql
