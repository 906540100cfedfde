// base64.*, base64url.*, hex.*, urlquery.*, uri.* builtins.
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "policy/builtins/codec.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

template <bool Url, bool Pad>
BuiltinResult b64_encode(BuiltinContext&, Args args) {
  std::string_view name = !Url ? "base64.encode" : Pad ? "base64url.encode" : "base64url.encode_no_pad";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(name, args, 1));
  return ok(Value::string(codec::base64_encode(s, Url, Pad)));
}

BuiltinResult b64_decode(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("base64.decode", args, 1));
  auto r = codec::base64_decode(s, false, true);
  if (!r.is_ok()) return builtin_error("base64.decode", r.status().message());
  return ok(Value::string(std::move(r).value()));
}

BuiltinResult b64_is_valid(BuiltinContext&, Args args) {
  if (!args[0].is_string()) return ok(Value::boolean(false));
  return ok(Value::boolean(codec::base64_decode(args[0].as_string(), false, true).is_ok()));
}

BuiltinResult b64url_decode(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("base64url.decode", args, 1));
  // Unpadded input is accepted too (OPA picks the raw decoder when len % 4 != 0).
  auto r = codec::base64_decode(s, true, s.size() % 4 == 0);
  if (!r.is_ok()) return builtin_error("base64url.decode", r.status().message());
  return ok(Value::string(std::move(r).value()));
}

BuiltinResult hex_encode(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("hex.encode", args, 1));
  return ok(Value::string(codec::hex_encode(s)));
}

BuiltinResult hex_decode(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("hex.decode", args, 1));
  auto r = codec::hex_decode(s);
  if (!r.is_ok()) return builtin_error("hex.decode", r.status().message());
  return ok(Value::string(std::move(r).value()));
}

BuiltinResult url_encode(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("urlquery.encode", args, 1));
  return ok(Value::string(codec::query_escape(s)));
}

BuiltinResult url_decode(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string("urlquery.decode", args, 1));
  auto r = codec::query_unescape(s);
  if (!r.is_ok()) return builtin_error("urlquery.decode", r.status().message());
  return ok(Value::string(std::move(r).value()));
}

BuiltinResult url_encode_object(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "urlquery.encode_object";
  EC_RETURN_IF_ERROR(check_type(kName, args, 1, Type::kObject));
  // url.Values.Encode: keys sorted, each value "k=v", joined by '&'.
  std::string out;
  for (const auto& [k, v] : args[0].object_items()) {
    if (!k.is_string()) return operand_error(kName, 1, "object with string keys", args[0]);
    std::string key = codec::query_escape(k.as_string());
    auto add = [&](const Value& item) -> base::Status {
      if (!item.is_string()) {
        return type_error(kName, "operand 1 must be object[string: string|array[string]|set[string]]");
      }
      if (!out.empty()) out.push_back('&');
      out += key;
      out.push_back('=');
      out += codec::query_escape(item.as_string());
      return base::Status::ok();
    };
    if (v.is_array() || v.is_set()) {
      for (const Value& item : v.elements()) EC_RETURN_IF_ERROR(add(item));
    } else {
      EC_RETURN_IF_ERROR(add(v));
    }
  }
  return ok(Value::string(std::move(out)));
}

BuiltinResult url_decode_object(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "urlquery.decode_object";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  std::map<std::string, std::vector<Value>> values;
  size_t pos = 0;
  while (pos <= s.size() && !s.empty()) {
    size_t amp = s.find('&', pos);
    std::string_view part = s.substr(pos, amp == std::string_view::npos ? s.npos : amp - pos);
    pos = amp == std::string_view::npos ? s.size() + 1 : amp + 1;
    if (part.find(';') != std::string_view::npos) {
      return builtin_error(kName, "invalid semicolon separator in query");
    }
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto key = codec::query_unescape(part.substr(0, eq));
    if (!key.is_ok()) return builtin_error(kName, key.status().message());
    std::string value;
    if (eq != std::string_view::npos) {
      auto v = codec::query_unescape(part.substr(eq + 1));
      if (!v.is_ok()) return builtin_error(kName, v.status().message());
      value = std::move(v).value();
    }
    values[*key].push_back(Value::string(std::move(value)));
  }
  std::vector<ObjectItem> items;
  for (auto& [k, v] : values) items.emplace_back(Value::string(k), Value::array(std::move(v)));
  return ok(Value::object(std::move(items)));
}

// A generic URI split into scheme, host, port, path, query and fragment (RFC 3986 shape).
struct Uri {
  std::string scheme, host, port, raw_path, raw_query, fragment;
  bool opaque = false;
};

