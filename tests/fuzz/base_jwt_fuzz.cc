// Fuzzes verify_token (header/payload/signature split, base64url, Boost.JSON, claims) and
// base64url_decode. Properties:
//  - base64url_decode accepts only canonical text: encode(decode(x)) == x;
//  - a token that verifies under a secret yields claims that mint back into a token which
//    verifies to the same claims;
//  - verify_token never fails with anything but kUnauthenticated.
// Inputs are tried both as given and re-signed with the fuzzing secret, so the fuzzer also
// reaches the claim checks behind the signature.
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/crypto.h"
#include "base/jwt.h"

namespace {

constexpr std::string_view kSecret = "fuzz-secret-0123456789";
constexpr int64_t kNow = 1'795'000'000;

void check(std::string_view token) {
  auto r = base::verify_token(token, kSecret, kNow);
  if (!r.is_ok()) {
    if (r.status().code() != base::Code::kUnauthenticated) std::abort();
    return;
  }
  std::string again = base::mint_token(*r, kSecret);
  auto r2 = base::verify_token(again, kSecret, kNow);
  if (!r2.is_ok()) std::abort();
  if (r2->sub != r->sub || r2->name != r->name || r2->role != r->role || r2->exp != r->exp ||
      r2->iat != r->iat) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto raw = base::base64url_decode(in)) {
    if (base::base64url_encode(*raw) != in) std::abort();
  }

  check(in);

  // Re-sign "header.payload" (everything before the last '.') so signature checks pass.
  size_t dot = in.rfind('.');
  std::string_view signed_part = dot == std::string_view::npos ? in : in.substr(0, dot);
  std::string token(signed_part);
  token += '.';
  token += base::base64url_encode(base::as_bytes(base::hmac_sha256(kSecret, signed_part)));
  check(token);
  return 0;
}
