// Strict JSON for the jose module: what every JSON document from outside
// (JWK Sets, JWT headers and claims) goes through before it is read, and the
// JWK key reader they share. Private to src/jose (nlohmann::json stays in this
// module). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "crypto/keys.h"

namespace lakegate::jose {

// Parses `text` into `out`; false when it is not JSON, nests deeper than 16
// levels or repeats a member name in any object (parsers disagree on which
// duplicate wins). `*duplicate` says whether the last was the reason.
bool ParseStrict(std::string_view text, nlohmann::json* out, bool* duplicate);

// The public key of one JWK object, or nullopt when it is not a key we can
// use (see ParseJwks in jwk.h for the rules; "kid" is not looked at).
std::optional<crypto::PublicKey> PublicKeyOfJwk(const nlohmann::json& jwk);

}  // namespace lakegate::jose
