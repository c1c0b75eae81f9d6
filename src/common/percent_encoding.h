// Percent-decoding as signers and libpq read it: lenient, byte for byte.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lakegate {

// The value of a hexadecimal digit (either case), or -1.
int HexDigitValue(char c);

// Decodes each %XX escape; '+' stays '+', and a '%' not followed by two hex
// digits stays as it is (no error): for text whose bytes must be reproduced
// as its writer meant them, e.g. an AWS SigV4 canonical query or a libpq URI
// keyword. Form bodies, where '+' is a space and bad escapes are errors, use
// PercentDecodeStrict instead.
std::string PercentDecodeLenient(std::string_view text);

// Decodes each %XX escape, and '+' as a space when `plus_is_space` (form
// bodies and URL query values); nullopt when a '%' is not followed by two hex
// digits. The result may hold any bytes (check UTF-8 where it matters).
std::optional<std::string> PercentDecodeStrict(std::string_view text, bool plus_is_space);

}  // namespace lakegate
