// Small string helpers shared by every module. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lakegate {

std::string HexEncode(std::string_view data);
std::string AsciiLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string_view TrimWhitespace(std::string_view s);
// Splits on `sep`, dropping empty pieces.
std::vector<std::string_view> SplitNonEmpty(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
std::string UrlEncode(std::string_view s);

// Parses a duration: a plain number of seconds ("3600") or a number with one
// unit suffix s, m, h or d ("90s", "60m", "1h", "1d"). InvalidArgument otherwise.
Result<int64_t> ParseDurationSeconds(std::string_view text);
// The shortest exact form of `seconds` ("1h", "90m", "45s").
std::string FormatDuration(int64_t seconds);

// The length of the valid UTF-8 sequence at s[i] (i < s.size()), or 0 when it
// is invalid (overlong forms, surrogates and code points above U+10FFFF are).
size_t Utf8SequenceLength(std::string_view s, size_t i);
// Whether all of `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);

// Appends `s` to `out` as the inside of a JSON string (no quotes added).
// Control characters and non-UTF-8 bytes are escaped safely.
void AppendJsonEscaped(std::string& out, std::string_view s);
// `"s"` as a JSON string literal.
std::string JsonQuote(std::string_view s);

}  // namespace lakegate
