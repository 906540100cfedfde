// The JWK half of jose.h's parse_public_keys and its field decoding, shared by the OpenSSL build
// (jose.cc) and the wasm32-wasi build (jose_portable.cc): each has its own parse_jwk and known_alg.
#include "policy/builtins/codec.h"
#include "policy/builtins/jose.h"

namespace policy::builtins::jose {

base::Result<std::string> jwk_bytes_field(const Value& jwk, std::string_view field, bool required) {
  const Value* v = jwk.find(field);
  if (v == nullptr || !v->is_string()) {
    if (required) return base::invalid_argument("JWK is missing \"" + std::string(field) + "\"");
    return std::string();
  }
  std::string_view s = v->as_string();
  auto r = codec::base64_decode(s, true, false);
  if (!r.is_ok()) r = codec::base64_decode(s, true, true);
  if (!r.is_ok())
    return base::invalid_argument("JWK field \"" + std::string(field) +
                                  "\": " + r.status().message());
  return r;
}

base::Result<std::vector<Key>> parse_jwk_text(std::string_view text) {
  auto v = Value::parse_json(text);
  if (!v.is_ok())
    return base::invalid_argument("failed to parse a JWK key (set): " + v.status().message());
  std::vector<Key> keys;
  if (const Value* set = v->find("keys"); set != nullptr && set->is_array()) {
    for (const Value& k : set->array_items()) {
      auto key = parse_jwk(k);
      if (!key.is_ok())
        return base::invalid_argument("failed to parse a JWK key (set): " + key.status().message());
      // Keys for algorithms OPA does not verify with are skipped.
      if (!key->alg.empty() && !known_alg(key->alg)) continue;
      keys.push_back(std::move(key).value());
    }
    return keys;
  }
  auto key = parse_jwk(*v);
  if (!key.is_ok())
    return base::invalid_argument("failed to parse a JWK key (set): " + key.status().message());
  keys.push_back(std::move(key).value());
  return keys;
}

}  // namespace policy::builtins::jose
