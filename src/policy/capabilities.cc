#include "policy/capabilities.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cctype>
#include <string>

namespace policy {

namespace json = boost::json;

namespace {

// Declared interfaces of OPA v1.19.0's builtins (the capabilities file that
// third_party/opa-conformance/capabilities-v1.19.0.json vendors), in the notation of
// capabilities.h. tests/policy/capabilities_test.cc diffs what these produce against OPA's.
constexpr BuiltinDecl kDecls[] = {
    {"abs", "(number) => number"},
    {"all", "(any<array[any]|set[any]>) => boolean", "", true},
    {"and", "(set[any], set[any]) => set[any]", "&"},
    {"any", "(any<array[any]|set[any]>) => boolean", "", true},
    {"array.concat", "(array[any], array[any]) => array[any]"},
    {"array.flatten", "(array[any]) => array[any]"},
    {"array.reverse", "(array[any]) => array[any]"},
    {"array.slice", "(array[any], number, number) => array[any]"},
    {"assign", "(any, any) => boolean", ":="},
    {"base64.decode", "(string) => string"},
    {"base64.encode", "(string) => string"},
    {"base64.is_valid", "(string) => boolean"},
    {"base64url.decode", "(string) => string"},
    {"base64url.encode", "(string) => string"},
    {"base64url.encode_no_pad", "(string) => string"},
    {"bits.and", "(number, number) => number"},
    {"bits.lsh", "(number, number) => number"},
    {"bits.negate", "(number) => number"},
    {"bits.or", "(number, number) => number"},
    {"bits.rsh", "(number, number) => number"},
    {"bits.xor", "(number, number) => number"},
    {"cast_array", "(any) => array[any]", "", true},
    {"cast_boolean", "(any) => boolean", "", true},
    {"cast_null", "(any) => null", "", true},
    {"cast_object", "(any) => object[any:any]", "", true},
    {"cast_set", "(any) => set[any]", "", true},
    {"cast_string", "(any) => string", "", true},
    {"ceil", "(number) => number"},
    {"concat", "(string, any<array[string]|set[string]>) => string"},
    {"contains", "(string, string) => boolean"},
    {"count", "(any<string|array[any]|object[any:any]|set[any]>) => number"},
    {"crypto.hmac.equal", "(string, string) => boolean"},
    {"crypto.hmac.md5", "(string, string) => string"},
    {"crypto.hmac.sha1", "(string, string) => string"},
    {"crypto.hmac.sha256", "(string, string) => string"},
    {"crypto.hmac.sha512", "(string, string) => string"},
    {"crypto.md5", "(string) => string"},
    {"crypto.parse_private_keys", "(string) => array[object[string:any]]"},
    {"crypto.sha1", "(string) => string"},
    {"crypto.sha256", "(string) => string"},
    {"crypto.x509.parse_and_verify_certificates",
     "(string) => array<boolean,array[object[string:any]]>"},
    {"crypto.x509.parse_and_verify_certificates_with_options",
     "(string, object[string:any]) => array<boolean,array[object[string:any]]>"},
    {"crypto.x509.parse_certificate_request", "(string) => object[string:any]"},
    {"crypto.x509.parse_certificates", "(string) => array[object[string:any]]"},
    {"crypto.x509.parse_keypair", "(string, string) => object[string:any]"},
    {"crypto.x509.parse_rsa_private_key", "(string) => object[string:any]"},
    {"div", "(number, number) => number", "/"},
    {"endswith", "(string, string) => boolean"},
    {"eq", "(any, any) => boolean", "="},
    {"equal", "(any, any) => boolean", "=="},
    {"floor", "(number) => number"},
    {"format_int", "(number, number) => string"},
    {"glob.match", "(string, any<null|array[string]>, string) => boolean"},
    {"glob.quote_meta", "(string) => string"},
    {"graph.reachable",
     "(object[any:any<array[any]|set[any]>], any<array[any]|set[any]>) => set[any]"},
    {"graph.reachable_paths",
     "(object[any:any<array[any]|set[any]>], any<array[any]|set[any]>) => set[array[any]]"},
    {"graphql.is_valid", "(any<string|object[any:any]>, any<string|object[any:any]>) => boolean"},
    {"graphql.parse",
     "(any<string|object[any:any]>, any<string|object[any:any]>) => "
     "array<object[any:any],object[any:any]>"},
    {"graphql.parse_and_verify",
     "(any<string|object[any:any]>, any<string|object[any:any]>) => "
     "array<boolean,object[any:any],object[any:any]>"},
    {"graphql.parse_query", "(string) => object[any:any]"},
    {"graphql.parse_schema", "(string) => object[any:any]"},
    {"graphql.schema_is_valid", "(any<string|object[any:any]>) => boolean"},
    {"gt", "(any, any) => boolean", ">"},
    {"gte", "(any, any) => boolean", ">="},
    {"hex.decode", "(string) => string"},
    {"hex.encode", "(string) => string"},
    {"http.send", "(object[string:any]) => object[any:any]"},
    {"indexof", "(string, string) => number"},
    {"indexof_n", "(string, string) => array[number]"},
    {"internal.member_2", "(any, any) => boolean", "in"},
    {"internal.member_3", "(any, any, any) => boolean", "in"},
    {"internal.print", "(array[set[any]])"},
    {"internal.template_string", "(array[any]) => string"},
    {"internal.test_case", "(array[any])"},
    {"intersection", "(set[set[any]]) => set[any]"},
    {"io.jwt.decode", "(string) => array<object[any:any],object[any:any],string>"},
    {"io.jwt.decode_verify",
     "(string, object[string:any]) => array<boolean,object[any:any],object[any:any]>"},
    {"io.jwt.encode_sign",
     "(object[string:any], object[string:any], object[string:any]) => string"},
    {"io.jwt.encode_sign_raw", "(string, string, string) => string"},
    {"io.jwt.verify_eddsa", "(string, string) => boolean"},
    {"io.jwt.verify_es256", "(string, string) => boolean"},
    {"io.jwt.verify_es384", "(string, string) => boolean"},
    {"io.jwt.verify_es512", "(string, string) => boolean"},
    {"io.jwt.verify_hs256", "(string, string) => boolean"},
    {"io.jwt.verify_hs384", "(string, string) => boolean"},
    {"io.jwt.verify_hs512", "(string, string) => boolean"},
    {"io.jwt.verify_ps256", "(string, string) => boolean"},
    {"io.jwt.verify_ps384", "(string, string) => boolean"},
    {"io.jwt.verify_ps512", "(string, string) => boolean"},
    {"io.jwt.verify_rs256", "(string, string) => boolean"},
    {"io.jwt.verify_rs384", "(string, string) => boolean"},
    {"io.jwt.verify_rs512", "(string, string) => boolean"},
    {"is_array", "(any) => boolean"},
    {"is_boolean", "(any) => boolean"},
    {"is_null", "(any) => boolean"},
    {"is_number", "(any) => boolean"},
    {"is_object", "(any) => boolean"},
    {"is_set", "(any) => boolean"},
    {"is_string", "(any) => boolean"},
    {"json.filter",
     "(object[any:any], any<array[any<string|array[any]>]|set[any<string|array[any]>]>) => "
     "object[any:any]"},
    {"json.is_valid", "(string) => boolean"},
    {"json.marshal", "(any) => string"},
    {"json.marshal_with_options",
     "(any, object{indent:string,prefix:string,pretty:boolean}[string:any]) => string"},
    {"json.match_schema",
     "(any<string|object[any:any]>, any<string|object[any:any]>) => "
     "array<boolean,array[object{desc:string,error:string,field:string,type:string}]>"},
    {"json.patch", "(any, array[object{op:string,path:any}[any:any]]) => any"},
    {"json.remove",
     "(object[any:any], any<array[any<string|array[any]>]|set[any<string|array[any]>]>) => "
     "object[any:any]"},
    {"json.unmarshal", "(string) => any"},
    {"json.verify_schema", "(any<string|object[any:any]>) => array<boolean,any<null|string>>"},
    {"lower", "(string) => string"},
    {"lt", "(any, any) => boolean", "<"},
    {"lte", "(any, any) => boolean", "<="},
    {"max", "(any<array[any]|set[any]>) => any"},
    {"min", "(any<array[any]|set[any]>) => any"},
    {"minus", "(any<number|set[any]>, any<number|set[any]>) => any<number|set[any]>", "-"},
    {"mul", "(number, number) => number", "*"},
    {"neq", "(any, any) => boolean", "!="},
    {"net.cidr_contains", "(string, string) => boolean"},
    {"net.cidr_contains_matches",
     "(any<string|array[any<string|array[any]>]|object[string:any<string|array[any]>]|set[any<"
     "string|array[any]>]>, "
     "any<string|array[any<string|array[any]>]|object[string:any<string|array[any]>]|set[any<"
     "string|array[any]>]>) => set[array<any,any>]"},
    {"net.cidr_expand", "(string) => set[string]"},
    {"net.cidr_intersects", "(string, string) => boolean"},
    {"net.cidr_is_valid", "(string) => boolean"},
    {"net.cidr_merge", "(any<array[any<string>]|set[string]>) => set[string]"},
    {"net.cidr_overlap", "(string, string) => boolean", "", true},
    {"net.lookup_ip_addr", "(string) => set[string]"},
    {"numbers.range", "(number, number) => array[number]"},
    {"numbers.range_step", "(number, number, number) => array[number]"},
    {"object.filter",
     "(object[any:any], any<array[any]|object[any:any]|set[any]>) => object[any:any]"},
    {"object.get", "(object[any:any], any, any) => any"},
    {"object.keys", "(object[any:any]) => set[any]"},
    {"object.remove",
     "(object[any:any], any<array[any]|object[any:any]|set[any]>) => object[any:any]"},
    {"object.subset",
     "(any<array[any]|object[any:any]|set[any]>, any<array[any]|object[any:any]|set[any]>) => "
     "boolean"},
    {"object.union", "(object[any:any], object[any:any]) => object[any:any]"},
    {"object.union_n", "(array[object[any:any]]) => object[any:any]"},
    {"opa.runtime", "() => object[string:any]"},
    {"or", "(set[any], set[any]) => set[any]", "|"},
    {"plus", "(number, number) => number", "+"},
    {"print", "(...any)"},
    {"product", "(any<array[number]|set[number]>) => number"},
    {"providers.aws.sign_req",
     "(object[string:any], object[string:any], number) => object[any:any]"},
    {"rand.intn", "(string, number) => number"},
    {"re_match", "(string, string) => boolean", "", true},
    {"regex.find_all_string_submatch_n", "(string, string, number) => array[array[string]]"},
    {"regex.find_n", "(string, string, number) => array[string]"},
    {"regex.globs_match", "(string, string) => boolean"},
    {"regex.is_valid", "(string) => boolean"},
    {"regex.match", "(string, string) => boolean"},
    {"regex.replace", "(string, string, string) => string"},
    {"regex.split", "(string, string) => array[string]"},
    {"regex.template_match", "(string, string, string, string) => boolean"},
    {"rego.metadata.chain", "() => array[any]"},
    {"rego.metadata.rule", "() => any"},
    {"rego.parse_module", "(string, string) => object[string:any]"},
    {"rem", "(number, number) => number", "%"},
    {"replace", "(string, string, string) => string"},
    {"round", "(number) => number"},
    {"semver.compare", "(string, string) => number"},
    {"semver.is_valid", "(any) => boolean"},
    {"set_diff", "(set[any], set[any]) => set[any]", "", true},
    {"sort", "(any<array[any]|set[any]>) => array[any]"},
    {"split", "(string, string) => array[string]"},
    {"sprintf", "(string, array[any]) => string"},
    {"startswith", "(string, string) => boolean"},
    {"strings.any_prefix_match",
     "(any<string|array[string]|set[string]>, any<string|array[string]|set[string]>) => boolean"},
    {"strings.any_suffix_match",
     "(any<string|array[string]|set[string]>, any<string|array[string]|set[string]>) => boolean"},
    {"strings.count", "(string, string) => number"},
    {"strings.render_template", "(string, object[string:any]) => string"},
    {"strings.replace_n", "(object[string:string], string) => string"},
    {"strings.reverse", "(string) => string"},
    {"strings.split_n", "(string, string, number) => array[string]"},
    {"substring", "(string, number, number) => string"},
    {"sum", "(any<array[number]|set[number]>) => number"},
    {"time.add_date", "(number, number, number, number) => number"},
    {"time.clock", "(any<number|array<number,string>>) => array<number,number,number>"},
    {"time.date", "(any<number|array<number,string>>) => array<number,number,number>"},
    {"time.diff",
     "(any<number|array<number,string>>, any<number|array<number,string>>) => "
     "array<number,number,number,number,number,number>"},
    {"time.format", "(any<number|array<number,string>|array<number,string,string>>) => string"},
    {"time.now_ns", "() => number"},
    {"time.parse_duration_ns", "(string) => number"},
    {"time.parse_ns", "(string, string) => number"},
    {"time.parse_rfc3339_ns", "(string) => number"},
    {"time.weekday", "(any<number|array<number,string>>) => string"},
    {"to_number", "(any<null|boolean|number|string>) => number"},
    {"trace", "(string) => boolean"},
    {"trim", "(string, string) => string"},
    {"trim_left", "(string, string) => string"},
    {"trim_prefix", "(string, string) => string"},
    {"trim_right", "(string, string) => string"},
    {"trim_space", "(string) => string"},
    {"trim_suffix", "(string, string) => string"},
    {"type_name", "(any) => string"},
    {"union", "(set[set[any]]) => set[any]"},
    {"units.parse", "(string) => number"},
    {"units.parse_bytes", "(string) => number"},
    {"upper", "(string) => string"},
    {"uri.is_valid", "(string) => boolean"},
    {"uri.parse", "(string) => object[string:string]"},
    {"urlquery.decode", "(string) => string"},
    {"urlquery.decode_object", "(string) => object[string:array[string]]"},
    {"urlquery.encode", "(string) => string"},
    {"urlquery.encode_object", "(object[string:any<string|array[string]|set[string]>]) => string"},
    {"uuid.parse", "(string) => object[string:any]"},
    {"uuid.rfc4122", "(string) => string"},
    {"walk", "(any) => array<array[any],any>", "", false, true},
    {"yaml.is_valid", "(string) => boolean"},
    {"yaml.marshal", "(any) => string"},
    {"yaml.unmarshal", "(string) => any"},
};

// Parses the compact signature notation into OPA's JSON type objects.
class SigParser {
 public:
  explicit SigParser(std::string_view s) : s_(s) {}

