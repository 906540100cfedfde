// io.jwt.* builtins: decode, decode_verify, verify_<alg>, encode_sign, encode_sign_raw.
#include <string>
#include <vector>

#include "policy/builtins/codec.h"
#include "policy/builtins/jose.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

struct Token {
  std::string signing_input;  // "<header>.<payload>" as encoded
  Value header;               // an object
  std::string payload;        // decoded bytes
  std::string signature;      // decoded bytes
};

base::Result<std::string> b64url(std::string_view s) {
  auto r = codec::base64_decode(s, true, false);
  if (!r.is_ok()) r = codec::base64_decode(s, true, true);
  return r;
}

base::Result<Token> parse_token(std::string_view name, std::string_view text) {
  if (text.find('.') == std::string_view::npos) {
    return builtin_error(name, "encoded JWT had no period separators");
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? text.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 3) {
    return builtin_error(name,
                         "encoded JWT must have 3 sections, found " + std::to_string(parts.size()));
  }
  Token t;
  t.signing_input = std::string(text.substr(0, parts[0].size() + 1 + parts[1].size()));
  auto header = b64url(parts[0]);
  if (!header.is_ok())
    return builtin_error(name, "JWT header had invalid encoding: " + header.status().message());
  auto hv = Value::parse_json(*header);
  if (!hv.is_ok())
    return builtin_error(name, "bad JWT header: invalid JSON: " + hv.status().message());
  if (!hv->is_object())
    return builtin_error(name, "bad JWT header: decoded JSON type was not an Object");
  // A JWE (RFC 7516 section 9: the header has "enc") is refused, as OPA refuses it.
  if (hv->find("enc") != nullptr)
    return builtin_error(name, "JWT is a JWE object, which is not supported");
  t.header = std::move(hv).value();
  auto payload = b64url(parts[1]);
  if (!payload.is_ok())
    return builtin_error(name, "JWT payload had invalid encoding: " + payload.status().message());
  t.payload = std::move(payload).value();
  auto sig = b64url(parts[2]);
  if (!sig.is_ok())
    return builtin_error(name, "JWT signature had invalid encoding: " + sig.status().message());
  t.signature = std::move(sig).value();
  return t;
}

