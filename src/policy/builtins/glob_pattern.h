// Glob patterns with the semantics of github.com/gobwas/glob, which OPA's glob.match uses.
//
// Syntax: `*` any run of non-delimiter characters, `**` any run of characters, `?` one
// non-delimiter character, `[abc]` / `[a-z]` / `[!abc]` / `[!a-z]` one character in (not in)
// the class, `{a,b,c}` alternatives (which may nest), `\x` the character x literally.
// Matching works on Unicode code points (the text and pattern are UTF-8).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace policy::builtins {

class GlobPattern {
 public:
  // Compiles `pattern`; `delimiters` are the separator code points for `*` and `?`.
  // Fails with a message naming the problem for unbalanced `[` / `{` or a trailing `\`.
  static base::Result<GlobPattern> compile(std::string_view pattern,
                                           std::vector<char32_t> delimiters);

  // True when the whole of `text` matches.
  bool matches(std::string_view text) const;

  struct Node;
  using Seq = std::vector<Node>;

 private:
  std::shared_ptr<const Seq> root_;  // immutable after compile; shared by copies
  std::vector<char32_t> delimiters_;
};

// Escapes the glob meta characters `*?\[]{}` with a backslash (gobwas glob.QuoteMeta).
std::string glob_quote_meta(std::string_view s);

}  // namespace policy::builtins
