// base64url (RFC 4648 §5) without padding, and standard base64 with padding.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lakegate {

std::string Base64UrlEncode(std::string_view data);
// Returns nullopt on any character outside the base64url alphabet, on padding,
// or on an impossible length (len % 4 == 1) or non-canonical trailing bits.
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string Base64Encode(std::string_view data);
// Standard alphabet; padding required when the length is not a multiple of 4
// characters is tolerated. Returns nullopt on invalid input.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace lakegate
