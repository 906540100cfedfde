#include "base/crypto.h"

#include <gtest/gtest.h>

#include <string>

namespace base {
namespace {

std::string hmac_hex(std::string_view key, std::string_view data) {
  return hex_encode(as_bytes(hmac_sha256(key, data)));
}

TEST(CryptoTest, Sha256KnownAnswers) {
  EXPECT_EQ(hex_encode(as_bytes(sha256(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_encode(as_bytes(sha256("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // FIPS 180-2 appendix B: 56 bytes (the padding spills into a second block) and a million
  // 'a's (many blocks). The wasm32-wasi build computes these with base/crypto_portable.cc.
  EXPECT_EQ(
      hex_encode(as_bytes(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex_encode(as_bytes(sha256(std::string(1000000, 'a')))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// RFC 4231 section 4 (test case 5 truncates the output and is not applicable).
TEST(CryptoTest, HmacSha256Rfc4231) {
  EXPECT_EQ(hmac_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hmac_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmac_hex(std::string(20, '\xaa'), std::string(50, '\xdd')),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<char>(i));
  EXPECT_EQ(hmac_hex(key4, std::string(50, '\xcd')),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  EXPECT_EQ(
      hmac_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hmac_hex(std::string(131, '\xaa'),
                     "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// Keys of exactly one SHA-256 block (used as they are) and one byte more (hashed first): the
// boundary of RFC 2104's key rule. Python: hmac.new(b"k" * n, data, hashlib.sha256).
TEST(CryptoTest, HmacKeysAtTheBlockBoundary) {
  EXPECT_EQ(hmac_hex(std::string(64, 'k'), "block-sized key"),
            "fa828622183c28b475ecd957cc29b1fe479712fa50bb4333dd58b526dcd751b1");
  EXPECT_EQ(hmac_hex(std::string(65, 'k'), "one byte longer than a block"),
            "7af4cf273b5c4dda3542b03b15206aa517f274b01d1ac41e752d2904fc6cde0f");
}

TEST(CryptoTest, HmacEmptyKeyIsDefined) {
  // Python: hmac.new(b"", b"", hashlib.sha256).hexdigest()
  EXPECT_EQ(hmac_hex("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// RFC 4648 section 10 vectors, without padding.
TEST(CryptoTest, Base64UrlRfc4648) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, enc] : cases) {
    EXPECT_EQ(base64url_encode(raw), enc);
    auto back = base64url_decode(enc);
    ASSERT_TRUE(back.has_value()) << enc;
    EXPECT_EQ(*back, raw);
  }
}

TEST(CryptoTest, Base64UrlUsesUrlSafeAlphabet) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode("\xff\xff\xff"), "____");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
}

TEST(CryptoTest, Base64UrlRoundTripsAllBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 7) {
    std::string s = all.substr(0, len);
    auto back = base64url_decode(base64url_encode(s));
    ASSERT_TRUE(back.has_value()) << len;
    EXPECT_EQ(*back, s);
  }
}

TEST(CryptoTest, Base64UrlDecodeRejectsBadInput) {
  EXPECT_FALSE(base64url_decode("Zg==").has_value());     // padding
  EXPECT_FALSE(base64url_decode("Z").has_value());        // impossible length
  EXPECT_FALSE(base64url_decode("Zm9v Zg").has_value());  // whitespace
  EXPECT_FALSE(base64url_decode("Zm9+").has_value());     // standard alphabet
  EXPECT_FALSE(base64url_decode("Zm9/").has_value());
  EXPECT_FALSE(base64url_decode("Zh").has_value());   // non-zero trailing bits
  EXPECT_FALSE(base64url_decode("Zm9").has_value());  // "fo" is Zm8
  EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4)).has_value());
}

TEST(CryptoTest, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

}  // namespace
}  // namespace base
