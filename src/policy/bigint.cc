#include "policy/bigint.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>

namespace policy {

BigInt BigInt::from_int(int64_t i) {
  BigInt b;
  b.negative_ = i < 0;
  // Magnitude as uint64 without overflowing on INT64_MIN.
  uint64_t m = i < 0 ? ~static_cast<uint64_t>(i) + 1 : static_cast<uint64_t>(i);
  while (m != 0) {
    b.limbs_.push_back(static_cast<uint32_t>(m % kBase));
    m /= kBase;
  }
  return b;
}

std::optional<BigInt> BigInt::parse(std::string_view text) {
  BigInt b;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    b.negative_ = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  // Nine digits per limb, from the least significant end.
  for (size_t end = text.size(); end > 0;) {
    size_t start = end >= 9 ? end - 9 : 0;
    uint32_t limb = 0;
    std::from_chars(text.data() + start, text.data() + end, limb);
    b.limbs_.push_back(limb);
    end = start;
  }
  b.trim();
  return b;
}

std::optional<BigInt> BigInt::from_double(double d) {
  if (!std::isfinite(d) || std::trunc(d) != d) return std::nullopt;
  // printf's %.0f is exact for integral doubles (glibc prints every digit).
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 0);
  if (r.ec != std::errc()) return std::nullopt;
  return parse(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

void BigInt::trim() {
  while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  if (limbs_.empty()) negative_ = false;
}

std::optional<int64_t> BigInt::to_int64() const {
  if (limbs_.size() > 3) return std::nullopt;
  // Up to 27 digits: accumulate in unsigned __int128 to check the range exactly.
  unsigned __int128 m = 0;
  for (size_t i = limbs_.size(); i-- > 0;) m = m * kBase + limbs_[i];
  unsigned __int128 limit = static_cast<unsigned __int128>(INT64_MAX) + (negative_ ? 1 : 0);
  if (m > limit) return std::nullopt;
  if (negative_) return static_cast<int64_t>(~static_cast<uint64_t>(m) + 1);
  return static_cast<int64_t>(m);
}

double BigInt::to_double() const {
  std::string s = to_string();
  return std::strtod(s.c_str(), nullptr);  // correctly rounded
}

std::string BigInt::to_string() const {
  if (limbs_.empty()) return "0";
  std::string out = negative_ ? "-" : "";
  out += std::to_string(limbs_.back());
  char buf[16];
  for (size_t i = limbs_.size() - 1; i-- > 0;) {
    auto r = std::to_chars(buf, buf + sizeof buf, limbs_[i]);
    out.append(9 - static_cast<size_t>(r.ptr - buf), '0');
    out.append(buf, r.ptr);
  }
  return out;
}

std::string BigInt::to_hex(bool upper) const {
  if (limbs_.empty()) return "0";
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::vector<uint32_t> mag = limbs_;
  std::string rev;
  while (!mag.empty()) rev.push_back(digits[div_small(mag, 16)]);
  if (negative_) rev.push_back('-');
  return std::string(rev.rbegin(), rev.rend());
}

int BigInt::compare_magnitude(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

int BigInt::compare(const BigInt& other) const {
  if (negative_ != other.negative_) return negative_ ? -1 : 1;
  int c = compare_magnitude(limbs_, other.limbs_);
  return negative_ ? -c : c;
}

std::vector<uint32_t> BigInt::add_magnitude(const std::vector<uint32_t>& a,
                                            const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  out.reserve(std::max(a.size(), b.size()) + 1);
  uint32_t carry = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    uint32_t s = carry + (i < a.size() ? a[i] : 0) + (i < b.size() ? b[i] : 0);
    carry = s >= kBase ? 1 : 0;
    out.push_back(s - carry * kBase);
  }
  if (carry != 0) out.push_back(carry);
  return out;
}

std::vector<uint32_t> BigInt::sub_magnitude(const std::vector<uint32_t>& a,
                                            const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  out.reserve(a.size());
  int64_t borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int64_t d = static_cast<int64_t>(a[i]) - borrow - (i < b.size() ? b[i] : 0);
    borrow = d < 0 ? 1 : 0;
    out.push_back(static_cast<uint32_t>(d + borrow * kBase));
  }
  while (!out.empty() && out.back() == 0) out.pop_back();
  return out;
}

uint32_t BigInt::div_small(std::vector<uint32_t>& mag, uint32_t divisor) {
  uint64_t rem = 0;
  for (size_t i = mag.size(); i-- > 0;) {
    uint64_t cur = rem * kBase + mag[i];
    mag[i] = static_cast<uint32_t>(cur / divisor);
    rem = cur % divisor;
  }
  while (!mag.empty() && mag.back() == 0) mag.pop_back();
  return static_cast<uint32_t>(rem);
}

BigInt operator+(const BigInt& a, const BigInt& b) {
  BigInt r;
  if (a.negative_ == b.negative_) {
    r.limbs_ = BigInt::add_magnitude(a.limbs_, b.limbs_);
    r.negative_ = a.negative_;
  } else if (BigInt::compare_magnitude(a.limbs_, b.limbs_) >= 0) {
    r.limbs_ = BigInt::sub_magnitude(a.limbs_, b.limbs_);
    r.negative_ = a.negative_;
  } else {
    r.limbs_ = BigInt::sub_magnitude(b.limbs_, a.limbs_);
    r.negative_ = b.negative_;
  }
  r.trim();
  return r;
}

BigInt BigInt::negated() const {
  BigInt r = *this;
  if (!r.limbs_.empty()) r.negative_ = !r.negative_;
  return r;
}

BigInt operator-(const BigInt& a, const BigInt& b) { return a + b.negated(); }

BigInt operator*(const BigInt& a, const BigInt& b) {
  BigInt r;
  if (a.is_zero() || b.is_zero()) return r;
  std::vector<uint64_t> acc(a.limbs_.size() + b.limbs_.size() + 1, 0);
  for (size_t i = 0; i < a.limbs_.size(); ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < b.limbs_.size(); ++j) {
      uint64_t cur = acc[i + j] + static_cast<uint64_t>(a.limbs_[i]) * b.limbs_[j] + carry;
      acc[i + j] = cur % BigInt::kBase;
      carry = cur / BigInt::kBase;
    }
    for (size_t k = i + b.limbs_.size(); carry != 0; ++k) {
      uint64_t cur = acc[k] + carry;
      acc[k] = cur % BigInt::kBase;
      carry = cur / BigInt::kBase;
    }
  }
  r.limbs_.assign(acc.begin(), acc.end());
  r.negative_ = a.negative_ != b.negative_;
  r.trim();
  return r;
}

