// Fuzzes private_key_jwt client authentication (oauth/private_key_jwt.h), the
// path every client assertion takes at the token endpoint: Claim (which
// client an assertion names) and Verify (signature, claims, one-time jti) on
// arbitrary assertions, and on assertions this target signs over a fuzzed
// header and payload, so the claim checks see arbitrary JSON behind a valid
// signature.
//
// Input: a selector byte, then
//   0  a compact assertion                 (Claim, Verify)
//   1  header JSON '\n' payload JSON       (signed with the registered key "k1")
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/base64url.h"
#include "crypto/keys.h"
#include "fuzz_target.h"
#include "jose/jwk.h"
#include "jose/jwt.h"
#include "oauth/form.h"
#include "oauth/private_key_jwt.h"
#include "store/sqlite/sqlite_store.h"

namespace {

namespace crypto = lakegate::crypto;
namespace jose = lakegate::jose;
namespace oauth = lakegate::oauth;
namespace store = lakegate::store;

constexpr int64_t kNow = 1'800'000'000;
constexpr char kIssuer[] = "https://auth.lakegate.test";
constexpr char kClientId[] = "fuzz-client";

// Registered as the client's key "k1".
using lakegate::fuzz::kEs256Pem;

struct Fixture {
  crypto::PrivateKey key;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<oauth::ClientAuthMethod> method;
  store::ClientRecord client;
};

Fixture& TheFixture() {
  static Fixture fixture = [] {
    crypto::PrivateKey key = *crypto::PrivateKey::FromPem(crypto::Algorithm::kES256, kEs256Pem);
    std::unique_ptr<store::Store> replay = store::NewInMemoryStore();
    auto method =
        oauth::MakePrivateKeyJwt({.issuer = kIssuer,
                                  .token_endpoint = std::string(kIssuer) + "/oauth2/token",
                                  .jwks_uri_keys = nullptr},
                                 *replay);
    store::ClientRecord client;
    client.client_id = kClientId;
    client.name = "fuzz";
    client.auth_method = "private_key_jwt";
    client.jwks = jose::JwksToJson({jose::Jwk{.kid = "k1", .key = key.Public()}});
    return Fixture{std::move(key), std::move(replay), std::move(method), std::move(client)};
  }();
  return fixture;
}

void Check(const std::string& assertion, Fixture& f) {
  oauth::FormRequest request;
  request.fields = {{"grant_type", "client_credentials"},
                    {"client_assertion_type", std::string(oauth::kJwtBearerAssertionType)},
                    {"client_assertion", assertion}};
  request.remote_address = "127.0.0.1";
  auto claimed = f.method->Claim(request);
  if (!claimed.ok()) return;
  if (*claimed != kClientId) return;  // another client: unknown here
  if (!f.method->Verify(request, f.client, kNow).ok()) return;
  // Accepted: what private_key_jwt promises about every assertion it takes.
  auto jwt = jose::ParseSignedJwt(assertion, 8192);
  FUZZ_CHECK(jwt.ok());
  const jose::JwtClaims& c = jwt->claims;
  FUZZ_CHECK(c.iss == kClientId && c.sub == kClientId);
  FUZZ_CHECK(c.exp && *c.exp > kNow - oauth::kAssertionClockSkewSeconds);
  FUZZ_CHECK(*c.exp <=
             kNow + oauth::kMaxAssertionLifetimeSeconds + oauth::kAssertionClockSkewSeconds);
  FUZZ_CHECK(c.jti && !c.jti->empty());
  // And never twice.
  FUZZ_CHECK(!f.method->Verify(request, f.client, kNow).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = TheFixture();
  lakegate::fuzz::Input input(data, size);
  if (input.TakeByte() % 2 == 0) {
    Check(std::string(input.rest()), f);
    return 0;
  }
  const std::string_view header = input.TakeLine();
  const std::string_view payload = input.rest();
  const std::string signing_input =
      lakegate::Base64UrlEncode(header) + "." + lakegate::Base64UrlEncode(payload);
  auto signature = f.key.Sign(signing_input);
  FUZZ_CHECK(signature.ok());
  Check(signing_input + "." + lakegate::Base64UrlEncode(*signature), f);
  return 0;
}
