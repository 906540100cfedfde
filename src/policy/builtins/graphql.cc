// graphql.* builtins: parse_query and parse_schema return the trees of graphql_parser.cc;
// schema_is_valid, is_valid, parse and parse_and_verify also validate: SchemaChecker here
// (gqlparser's schema rules), graphql::check_query (graphql_query.cc) for queries.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/builtins/graphql_check.h"
#include "policy/builtins/graphql_parser.h"
#include "policy/builtins/util.h"

namespace policy::builtins {
namespace {

using graphql::DirectiveInfo;
using graphql::list_of;
using graphql::named_type;
using graphql::str_of;
using graphql::TypeInfo;

// --- schema validation (gqlparser's ValidateSchemaDocument, the rules OPA's users meet) ---

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

  // Adds the spec's introspection types (__Schema, __Type, ...), after check(): queries may
  // select them, schemas may not define them.
  void add_introspection() {
    for (const Value& d : list_of(graphql::introspection_types(), "Definitions")) {
      merge(types_[std::string(str_of(d, "Name"))], d);
    }
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
  schema.add_introspection();
  graphql::QueryProblem p = graphql::check_query(
      graphql::SchemaView{schema.types(), schema.directives(), schema.roots()}, query);
  if (std::string& e = p.message; !e.empty()) {
    // OPA trims the period gqlparser ends its messages with.
    if (e.back() == '.') e.pop_back();
    return builtin_error(name, e + " in GraphQL string at location " + std::to_string(p.line) +
                                   ":" + std::to_string(p.col));
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
