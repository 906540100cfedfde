// Integers of any size, for Rego numbers that do not fit int64.
//
// OPA keeps integer literals and integer arithmetic exact however large they get
// (123456789123456789123 + 1 is 123456789123456789124, not a rounded float); a Value holds a
// BigInt for such numbers (see Value::big_integer). Only what Rego needs is here: decimal
// text in and out, the four operations, comparison and conversion to and from double.
// Magnitudes are base-10^9 limbs, least significant first, without leading zero limbs; zero
// has no limbs and is never negative.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace policy {

class BigInt {
 public:
  BigInt() = default;
  static BigInt from_int(int64_t i);
  // Decimal digits with an optional leading '-' or '+'; nullopt for anything else (no
  // fraction, exponent, spaces or empty digits).
  static std::optional<BigInt> parse(std::string_view text);
  // The exact integer value of an integral, finite double; nullopt otherwise.
  static std::optional<BigInt> from_double(double d);

  bool is_zero() const { return limbs_.empty(); }
  bool negative() const { return negative_; }
  // The value when it fits int64.
  std::optional<int64_t> to_int64() const;
  // The nearest double (correctly rounded); +-inf beyond double's range.
  double to_double() const;
  // Decimal text, with '-' when negative.
  std::string to_string() const;
  // Hexadecimal digits (no prefix), with '-' when negative.
  std::string to_hex(bool upper) const;

  int compare(const BigInt& other) const;
  friend bool operator==(const BigInt& a, const BigInt& b) { return a.compare(b) == 0; }

  friend BigInt operator+(const BigInt& a, const BigInt& b);
  friend BigInt operator-(const BigInt& a, const BigInt& b);
  friend BigInt operator*(const BigInt& a, const BigInt& b);
  BigInt negated() const;
  // Truncated division as Go's big.Int Quo/Rem (the remainder has the dividend's sign).
  // nullopt when `divisor` is zero.
  static std::optional<std::pair<BigInt, BigInt>> quo_rem(const BigInt& dividend,
                                                          const BigInt& divisor);

  size_t hash() const;

 private:
  static constexpr uint32_t kBase = 1000000000;
  static int compare_magnitude(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
  static std::vector<uint32_t> add_magnitude(const std::vector<uint32_t>& a,
                                             const std::vector<uint32_t>& b);
  // a - b where |a| >= |b|.
  static std::vector<uint32_t> sub_magnitude(const std::vector<uint32_t>& a,
                                             const std::vector<uint32_t>& b);
  // Divides the magnitude in place by a small divisor; returns the remainder.
  static uint32_t div_small(std::vector<uint32_t>& mag, uint32_t divisor);
  void trim();

  bool negative_ = false;
  std::vector<uint32_t> limbs_;
};

}  // namespace policy
