// crypto.md5 / sha1 / sha256 and crypto.hmac.* builtins.
#include <string>

#include "policy/builtins/codec.h"
#include "policy/builtins/jose.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

template <int Kind>  // 0 md5, 1 sha1, 2 sha256
BuiltinResult hash(BuiltinContext&, Args args) {
  static constexpr std::string_view kNames[] = {"crypto.md5", "crypto.sha1", "crypto.sha256"};
  static constexpr std::string_view kDigests[] = {"md5", "sha1", "sha256"};
  EC_ASSIGN_OR_RETURN(std::string_view s, arg_string(kNames[Kind], args, 1));
  return ok(Value::string(codec::hex_encode(jose::digest(kDigests[Kind], s))));
}

template <int Kind>  // 0 md5, 1 sha1, 2 sha256, 3 sha512
BuiltinResult hmac(BuiltinContext&, Args args) {
  static constexpr std::string_view kNames[] = {"crypto.hmac.md5", "crypto.hmac.sha1",
                                                "crypto.hmac.sha256", "crypto.hmac.sha512"};
  static constexpr std::string_view kDigests[] = {"md5", "sha1", "sha256", "sha512"};
  EC_ASSIGN_OR_RETURN(std::string_view msg, arg_string(kNames[Kind], args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view key, arg_string(kNames[Kind], args, 2));
  return ok(Value::string(codec::hex_encode(jose::hmac(kDigests[Kind], key, msg))));
}

BuiltinResult hmac_equal(BuiltinContext&, Args args) {
  EC_ASSIGN_OR_RETURN(std::string_view a, arg_string("crypto.hmac.equal", args, 1));
  EC_ASSIGN_OR_RETURN(std::string_view b, arg_string("crypto.hmac.equal", args, 2));
  return ok(Value::boolean(jose::equal_ct(a, b)));
}

}  // namespace

void register_crypto_builtins(BuiltinRegistry& r) {
  r.add("crypto.md5", 1, hash<0>);
  r.add("crypto.sha1", 1, hash<1>);
  r.add("crypto.sha256", 1, hash<2>);
  r.add("crypto.hmac.md5", 2, hmac<0>);
  r.add("crypto.hmac.sha1", 2, hmac<1>);
  r.add("crypto.hmac.sha256", 2, hmac<2>);
  r.add("crypto.hmac.sha512", 2, hmac<3>);
  r.add("crypto.hmac.equal", 2, hmac_equal);
}

}  // namespace policy::builtins
