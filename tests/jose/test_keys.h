// Shared fixtures for the jose tests: one generated key per algorithm (RSA key
// generation is slow, so the keys are made once per process).
#pragma once

#include <string>
#include <string_view>

#include "common/base64url.h"
#include "crypto/keys.h"

namespace lakegate::jose::testing {

inline const crypto::PrivateKey& TestKey(crypto::Algorithm algorithm) {
  static const crypto::PrivateKey es = *crypto::PrivateKey::Generate(crypto::Algorithm::kES256);
  static const crypto::PrivateKey ed = *crypto::PrivateKey::Generate(crypto::Algorithm::kEdDSA);
  static const crypto::PrivateKey rs = *crypto::PrivateKey::Generate(crypto::Algorithm::kRS256);
  static const crypto::PrivateKey ps =
      *crypto::PrivateKey::FromPem(crypto::Algorithm::kPS256, rs.ToPem().Reveal());
  switch (algorithm) {
    case crypto::Algorithm::kES256:
      return es;
    case crypto::Algorithm::kEdDSA:
      return ed;
    case crypto::Algorithm::kRS256:
      return rs;
    case crypto::Algorithm::kPS256:
      return ps;
  }
  return es;
}

// A compact JWS over any header and payload text, signed by `key`: lets tests
// build tokens our Signer would never produce.
inline std::string SignRaw(const crypto::PrivateKey& key, std::string_view header_json,
                           std::string_view payload_json) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  return input + "." + Base64UrlEncode(*key.Sign(input));
}

}  // namespace lakegate::jose::testing
