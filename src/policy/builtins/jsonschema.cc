// json.verify_schema and json.match_schema: a JSON Schema (draft 4-7 core keywords) validator
// whose results follow gojsonschema's error objects ({desc, error, field, type}), as OPA's.
#ifndef EDGECLASS_POLICY_NO_RE2
#include <re2/re2.h>
#endif

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

constexpr std::string_view kTypes[] = {"array", "boolean", "integer", "number", "null", "object", "string"};

base::Status check_schema(const Value& s) {
  if (s.is_boolean()) return base::Status::ok();
  if (!s.is_object()) return base::invalid_argument("schema must be an object or a boolean");
  if (const Value* t = s.find("type")) {
    std::vector<Value> types;
    if (t->is_array()) {
      types.assign(t->array_items().begin(), t->array_items().end());
    } else {
      types.push_back(*t);
    }
    for (const Value& x : types) {
      bool known = false;
      for (auto k : kTypes) known = known || (x.is_string() && x.as_string() == k);
      if (!known) {
        std::string given = x.is_string() ? x.as_string() : x.to_json();
        return base::invalid_argument("has a primitive type that is NOT VALID -- given: /" + given +
                                      "/ Expected valid values are:[array boolean integer number null object string]");
      }
    }
  }
  for (std::string_view k : {"not", "additionalProperties", "items", "additionalItems", "contains",
                             "propertyNames", "if", "then", "else"}) {
    if (const Value* sub = s.find(k); sub && (sub->is_object() || sub->is_boolean())) {
      EC_RETURN_IF_ERROR(check_schema(*sub));
    }
  }
  for (std::string_view k : {"properties", "patternProperties", "definitions", "$defs"}) {
    if (const Value* m = s.find(k); m && m->is_object()) {
      for (const auto& [name, sub] : m->object_items()) EC_RETURN_IF_ERROR(check_schema(sub));
    }
  }
  for (std::string_view k : {"allOf", "anyOf", "oneOf", "items"}) {
    if (const Value* a = s.find(k); a && a->is_array()) {
      for (const Value& sub : a->array_items()) EC_RETURN_IF_ERROR(check_schema(sub));
    }
  }
  return base::Status::ok();
}

std::string json_type(const Value& v) {
  switch (v.type()) {
    case Type::kNull: return "null";
    case Type::kBoolean: return "boolean";
    case Type::kNumber: return v.as_int() ? "integer" : "number";
    case Type::kString: return "string";
    case Type::kObject: return "object";
    default: return "array";
  }
}

std::string num_text(const Value& v) { return number_to_string(v); }

class Validator {
 public:
  explicit Validator(const Value& root) : root_(root) {}
  std::vector<Value> errors;

  void validate(const Value& schema, const Value& v, const std::string& field) {
    if (++depth_ > 200) return;
    run(schema, v, field);
    --depth_;
  }

 private:
  void fail(const std::string& field, const std::string& type, const std::string& desc) {
    errors.push_back(Value::object({{Value::string("desc"), Value::string(desc)},
                                    {Value::string("error"), Value::string(field + ": " + desc)},
                                    {Value::string("field"), Value::string(field)},
                                    {Value::string("type"), Value::string(type)}}));
  }

  static std::string child(const std::string& field, const std::string& name) {
    return field == "(root)" ? name : field + "." + name;
  }

  bool type_ok(const Value& t, const Value& v) {
    std::string given = json_type(v);
    std::string want = t.is_string() ? t.as_string() : "";
    return want == given || (want == "number" && given == "integer");
  }

