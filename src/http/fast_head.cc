#include "http/fast_head.h"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "http/byte_class.h"
#include "rest/message.h"

namespace http {

namespace {

// RFC 9110 tchar: what Beast's parser takes in a field name.
constexpr std::array<bool, 256> kFastTokenChar = alnum_and("!#$%&'*+-.^_`|~");

// The first byte in [p, end) outside [lo, 0x7E], or end: 16 bytes per step where SSE2 is
// there (a signed compare flags the bytes >= 0x80 along with those below `lo`).
const char* fast_find_outside(const char* p, const char* end, char lo) {
#if defined(__SSE2__)
  const __m128i low = _mm_set1_epi8(lo);
  const __m128i del = _mm_set1_epi8(0x7F);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int bad = _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, low), _mm_cmpeq_epi8(v, del)));
    if (bad != 0) return p + __builtin_ctz(unsigned(bad));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < static_cast<unsigned char>(lo) || c >= 0x7F) return p;
  }
  return end;
}

template <typename T>
T fast_load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The field Beast's parser names `name` with: the two every API request carries by a compare,
// the others by Beast's own lookup. `name` is all token characters, so OR-ing 0x20 into each
// byte folds case exactly where the expected byte is a lower-case letter (the only bytes it
// maps onto 'a'..'z' are the letters) and leaves '-' as it is.
beast_http::field fast_field_of(std::string_view name) {
  const char* p = name.data();
  if (name.size() == 4 && (fast_load<uint32_t>(p) | 0x20202020u) == fast_load<uint32_t>("host")) {
    return beast_http::field::host;
  }
  if (name.size() == 13 &&
      (fast_load<uint64_t>(p) | 0x2020202020202020ull) == fast_load<uint64_t>("authoriz") &&
      (fast_load<uint32_t>(p + 8) | 0x20202020u) == fast_load<uint32_t>("atio") &&
      (p[12] | 0x20) == 'n') {
    return beast_http::field::authorization;
  }
  return beast_http::string_to_field(name);
}

}  // namespace

bool parse_fast_head(std::string_view bytes, size_t header_limit, FastHead& out) {
  const char* const begin = bytes.data();
  const char* const end = begin + std::min(bytes.size(), header_limit);
  const char* p = begin;
  const size_t avail = size_t(end - p);
  if (avail >= 4 && std::memcmp(p, "GET ", 4) == 0) {
    out.method = Verb::get;
    p += 4;
  } else if (avail >= 5 && std::memcmp(p, "HEAD ", 5) == 0) {
    out.method = Verb::head;
    p += 5;
  } else if (avail >= 7 && std::memcmp(p, "DELETE ", 7) == 0) {
    out.method = Verb::delete_;
    p += 7;
  } else {
    return false;
  }
  const char* const target = p;
  p = fast_find_outside(p, end, 0x21);
  if (p == target || p == end || *p != ' ') return false;
  out.target = std::string_view(target, size_t(p - target));
  ++p;
  if (end - p < 10 || std::memcmp(p, "HTTP/1.", 7) != 0 || p[8] != '\r' || p[9] != '\n') {
    return false;
  }
  if (p[7] == '1') {
    out.version = 11;
  } else if (p[7] == '0') {
    out.version = 10;
  } else {
    return false;
  }
  p += 10;
  out.field_count = 0;
  for (;;) {
    if (end - p < 2) return false;
    if (p[0] == '\r') {
      if (p[1] != '\n') return false;
      p += 2;
      break;
    }
    const char* const name = p;
    while (p < end && kFastTokenChar[static_cast<unsigned char>(*p)]) ++p;
    if (p == name || p == end || *p != ':') return false;
    const std::string_view name_string(name, size_t(p - name));
    ++p;
    while (p < end && *p == ' ') ++p;
    const char* const value = p;
    p = fast_find_outside(p, end, 0x20);
    // CRLF, then a byte that does not continue the value (obs-fold): a tab, a bare CR or LF,
    // a control character or a byte >= 0x80 stops here too.
    if (end - p < 3 || p[0] != '\r' || p[1] != '\n' || p[2] == ' ' || p[2] == '\t') return false;
    const char* value_end = p;
    while (value_end > value && value_end[-1] == ' ') --value_end;
    p += 2;
    if (out.field_count == FastHead::kMaxFastFields) return false;
    const std::string_view value_string(value, size_t(value_end - value));
    const beast_http::field f = fast_field_of(name_string);
    switch (f) {
      case beast_http::field::content_length:
      case beast_http::field::transfer_encoding:
      case beast_http::field::upgrade:
      case beast_http::field::proxy_connection:
        return false;
      case beast_http::field::connection:
        if (!rest::iequals(value_string, "close") && !rest::iequals(value_string, "keep-alive")) {
          return false;
        }
        break;
      default:
        break;
    }
    FastHead::Field& field = out.fields[out.field_count++];
    field.name = f;
    field.name_size = uint32_t(name_string.size());
    field.value_size = uint32_t(value_string.size());
    field.name_data = name_string.data();
    field.value_data = value_string.data();
  }
  out.consumed = size_t(p - begin);
  return true;
}

void fill_request(const FastHead& head, Request& req) {
  req.target(head.target);
  req.method(head.method);
  req.version(head.version);
  for (size_t i = 0; i < head.field_count; ++i) {
    const FastHead::Field& f = head.fields[i];
    req.insert(f.name, f.name_string(), f.value());
  }
}

}  // namespace http