std::optional<std::pair<BigInt, BigInt>> BigInt::quo_rem(const BigInt& dividend,
                                                         const BigInt& divisor) {
  if (divisor.is_zero()) return std::nullopt;
  BigInt d = divisor;
  d.negative_ = false;
  BigInt q, r;
  q.limbs_.assign(dividend.limbs_.size(), 0);
  // Schoolbook division, one base-10^9 digit at a time; each quotient digit by binary search.
  for (size_t i = dividend.limbs_.size(); i-- > 0;) {
    r.limbs_.insert(r.limbs_.begin(), dividend.limbs_[i]);
    r.trim();
    uint32_t lo = 0, hi = kBase - 1;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo + 1) / 2;
      if ((d * from_int(mid)).compare(r) <= 0) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    q.limbs_[i] = lo;
    if (lo != 0) r = r - d * from_int(lo);
  }
  q.negative_ = dividend.negative_ != divisor.negative_;
  q.trim();
  r.negative_ = dividend.negative_;
  r.trim();
  return std::make_pair(std::move(q), std::move(r));
}

size_t BigInt::hash() const {
  size_t h = negative_ ? 0x9e3779b97f4a7c15ULL : 0;
  for (uint32_t l : limbs_) h = h * 1000003u ^ std::hash<uint32_t>()(l);
  return h;
}

}  // namespace policy
