// json.marshal / unmarshal / is_valid / marshal_with_options and yaml.marshal / unmarshal /
// is_valid. yaml-cpp throws on bad input: its exceptions are caught right at each call.
#ifndef EDGECLASS_POLICY_NO_YAML_CPP
#include <yaml-cpp/yaml.h>
#endif

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

BuiltinResult marshal(BuiltinContext&, Args args) { return ok(Value::string(go_json(args[0]))); }

// Go's json.MarshalIndent layout, with `prefix` also before the first line (as OPA does).
void pretty(std::string& out, const Value& v, const std::string& prefix,
            const std::string& indent, int depth) {
  auto newline = [&](int d) {
    out.push_back('\n');
    out += prefix;
    for (int i = 0; i < d; ++i) out += indent;
  };
  if (v.is_array() || v.is_set()) {
    auto items = v.elements();
    if (items.empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out.push_back(',');
      newline(depth + 1);
      pretty(out, items[i], prefix, indent, depth + 1);
    }
    newline(depth);
    out.push_back(']');
  } else if (v.is_object()) {
    auto items = v.object_items();
    if (items.empty()) {
      out += "{}";
      return;
    }
    out.push_back('{');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out.push_back(',');
      newline(depth + 1);
      std::string key;
      append_quoted(key, items[i].first.is_string() ? items[i].first.as_string() : items[i].first.to_json());
      out += go_json_escape(std::move(key));
      out += ": ";
      pretty(out, items[i].second, prefix, indent, depth + 1);
    }
    newline(depth);
    out.push_back('}');
  } else {
    out += go_json(v);
  }
}

BuiltinResult marshal_with_options(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "json.marshal_with_options";
  EC_RETURN_IF_ERROR(check_type(kName, args, 2, Type::kObject));
  bool pretty_set = false, pretty_on = false, have_layout = false;
  std::string prefix, indent = "\t";
  for (const auto& [k, v] : args[1].object_items()) {
    if (!k.is_string()) return operand_error(kName, 2, "object with string keys", args[1]);
    const std::string& key = k.as_string();
    if (key == "pretty") {
      if (!v.is_boolean()) return type_error(kName, "operand 2 \"pretty\" must be a boolean");
      pretty_set = true;
      pretty_on = v.as_bool();
    } else if (key == "indent") {
      if (!v.is_string()) return type_error(kName, "operand 2 \"indent\" must be a string");
      indent = v.as_string();
      have_layout = true;
    } else if (key == "prefix") {
      if (!v.is_string()) return type_error(kName, "operand 2 \"prefix\" must be a string");
      prefix = v.as_string();
      have_layout = true;
    } else {
      return type_error(kName, "operand 2 object contained unknown key \"" + key + "\"");
    }
  }
  bool use_pretty = pretty_set ? pretty_on : have_layout;
  if (!use_pretty) return ok(Value::string(go_json(args[0])));
  std::string out = prefix;
  pretty(out, args[0], prefix, indent, 0);
  return ok(Value::string(std::move(out)));
}

BuiltinResult unmarshal(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("json.unmarshal", args, 1));
  auto v = Value::parse_json(s);
  if (!v.is_ok()) return builtin_error("json.unmarshal", v.status().message());
  return ok(std::move(v).value());
}

BuiltinResult json_is_valid(BuiltinContext&, Args args) {
  if (!args[0].is_string()) return ok(Value::boolean(false));
  return ok(Value::boolean(Value::parse_json(args[0].as_string()).is_ok()));
}

// --- YAML --------------------------------------------------------------------------------

