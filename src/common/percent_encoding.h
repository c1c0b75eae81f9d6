// Percent-decoding as signers and libpq read it: lenient, byte for byte.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace lakegate {

// The value of a hexadecimal digit (either case), or -1.
int HexDigitValue(char c);

// Decodes each %XX escape; '+' stays '+', and a '%' not followed by two hex
// digits stays as it is (no error): for text whose bytes must be reproduced
// as its writer meant them, e.g. an AWS SigV4 canonical query or a libpq URI
// keyword. Form bodies, where '+' is a space and bad escapes are errors, use
// oauth::FormUrlDecode instead.
std::string PercentDecodeLenient(std::string_view text);

}  // namespace lakegate
