// Small string helpers shared by every layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace base {

// Appends `s` to `out` as the inside of a JSON string (quotes not included). Control
// characters become \u00XX; invalid UTF-8 is passed through unchanged.
void append_json_escaped(std::string& out, std::string_view s);

// Splits on every `sep`; empty pieces are kept.
std::vector<std::string_view> split(std::string_view s, char sep);

// Strict decimal parse of a whole string into int64 (no sign for unsigned callers to check).
std::optional<int64_t> parse_int(std::string_view s);

// Parses "250ms", "30s", "15m", "1h", "2d" into milliseconds.
std::optional<int64_t> parse_duration_ms(std::string_view s);

bool starts_with(std::string_view s, std::string_view prefix);

}  // namespace base

namespace base {
// Formats Unix milliseconds as RFC 3339 UTC with milliseconds, e.g. "2026-11-24T15:00:00.123Z".
std::string format_utc_ms(int64_t unix_ms);
}  // namespace base
