// graphql.* builtins: parse_query and parse_schema return the trees of graphql_parser.cc;
// schema_is_valid, is_valid, parse and parse_and_verify also validate, with the rules that
// decide most documents (SchemaChecker: gqlparser's schema rules; QueryChecker: the main rules
// of its default query set). Not covered: overlapping fields, values of the correct type,
// fragment cycles, possible fragment spreads, introspection types.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/builtins/graphql_parser.h"
#include "policy/builtins/util.h"

namespace policy::builtins {
namespace {

// --- schema validation (gqlparser's ValidateSchemaDocument, the rules OPA's users meet) ---

std::string_view str_of(const Value& obj, std::string_view key) {
  const Value* v = obj.find(key);
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

std::span<const Value> list_of(const Value& obj, std::string_view key) {
  const Value* v = obj.find(key);
  return v != nullptr && v->is_array() ? v->array_items() : std::span<const Value>();
}

// The innermost named type of a type reference ({"NamedType", "Elem", "NonNull"}).
std::string_view named_type(const Value& type) {
  const Value* t = &type;
  while (t != nullptr && str_of(*t, "NamedType").empty()) t = t->find("Elem");
  return t != nullptr ? str_of(*t, "NamedType") : std::string_view();
}

struct TypeInfo {
  std::string kind;
  std::vector<Value> fields, values, directives;
  std::vector<std::string> interfaces, members;
};

struct DirectiveInfo {
  std::vector<std::string> locations;
};

class SchemaChecker {
 public:
  // Empty when `doc` (a parsed schema document) is a valid schema; otherwise the first problem.
  std::string check(const Value& doc) {
    for (std::string_view scalar : {"Int", "Float", "String", "Boolean", "ID"}) {
      types_[std::string(scalar)].kind = "SCALAR";
    }
    directives_["include"] = {{"FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"}};
    directives_["skip"] = {{"FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"}};
    directives_["deprecated"] = {
        {"FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INPUT_FIELD_DEFINITION", "ENUM_VALUE"}};
    directives_["specifiedBy"] = {{"SCALAR"}};
    directives_["oneOf"] = {{"INPUT_OBJECT"}};
    for (const Value& d : list_of(doc, "Directives")) {
      std::string name(str_of(d, "Name"));
      if (directives_.count(name) && !builtin_directive(name))
        return "Cannot redeclare directive " + name;
      DirectiveInfo info;
      for (const Value& l : list_of(d, "Locations")) info.locations.push_back(l.as_string());
      directives_[name] = std::move(info);
    }
    for (const Value& d : list_of(doc, "Definitions")) {
      std::string name(str_of(d, "Name"));
      if (name.rfind("__", 0) == 0)
        return "Name \"" + name +
               "\" must not begin with \"__\", which is reserved by GraphQL introspection";
      if (defined_.count(name)) return "Cannot redeclare type " + name;
      defined_.insert(name);
      merge(types_[name], d);
    }
    for (const Value& d : list_of(doc, "Extensions")) {
      std::string name(str_of(d, "Name"));
      TypeInfo& t = types_[name];
      if (!t.kind.empty() && t.kind != str_of(d, "Kind")) {
        return "Cannot extend type " + name + " because the base type is a " + t.kind + ", not " +
               std::string(str_of(d, "Kind"));
      }
      merge(t, d);
    }
    for (const auto& [name, t] : types_) {
      if (std::string e = check_type(name, t); !e.empty()) return e;
    }
    for (const Value& d : list_of(doc, "Directives")) {
      for (const Value& a : list_of(d, "Arguments")) {
        if (std::string e = check_input_ref(a); !e.empty()) return e;
      }
    }
    for (const auto& [op, type] : {std::pair<std::string, std::string>{"query", "Query"},
                                   {"mutation", "Mutation"},
                                   {"subscription", "Subscription"}}) {
      if (types_.count(type) && types_[type].kind == "OBJECT") roots_[op] = type;
    }
    for (std::string_view member : {"Schema", "SchemaExtension"}) {
      for (const Value& s : list_of(doc, member)) {
        if (std::string e = check_directives(list_of(s, "Directives"), "SCHEMA"); !e.empty())
          return e;
        for (const Value& op : list_of(s, "OperationTypes")) {
          std::string type(str_of(op, "Type"));
          auto it = types_.find(type);
          if (it == types_.end())
            return std::string(member == "Schema" ? "Schema" : "Schema extension") + " root " +
                   std::string(str_of(op, "Operation")) + " refers to a type " + type +
                   " that does not exist";
          if (it->second.kind != "OBJECT") return type + " must be an OBJECT";
          roots_[std::string(str_of(op, "Operation"))] = type;
        }
      }
    }
    return "";
  }

  const std::map<std::string, TypeInfo>& types() const { return types_; }
  const std::map<std::string, DirectiveInfo>& directives() const { return directives_; }
  // Root type per operation ("query" -> "Query"), after check().
  const std::map<std::string, std::string>& roots() const { return roots_; }

 private:
  static bool builtin_directive(const std::string& n) {
    return n == "include" || n == "skip" || n == "deprecated" || n == "specifiedBy" || n == "oneOf";
  }
  static void merge(TypeInfo& t, const Value& d) {
    t.kind = std::string(str_of(d, "Kind"));
    for (const Value& f : list_of(d, "Fields")) t.fields.push_back(f);
    for (const Value& v : list_of(d, "EnumValues")) t.values.push_back(v);
    for (const Value& v : list_of(d, "Directives")) t.directives.push_back(v);
    for (const Value& i : list_of(d, "Interfaces")) t.interfaces.push_back(i.as_string());
    for (const Value& m : list_of(d, "Types")) t.members.push_back(m.as_string());
  }
  std::string check_directives(std::span<const Value> used, std::string_view location) {
    for (const Value& d : used) {
      std::string name(str_of(d, "Name"));
      auto it = directives_.find(name);
      if (it == directives_.end()) return "Undefined directive " + name + ".";
      bool allowed = false;
      for (const auto& l : it->second.locations) allowed = allowed || l == location;
      if (!allowed)
        return "Directive " + name + " is not applicable on " + std::string(location) + ".";
    }
    return "";
  }
  std::string check_input_ref(const Value& field) {
    std::string type(named_type(*field.find("Type")));
    auto it = types_.find(type);
    if (it == types_.end()) return "Undefined type " + type + ".";
    const std::string& k = it->second.kind;
    if (k != "SCALAR" && k != "ENUM" && k != "INPUT_OBJECT") {
      return std::string(str_of(field, "Name")) + " must be an input type";
    }
    return check_directives(list_of(field, "Directives"), "ARGUMENT_DEFINITION");
  }
  // The interfaces `name` implements, transitively.
  void all_interfaces(const std::string& name, std::set<std::string>& out) {
    auto it = types_.find(name);
    if (it == types_.end()) return;
    for (const std::string& i : it->second.interfaces) {
      if (out.insert(i).second) all_interfaces(i, out);
    }
  }
  std::string check_type(const std::string& name, const TypeInfo& t) {
    const std::string& k = t.kind;
    if (std::string e = check_directives(t.directives, k); !e.empty()) return e;
    if (k == "OBJECT" || k == "INTERFACE" || k == "INPUT_OBJECT") {
      if (t.fields.empty()) return k + " " + name + ": must define one or more fields.";
      std::set<std::string> seen;
      for (const Value& f : t.fields) {
        std::string fname(str_of(f, "Name"));
        if (!seen.insert(fname).second)
          return "Field " + name + "." + fname + " can only be defined once.";
        std::string type(named_type(*f.find("Type")));
        auto it = types_.find(type);
        if (it == types_.end()) return "Undefined type " + type + ".";
        const std::string& fk = it->second.kind;
        if (k == "INPUT_OBJECT") {
          if (fk != "SCALAR" && fk != "ENUM" && fk != "INPUT_OBJECT")
            return name + "." + fname + " must be an input type";
          if (std::string e = check_directives(list_of(f, "Directives"), "INPUT_FIELD_DEFINITION");
              !e.empty())
            return e;
        } else {
          if (fk == "INPUT_OBJECT") return name + "." + fname + " must be an output type";
          if (std::string e = check_directives(list_of(f, "Directives"), "FIELD_DEFINITION");
              !e.empty())
            return e;
          for (const Value& a : list_of(f, "Arguments")) {
            if (std::string e = check_input_ref(a); !e.empty()) return e;
          }
        }
      }
    }
    if (k == "OBJECT" || k == "INTERFACE") {
      std::set<std::string> direct(t.interfaces.begin(), t.interfaces.end());
      for (const std::string& i : t.interfaces) {
        auto it = types_.find(i);
        if (it == types_.end()) return "Undefined type " + i + ".";
        if (it->second.kind != "INTERFACE")
          return k + " " + name + ": implements non-interface type " + i + ".";
        std::set<std::string> inherited;
        all_interfaces(i, inherited);
        for (const std::string& need : inherited) {
          if (!direct.count(need))
            return k + " " + name + " must implement " + need + " because it is implemented by " +
                   i + ".";
        }
        for (const Value& f : it->second.fields) {
          bool found = false;
          for (const Value& g : t.fields) found = found || str_of(g, "Name") == str_of(f, "Name");
          if (!found)
            return "For " + name + " to implement " + i + " it must have a field called " +
                   std::string(str_of(f, "Name")) + ".";
        }
      }
    }
    if (k == "UNION") {
      if (t.members.empty())
        return "UNION " + name + ": must define one or more unique member types.";
      for (const std::string& m : t.members) {
        auto it = types_.find(m);
        if (it == types_.end()) return "Undefined type " + m + ".";
        if (it->second.kind != "OBJECT")
          return name + " has a member " + m + " that is not an OBJECT";
      }
    }
    if (k == "ENUM") {
      if (t.values.empty()) return "ENUM " + name + ": must define one or more unique enum values.";
      std::set<std::string> seen;
      for (const Value& v : t.values) {
        if (!seen.insert(std::string(str_of(v, "Name"))).second)
          return "Enum value " + name + "." + std::string(str_of(v, "Name")) +
                 " can only be defined once.";
        if (std::string e = check_directives(list_of(v, "Directives"), "ENUM_VALUE"); !e.empty())
          return e;
      }
    }
    return "";
  }

  std::map<std::string, TypeInfo> types_;
  std::set<std::string> defined_;
  std::map<std::string, DirectiveInfo> directives_;
  std::map<std::string, std::string> roots_;
};

base::Result<Value> schema_operand(std::string_view name, Args args, int pos);

// "[Int!]!" from a type reference.
std::string type_string(const Value& t) {
  std::string out;
  if (const Value* elem = t.find("Elem")) {
    out = "[" + type_string(*elem) + "]";
  } else {
    out = std::string(str_of(t, "NamedType"));
  }
  const Value* nn = t.find("NonNull");
  if (nn != nullptr && nn->is_boolean() && nn->as_bool()) out += "!";
  return out;
}

// Validation of an executable document against a checked schema: the rules of gqlparser's
// default set that decide most queries (fields and arguments exist, required arguments are
// given, leaf and composite selections, fragments and variables defined and used, known
// types and directives). The first problem wins.
class QueryChecker {
 public:
  explicit QueryChecker(const SchemaChecker& schema) : schema_(schema) {}

  // Empty when valid; otherwise the message, with line_ and col_ set.
  std::string check(const Value& doc) {
    for (const Value& f : list_of(doc, "Fragments"))
      fragments_[std::string(str_of(f, "Name"))] = &f;
    for (const Value& op : list_of(doc, "Operations")) {
      std::string kind(str_of(op, "Operation"));
      auto root = schema_.roots().find(kind);
      if (root == schema_.roots().end())
        return fail(op, "Schema does not support operation type \"" + kind + "\"");
      defined_vars_.clear();
      used_vars_.clear();
      visited_.clear();
      for (const Value& v : list_of(op, "VariableDefinitions")) {
        std::string type(named_type(*v.find("Type")));
        auto it = schema_.types().find(type);
        if (it == schema_.types().end()) return fail(v, "Unknown type \"" + type + "\".");
        const std::string& k = it->second.kind;
        if (k != "SCALAR" && k != "ENUM" && k != "INPUT_OBJECT") {
          return fail(v, "Variable \"$" + std::string(str_of(v, "Variable")) +
                             "\" cannot be non-input type \"" + type_string(*v.find("Type")) +
                             "\".");
        }
        defined_vars_.insert(std::string(str_of(v, "Variable")));
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
      if (!schema_.directives().count(name))
        return fail(at, "Unknown directive \"@" + name + "\".");
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
    auto pt = schema_.types().find(parent);
    for (const Value& sel : set) {
      if (std::string e = check_directives(list_of(sel, "Directives"), sel); !e.empty()) return e;
      if (sel.find("Alias") != nullptr) {
        if (std::string e = field(sel, parent, pt == schema_.types().end() ? nullptr : &pt->second);
            !e.empty())
          return e;
      } else if (sel.find("TypeCondition") != nullptr) {
        std::string type(str_of(sel, "TypeCondition"));
        if (type.empty()) type = parent;
        if (!schema_.types().count(type)) return fail(sel, "Unknown type \"" + type + "\".");
        if (std::string e = selections(list_of(sel, "SelectionSet"), type); !e.empty()) return e;
      } else {
        std::string name(str_of(sel, "Name"));
        auto it = fragments_.find(name);
        if (it == fragments_.end()) return fail(sel, "Unknown fragment \"" + name + "\".");
        used_fragments_.insert(name);
        if (!visited_.insert(name).second) continue;
        std::string type(str_of(*it->second, "TypeCondition"));
        if (!schema_.types().count(type))
          return fail(*it->second, "Unknown type \"" + type + "\".");
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
    if (name == "__typename") return "";
    const Value* def = nullptr;
    if (pt != nullptr) {
      for (const Value& d : pt->fields) {
        if (str_of(d, "Name") == name) def = &d;
      }
    }
    if (def == nullptr)
      return fail(f, "Cannot query field \"" + name + "\" on type \"" + parent + "\".");
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
    std::string type(named_type(*def->find("Type")));
    auto it = schema_.types().find(type);
    if (it == schema_.types().end()) return "";
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

  const SchemaChecker& schema_;
  int depth_ = 0;
  std::map<std::string, const Value*> fragments_;
  std::set<std::string> used_fragments_, defined_vars_, used_vars_, visited_;
};

// The query operand (text or a parsed AST) with positions when it is text.
base::Result<Value> query_operand(std::string_view name, const Value& v, int pos, bool positions) {
  if (v.is_object()) return v;
  if (!v.is_string()) return operand_error(name, pos, "one of {object, string}", v);
  auto doc = graphql::parse_query(v.as_string(), positions);
  if (!doc.is_ok()) return builtin_error(name, doc.status().message());
  return std::move(doc).value();
}

// Parses and validates; on success fills the ASTs OPA returns (no positions).
base::Status parse_and_validate(std::string_view name, Args args, Value& query_ast,
                                Value& schema_ast) {
  EC_ASSIGN_OR_RETURN(Value query, query_operand(name, args[0], 1, /*positions=*/true));
  EC_ASSIGN_OR_RETURN(schema_ast, schema_operand(name, args, 2));
  SchemaChecker schema;
  if (std::string e = schema.check(schema_ast); !e.empty()) {
    return builtin_error(name, "Error in gqlparser SchemaDocument to Schema conversion: " + e);
  }
  QueryChecker checker(schema);
  if (std::string e = checker.check(query); !e.empty()) {
    if (!e.empty() && e.back() == '.') e.pop_back();
    return builtin_error(name, e + " in GraphQL string at location " +
                                   std::to_string(checker.line_) + ":" +
                                   std::to_string(checker.col_));
  }
  if (args[0].is_string()) {
    auto plain = graphql::parse_query(args[0].as_string());
    if (!plain.is_ok()) return builtin_error(name, plain.status().message());
    query_ast = std::move(plain).value();
  } else {
    query_ast = args[0];
  }
  return base::Status::ok();
}

BuiltinResult gql_parse(BuiltinContext&, Args args) {
  Value query, schema;
  EC_RETURN_IF_ERROR(parse_and_validate("graphql.parse", args, query, schema));
  return ok(Value::array({std::move(query), std::move(schema)}));
}

BuiltinResult gql_parse_and_verify(BuiltinContext&, Args args) {
  Value query, schema;
  if (!parse_and_validate("graphql.parse_and_verify", args, query, schema).is_ok()) {
    return ok(Value::array({Value::boolean(false), Value::empty_object(), Value::empty_object()}));
  }
  return ok(Value::array({Value::boolean(true), std::move(query), std::move(schema)}));
}

BuiltinResult gql_is_valid(BuiltinContext&, Args args) {
  Value query, schema;
  return ok(Value::boolean(parse_and_validate("graphql.is_valid", args, query, schema).is_ok()));
}

// A schema operand: GraphQL text, or a schema AST object (as graphql.parse_schema returns).
base::Result<Value> schema_operand(std::string_view name, Args args, int pos) {
  const Value& v = args[static_cast<size_t>(pos - 1)];
  if (v.is_object()) return v;
  if (!v.is_string()) return operand_error(name, pos, "one of {object, string}", v);
  auto doc = graphql::parse_schema(v.as_string());
  if (!doc.is_ok()) return builtin_error(name, doc.status().message());
  return std::move(doc).value();
}

BuiltinResult schema_is_valid(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "graphql.schema_is_valid";
  const Value& v = args[0];
  if (!v.is_object() && !v.is_string())
    return operand_error(kName, 1, "one of {object, string}", v);
  auto doc = schema_operand(kName, args, 1);
  if (!doc.is_ok()) return ok(Value::boolean(false));
  return ok(Value::boolean(SchemaChecker().check(*doc).empty()));
}

BuiltinResult parse_query(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "graphql.parse_query";
  EC_ASSIGN_OR_RETURN(std::string_view src, arg_string(kName, args, 1));
  auto doc = graphql::parse_query(src);
  if (!doc.is_ok()) return builtin_error(kName, doc.status().message());
  return ok(std::move(doc).value());
}

BuiltinResult parse_schema(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "graphql.parse_schema";
  EC_ASSIGN_OR_RETURN(std::string_view src, arg_string(kName, args, 1));
  auto doc = graphql::parse_schema(src);
  if (!doc.is_ok()) return builtin_error(kName, doc.status().message());
  return ok(std::move(doc).value());
}

}  // namespace

void register_graphql_builtins(BuiltinRegistry& r) {
  r.add("graphql.parse_query", 1, parse_query);
  r.add("graphql.parse_schema", 1, parse_schema);
  r.add("graphql.schema_is_valid", 1, schema_is_valid);
  r.add("graphql.is_valid", 2, gql_is_valid);
  r.add("graphql.parse", 2, gql_parse);
  r.add("graphql.parse_and_verify", 2, gql_parse_and_verify);
}

}  // namespace policy::builtins
