// Bearer tokens: JSON Web Tokens (RFC 7519) signed with HMAC-SHA-256 (HS256) under a
// deployment secret. The central platform issues them; `edgeclass token` mints one locally.
//
// Only HS256 is accepted. Any other `alg` (including "none" and the RS/ES families, which
// would let a caller pick the verification key type) is rejected before the signature is
// looked at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace base {

// What a token holder may act as. Wider roles do not imply narrower ones here; the policy
// engine decides what each role may do.
enum class Role { kStudent, kTeacher, kAdmin };

// "student", "teacher", "admin".
std::string_view role_name(Role role);
// Inverse of role_name; nullopt for anything else (case-sensitive).
std::optional<Role> parse_role(std::string_view name);

// The claims edgeclass reads from a token.
struct Claims {
  std::string sub;   // user id; never empty in a verified token
  std::string name;  // display name; may be empty
  Role role = Role::kStudent;
  int64_t exp = 0;  // expiry, seconds since the Unix epoch (valid while now < exp + leeway)
  int64_t iat = 0;  // issued at, seconds since the Unix epoch; 0 when the token had none
  int64_t nbf = 0;  // not before, seconds since the Unix epoch; 0 when the token had none
};

// Clock skew tolerated between the issuer and this server, in seconds, on every time
// claim: a token is accepted from nbf - leeway (and when iat <= now + leeway) until
// exp + leeway (docs/api.md).
inline constexpr int64_t kTokenLeewaySeconds = 60;

// Signs `claims` as a compact HS256 JWT ("header.payload.signature", base64url, no padding).
// The header is {"alg":"HS256","typ":"JWT"}; the payload holds sub, name, role, iat and nbf
// (each when non-zero) and exp. Never fails.
std::string mint_token(const Claims& claims, std::string_view secret);

// Checks a compact JWT and returns its claims. Errors are kUnauthenticated with reason:
//   token_malformed        not three base64url parts, bad JSON, or longer than 8 KiB
//   token_unsupported_alg  header alg is not exactly "HS256" (e.g. "none", "HS512")
//   token_bad_signature    the signature does not match `secret` (forged or tampered)
//   token_invalid_claims   missing/empty sub, missing or unknown role, missing or
//                          non-integer exp, non-string name, non-integer iat or nbf
//   token_not_yet_valid    nbf or iat later than now_unix_s + kTokenLeewaySeconds
//   token_expired          now_unix_s >= exp + kTokenLeewaySeconds
// Checks run in that order, and the payload is only parsed after the signature has been
// verified. `token` may carry a leading "Bearer " (it is stripped).
Result<Claims> verify_token(std::string_view token, std::string_view secret, int64_t now_unix_s);

// The development secret kept in the file at `path` (its first line, when at least 16
// characters), or a new one (48 hex characters from the system's random source) written there
// with mode 0600 (`*generated` set). For a server started without a configured secret: tokens
// minted with it stay valid across restarts. Fails (kUnavailable, naming the file) when the
// file cannot be written.
Result<std::string> load_or_make_dev_secret(const std::string& path, bool* generated);

// Formats seconds since the Unix epoch as RFC 3339 UTC, e.g. "2026-11-24T15:00:00Z".
std::string format_utc_seconds(int64_t unix_s);

}  // namespace base
