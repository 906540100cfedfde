#include "builtins_test_util.h"

namespace policy::testing {
namespace {

constexpr const char* kEdKey =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"wEZFfoAj1rFKTLOOmjJjVZlCHwksuvMb2I5y_hg70E8\","
    "\"d\":\"9XI34uQzYUJfWhDZf_0nYsLMBRVu8a6dFsy60P8uugk\"}";
constexpr const char* kEdPublic =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"wEZFfoAj1rFKTLOOmjJjVZlCHwksuvMb2I5y_hg70E8\"}";

TEST(BuiltinsCrypto, HashesAndHmac) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("crypto.md5", {J("\"lorem ipsum\"")}), "\"80a751fde577028640c419000e33eba6\"");
  EXPECT_EQ(b.show("crypto.sha256", {J("\"lorem ipsum\"")}),
            "\"5e2bf57d3f40c4b6df69daf1936cb766f832374b4fc0259a7cbff06e2f70f269\"");
  EXPECT_EQ(b.show("crypto.hmac.sha1", {J("\"foo\""), J("\"bar\"")}),
            "\"85d155c55ed286a300bd1cf124de08d87e914f3a\"");
  EXPECT_EQ(b.show("crypto.hmac.equal", {J("\"abc\""), J("\"abd\"")}), "false");
}

TEST(BuiltinsJwt, HmacRoundTripAndClaims) {
  BuiltinCaller b;
  auto token = b.call("io.jwt.encode_sign",
                      {J("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"), J("{\"iss\":\"me\",\"exp\":2000000000}"),
                       J("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}")});
  ASSERT_TRUE(token.is_ok());
  Value t = **token;
  EXPECT_EQ(b.show("io.jwt.verify_hs256", {t, J("\"secret\"")}), "true");
  EXPECT_EQ(b.show("io.jwt.verify_hs256", {t, J("\"wrong\"")}), "false");
  EXPECT_EQ(b.show("io.jwt.decode_verify", {t, J("{\"secret\":\"secret\",\"iss\":\"me\"}")}),
            "[true,{\"alg\":\"HS256\",\"typ\":\"JWT\"},{\"exp\":2000000000,\"iss\":\"me\"}]");
  EXPECT_EQ(b.show("io.jwt.decode_verify", {t, J("{\"secret\":\"secret\",\"iss\":\"you\"}")}), "[false,{},{}]");
  // Expired at the query's "now" (2023-11-14) + 10 years.
  EXPECT_EQ(b.show("io.jwt.decode_verify", {t, J("{\"secret\":\"secret\",\"time\":2000000001000000000}")}),
            "[false,{},{}]");
  EXPECT_EQ(b.show("io.jwt.decode", {t}).substr(0, 50),
            "[{\"alg\":\"HS256\",\"typ\":\"JWT\"},{\"exp\":2000000000,\"is");
  EXPECT_EQ(b.show("io.jwt.verify_hs256", {J("\"a.b\""), J("\"s\"")}),
            "error: io.jwt.verify_hs256: encoded JWT must have 3 sections, found 2");
}

TEST(BuiltinsJwt, EdDsaRoundTripAndErrors) {
  BuiltinCaller b;
  auto token = b.call("io.jwt.encode_sign", {J("{\"alg\":\"EdDSA\"}"), J("{\"sub\":\"x\"}"), J(kEdKey)});
  ASSERT_TRUE(token.is_ok());
  EXPECT_EQ(b.show("io.jwt.verify_eddsa", {**token, Value::string(kEdPublic)}), "true");
  EXPECT_EQ(b.show("io.jwt.verify_es256", {**token, Value::string(kEdPublic)}), "false");
  EXPECT_EQ(b.show("io.jwt.encode_sign_raw", {J("\"{\\\"alg\\\":\\\"dummy\\\"}\""), J("\"{}\""), J("\"{}\"")}),
            "error: io.jwt.encode_sign_raw: unknown JWS algorithm: dummy");
  EXPECT_EQ(b.reason("io.jwt.encode_sign", {J("{\"alg\":\"HS256\"}"), J("{\"exp\":null}"),
                                            J("{\"kty\":\"oct\",\"k\":\"NDI\"}")}),
            "eval_builtin_error");
}

