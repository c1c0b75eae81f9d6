// Fuzzes JWS, JWK and claims parsing (src/jose): jose::Verify and PeekKid on
// arbitrary compact tokens, ParseJwks on arbitrary key sets, and — so that the
// header and claims parsers see arbitrary JSON behind a valid signature —
// Verify on tokens this target signs over the fuzzed header and payload.
//
// Input: a selector byte, then
//   0  a compact token                 (Verify, PeekKid)
//   1  a JWK Set document              (ParseJwks; what parses must re-parse)
//   2  header JSON '\n' payload JSON   (signed with the Ed25519 key "ed", then Verify)
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64url.h"
#include "crypto/keys.h"
#include "fuzz_target.h"
#include "jose/claims.h"
#include "jose/jwk.h"
#include "jose/jws.h"

namespace {

namespace crypto = lakegate::crypto;
namespace jose = lakegate::jose;

constexpr int64_t kNow = 1'800'000'000;

// Fixed keys (made for the fuzz targets only), so every run is reproducible.
using lakegate::fuzz::kEs256Pem;
constexpr std::string_view kEd25519Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIBI97pBD6NEOXrUf6r98BuQuK5N3I3vgJrzkQPn0nFle\n"
    "-----END PRIVATE KEY-----\n";

struct Fixture {
  crypto::PrivateKey ed;
  jose::KeySet keys;
  jose::VerifyOptions options;
};

Fixture MakeFixture() {
  crypto::PrivateKey es = *crypto::PrivateKey::FromPem(crypto::Algorithm::kES256, kEs256Pem);
  crypto::PrivateKey ed = *crypto::PrivateKey::FromPem(crypto::Algorithm::kEdDSA, kEd25519Pem);
  jose::KeySet keys(
      {jose::Jwk{.kid = "es", .key = es.Public()}, jose::Jwk{.kid = "ed", .key = ed.Public()}});
  jose::VerifyOptions options;
  options.issuer = "https://auth.lakegate.test";
  options.audience = "athena-api";
  options.token_use = "access";
  options.require_at_jwt_typ = true;
  return Fixture{std::move(ed), std::move(keys), std::move(options)};
}

const Fixture& TheFixture() {
  static const Fixture fixture = MakeFixture();
  return fixture;
}

// What every accepted token must satisfy, whatever its text.
void CheckAccepted(const jose::VerifiedToken& token, const Fixture& f) {
  const jose::VerifyOptions& o = f.options;
  const jose::AccessTokenClaims& c = token.claims;
  FUZZ_CHECK(f.keys.Find(token.kid) != nullptr);
  FUZZ_CHECK(c.iss == o.issuer);
  FUZZ_CHECK(std::find(c.aud.begin(), c.aud.end(), *o.audience) != c.aud.end());
  FUZZ_CHECK(c.token_use == *o.token_use);
  FUZZ_CHECK(!c.client_id.empty());
  FUZZ_CHECK(c.exp > kNow - o.leeway_seconds);
  FUZZ_CHECK(c.iat <= kNow + o.leeway_seconds);
  if (c.nbf) FUZZ_CHECK(*c.nbf <= kNow + o.leeway_seconds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = TheFixture();
  lakegate::fuzz::Input input(data, size);
  switch (input.TakeByte() % 3) {
    case 0: {
      const std::string_view token = input.rest();
      auto verified = jose::Verify(token, f.keys, f.options, kNow);
      if (verified.ok()) CheckAccepted(*verified, f);
      (void)jose::PeekKid(token);
      break;
    }
    case 1: {
      auto jwks = jose::ParseJwks(input.rest());
      if (!jwks.ok()) break;
      FUZZ_CHECK(jwks->size() <= jose::kMaxJwksKeys);
      for (const jose::Jwk& jwk : *jwks) FUZZ_CHECK(!jwk.kid.empty());
      // What we accepted we can publish, and read back the same.
      auto again = jose::ParseJwks(jose::JwksToJson(*jwks));
      FUZZ_CHECK(again.ok() && again->size() == jwks->size());
      for (size_t i = 0; i < jwks->size(); ++i) {
        FUZZ_CHECK((*again)[i].kid == (*jwks)[i].kid);
        FUZZ_CHECK((*again)[i].key == (*jwks)[i].key);
      }
      break;
    }
    default: {
      const std::string_view header = input.TakeLine();
      const std::string_view payload = input.rest();
      std::string signing_input =
          lakegate::Base64UrlEncode(header) + "." + lakegate::Base64UrlEncode(payload);
      auto signature = f.ed.Sign(signing_input);
      FUZZ_CHECK(signature.ok());
      const std::string token = signing_input + "." + lakegate::Base64UrlEncode(*signature);
      auto verified = jose::Verify(token, f.keys, f.options, kNow);
      if (!verified.ok()) break;
      CheckAccepted(*verified, f);
      // Claims we accepted, encoded by us, read back the same.
      jose::Signer signer("ed", f.ed);
      auto reissued = signer.SignCompact(jose::EncodeAccessTokenClaims(verified->claims));
      FUZZ_CHECK(reissued.ok());
      auto reverified = jose::Verify(*reissued, f.keys, f.options, kNow);
      FUZZ_CHECK(reverified.ok() && reverified->claims == verified->claims);
      break;
    }
  }
  return 0;
}