// Resolves a plain scalar as YAML 1.1 does (Go's yaml.v2, which OPA uses): null, booleans
// (true/yes/on...), integers (decimal, 0x, 0o, 0b), floats, else a string.
Value resolve_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Value::null();
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
  for (auto t : kTrue) {
    if (s == t) return Value::boolean(true);
  }
  for (auto f : kFalse) {
    if (s == f) return Value::boolean(false);
  }
  std::string t;
  for (char c : s) {
    if (c != '_') t.push_back(c);
  }
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  bool neg = t[0] == '-';
  auto parse_base = [&](size_t from, int base) -> std::optional<Value> {
    if (from >= t.size()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    unsigned long long u = std::strtoull(t.c_str() + from, &end, base);
    if (*end != '\0' || errno != 0 || u > static_cast<unsigned long long>(INT64_MAX)) return std::nullopt;
    int64_t v = static_cast<int64_t>(u);
    return Value::integer(neg ? -v : v);
  };
  if (t.size() > i + 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X')) {
    if (auto v = parse_base(i + 2, 16)) return *v;
  } else if (t.size() > i + 2 && t[i] == '0' && (t[i + 1] == 'o' || t[i + 1] == 'b')) {
    if (auto v = parse_base(i + 2, t[i + 1] == 'o' ? 8 : 2)) return *v;
  } else if (t.size() > i && std::isdigit(static_cast<unsigned char>(t[i]))) {
    bool all_digits = true;
    for (size_t k = i; k < t.size(); ++k) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(t[k]));
    if (all_digits) {
      if (auto v = parse_base(i, 10)) return *v;
    }
  }
  if (s == ".inf" || s == ".Inf" || s == "+.inf" || s == "-.inf" || s == ".nan" || s == ".NaN") {
    return Value::string(s);  // not representable as a Rego number
  }
  // Floats: digits with '.' and/or exponent.
  bool digit = false, ok_chars = true;
  for (size_t k = i; k < t.size(); ++k) {
    char c = t[k];
    if (std::isdigit(static_cast<unsigned char>(c))) digit = true;
    else if (!(c == '.' || c == 'e' || c == 'E' || ((c == '-' || c == '+') && k > 0 && (t[k - 1] == 'e' || t[k - 1] == 'E')))) ok_chars = false;
  }
  if (digit && ok_chars) {
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    if (*end == '\0' && std::isfinite(d)) {
      if (d == std::floor(d) && std::fabs(d) < 9.2e18 && t.find_first_of(".eE") == std::string::npos) {
        return Value::integer(static_cast<int64_t>(d));
      }
      return Value::number(d);
    }
  }
  return Value::string(s);
}

