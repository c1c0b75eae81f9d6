// Fuzz smoke test (CTest label fuzz-smoke): a few thousand deterministic
// random mutations of valid tokens and key sets. Asserts that nothing crashes
// (run it under ASan/UBSan too) and that no modified token is ever accepted.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "common/base64url.h"
#include "jose/claims.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "jose/jwt.h"
#include "test_keys.h"

namespace lakegate::jose {
namespace {

using crypto::Algorithm;
using testing::SignRaw;
using testing::TestKey;

constexpr int64_t kNow = 1'800'000'000;

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  // 1-3 random edits: bit flips, replaced, inserted or erased bytes,
  // truncation, a duplicated slice, swapped bytes.
  std::string Mutate(std::string s) {
    int edits = 1 + static_cast<int>(Next(3));
    for (int i = 0; i < edits; ++i) {
      switch (Next(7)) {
        case 0:
          if (!s.empty()) s[Next(s.size())] ^= static_cast<char>(1u << Next(8));
          break;
        case 1:
          if (!s.empty()) s[Next(s.size())] = RandomChar();
          break;
        case 2:
          s.insert(s.begin() + static_cast<std::ptrdiff_t>(Next(s.size() + 1)), RandomChar());
          break;
        case 3:
          if (!s.empty()) s.erase(Next(s.size()), 1);
          break;
        case 4:
          s.resize(Next(s.size() + 1));
          break;
        case 5:
          if (!s.empty()) {
            size_t from = Next(s.size());
            std::string slice = s.substr(from, 1 + Next(16));
            s.insert(Next(s.size() + 1), slice);
          }
          break;
        case 6:
          if (s.size() > 1) std::swap(s[Next(s.size())], s[Next(s.size())]);
          break;
      }
    }
    return s;
  }

 private:
  size_t Next(size_t n) { return static_cast<size_t>(rng_() % n); }
  char RandomChar() {
    static constexpr char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}[]\":,\\0e";
    if (Next(8) == 0) return static_cast<char>(Next(256));
    return kChars[Next(sizeof(kChars) - 1)];
  }
  std::mt19937_64 rng_;
};

AccessTokenClaims GoodClaims() {
  AccessTokenClaims c;
  c.iss = "https://auth.lakegate.test";
  c.sub = "etl-service";
  c.aud = {"athena-api", "x"};
  c.client_id = "etl-service";
  c.scope = "query.read";
  c.token_use = "access";
  c.iat = kNow - 10;
  c.nbf = kNow - 10;
  c.exp = kNow + 3600;
  c.jti = "j";
  c.version = 2;
  return c;
}

VerifyOptions Options() {
  VerifyOptions o;
  o.issuer = "https://auth.lakegate.test";
  o.audience = "athena-api";
  o.token_use = "access";
  o.require_at_jwt_typ = true;
  return o;
}

KeySet Keys() {
  return KeySet({Jwk{.kid = "es", .key = TestKey(Algorithm::kES256).Public()},
                 Jwk{.kid = "ed", .key = TestKey(Algorithm::kEdDSA).Public()},
                 Jwk{.kid = "rs", .key = TestKey(Algorithm::kRS256).Public()}});
}

std::string KidFor(Algorithm a) {
  return a == Algorithm::kES256 ? "es" : a == Algorithm::kEdDSA ? "ed" : "rs";
}

std::string ValidToken(Algorithm a) {
  Signer signer(KidFor(a), TestKey(a));
  return *signer.SignCompact(EncodeAccessTokenClaims(GoodClaims()));
}

TEST(JoseFuzzSmoke, MutatedTokensAreNeverAccepted) {
  const KeySet keys = Keys();
  Mutator mutator(0x5eed0001);
  int checked = 0;
  for (Algorithm a : {Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kRS256}) {
    const std::string token = ValidToken(a);
    ASSERT_TRUE(Verify(token, keys, Options(), kNow).ok());
    for (int i = 0; i < 1500; ++i) {
      std::string mutated = mutator.Mutate(token);
      if (mutated == token) continue;
      ++checked;
      Result<VerifiedToken> r = Verify(mutated, keys, Options(), kNow);
      ASSERT_FALSE(r.ok()) << "accepted a modified token: " << mutated;
      ASSERT_EQ(r.status().code(), StatusCode::kUnauthenticated);
      (void)PeekKid(mutated);
    }
  }
  EXPECT_GT(checked, 4000);
}

// Edits the decoded header or payload JSON and re-encodes it, keeping the
// signature: structurally plausible forgeries must still fail.
TEST(JoseFuzzSmoke, MutatedJsonWithTheOriginalSignatureIsRejected) {
  const KeySet keys = Keys();
  Mutator mutator(0x5eed0002);
  const std::string token = ValidToken(Algorithm::kES256);
  size_t dot1 = token.find('.');
  size_t dot2 = token.rfind('.');
  const std::string header = *Base64UrlDecode(token.substr(0, dot1));
  const std::string payload = *Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  const std::string signature = token.substr(dot2 + 1);
  for (int i = 0; i < 2000; ++i) {
    std::string h = header, p = payload;
    if (i % 2 == 0) {
      h = mutator.Mutate(h);
    } else {
      p = mutator.Mutate(p);
    }
    if (h == header && p == payload) continue;
    std::string forged = Base64UrlEncode(h) + "." + Base64UrlEncode(p) + "." + signature;
    Result<VerifiedToken> r = Verify(forged, keys, Options(), kNow);
    ASSERT_FALSE(r.ok()) << "accepted: " << h << " / " << p;
    ASSERT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  }
}