  const Value* resolve(const Value& schema) {
    const Value* ref = schema.find("$ref");
    if (ref == nullptr || !ref->is_string()) return &schema;
    const std::string& r = ref->as_string();
    if (r.rfind("#", 0) != 0) return &schema;
    const Value* cur = &root_;
    size_t pos = 2;
    while (pos <= r.size() && r.size() > 1) {
      size_t slash = r.find('/', pos);
      std::string part = r.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
      cur = cur->find(part);
      if (cur == nullptr) return &schema;
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    return cur;
  }

  void run(const Value& schema_in, const Value& v, const std::string& field) {
    if (schema_in.is_boolean()) {
      if (!schema_in.as_bool()) fail(field, "false", "False always fails validation");
      return;
    }
    const Value& s = *resolve(schema_in);
    if (!s.is_object()) return;
    if (const Value* t = s.find("type")) {
      bool okay = false;
      std::string expected;
      for (const Value& x : t->is_array() ? t->array_items() : std::span<const Value>(t, 1)) {
        okay = okay || type_ok(x, v);
        if (!expected.empty()) expected += "/";
        expected += x.is_string() ? x.as_string() : "";
      }
      if (!okay) {
        fail(field, "invalid_type", "Invalid type. Expected: " + expected + ", given: " + json_type(v));
        return;
      }
    }
    if (const Value* e = s.find("enum"); e && e->is_array()) {
      auto items = e->array_items();
      if (std::find(items.begin(), items.end(), v) == items.end()) {
        std::string allowed;
        for (size_t i = 0; i < items.size(); ++i) allowed += (i ? ", " : "") + items[i].to_json();
        fail(field, "enum", field + " must be one of the following: " + allowed);
      }
    }
    if (const Value* c = s.find("const"); c && !(*c == v)) {
      fail(field, "const", field + " does not match: " + c->to_json());
    }
    if (v.is_number()) numbers(s, v, field);
    if (v.is_string()) strings(s, v, field);
    if (v.is_array()) arrays(s, v, field);
    if (v.is_object()) objects(s, v, field);
    if (const Value* all = s.find("allOf"); all && all->is_array()) {
      for (const Value& sub : all->array_items()) validate(sub, v, field);
    }
    auto passes = [&](const Value& sub) {
      Validator inner(root_);
      inner.validate(sub, v, field);
      return inner.errors.empty();
    };
    if (const Value* any = s.find("anyOf"); any && any->is_array()) {
      bool hit = false;
      for (const Value& sub : any->array_items()) hit = hit || passes(sub);
      if (!hit) fail(field, "number_any_of", "Must validate at least one schema (anyOf)");
    }
    if (const Value* one = s.find("oneOf"); one && one->is_array()) {
      int n = 0;
      for (const Value& sub : one->array_items()) n += passes(sub) ? 1 : 0;
      if (n != 1) fail(field, "number_one_of", "Must validate one and only one schema (oneOf)");
    }
    if (const Value* no = s.find("not"); no && passes(*no)) {
      fail(field, "number_not", "Must not validate the schema (not)");
    }
  }

  void numbers(const Value& s, const Value& v, const std::string& field) {
    double x = v.as_double();
    auto num = [&](std::string_view k) -> const Value* {
      const Value* n = s.find(k);
      return n && n->is_number() ? n : nullptr;
    };
    bool excl_min_bool = false, excl_max_bool = false;
    if (const Value* b = s.find("exclusiveMinimum"); b && b->is_boolean()) excl_min_bool = b->as_bool();
    if (const Value* b = s.find("exclusiveMaximum"); b && b->is_boolean()) excl_max_bool = b->as_bool();
    if (const Value* m = num("minimum")) {
      if (excl_min_bool ? !(x > m->as_double()) : x < m->as_double()) {
        fail(field, excl_min_bool ? "number_gt" : "number_gte",
             std::string(excl_min_bool ? "Must be greater than " : "Must be greater than or equal to ") + num_text(*m));
      }
    }
    if (const Value* m = num("maximum")) {
      if (excl_max_bool ? !(x < m->as_double()) : x > m->as_double()) {
        fail(field, excl_max_bool ? "number_lt" : "number_lte",
             std::string(excl_max_bool ? "Must be less than " : "Must be less than or equal to ") + num_text(*m));
      }
    }
    if (const Value* m = num("exclusiveMinimum"); m && !(x > m->as_double())) {
      fail(field, "number_gt", "Must be greater than " + num_text(*m));
    }
    if (const Value* m = num("exclusiveMaximum"); m && !(x < m->as_double())) {
      fail(field, "number_lt", "Must be less than " + num_text(*m));
    }
    if (const Value* m = num("multipleOf"); m && m->as_double() != 0) {
      double q = x / m->as_double();
      if (std::fabs(q - std::round(q)) > 1e-9) fail(field, "multiple_of", "Must be a multiple of " + num_text(*m));
    }
  }

  void strings(const Value& s, const Value& v, const std::string& field) {
    size_t len = 0;
    for (unsigned char c : v.as_string()) len += (c & 0xC0) != 0x80;
    if (const Value* m = s.find("minLength"); m && m->is_number() && len < static_cast<size_t>(m->as_double())) {
      fail(field, "string_gte", "String length must be greater than or equal to " + num_text(*m));
    }
    if (const Value* m = s.find("maxLength"); m && m->is_number() && len > static_cast<size_t>(m->as_double())) {
      fail(field, "string_lte", "String length must be less than or equal to " + num_text(*m));
    }
    if (const Value* p = s.find("pattern"); p && p->is_string()) {
#ifndef EDGECLASS_POLICY_NO_RE2
      RE2::Options opts;
      opts.set_log_errors(false);
      RE2 re(p->as_string(), opts);
      if (re.ok() && !RE2::PartialMatch(v.as_string(), re)) {
        fail(field, "pattern", "Does not match pattern '" + p->as_string() + "'");
      }
#else
      // No RE2 in the wasm32-wasi build: a pattern cannot be checked, so it never passes.
      fail(field, "pattern",
           "Pattern '" + p->as_string() +
               "' cannot be checked: no regular "
               "expressions in the wasm32-wasi build");
#endif
    }
  }

  void arrays(const Value& s, const Value& v, const std::string& field) {
    auto items = v.array_items();
    if (const Value* m = s.find("minItems"); m && m->is_number() && items.size() < static_cast<size_t>(m->as_double())) {
      fail(field, "array_min_items", "Array must have at least " + num_text(*m) + " items");
    }
    if (const Value* m = s.find("maxItems"); m && m->is_number() && items.size() > static_cast<size_t>(m->as_double())) {
      fail(field, "array_max_items", "Array must have at most " + num_text(*m) + " items");
    }
    if (const Value* u = s.find("uniqueItems"); u && u->is_boolean() && u->as_bool()) {
      for (size_t i = 0; i < items.size(); ++i) {
        for (size_t j = i + 1; j < items.size(); ++j) {
          if (items[i] == items[j]) {
            fail(field, "unique", "array items[" + std::to_string(i) + "," + std::to_string(j) + "] must be unique");
            i = j = items.size();
          }
        }
      }
    }
    if (const Value* it = s.find("items")) {
      if (it->is_array()) {
        for (size_t i = 0; i < items.size() && i < it->array_items().size(); ++i) {
          validate(it->array_items()[i], items[i], child(field, std::to_string(i)));
        }
      } else {
        for (size_t i = 0; i < items.size(); ++i) validate(*it, items[i], child(field, std::to_string(i)));
      }
    }
  }

  void objects(const Value& s, const Value& v, const std::string& field) {
    if (const Value* req = s.find("required"); req && req->is_array()) {
      for (const Value& k : req->array_items()) {
        if (k.is_string() && v.find(k) == nullptr) {
          fail(field, "required", k.as_string() + " is required");
        }
      }
    }
    const Value* props = s.find("properties");
    const Value* addl = s.find("additionalProperties");
    for (const auto& [k, val] : v.object_items()) {
      std::string name = k.is_string() ? k.as_string() : k.to_json();
      const Value* sub = props && props->is_object() ? props->find(k) : nullptr;
      if (sub) {
        validate(*sub, val, child(field, name));
      } else if (addl) {
        if (addl->is_boolean() && !addl->as_bool()) {
          fail(field, "additional_property_not_allowed", "Additional property " + name + " is not allowed");
        } else if (addl->is_object()) {
          validate(*addl, val, child(field, name));
        }
      }
    }
    if (const Value* m = s.find("minProperties"); m && m->is_number() && v.size() < static_cast<size_t>(m->as_double())) {
      fail(field, "array_min_properties", "Must have at least " + num_text(*m) + " properties");
    }
    if (const Value* m = s.find("maxProperties"); m && m->is_number() && v.size() > static_cast<size_t>(m->as_double())) {
      fail(field, "array_max_properties", "Must have at most " + num_text(*m) + " properties");
    }
  }

  const Value& root_;
  int depth_ = 0;
};

// A schema or document operand: a JSON string or a value.
base::Result<Value> json_operand(std::string_view name, Args args, int pos) {
  const Value& v = args[static_cast<size_t>(pos - 1)];
  if (!v.is_string()) return v;
  auto parsed = Value::parse_json(v.as_string());
  if (!parsed.is_ok()) return builtin_error(name, parsed.status().message());
  return parsed;
}

BuiltinResult verify_schema(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "json.verify_schema";
  EC_RETURN_IF_ERROR(check_types(kName, args, 1, {Type::kString, Type::kObject, Type::kBoolean}));
  auto schema = json_operand(kName, args, 1);
  if (!schema.is_ok()) return ok(Value::array({Value::boolean(false), Value::string(schema.status().message())}));
  base::Status st = check_schema(*schema);
  if (!st.is_ok()) return ok(Value::array({Value::boolean(false), Value::string("jsonschema: " + st.message())}));
  return ok(Value::array({Value::boolean(true), Value::null()}));
}

BuiltinResult match_schema(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "json.match_schema";
  EC_ASSIGN_OR_RETURN(Value doc, json_operand(kName, args, 1));
  EC_ASSIGN_OR_RETURN(Value schema, json_operand(kName, args, 2));
  base::Status st = check_schema(schema);
  if (!st.is_ok()) return builtin_error(kName, st.message());
  Validator v(schema);
  v.validate(schema, doc, "(root)");
  bool valid = v.errors.empty();
  return ok(Value::array({Value::boolean(valid), Value::array(std::move(v.errors))}));
}

}  // namespace

void register_jsonschema_builtins(BuiltinRegistry& r) {
  r.add("json.verify_schema", 1, verify_schema);
  r.add("json.match_schema", 2, match_schema);
}

}  // namespace policy::builtins