std::string header_string(const Value& header, std::string_view field) {
  const Value* v = header.find(field);
  return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

// The token inside a nested JWT ("cty": "JWT"): tools such as jwt.io quote it, so OPA trims
// quotes (" and ') from both ends.
std::string nested_token(std::string_view payload) {
  size_t b = payload.find_first_not_of("\"'");
  if (b == std::string_view::npos) return std::string();
  size_t e = payload.find_last_not_of("\"'");
  return std::string(payload.substr(b, e - b + 1));
}

BuiltinResult decode(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "io.jwt.decode";
  EC_ASSIGN_OR_RETURN(std::string_view text, arg_string(kName, args, 1));
  std::string current(text);
  for (int depth = 0; depth < 8; ++depth) {
    EC_ASSIGN_OR_RETURN(Token t, parse_token(kName, current));
    if (header_string(t.header, "cty") == "JWT") {
      current = nested_token(t.payload);
      continue;
    }
    auto payload = Value::parse_json(t.payload);
    if (!payload.is_ok())
      return builtin_error(kName, "invalid JSON: " + payload.status().message());
    if (!payload->is_object()) return builtin_error(kName, "decoded JSON type was not an Object");
    return ok(Value::array({t.header, *payload, Value::string(codec::hex_encode(t.signature))}));
  }
  return builtin_error(kName, "JWT nested too deeply");
}

bool verify_with(std::string_view alg, const std::vector<jose::Key>& keys, const Token& t) {
  for (const jose::Key& k : keys) {
    if (jose::verify(alg, k, t.signing_input, t.signature)) return true;
  }
  return false;
}

template <int Alg>
BuiltinResult verify_alg(BuiltinContext&, Args args) {
  static constexpr std::string_view kAlgs[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                               "RS512", "PS256", "PS384", "PS512", "ES256",
                                               "ES384", "ES512", "EdDSA"};
  static constexpr std::string_view kNames[] = {
      "io.jwt.verify_hs256", "io.jwt.verify_hs384", "io.jwt.verify_hs512", "io.jwt.verify_rs256",
      "io.jwt.verify_rs384", "io.jwt.verify_rs512", "io.jwt.verify_ps256", "io.jwt.verify_ps384",
      "io.jwt.verify_ps512", "io.jwt.verify_es256", "io.jwt.verify_es384", "io.jwt.verify_es512",
      "io.jwt.verify_eddsa"};
  std::string_view alg = kAlgs[Alg], name = kNames[Alg];
  EC_ASSIGN_OR_RETURN(std::string_view text, arg_string(name, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view key, arg_string(name, args, 2));
  EC_ASSIGN_OR_RETURN(Token t, parse_token(name, text));
  std::vector<jose::Key> keys;
  if (Alg < 3) {
    keys.push_back(jose::Key{nullptr, std::string(key), {}, {}});
  } else {
    auto parsed = jose::parse_public_keys(key);
    if (!parsed.is_ok()) return builtin_error(name, parsed.status().message());
    keys = std::move(parsed).value();
  }
  // As OPA: a key whose "kid" matches the token's is the only one tried; otherwise every key
  // whose "alg" is unset or the token's.
  std::string kid = header_string(t.header, "kid"), token_alg = header_string(t.header, "alg");
  if (!kid.empty()) {
    for (const jose::Key& k : keys) {
      if (k.kid == kid) return ok(Value::boolean(verify_with(alg, {k}, t)));
    }
  }
  std::erase_if(keys, [&](const jose::Key& k) { return !k.alg.empty() && k.alg != token_alg; });
  return ok(Value::boolean(verify_with(alg, keys, t)));
}

// exp / nbf must be numbers when present.
base::Status check_time_claims(std::string_view name, const Value& payload) {
  for (std::string_view claim : {"exp", "nbf"}) {
    const Value* v = payload.find(claim);
    if (v != nullptr && !v->is_number()) {
      return builtin_error(name, std::string(claim) + " value must be a number");
    }
  }
  return base::Status::ok();
}

BuiltinResult decode_verify(BuiltinContext& ctx, Args args) {
  constexpr std::string_view kName = "io.jwt.decode_verify";
  EC_ASSIGN_OR_RETURN(std::string_view text, arg_string(kName, args, 1));
  EC_RETURN_IF_ERROR(check_type(kName, args, 2, Type::kObject));
  const Value invalid =
      Value::array({Value::boolean(false), Value::empty_object(), Value::empty_object()});
  std::vector<jose::Key> keys;
  bool have_secret = false;
  std::string alg_constraint, iss, aud;
  bool have_iss = false, have_aud = false;
  double now_ns = static_cast<double>(ctx.now_ns);
  for (const auto& [k, v] : args[1].object_items()) {
    std::string key = k.is_string() ? k.as_string() : k.to_json();
    if (key == "cert") {
      if (!v.is_string()) return builtin_error(kName, "cert constraint must be a string");
      auto parsed = jose::parse_public_keys(v.as_string());
      if (!parsed.is_ok()) return builtin_error(kName, parsed.status().message());
      keys = std::move(parsed).value();
    } else if (key == "secret") {
      if (!v.is_string()) return builtin_error(kName, "secret constraint must be a string");
      keys.push_back(jose::Key{nullptr, v.as_string(), {}, {}});
      have_secret = true;
    } else if (key == "alg" || key == "iss" || key == "aud") {
      if (!v.is_string()) return builtin_error(kName, key + " constraint must be a string");
      if (key == "alg") alg_constraint = v.as_string();
      if (key == "iss") iss = v.as_string(), have_iss = true;
      if (key == "aud") aud = v.as_string(), have_aud = true;
    } else if (key == "time") {
      if (!v.is_number()) return builtin_error(kName, "time constraint must be a number");
      now_ns = v.as_double();
    } else {
      return builtin_error(kName, "unknown token validation constraint: " + key);
    }
  }
  if (keys.empty() && !have_secret) return builtin_error(kName, "no key or secret provided");

  std::string current(text);
  Token t;
  for (int depth = 0;; ++depth) {
    if (depth >= 8) return ok(invalid);
    EC_ASSIGN_OR_RETURN(t, parse_token(kName, current));
    std::string alg = header_string(t.header, "alg");
    if (alg.empty() || t.header.find("crit") != nullptr) return ok(invalid);
    if (!alg_constraint.empty() && alg != alg_constraint) return ok(invalid);
    if (!verify_with(alg, keys, t)) return ok(invalid);
    if (header_string(t.header, "cty") != "JWT") break;
    current = nested_token(t.payload);
  }
  auto payload = Value::parse_json(t.payload);
  if (!payload.is_ok() || !payload->is_object()) return ok(invalid);
  EC_RETURN_IF_ERROR(check_time_claims(kName, *payload));
  if (have_iss) {
    const Value* v = payload->find("iss");
    if (v == nullptr || !v->is_string() || v->as_string() != iss) return ok(invalid);
  }
  if (const Value* v = payload->find("aud")) {
    if (!have_aud) return ok(invalid);
    bool hit = v->is_string() && v->as_string() == aud;
    for (const Value& a : v->elements()) hit = hit || (a.is_string() && a.as_string() == aud);
    if (!hit) return ok(invalid);
  } else if (have_aud) {
    return ok(invalid);
  }
  double now_s = now_ns / 1e9;
  if (const Value* exp = payload->find("exp"); exp != nullptr && exp->as_double() <= now_s) {
    return ok(invalid);
  }
  if (const Value* nbf = payload->find("nbf"); nbf != nullptr && nbf->as_double() > now_s) {
    return ok(invalid);
  }
  return ok(Value::array({Value::boolean(true), t.header, *payload}));
}

BuiltinResult sign_token(std::string_view name, std::string_view header_json, const Value& header,
                         std::string_view payload, const jose::Key& key) {
  std::string alg = header_string(header, "alg");
  if (!jose::known_alg(alg)) return builtin_error(name, "unknown JWS algorithm: " + alg);
  std::string input = codec::base64_encode(header_json, true, false) + "." +
                      codec::base64_encode(payload, true, false);
  auto sig = jose::sign(alg, key, input);
  if (!sig.is_ok()) return builtin_error(name, sig.status().message());
  return ok(Value::string(input + "." + codec::base64_encode(*sig, true, false)));
}

BuiltinResult encode_sign(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "io.jwt.encode_sign";
  EC_RETURN_IF_ERROR(check_type(kName, args, 1, Type::kObject));
  EC_RETURN_IF_ERROR(check_type(kName, args, 2, Type::kObject));
  EC_RETURN_IF_ERROR(check_type(kName, args, 3, Type::kObject));
  if (header_string(args[0], "alg").empty()) {
    return builtin_error(kName, "missing or invalid 'alg' header: jwsbb: header \"alg\" not found");
  }
  if (!jose::known_alg(header_string(args[0], "alg"))) {
    return builtin_error(kName, "unknown JWS algorithm: " + header_string(args[0], "alg"));
  }
  EC_RETURN_IF_ERROR(check_time_claims(kName, args[1]));
  auto key = jose::parse_jwk(args[2]);
  if (!key.is_ok()) return builtin_error(kName, key.status().message());
  return sign_token(kName, go_json(args[0]), args[0], go_json(args[1]), *key);
}

BuiltinResult encode_sign_raw(BuiltinContext&, Args args) {
  constexpr std::string_view kName = "io.jwt.encode_sign_raw";
  EC_ASSIGN_OR_RETURN(std::string_view header_s, arg_string(kName, args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view payload_s, arg_string(kName, args, 2));
  EC_ASSIGN_OR_RETURN(std::string_view key_s, arg_string(kName, args, 3));
  constexpr std::string_view kAlgErr = "missing or invalid 'alg' header: ";
  if (header_s.empty()) {
    return builtin_error(kName,
                         std::string(kAlgErr) + "cannot parse JSON: cannot parse empty string");
  }
  auto header = Value::parse_json(header_s);
  if (!header.is_ok()) {
    if (header_s.find('{') != std::string_view::npos) {
      return builtin_error(
          kName, std::string(kAlgErr) + "cannot parse JSON: " + header.status().message());
    }
    return builtin_error(kName, std::string(kAlgErr) + "jwsbb: header \"alg\" not found");
  }
  if (header_string(*header, "alg").empty()) {
    return builtin_error(kName, std::string(kAlgErr) + "jwsbb: header \"alg\" not found");
  }
  if (header_string(*header, "typ") == "JWT") {
    auto p = Value::parse_json(payload_s);
    if (!p.is_ok()) return builtin_error(kName, "type is JWT but payload is not JSON");
    EC_RETURN_IF_ERROR(check_time_claims(kName, *p));
  }
  if (!jose::known_alg(header_string(*header, "alg"))) {
    return builtin_error(kName, "unknown JWS algorithm: " + header_string(*header, "alg"));
  }
  auto jwk = Value::parse_json(key_s);
  if (!jwk.is_ok()) return builtin_error(kName, "invalid JWK: " + jwk.status().message());
  auto key = jose::parse_jwk(*jwk);
  if (!key.is_ok()) return builtin_error(kName, key.status().message());
  return sign_token(kName, header_s, *header, payload_s, *key);
}

}  // namespace

void register_jwt_builtins(BuiltinRegistry& r) {
  r.add("io.jwt.decode", 1, decode);
  r.add("io.jwt.decode_verify", 2, decode_verify, /*deterministic=*/false);
  r.add("io.jwt.verify_hs256", 2, verify_alg<0>);
  r.add("io.jwt.verify_hs384", 2, verify_alg<1>);
  r.add("io.jwt.verify_hs512", 2, verify_alg<2>);
  r.add("io.jwt.verify_rs256", 2, verify_alg<3>);
  r.add("io.jwt.verify_rs384", 2, verify_alg<4>);
  r.add("io.jwt.verify_rs512", 2, verify_alg<5>);
  r.add("io.jwt.verify_ps256", 2, verify_alg<6>);
  r.add("io.jwt.verify_ps384", 2, verify_alg<7>);
  r.add("io.jwt.verify_ps512", 2, verify_alg<8>);
  r.add("io.jwt.verify_es256", 2, verify_alg<9>);
  r.add("io.jwt.verify_es384", 2, verify_alg<10>);
  r.add("io.jwt.verify_es512", 2, verify_alg<11>);
  r.add("io.jwt.verify_eddsa", 2, verify_alg<12>);
  r.add("io.jwt.encode_sign", 3, encode_sign, /*deterministic=*/false);
  r.add("io.jwt.encode_sign_raw", 3, encode_sign_raw, /*deterministic=*/false);
}

}  // namespace policy::builtins