// Re-signs mutated JSON with our own key, so the claim parser sees arbitrary
// near-valid input. Whatever it accepts must satisfy every check.
TEST(JoseFuzzSmoke, ResignedMutatedJsonOnlyPassesWhenTheClaimsAreValid) {
  const KeySet keys = Keys();
  const VerifyOptions options = Options();
  Mutator mutator(0x5eed0003);
  const std::string header = R"({"alg":"ES256","kid":"es","typ":"at+jwt"})";
  const std::string payload = EncodeAccessTokenClaims(GoodClaims());
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string h = i % 4 == 0 ? mutator.Mutate(header) : header;
    std::string p = i % 4 == 0 ? payload : mutator.Mutate(payload);
    Result<VerifiedToken> r =
        Verify(SignRaw(TestKey(Algorithm::kES256), h, p), keys, options, kNow);
    if (!r.ok()) {
      ASSERT_EQ(r.status().code(), StatusCode::kUnauthenticated);
      continue;
    }
    ++accepted;
    const AccessTokenClaims& c = r->claims;
    EXPECT_EQ(r->kid, "es");
    EXPECT_EQ(r->algorithm, Algorithm::kES256);
    EXPECT_EQ(c.iss, options.issuer);
    EXPECT_NE(std::find(c.aud.begin(), c.aud.end(), *options.audience), c.aud.end());
    EXPECT_EQ(c.token_use, "access");
    EXPECT_FALSE(c.client_id.empty());
    EXPECT_GT(c.exp, kNow - options.leeway_seconds);
    EXPECT_LE(c.iat, kNow + options.leeway_seconds);
    if (c.nbf) {
      EXPECT_LE(*c.nbf, kNow + options.leeway_seconds);
    }
  }
  EXPECT_GT(accepted, 0);  // some edits (e.g. inside "jti" or "sub") stay valid
}

// Mutated key sets: parsing never crashes, and a token verifies only against
// the very key that signed it.
TEST(JoseFuzzSmoke, MutatedJwksNeverLetsAnotherKeyVerify) {
  Mutator mutator(0x5eed0004);
  const std::vector<Jwk> jwks = Keys().keys();
  const std::string json = JwksToJson(jwks);
  const std::string token = ValidToken(Algorithm::kES256);
  const crypto::PublicKey signer_key = TestKey(Algorithm::kES256).Public();
  VerifyOptions options = Options();
  for (int i = 0; i < 2000; ++i) {
    Result<std::vector<Jwk>> parsed = ParseJwks(mutator.Mutate(json));
    if (!parsed.ok()) {
      ASSERT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_LE(parsed->size(), kMaxJwksKeys);
    for (const Jwk& jwk : *parsed) ASSERT_FALSE(jwk.kid.empty());
    KeySet keys(std::move(parsed).value());
    Result<VerifiedToken> r = Verify(token, keys, options, kNow);
    if (r.ok()) {
      const Jwk* used = keys.Find(r->kid);
      ASSERT_NE(used, nullptr);
      EXPECT_TRUE(used->key == signer_key);
    }
  }
}

// Client assertions and DPoP proofs (ParseSignedJwt + VerifySignature): a
// mutated JWT, or one whose decoded JSON was edited under the original
// signature, never verifies, and parsing never fails other than
// kUnauthenticated.
TEST(JoseFuzzSmoke, MutatedSignedJwtsNeverVerify) {
  const crypto::PrivateKey& key = TestKey(Algorithm::kES256);
  const std::string jwk = JwkToJson(Jwk{.kid = "x", .key = key.Public(), .use = ""});
  const std::string header = R"({"alg":"ES256","typ":"dpop+jwt","kid":"k","jwk":)" + jwk + "}";
  const std::string payload =
      R"({"iss":"c","sub":"c","aud":["a"],"jti":"j","iat":1,"exp":2,"htm":"POST","htu":"u"})";
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  const std::string token = input + "." + Base64UrlEncode(*key.Sign(input));
  Result<SignedJwt> good = ParseSignedJwt(token, 8192);
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(VerifySignature(*good, key.Public()));
  Mutator mutator(0x5eed0003);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string mutated;
    if (i % 3 == 0) {
      mutated = mutator.Mutate(token);
    } else {
      std::string h = header, p = payload;
      (i % 3 == 1 ? h : p) = mutator.Mutate(i % 3 == 1 ? h : p);
      mutated = Base64UrlEncode(h) + "." + Base64UrlEncode(p) + token.substr(token.rfind('.'));
    }
    if (mutated == token) continue;
    Result<SignedJwt> r = ParseSignedJwt(mutated, 8192);
    if (!r.ok()) {
      ASSERT_EQ(r.status().code(), StatusCode::kUnauthenticated);
      continue;
    }
    ++parsed;
    if (r->signing_input == good->signing_input && r->signature == good->signature) continue;
    ASSERT_FALSE(VerifySignature(*r, key.Public())) << "verified a modified JWT: " << mutated;
    if (r->jwk) {
      ASSERT_FALSE(VerifySignature(*r, *r->jwk)) << mutated;
    }
  }
  EXPECT_GT(parsed, 300);
}

}  // namespace
}  // namespace lakegate::jose
