#include "base/jwt.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "base/clock.h"
#include "base/crypto.h"

namespace base {
namespace {

constexpr std::string_view kSecret = "test-secret-of-reasonable-length";
constexpr int64_t kNow = 1'795'000'000;  // 2026-11-18

// Builds a token from raw header and payload JSON, signed with `secret`.
std::string sign_raw(std::string_view header, std::string_view payload,
                     std::string_view secret = kSecret) {
  std::string t = base64url_encode(header) + "." + base64url_encode(payload);
  return t + "." + base64url_encode(as_bytes(hmac_sha256(secret, t)));
}

constexpr std::string_view kHs256 = R"({"alg":"HS256","typ":"JWT"})";

Claims teacher() {
  Claims c;
  c.sub = "usr_0f8k3m2q9d1xa";
  c.name = "Ada \"the\" Teacher";
  c.role = Role::kTeacher;
  c.iat = kNow - 60;
  c.exp = kNow + 3600;
  return c;
}

std::string reason_of(const Result<Claims>& r) {
  return r.is_ok() ? "ok" : std::string(r.status().reason());
}

TEST(JwtTest, RoundTrip) {
  for (Role role : {Role::kStudent, Role::kTeacher, Role::kAdmin}) {
    Claims c = teacher();
    c.role = role;
    std::string token = mint_token(c, kSecret);
    auto r = verify_token(token, kSecret, kNow);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->sub, c.sub);
    EXPECT_EQ(r->name, c.name);
    EXPECT_EQ(r->role, role);
    EXPECT_EQ(r->exp, c.exp);
    EXPECT_EQ(r->iat, c.iat);
    EXPECT_EQ(r->nbf, 0);
  }
}

TEST(JwtTest, AcceptsBearerPrefixAndForeignTokens) {
  auto r = verify_token("Bearer " + mint_token(teacher(), kSecret), kSecret, kNow);
  EXPECT_TRUE(r.is_ok());
  // A token minted elsewhere: no typ, no name, no iat, extra claims ignored.
  std::string t =
      sign_raw(R"({"alg":"HS256"})", R"({"sub":"u1","role":"student","exp":1795003600,"aud":"x"})");
  auto f = verify_token(t, kSecret, kNow);
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ(f->sub, "u1");
  EXPECT_EQ(f->name, "");
  EXPECT_EQ(f->iat, 0);
}

TEST(JwtTest, WireFormatIsStandardHs256) {
  // Computed independently with Python's hmac and base64 modules.
  std::string t =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiJ1MSIsIm5hbWUiOiJOIiwicm9sZSI6ImFkbWluIiwiZXhwIjoyMDAwMDAwMDAwfQ."
      "aqsSbvWpxsXgpN_kgNa1UsZn76WL4ns27rf4aliYRSY";
  auto r = verify_token(t, "k", kNow);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->role, Role::kAdmin);
  std::string minted = mint_token(teacher(), kSecret);
  EXPECT_EQ(minted.substr(0, minted.find('.')), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

TEST(JwtTest, ForgedSignatureRejected) {
  std::string token = mint_token(teacher(), "another-deployment");
  auto r = verify_token(token, kSecret, kNow);
  EXPECT_EQ(reason_of(r), "token_bad_signature");
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
  // Truncated and empty signatures.
  std::string good = mint_token(teacher(), kSecret);
  EXPECT_EQ(reason_of(verify_token(good.substr(0, good.size() - 3), kSecret, kNow)),
            "token_bad_signature");
  EXPECT_EQ(reason_of(verify_token(good.substr(0, good.rfind('.') + 1), kSecret, kNow)),
            "token_bad_signature");
}

TEST(JwtTest, TamperedPayloadRejected) {
  Claims c = teacher();
  c.role = Role::kStudent;
  std::string token = mint_token(c, kSecret);
  // Swap in a payload that claims admin, keeping the original signature.
  Claims evil = c;
  evil.role = Role::kAdmin;
  std::string other = mint_token(evil, "whatever");
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  size_t o1 = other.find('.'), o2 = other.rfind('.');
  std::string tampered =
      token.substr(0, d1 + 1) + other.substr(o1 + 1, o2 - o1 - 1) + token.substr(d2);
  EXPECT_EQ(reason_of(verify_token(tampered, kSecret, kNow)), "token_bad_signature");
}

TEST(JwtTest, ExpiredRejectedWithReadableTimeAfterTheLeeway) {
  Claims c = teacher();
  c.exp = 1'795'964'400;  // 2026-11-29T15:00:00Z
  std::string token = mint_token(c, kSecret);
  FakeClock clock((c.exp - 1) * 1000);
  auto now_s = [&] { return clock.now_unix_ms() / 1000; };
  EXPECT_TRUE(verify_token(token, kSecret, now_s()).is_ok());
  // Within the leeway after exp the token is still accepted (issuer clock ahead of ours).
  clock.advance_ms((kTokenLeewaySeconds)*1000);
  EXPECT_EQ(now_s(), c.exp + kTokenLeewaySeconds - 1);
  EXPECT_TRUE(verify_token(token, kSecret, now_s()).is_ok());
  clock.advance_ms(1000);
  auto r = verify_token(token, kSecret, now_s());
  EXPECT_EQ(reason_of(r), "token_expired");
  EXPECT_NE(r.status().message().find("2026-11-29T15:00:00Z"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("new one"), std::string::npos);
  // Extreme values do not overflow into acceptance.
  Claims old = teacher();
  old.exp = INT64_MIN + 1;
  EXPECT_EQ(reason_of(verify_token(mint_token(old, kSecret), kSecret, kNow)), "token_expired");
}

TEST(JwtTest, NotBeforeHonouredWithLeeway) {
  Claims c = teacher();
  c.nbf = kNow + 86400;  // tomorrow
  c.exp = kNow + 2 * 86400;
  std::string token = mint_token(c, kSecret);
  FakeClock clock(kNow * 1000);
  auto now_s = [&] { return clock.now_unix_ms() / 1000; };
  auto r = verify_token(token, kSecret, now_s());
  EXPECT_EQ(reason_of(r), "token_not_yet_valid");
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
  EXPECT_NE(r.status().message().find(format_utc_seconds(c.nbf)), std::string::npos)
      << r.status().message();
  // One second before the leeway starts: still refused; from nbf - leeway on: accepted.
  clock.advance_ms((86400 - kTokenLeewaySeconds - 1) * 1000);
  EXPECT_EQ(reason_of(verify_token(token, kSecret, now_s())), "token_not_yet_valid");
  clock.advance_ms(1000);
  auto ok = verify_token(token, kSecret, now_s());
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->nbf, c.nbf);
  // A foreign token with nbf far in the future and a huge value.
  std::string far = sign_raw(
      kHs256, R"({"sub":"u1","role":"admin","exp":9223372036854775807,"nbf":9223372036854775807})");
  EXPECT_EQ(reason_of(verify_token(far, kSecret, kNow)), "token_not_yet_valid");
  // nbf in the past is fine.
  c.nbf = kNow - 3600;
  EXPECT_TRUE(verify_token(mint_token(c, kSecret), kSecret, kNow).is_ok());
}

TEST(JwtTest, IssuedInTheFutureRefusedBeyondLeeway) {
  Claims c = teacher();
  c.iat = kNow + kTokenLeewaySeconds;  // at the edge: accepted
  EXPECT_TRUE(verify_token(mint_token(c, kSecret), kSecret, kNow).is_ok());
  c.iat = kNow + kTokenLeewaySeconds + 1;
  auto r = verify_token(mint_token(c, kSecret), kSecret, kNow);
  EXPECT_EQ(reason_of(r), "token_not_yet_valid");
  EXPECT_NE(r.status().message().find("issued in the future"), std::string::npos)
      << r.status().message();
}

TEST(JwtTest, AlgNoneAndOthersRejected) {
  std::string payload = R"({"sub":"u1","role":"admin","exp":2000000000})";
  std::string none =
      base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(payload) + ".";
  EXPECT_EQ(reason_of(verify_token(none, kSecret, kNow)), "token_unsupported_alg");
  EXPECT_EQ(reason_of(verify_token(sign_raw(R"({"alg":"HS512"})", payload), kSecret, kNow)),
            "token_unsupported_alg");
  EXPECT_EQ(reason_of(verify_token(sign_raw(R"({"alg":"hs256"})", payload), kSecret, kNow)),
            "token_unsupported_alg");
  EXPECT_EQ(reason_of(verify_token(sign_raw(R"({"typ":"JWT"})", payload), kSecret, kNow)),
            "token_unsupported_alg");
  EXPECT_EQ(reason_of(verify_token(sign_raw(R"({"alg":256})", payload), kSecret, kNow)),
            "token_unsupported_alg");
}

TEST(JwtTest, InvalidClaimsRejected) {
  const char* payloads[] = {
      R"({"role":"student","exp":2000000000})",                        // no sub
      R"({"sub":"","role":"student","exp":2000000000})",               // empty sub
      R"({"sub":7,"role":"student","exp":2000000000})",                // sub not a string
      R"({"sub":"u1","role":"superuser","exp":2000000000})",           // unknown role
      R"({"sub":"u1","role":"Teacher","exp":2000000000})",             // case matters
      R"({"sub":"u1","exp":2000000000})",                              // no role
      R"({"sub":"u1","role":"student"})",                              // no exp
      R"({"sub":"u1","role":"student","exp":"2000000000"})",           // exp as string
      R"({"sub":"u1","role":"student","exp":2000000000.5})",           // exp not integer
      R"({"sub":"u1","role":"student","exp":1e10})",                   // double literal
      R"({"sub":"u1","role":"student","exp":18446744073709551615})",   // overflows int64
      R"({"sub":"u1","name":5,"role":"student","exp":2000000000})",    // name not string
      R"({"sub":"u1","role":"student","exp":2000000000,"iat":"x"})",   // iat not integer
      R"({"sub":"u1","role":"student","exp":2000000000,"iat":1.5})",   // iat not integer
      R"({"sub":"u1","role":"student","exp":2000000000,"iat":null})",  // iat null
      R"({"sub":"u1","role":"student","exp":null})",                   // exp null
      R"({"sub":"u1","role":"student","exp":true})",                   // exp bool
      R"({"sub":"u1","role":"student","exp":[2000000000]})",           // exp array
      R"({"sub":"u1","role":"student","exp":2000000000,"nbf":"0"})",   // nbf string
      R"({"sub":"u1","role":"student","exp":2000000000,"nbf":null})",  // nbf null
      R"({"sub":"u1","role":"student","exp":2000000000,"nbf":1e3})",   // nbf double
      R"({"sub":"u1","role":"student","exp":2000000000,"nbf":{}})",    // nbf object
  };
  for (const char* p : payloads) {
    auto r = verify_token(sign_raw(kHs256, p), kSecret, kNow);
    EXPECT_EQ(reason_of(r), "token_invalid_claims") << p;
  }
  auto r = verify_token(sign_raw(kHs256, R"({"sub":"u1","role":"root","exp":2000000000})"), kSecret,
                        kNow);
  EXPECT_NE(r.status().message().find("\"root\""), std::string::npos);
}

TEST(JwtTest, GarbageRejectedAsMalformed) {
  std::string good = mint_token(teacher(), kSecret);
  const std::string cases[] = {
      "",
      "Bearer ",
      "not-a-token",
      "a.b",
      "a.b.c.d",
      good + ".",
      "!!!." + good.substr(good.find('.') + 1),
      base64url_encode("not json") + ".e30.sig",
      base64url_encode("[1,2]") + ".e30.sig",
      std::string(9000, 'a') + ".b.c",
  };
  for (const std::string& t : cases) {
    EXPECT_EQ(reason_of(verify_token(t, kSecret, kNow)), "token_malformed") << t.substr(0, 60);
  }
  // Correctly signed, but the payload is not a JSON object.
  EXPECT_EQ(reason_of(verify_token(sign_raw(kHs256, "[]"), kSecret, kNow)), "token_malformed");
  EXPECT_EQ(reason_of(verify_token(sign_raw(kHs256, "{"), kSecret, kNow)), "token_malformed");
}

TEST(JwtTest, RolesAndTimeFormat) {
  EXPECT_EQ(role_name(Role::kStudent), "student");
  EXPECT_EQ(parse_role("admin"), Role::kAdmin);
  EXPECT_FALSE(parse_role("ADMIN").has_value());
  EXPECT_EQ(format_utc_seconds(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc_seconds(1'795'964'400), "2026-11-29T15:00:00Z");
}

}  // namespace
}  // namespace base