  base::Result<json::object> decl() {
    json::object d;
    expect('(');
    if (s_.substr(pos_, 3) == "...") {
      pos_ += 3;
      json::value v = type();
      d["type"] = "function";
      d["variadic"] = std::move(v);
      expect(')');
    } else {
      json::array args;
      skip_space();
      if (peek() != ')') {
        args.push_back(type());
        while (skip_space(), peek() == ',') {
          ++pos_;
          args.push_back(type());
        }
      }
      expect(')');
      skip_space();
      // OPA leaves "args" out when there are none (time.now_ns).
      if (!args.empty()) d["args"] = std::move(args);
      if (s_.substr(pos_, 2) == "=>") {
        pos_ += 2;
        d["result"] = type();
      }
      d["type"] = "function";
    }
    skip_space();
    if (pos_ != s_.size()) fail("trailing text");
    if (!error_.empty()) {
      return base::invalid_argument("signature \"" + std::string(s_) + "\": " + error_ + " at " +
                                    std::to_string(pos_));
    }
    return d;
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (peek() == ' ') ++pos_;
  }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    pos_ = s_.size();
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) return fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string_view word() {
    skip_space();
    size_t b = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '_' || s_[pos_] == '.')) {
      ++pos_;
    }
    return s_.substr(b, pos_ - b);
  }
  // {"dynamic"|"of": inner, "type": name} with keys in OPA's (alphabetical) order.
  json::object typed(std::string_view member, json::value inner, std::string_view name) {
    json::object o;
    o[member] = std::move(inner);
    o["type"] = name;
    return o;
  }

  json::value type() {
    std::string_view w = word();
    if (w == "number" || w == "string" || w == "boolean" || w == "null") {
      return json::object{{"type", w}};
    }
    if (w == "any") {
      if (peek() != '<') return json::object{{"type", "any"}};
      ++pos_;
      json::array of{type()};
      while (peek() == '|') {
        ++pos_;
        of.push_back(type());
      }
      expect('>');
      return typed("of", std::move(of), "any");
    }
    if (w == "set") {
      expect('[');
      json::value of = type();
      expect(']');
      return typed("of", std::move(of), "set");
    }
    if (w == "array") {
      if (peek() == '[') {
        ++pos_;
        json::value dyn = type();
        expect(']');
        return typed("dynamic", std::move(dyn), "array");
      }
      expect('<');
      json::array items{type()};
      while (skip_space(), peek() == ',') {
        ++pos_;
        items.push_back(type());
      }
      expect('>');
      return typed("static", std::move(items), "array");
    }
    if (w == "object") {
      json::object o;
      if (peek() == '{') {
        ++pos_;
        json::array fields;
        do {
          if (peek() == ',') ++pos_;
          std::string_view key = word();
          expect(':');
          fields.push_back(json::object{{"key", key}, {"value", type()}});
        } while (skip_space(), peek() == ',');
        expect('}');
        o["static"] = std::move(fields);
      }
      if (peek() == '[') {
        ++pos_;
        json::value key = type();
        expect(':');
        json::value value = type();
        expect(']');
        json::object dyn{{"key", std::move(key)}, {"value", std::move(value)}};
        // "dynamic" sorts before "static".
        json::object sorted{{"dynamic", std::move(dyn)}};
        for (auto& kv : o) sorted[kv.key()] = std::move(kv.value());
        o = std::move(sorted);
      }
      o["type"] = "object";
      return o;
    }
    fail("unknown type '" + std::string(w) + "'");
    return nullptr;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::span<const BuiltinDecl> builtin_decls() { return kDecls; }

const BuiltinDecl* find_decl(std::string_view name) {
  auto it = std::lower_bound(std::begin(kDecls), std::end(kDecls), name,
                             [](const BuiltinDecl& d, std::string_view n) { return d.name < n; });
  return it != std::end(kDecls) && it->name == name ? &*it : nullptr;
}

base::Result<json::value> decl_json(const BuiltinDecl& decl) {
  EC_ASSIGN_OR_RETURN(json::object d, SigParser(decl.signature).decl());
  return json::value(std::move(d));
}

int decl_arity(const BuiltinDecl& decl) {
  auto d = decl_json(decl);
  if (!d.is_ok()) return -1;
  const json::object& o = d->as_object();
  if (o.contains("variadic")) return -1;
  const json::value* args = o.if_contains("args");
  return args ? static_cast<int>(args->as_array().size()) : 0;
}

bool is_evaluator_builtin(std::string_view name) {
  return name == "eq" || name == "assign" || name == "internal.member_2" ||
         name == "internal.member_3" || name == "print" || name == "internal.print" ||
         name == "walk" || name == "rego.metadata.rule" || name == "rego.metadata.chain";
}

json::object capabilities_json(const BuiltinRegistry& registry) {
  json::array builtins;
  for (const BuiltinDecl& d : kDecls) {
    const Builtin* b = registry.find(d.name);
    if (!b && !is_evaluator_builtin(d.name)) continue;
    auto decl = decl_json(d);
    if (!decl.is_ok()) continue;  // capabilities_test parses every signature
    // Keys in OPA's order: name, decl, then the flags.
    json::object entry;
    entry["name"] = d.name;
    entry["decl"] = std::move(*decl);
    if (d.deprecated) entry["deprecated"] = true;
    if (!d.infix.empty()) entry["infix"] = d.infix;
    if (b && !b->deterministic) entry["nondeterministic"] = true;
    if (d.relation) entry["relation"] = true;
    builtins.push_back(std::move(entry));
  }
  json::object caps;
  caps["builtins"] = std::move(builtins);
  caps["future_keywords"] = json::array{"not"};
  // This engine does not run OPA's Wasm compilation target.
  caps["wasm_abi_versions"] = json::array{};
  caps["features"] = json::array{"keywords_in_refs", "rego_v1", "template_strings"};
  return caps;
}

namespace {
void append_pretty(std::string& out, const json::value& v, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<size_t>(d) * 2, ' ');
  };
  if (v.is_object() && !v.as_object().empty()) {
    out += '{';
    bool first = true;
    for (const auto& kv : v.as_object()) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      out += json::serialize(json::value(kv.key()));
      out += ": ";
      append_pretty(out, kv.value(), depth + 1);
    }
    newline(depth);
    out += '}';
  } else if (v.is_array() && !v.as_array().empty()) {
    out += '[';
    bool first = true;
    for (const auto& e : v.as_array()) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      append_pretty(out, e, depth + 1);
    }
    newline(depth);
    out += ']';
  } else {
    out += json::serialize(v);
  }
}
}  // namespace

std::string pretty_json(const json::value& v) {
  std::string out;
  append_pretty(out, v, 0);
  out += '\n';
  return out;
}

}  // namespace policy
