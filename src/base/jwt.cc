#include "base/jwt.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <ctime>

#include "base/crypto.h"
#include "base/random.h"

namespace base {
namespace {

namespace json = boost::json;

// Far larger than any token we issue (~250 bytes); bounds the work an attacker can cause.
constexpr size_t kMaxTokenBytes = 8 * 1024;
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::string_view kAskForNew = "; ask the platform for a new one";

Status malformed(std::string detail) {
  return unauthenticated("bearer token is malformed: " + detail +
                             "; send the token exactly as issued (header.payload.signature)",
                         "token_malformed");
}

Status invalid_claims(std::string detail) {
  return unauthenticated("bearer token has invalid claims: " + detail + std::string(kAskForNew),
                         "token_invalid_claims");
}

// Decodes one base64url part and parses it as a JSON object.
Result<json::object> decode_json_part(std::string_view part, std::string_view what) {
  std::optional<std::string> raw = base64url_decode(part);
  if (!raw) return malformed(std::string(what) + " is not base64url");
  boost::system::error_code ec;
  json::value v = json::parse(*raw, ec);
  if (ec) return malformed(std::string(what) + " is not JSON (" + ec.message() + ")");
  json::object* obj = v.if_object();
  if (!obj) return malformed(std::string(what) + " is not a JSON object");
  return std::move(*obj);
}

// An integer claim: int64, or uint64 that fits. Doubles (even 1.7e9) are not integers.
std::optional<int64_t> integer_claim(const json::value& v) {
  if (const int64_t* i = v.if_int64()) return *i;
  if (const uint64_t* u = v.if_uint64()) {
    if (*u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(*u);
  }
  return std::nullopt;
}

Result<Claims> claims_from(const json::object& payload) {
  Claims c;
  const json::value* sub = payload.if_contains("sub");
  if (!sub || !sub->is_string() || sub->get_string().empty()) {
    return invalid_claims("\"sub\" (the user id) is missing or not a non-empty string");
  }
  c.sub = std::string(sub->get_string());

  if (const json::value* name = payload.if_contains("name")) {
    if (!name->is_string()) return invalid_claims("\"name\" is not a string");
    c.name = std::string(name->get_string());
  }

  const json::value* role = payload.if_contains("role");
  if (!role || !role->is_string()) {
    return invalid_claims("\"role\" is missing; expected student, teacher or admin");
  }
  std::optional<Role> r = parse_role(role->get_string());
  if (!r) {
    return invalid_claims("role \"" + std::string(role->get_string()) +
                          "\" is not one of student, teacher, admin");
  }
  c.role = *r;

  const json::value* exp = payload.if_contains("exp");
  std::optional<int64_t> exp_s = exp ? integer_claim(*exp) : std::nullopt;
  if (!exp_s) {
    return invalid_claims("\"exp\" is missing or not an integer number of seconds");
  }
  c.exp = *exp_s;

  if (const json::value* iat = payload.if_contains("iat")) {
    std::optional<int64_t> iat_s = integer_claim(*iat);
    if (!iat_s) return invalid_claims("\"iat\" is not an integer number of seconds");
    c.iat = *iat_s;
  }

  if (const json::value* nbf = payload.if_contains("nbf")) {
    std::optional<int64_t> nbf_s = integer_claim(*nbf);
    if (!nbf_s) return invalid_claims("\"nbf\" is not an integer number of seconds");
    c.nbf = *nbf_s;
  }
  return c;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kStudent:
      return "student";
    case Role::kTeacher:
      return "teacher";
    case Role::kAdmin:
      return "admin";
  }
  return "student";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "student") return Role::kStudent;
  if (name == "teacher") return Role::kTeacher;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string format_utc_seconds(int64_t unix_s) {
  time_t secs = static_cast<time_t>(unix_s);
  struct tm t {};
  if (!gmtime_r(&secs, &t)) return std::to_string(unix_s) + "s since epoch";
  char buf[32];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &t);
  if (n == 0) return std::to_string(unix_s) + "s since epoch";
  return std::string(buf, n);
}

std::string mint_token(const Claims& claims, std::string_view secret) {
  json::object payload;
  payload["sub"] = claims.sub;
  payload["name"] = claims.name;
  payload["role"] = role_name(claims.role);
  if (claims.iat != 0) payload["iat"] = claims.iat;
  if (claims.nbf != 0) payload["nbf"] = claims.nbf;
  payload["exp"] = claims.exp;

  std::string token = base64url_encode(kHeader);
  token += '.';
  token += base64url_encode(json::serialize(payload));
  Sha256Digest mac = hmac_sha256(secret, token);
  token += '.';
  token += base64url_encode(as_bytes(mac));
  return token;
}

Result<Claims> verify_token(std::string_view token, std::string_view secret, int64_t now_unix_s) {
  if (token.starts_with("Bearer ")) token.remove_prefix(7);
  if (token.empty()) return malformed("the token is empty");
  if (token.size() > kMaxTokenBytes) {
    return malformed("the token is " + std::to_string(token.size()) + " bytes, over the " +
                     std::to_string(kMaxTokenBytes) + "-byte limit");
  }
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return malformed("expected three dot-separated parts");
  }
  std::string_view header_part = token.substr(0, dot1);
  std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view sig_part = token.substr(dot2 + 1);