base::Result<Uri> parse_uri(std::string_view s) {
  Uri u;
  if (s.empty()) return base::invalid_argument("empty url");
  size_t hash = s.find('#');
  if (hash != std::string_view::npos) {
    u.fragment = std::string(s.substr(hash + 1));
    s = s.substr(0, hash);
  }
  size_t colon = s.find(':');
  size_t first_special = s.find_first_of("/?");
  if (colon != std::string_view::npos && colon > 0 &&
      (first_special == std::string_view::npos || colon < first_special)) {
    std::string_view scheme = s.substr(0, colon);
    bool valid = std::isalpha(static_cast<unsigned char>(scheme[0]));
    for (char c : scheme) {
      valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
    }
    if (!valid) return base::invalid_argument("first path segment in URL cannot contain colon");
    u.scheme = std::string(scheme);
    s = s.substr(colon + 1);
  }
  size_t q = s.find('?');
  if (q != std::string_view::npos) {
    u.raw_query = std::string(s.substr(q + 1));
    s = s.substr(0, q);
  }
  if (s.substr(0, 2) == "//") {
    s = s.substr(2);
    size_t slash = s.find('/');
    std::string_view authority = s.substr(0, slash);
    s = slash == std::string_view::npos ? std::string_view() : s.substr(slash);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) authority = authority.substr(at + 1);
    if (!authority.empty() && authority[0] == '[') {
      size_t close = authority.find(']');
      if (close == std::string_view::npos) {
        return base::invalid_argument("missing ']' in host");
      }
      u.host = std::string(authority.substr(1, close - 1));
      std::string_view rest = authority.substr(close + 1);
      if (!rest.empty()) {
        if (rest[0] != ':') return base::invalid_argument("invalid port");
        u.port = std::string(rest.substr(1));
      }
    } else {
      size_t pc = authority.rfind(':');
      if (pc != std::string_view::npos) {
        u.port = std::string(authority.substr(pc + 1));
        authority = authority.substr(0, pc);
      }
      u.host = std::string(authority);
    }
    for (char c : u.port) {
      if (c < '0' || c > '9') return base::invalid_argument("invalid port");
    }
  } else if (!u.scheme.empty() && (s.empty() || s[0] != '/')) {
    u.opaque = true;
    return u;
  }
  u.raw_path = std::string(s);
  return u;
}

BuiltinResult uri_parse(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "uri.parse";
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kName, args, 1));
  if (s.empty()) return ok(Value::empty_object());
  auto u = parse_uri(s);
  if (!u.is_ok()) return builtin_error(kName, u.status().message());
  std::vector<ObjectItem> items;
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) items.emplace_back(Value::string(k), Value::string(v));
  };
  put("scheme", u->scheme);
  if (!u->opaque) {
    put("hostname", u->host);
    put("port", u->port);
    if (!u->raw_path.empty()) {
      auto path = codec::path_unescape(u->raw_path);
      if (!path.is_ok()) return builtin_error(kName, path.status().message());
      put("path", *path);
      put("raw_path", u->raw_path);
    }
    put("raw_query", u->raw_query);
    put("fragment", u->fragment);
  }
  return ok(Value::object(std::move(items)));
}

BuiltinResult uri_is_valid(BuiltinContext&, Args args) {
  if (!args[0].is_string() || args[0].as_string().empty()) return ok(Value::boolean(false));
  auto u = parse_uri(args[0].as_string());
  return ok(Value::boolean(u.is_ok() && !u->scheme.empty()));
}

}  // namespace

void register_encoding_builtins(BuiltinRegistry& r) {
  r.add("base64.encode", 1, b64_encode<false, true>);
  r.add("base64.decode", 1, b64_decode);
  r.add("base64.is_valid", 1, b64_is_valid);
  r.add("base64url.encode", 1, b64_encode<true, true>);
  r.add("base64url.encode_no_pad", 1, b64_encode<true, false>);
  r.add("base64url.decode", 1, b64url_decode);
  r.add("hex.encode", 1, hex_encode);
  r.add("hex.decode", 1, hex_decode);
  r.add("urlquery.encode", 1, url_encode);
  r.add("urlquery.decode", 1, url_decode);
  r.add("urlquery.encode_object", 1, url_encode_object);
  r.add("urlquery.decode_object", 1, url_decode_object);
  r.add("uri.parse", 1, uri_parse);
  r.add("uri.is_valid", 1, uri_is_valid);
}

}  // namespace policy::builtins
