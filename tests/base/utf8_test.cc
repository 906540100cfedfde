#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace base {
namespace {

TEST(Utf8Test, ValidMeansShortestFormNoSurrogatesUpToU10FFFF) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // été € 😀
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                                 // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\x80"));              // stray continuation byte
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_EQ(utf8_length("\xC3\xA9t\xC3\xA9"), 3u);
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80!"), 2u);
}

TEST(Utf8Test, EncodesEveryLengthBoundaryAsTheDecoderReadsIt) {
  struct Case {
    char32_t cp;
    std::string_view bytes;
  };
  for (const Case& c : {Case{0x00, std::string_view("\0", 1)}, Case{0x7F, "\x7F"},
                        Case{0x80, "\xC2\x80"}, Case{0x7FF, "\xDF\xBF"}, Case{0x800, "\xE0\xA0\x80"},
                        Case{0xFFFD, "\xEF\xBF\xBD"}, Case{0xFFFF, "\xEF\xBF\xBF"},
                        Case{0x10000, "\xF0\x90\x80\x80"}, Case{0x10FFFF, "\xF4\x8F\xBF\xBF"}}) {
    std::string out = "x";
    append_utf8(out, c.cp);
    EXPECT_EQ(out.substr(1), c.bytes) << std::hex << uint32_t(c.cp);
    EXPECT_EQ(utf8_sequence_length(out, 1), c.bytes.size()) << std::hex << uint32_t(c.cp);
  }
}

TEST(Utf8Test, RepairReplacesEachBadByteAndKeepsValidText) {
  EXPECT_EQ(valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(valid_utf8("a\xFF"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(valid_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated at the end
  EXPECT_TRUE(is_valid_utf8(valid_utf8("\xED\xA0\x80 x \xF4\x90\x80\x80")));
}

}  // namespace
}  // namespace base