TEST(BuiltinsAws, SignatureV4) {
  BuiltinCaller b;
  auto r = b.call("providers.aws.sign_req",
                  {J("{\"method\":\"get\",\"url\":\"http://example.com\"}"),
                   J("{\"aws_access_key\":\"MYAWSACCESSKEYGOESHERE\",\"aws_secret_access_key\":"
                     "\"MYAWSSECRETACCESSKEYGOESHERE\",\"aws_service\":\"s3\",\"aws_region\":\"us-east-1\"}"),
                   J("1451311705000000000")});
  ASSERT_TRUE(r.is_ok());
  const Value* auth = (*r)->find("headers")->find("Authorization");
  ASSERT_NE(auth, nullptr);
  EXPECT_NE(auth->as_string().find("Signature=0047a7016c81e5c7f29cd522f97e911e04fc472fced0aee7916cbc287ad6c8e3"),
            std::string::npos);
  EXPECT_EQ(b.show("providers.aws.sign_req", {J("{}"), J("{}"), J("1")}),
            "error: providers.aws.sign_req: operand 1 missing required request parameters(s): {\"method\", \"url\"}");
}

TEST(BuiltinsSchema, MatchAndVerify) {
  BuiltinCaller b;
  Value schema = J("{\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"]}");
  EXPECT_EQ(b.show("json.match_schema", {J("{\"id\":5}"), schema}), "[true,[]]");
  EXPECT_EQ(b.show("json.match_schema", {J("{\"id\":\"x\"}"), schema}),
            "[false,[{\"desc\":\"Invalid type. Expected: integer, given: string\",\"error\":\"id: Invalid "
            "type. Expected: integer, given: string\",\"field\":\"id\",\"type\":\"invalid_type\"}]]");
  EXPECT_EQ(b.show("json.match_schema", {J("{}"), schema}).substr(0, 39), "[false,[{\"desc\":\"id is required\",\"error");
  EXPECT_EQ(b.show("json.verify_schema", {J("{\"type\":\"boolean\"}")}), "[true,null]");
  EXPECT_EQ(b.show("json.verify_schema", {J("{\"type\":\"nope\"}")}).substr(0, 62),
            "[false,\"jsonschema: has a primitive type that is NOT VALID -- ");
}

TEST(BuiltinsTemplate, RenderAndGlobs) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("strings.render_template",
                   {J("\"{{range $i, $n := .names}}{{if $i}},{{end}}hi {{$n}}{{end}}\""),
                    J("{\"names\":[\"a\",\"b\"]}")}),
            "\"hi a,hi b\"");
  EXPECT_EQ(b.show("strings.render_template", {J("\"{{.x}} {{.y}}\""), J("{\"y\":1}")}), "\"<undefined> 1\"");
  EXPECT_EQ(b.show("regex.globs_match", {J("\"a.a.[0-9]+z\""), J("\".b.b2359825792*594823z\"")}), "true");
  EXPECT_EQ(b.show("regex.globs_match", {J("\"[a-z]+\""), J("\"[0-9]*\"")}), "false");
  EXPECT_EQ(b.show("regex.globs_match", {J("\"pqrs]\""), J("\"[a-b]+\"")}),
            "error: regex.globs_match: input:pqrs], pos:5, set-close ']' with no preceding '[': the input "
            "provided is invalid");
  EXPECT_EQ(b.show("graph.reachable_paths", {J("{\"a\":[\"b\",\"c\"],\"b\":[\"c\"],\"c\":[]}"), J("[\"a\"]")}),
            "[[\"a\",\"b\",\"c\"],[\"a\",\"c\"]]");
  EXPECT_EQ(b.show("graph.reachable", {J("{\"a\":[\"b\"],\"b\":[\"a\"],\"x\":[]}"), J("[\"a\"]")}), "[\"a\",\"b\"]");
}

}  // namespace
}  // namespace policy::testing

namespace policy::testing {
namespace {

TEST(BuiltinsTemplate, ElseChains) {
  BuiltinCaller b;
  const char* tmpl = "\"{{if eq .n 1}}one{{else if eq .n 2}}two{{else if eq .n 3}}three{{else}}many{{end}}\"";
  EXPECT_EQ(b.show("strings.render_template", {J(tmpl), J("{\"n\":2}")}), "\"two\"");
  EXPECT_EQ(b.show("strings.render_template", {J(tmpl), J("{\"n\":3}")}), "\"three\"");
  EXPECT_EQ(b.show("strings.render_template", {J(tmpl), J("{\"n\":9}")}), "\"many\"");
  EXPECT_EQ(b.reason("strings.render_template", {J("\"{{if .a}}x{{else i}}y{{end}}\""), J("{}")}),
            "eval_builtin_error");
  EXPECT_EQ(b.reason("strings.render_template", {J("\"{{if .a}}x\""), J("{}")}), "eval_builtin_error");
}

}  // namespace
}  // namespace policy::testing
