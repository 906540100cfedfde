#include "builtins_test_util.h"

namespace policy::testing {
namespace {

// A root (first) and a leaf for leaf.example.com, both valid until 2125 (openssl-generated).
constexpr const char* kChain =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjzCCATWgAwIBAgIUWMf3+vBkV0YhZ7DxXsiMz1lKmeowCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJVGVzdCBSb290MCAXDTI2MTEyNDE2MDA0MFoYDzIxMjYxMDMx\n"
    "MTYwMDQwWjAUMRIwEAYDVQQDDAlUZXN0IFJvb3QwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAAS+aMK/zKgVZccFfGvEEgFujHsavDD/xVv0YSREGtjP+lF0kTlkTyCq\n"
    "Alsy6OCYQ/KeE9rmKmbLe4w3NO+++mW2o2MwYTAdBgNVHQ4EFgQUhksZ2HFPQ8OP\n"
    "ykDzOJ7U3kOI/qswHwYDVR0jBBgwFoAUhksZ2HFPQ8OPykDzOJ7U3kOI/qswDwYD\n"
    "VR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAgQwCgYIKoZIzj0EAwIDSAAwRQIg\n"
    "cvBIbgRPhSTjlHQo60u32srOB2wCSR81CG3lbP97wLUCIQDkM3jao/2k89BTskQN\n"
    "32PCGEf6TWXl+s1WrJFpT+ELsg==\n"
    "-----END CERTIFICATE-----\n"
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkTCCATigAwIBAgIUNTpiWJXKuToGZH+7+Wxr+JulEr8wCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJVGVzdCBSb290MCAXDTI2MTEyNDE2MDA0MFoYDzIxMjYxMDMx\n"
    "MTYwMDQwWjAbMRkwFwYDVQQDDBBsZWFmLmV4YW1wbGUuY29tMFkwEwYHKoZIzj0C\n"
    "AQYIKoZIzj0DAQcDQgAEltv6a+S8KFjtMOjmvXXfZbNeqCkxwRb2wuqV5+CBndwN\n"
    "MWBaNmHEEmPm0w17jumfCQ9nqMrKnIgWcejlXrfNsqNfMF0wGwYDVR0RBBQwEoIQ\n"
    "bGVhZi5leGFtcGxlLmNvbTAdBgNVHQ4EFgQUHa/x/RVGprt0dz2wTVDiZ5WBFvUw\n"
    "HwYDVR0jBBgwFoAUhksZ2HFPQ8OPykDzOJ7U3kOI/qswCgYIKoZIzj0EAwIDRwAw\n"
    "RAIgUbzR6O74ZJu3ULOL+3Dgj48Zu1v6ls/K3Cocju9uZDkCIATjDoCXbSWOil0G\n"
    "bRoDZtCqLp6zDagYGhHX4jZq4os8\n"
    "-----END CERTIFICATE-----\n";

TEST(BuiltinsX509, ParseAndVerifyChain) {
  BuiltinCaller b;
  b.ctx.now_ns = 1'900'000'000'000'000'000;  // 2030: inside the validity period
  auto r = b.call("crypto.x509.parse_and_verify_certificates", {Value::string(kChain)});
  ASSERT_TRUE(r.is_ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->array_items()[0].to_json(), "true");
  // The verified chain, leaf first (as OPA returns it).
  EXPECT_EQ((*r)->array_items()[1].array_items()[0].find("Subject")->find("CommonName")->as_string(),
            "leaf.example.com");
  EXPECT_EQ((*r)->array_items()[1].array_items()[0].find("DNSNames")->to_json(), "[\"leaf.example.com\"]");
  EXPECT_EQ((*r)->array_items()[1].array_items()[1].find("Subject")->find("CommonName")->as_string(),
            "Test Root");
  EXPECT_EQ(b.show("crypto.x509.parse_and_verify_certificates_with_options",
                   {Value::string(kChain), J("{\"DNSName\":\"other.example.com\"}")}),
            "[false,[]]");
  EXPECT_EQ(b.show("crypto.x509.parse_and_verify_certificates_with_options",
                   {Value::string(kChain), J("{\"DNSName\":\"leaf.example.com\"}")}).substr(0, 6),
            "[true,");
  // A leaf alone does not chain to a root.
  std::string chain(kChain);
  std::string leaf_only = chain.substr(chain.find("-----END CERTIFICATE-----") + 26);
  EXPECT_EQ(b.show("crypto.x509.parse_and_verify_certificates", {Value::string(leaf_only)}), "[false,[]]");
  // Before the certificates were issued.
  EXPECT_EQ(b.show("crypto.x509.parse_and_verify_certificates_with_options",
                   {Value::string(kChain), J("{\"CurrentTime\":0}")}),
            "[false,[]]");
}

TEST(BuiltinsX509, Errors) {
  BuiltinCaller b;
  EXPECT_EQ(b.show("crypto.x509.parse_certificates", {J("\"YmFkc3RyaW5n\"")}),
            "error: crypto.x509.parse_certificates: x509: malformed certificate");
  EXPECT_EQ(b.reason("crypto.x509.parse_certificates", {J("\"foobar\"")}), "eval_builtin_error");
  EXPECT_EQ(b.show("crypto.parse_private_keys", {J("\"\"")}), "null");
  EXPECT_EQ(b.show("crypto.parse_private_keys", {J("\"nope\"")}), "[]");
}

}  // namespace
}  // namespace policy::testing