#ifndef EDGECLASS_POLICY_NO_YAML_CPP
base::Result<Value> from_yaml(const YAML::Node& n, int depth) {
  if (depth > 1000) return base::invalid_argument("yaml: document nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Value::null();
    case YAML::NodeType::Scalar:
      if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return Value::string(n.Scalar());
      return resolve_scalar(n.Scalar());
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      for (const auto& child : n) {
        EC_ASSIGN_OR_RETURN(Value v, from_yaml(child, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::array(std::move(items));
    }
    case YAML::NodeType::Map: {
      std::vector<ObjectItem> items;
      for (const auto& kv : n) {
        EC_ASSIGN_OR_RETURN(Value k, from_yaml(kv.first, depth + 1));
        EC_ASSIGN_OR_RETURN(Value v, from_yaml(kv.second, depth + 1));
        // JSON objects have string keys: other scalar keys become their text.
        if (!k.is_string()) k = Value::string(kv.first.IsScalar() ? kv.first.Scalar() : k.to_json());
        items.emplace_back(std::move(k), std::move(v));
      }
      return Value::object(std::move(items));
    }
  }
  return Value::null();
}

// Parses one YAML document (an empty text is null). Messages follow Go's yaml.v2 shape
// ("yaml: line N: ...").
base::Result<Value> parse_yaml(std::string_view text) {
  // yaml-cpp recurses per flow level; refuse nesting that could exhaust the stack.
  int depth = 0, max_depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  if (max_depth > 256) return base::invalid_argument("yaml: exceeded max depth of 256");
  try {
    YAML::Node n = YAML::Load(std::string(text));
    return from_yaml(n, 0);
  } catch (const YAML::Exception& e) {
    std::string what = e.msg;
    std::string line = std::to_string(e.mark.line + 1);
    if (what.find("end of sequence flow") != std::string::npos) {
      what = "did not find expected ',' or ']'";
    } else if (what.find("end of map flow") != std::string::npos) {
      what = "did not find expected ',' or '}'";
    }
    return base::invalid_argument("yaml: line " + line + ": " + what);
  } catch (const std::exception& e) {
    return base::invalid_argument(std::string("yaml: ") + e.what());
  }
}
#else
// The wasm32-wasi build has no yaml-cpp (it needs exceptions): parsing YAML is refused, with
// a message that says why. yaml.marshal is our own code and works everywhere.
base::Result<Value> parse_yaml(std::string_view) {
  return base::invalid_argument("yaml: parsing YAML is not available in the wasm32-wasi build");
}
#endif

// A scalar as go-yaml v2 writes it: plain when it reads back as the same string, otherwise
// double-quoted.
std::string yaml_scalar(const Value& v) {
  switch (v.type()) {
    case Type::kNull: return "null";
    case Type::kBoolean: return v.as_bool() ? "true" : "false";
    case Type::kNumber: return number_to_string(v);
    default: break;
  }
  const std::string& s = v.as_string();
  bool plain = !s.empty() && resolve_scalar(s).is_string() && s.front() != ' ' && s.back() != ' ' &&
               std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s.front()) == std::string_view::npos &&
               s.find(": ") == std::string::npos && s.find(" #") == std::string::npos && s.back() != ':';
  for (unsigned char c : s) plain = plain && c >= 0x20 && c != 0x7F;
  if (plain) return s;
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

bool yaml_block(const Value& v) { return (v.is_object() || v.is_array() || v.is_set()) && v.size() > 0; }

// Block style as go-yaml v2: sorted keys, two-space indentation, sequences inside mappings not
// indented ("a:\n- 1"), empty collections as {} / [].
void emit(std::string& out, const Value& v, int indent) {
  std::string pad(static_cast<size_t>(indent), ' ');
  if (!yaml_block(v)) {
    out += v.is_object() ? "{}" : (v.is_array() || v.is_set()) ? "[]" : yaml_scalar(v);
    out += "\n";
    return;
  }
  bool first = true;
  if (v.is_object()) {
    for (const auto& [k, val] : v.object_items()) {
      if (!first) out += pad;
      first = false;
      out += yaml_scalar(k.is_string() ? k : Value::string(k.to_json())) + ":";
      if (yaml_block(val)) {
        out += "\n" + std::string(static_cast<size_t>(val.is_object() ? indent + 2 : indent), ' ');
        emit(out, val, val.is_object() ? indent + 2 : indent);
      } else {
        out += " ";
        emit(out, val, indent + 2);
      }
    }
    return;
  }
  for (const Value& e : v.elements()) {
    if (!first) out += pad;
    first = false;
    out += "- ";
    emit(out, e, indent + 2);
  }
}

BuiltinResult yaml_marshal(BuiltinContext&, Args args) {
  std::string out;
  emit(out, args[0], 0);
  return ok(Value::string(std::move(out)));
}

BuiltinResult yaml_unmarshal(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("yaml.unmarshal", args, 1));
  auto v = parse_yaml(s);
  if (!v.is_ok()) return builtin_error("yaml.unmarshal", v.status().message());
  return ok(std::move(v).value());
}

BuiltinResult yaml_is_valid(BuiltinContext&, Args args) {
  if (!args[0].is_string()) return ok(Value::boolean(false));
  return ok(Value::boolean(parse_yaml(args[0].as_string()).is_ok()));
}

}  // namespace

void register_serialization_builtins(BuiltinRegistry& r) {
  r.add("json.marshal", 1, marshal);
  r.add("json.marshal_with_options", 2, marshal_with_options);
  r.add("json.unmarshal", 1, unmarshal);
  r.add("json.is_valid", 1, json_is_valid);
  r.add("yaml.marshal", 1, yaml_marshal);
  r.add("yaml.unmarshal", 1, yaml_unmarshal);
  r.add("yaml.is_valid", 1, yaml_is_valid);
}

}  // namespace policy::builtins
