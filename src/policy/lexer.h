// Rego tokenizer. Produces the whole token list of a source at once; the parser looks ahead
// freely. Newlines are not tokens: each token records whether a line break preceded it,
// which is how the parser ends expressions in a body.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace policy {

// A position in a source file (1-based line and column, in bytes).
struct Location {
  int line = 0;
  int col = 0;
};

enum class Tok {
  kEof,
  kIdent,     // names and keywords; the parser decides which are keywords
  kString,    // "..." (text holds the decoded value)
  kRawString, // `...`
  kTemplate,  // $"..." or $`...` (text holds the raw inside, undecoded)
  kNumber,    // text holds the literal
  kLBrace, kRBrace, kLBrack, kRBrack, kLParen, kRParen,
  kDot, kComma, kSemi, kColon,
  kAssign,    // :=
  kUnify,     // =
  kEq, kNeq, kLt, kLte, kGt, kGte,
  kPlus, kMinus, kStar, kSlash, kPercent, kPipe, kAmp,
};

struct Token {
  Tok kind = Tok::kEof;
  std::string text;
  Location loc;
  bool newline_before = false;  // a line break separates this token from the previous one
  bool space_before = false;    // any whitespace (or comment) precedes it
};

// Tokenizes `source`; errors name "file:line:col".
base::Result<std::vector<Token>> tokenize(std::string_view filename, std::string_view source);

}  // namespace policy
