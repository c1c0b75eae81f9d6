// Fuzzes DPoP proof checking (oauth/dpop.h), what every token request and
// every query with a DPoP-bound token runs on attacker-chosen bytes:
// CheckDpopProof on arbitrary proofs, on proofs this target signs over a
// fuzzed header and payload (so the header and claim checks see arbitrary
// JSON behind a valid signature), and the htu URL normalisation.
//
// Input: a selector byte, then
//   0  a compact proof                       (CheckDpopProof, with an access token)
//   1  header JSON '\n' payload JSON         (signed with the fixed P-256 key)
//   2  a URL                                 (NormalizeHttpUrl: idempotent)
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base64url.h"
#include "crypto/keys.h"
#include "fuzz_target.h"
#include "jose/jwk.h"
#include "oauth/dpop.h"

namespace {

namespace crypto = lakegate::crypto;
namespace jose = lakegate::jose;
namespace oauth = lakegate::oauth;

constexpr int64_t kNow = 1'800'000'000;

// The seed proofs carry this key's public JWK (fuzz_target.h).
using lakegate::fuzz::kEs256Pem;

struct Fixture {
  crypto::PrivateKey key;
  std::string jkt;
  oauth::DpopOptions options;
};

const Fixture& TheFixture() {
  static const Fixture fixture = [] {
    crypto::PrivateKey key = *crypto::PrivateKey::FromPem(crypto::Algorithm::kES256, kEs256Pem);
    std::string jkt = jose::Thumbprint(key.Public());
    oauth::DpopOptions options;
    options.base_urls = {"https://auth.lakegate.test", "http://127.0.0.1:8080"};
    return Fixture{std::move(key), std::move(jkt), std::move(options)};
  }();
  return fixture;
}

void Check(std::string_view proof, std::string_view token, const Fixture& f,
           bool signed_by_fixture) {
  const oauth::DpopRequest request{.method = "POST",
                                   .path = "/v1/query",
                                   .proof_headers = 1,
                                   .proof = proof,
                                   .access_token = token};
  auto checked = oauth::CheckDpopProof(request, f.options, kNow);
  if (!checked.ok()) return;
  // Accepted: fresh, with an identifier, and bound to the key that signed it.
  FUZZ_CHECK(!checked->jti.empty() && checked->jti.size() <= 256);
  FUZZ_CHECK(checked->iat >= kNow - oauth::kProofWindowSeconds);
  FUZZ_CHECK(checked->iat <= kNow + oauth::kProofWindowSeconds);
  FUZZ_CHECK(!checked->jkt.empty());
  if (signed_by_fixture) FUZZ_CHECK(checked->jkt == f.jkt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = TheFixture();
  lakegate::fuzz::Input input(data, size);
  switch (input.TakeByte() % 3) {
    case 0:
      Check(input.rest(), "", f, false);
      break;
    case 1: {
      const std::string_view header = input.TakeLine();
      const std::string_view payload = input.rest();
      const std::string signing_input =
          lakegate::Base64UrlEncode(header) + "." + lakegate::Base64UrlEncode(payload);
      auto signature = f.key.Sign(signing_input);
      FUZZ_CHECK(signature.ok());
      const std::string proof = signing_input + "." + lakegate::Base64UrlEncode(*signature);
      Check(proof, "", f, true);
      Check(proof, "access-token", f, true);
      break;
    }
    default: {
      auto url = oauth::NormalizeHttpUrl(input.rest());
      if (!url) break;
      auto again = oauth::NormalizeHttpUrl(*url);
      FUZZ_CHECK(again && *again == *url);
      break;
    }
  }
  return 0;
}