  EC_ASSIGN_OR_RETURN(json::object header, decode_json_part(header_part, "the header"));
  const json::value* alg = header.if_contains("alg");
  if (!alg || !alg->is_string() || alg->get_string() != "HS256") {
    std::string got = "no algorithm";
    if (alg && alg->is_string()) {
      got.assign(1, '"').append(alg->get_string()).push_back('"');
    }
    return unauthenticated("bearer token uses " + got + "; only HS256-signed tokens are accepted" +
                               std::string(kAskForNew),
                           "token_unsupported_alg");
  }

  std::optional<std::string> sig = base64url_decode(sig_part);
  if (!sig) return malformed("the signature is not base64url");
  Sha256Digest expected = hmac_sha256(secret, token.substr(0, dot2));
  if (!constant_time_equal(*sig, as_bytes(expected))) {
    return unauthenticated(
        "bearer token signature does not match this deployment's secret (forged, altered, "
        "or issued for another deployment)" +
            std::string(kAskForNew),
        "token_bad_signature");
  }

  EC_ASSIGN_OR_RETURN(json::object payload, decode_json_part(payload_part, "the payload"));
  EC_ASSIGN_OR_RETURN(Claims claims, claims_from(payload));
  // The leeway is added to `now`, never to a claim, so huge claim values cannot overflow.
  // A token used before its nbf, or claiming to be issued in the future, most often means
  // the issuer's clock and ours disagree by more than the leeway.
  const int64_t late = now_unix_s + kTokenLeewaySeconds;
  if (claims.nbf > late) {
    return unauthenticated("bearer token is not valid before " + format_utc_seconds(claims.nbf) +
                               "; check that the issuer's and this server's clocks agree",
                           "token_not_yet_valid");
  }
  if (claims.iat > late) {
    return unauthenticated("bearer token claims to be issued in the future (" +
                               format_utc_seconds(claims.iat) +
                               "); check that the issuer's and this server's clocks agree",
                           "token_not_yet_valid");
  }
  if (now_unix_s - kTokenLeewaySeconds >= claims.exp) {
    return unauthenticated(
        "bearer token expired at " + format_utc_seconds(claims.exp) + std::string(kAskForNew),
        "token_expired");
  }
  return claims;
}

Result<std::string> load_or_make_dev_secret(const std::string& path, bool* generated) {
  *generated = false;
  if (std::FILE* in = std::fopen(path.c_str(), "r")) {
    std::string s;  // the whole first line, however long
    char chunk[256];
    while (std::fgets(chunk, sizeof chunk, in) != nullptr) {
      s += chunk;
      if (s.back() == '\n') break;
    }
    std::fclose(in);
    s = s.substr(0, s.find('\n'));
    if (s.size() >= 16) return s;
  }
  unsigned char bytes[24];
  SystemRandom::instance().fill(bytes, sizeof bytes);
  std::string s = hex_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  // Created 0600; one that was there (too short to use) is narrowed too, where the system has
  // permissions (WASI has none).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot write " + path);
#ifndef __wasi__
  (void)::fchmod(fd, 0600);
#endif
  const std::string line = s + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == ssize_t(line.size());
  if (::close(fd) != 0 || !written) return unavailable("cannot write " + path);
  *generated = true;
  return s;
}

}  // namespace base
