#include "jose/jwt.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base64url.h"
#include "jose/jwk.h"
#include "jose/test_keys.h"
#include "jose/token_failure.h"

namespace lakegate::jose {
namespace {

using crypto::Algorithm;
using testing::SignRaw;
using testing::TestKey;

constexpr size_t kMax = 8192;

void ExpectFailure(const Result<SignedJwt>& r, TokenFailure reason, std::string_view message) {
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(reason)) << r.status().ToString();
  EXPECT_EQ(r.status().message(), message);
}

TEST(SignedJwtTest, ReadsHeaderAndClaimsAndVerifiesEveryAlgorithm) {
  for (Algorithm a : {Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kRS256, Algorithm::kPS256}) {
    const crypto::PrivateKey& key = TestKey(a);
    std::string header =
        R"({"alg":")" + std::string(crypto::AlgorithmName(a)) + R"(","kid":"k1","typ":"JWT"})";
    std::string token = SignRaw(
        key, header,
        R"({"iss":"c","sub":"c","aud":["x","y"],"jti":"j","exp":200,"iat":100.9,"nbf":50})");
    Result<SignedJwt> jwt = ParseSignedJwt(token, kMax);
    ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
    EXPECT_EQ(jwt->alg, crypto::AlgorithmName(a));
    EXPECT_EQ(jwt->kid, "k1");
    EXPECT_EQ(jwt->typ, "JWT");
    EXPECT_FALSE(jwt->crit);
    EXPECT_FALSE(jwt->has_jwk);
    EXPECT_EQ(jwt->claims.iss, "c");
    EXPECT_EQ(jwt->claims.sub, "c");
    EXPECT_EQ(jwt->claims.aud, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(jwt->claims.jti, "j");
    EXPECT_EQ(jwt->claims.exp, 200);
    EXPECT_EQ(jwt->claims.iat, 100);
    EXPECT_EQ(jwt->claims.nbf, 50);
    EXPECT_FALSE(jwt->claims.htm.has_value());
    EXPECT_TRUE(VerifySignature(*jwt, key.Public())) << crypto::AlgorithmName(a);
    // Another key of the same type, or the key under another alg, does not verify.
    EXPECT_FALSE(VerifySignature(
        *jwt, TestKey(a == Algorithm::kES256 ? Algorithm::kEdDSA : Algorithm::kES256).Public()));
  }
}

TEST(SignedJwtTest, AlgMustBeTheKeysOwn) {
  const crypto::PrivateKey& rs = TestKey(Algorithm::kRS256);
  // An RS256 signature presented as PS256 (and the other way round) fails.
  std::string as_ps = SignRaw(rs, R"({"alg":"PS256"})", R"({"sub":"c"})");
  Result<SignedJwt> jwt = ParseSignedJwt(as_ps, kMax);
  ASSERT_TRUE(jwt.ok());
  EXPECT_FALSE(VerifySignature(*jwt, rs.Public()));
  EXPECT_FALSE(VerifySignature(*jwt, TestKey(Algorithm::kPS256).Public()));
  // "none" with an empty signature, and HS256 keyed with the public key's PEM.
  std::string none =
      Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(R"({"sub":"c"})") + ".";
  jwt = ParseSignedJwt(none, kMax);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->alg, "none");
  EXPECT_FALSE(VerifySignature(*jwt, TestKey(Algorithm::kES256).Public()));
}

TEST(SignedJwtTest, ReadsTheHeaderJwkAndFlagsPrivateMembers) {
  const crypto::PrivateKey& key = TestKey(Algorithm::kES256);
  std::string jwk = JwkToJson(Jwk{.kid = "x", .key = key.Public(), .use = ""});
  Result<SignedJwt> jwt =
      ParseSignedJwt(SignRaw(key, R"({"alg":"ES256","typ":"dpop+jwt","jwk":)" + jwk + "}",
                             R"({"htm":"POST","htu":"http://h/p","ath":"a","nonce":"n"})"),
                     kMax);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  EXPECT_TRUE(jwt->has_jwk);
  ASSERT_TRUE(jwt->jwk.has_value());
  EXPECT_TRUE(*jwt->jwk == key.Public());
  EXPECT_FALSE(jwt->jwk_has_private_members);
  EXPECT_FALSE(jwt->kid.has_value());
  EXPECT_EQ(jwt->claims.htm, "POST");
  EXPECT_EQ(jwt->claims.htu, "http://h/p");
  EXPECT_EQ(jwt->claims.ath, "a");
  EXPECT_EQ(jwt->claims.nonce, "n");
  EXPECT_TRUE(VerifySignature(*jwt, *jwt->jwk));

  std::string with_d = jwk.substr(0, jwk.size() - 1) + R"(,"d":"AAAA"})";
  jwt = ParseSignedJwt(SignRaw(key, R"({"alg":"ES256","jwk":)" + with_d + "}", "{}"), kMax);
  ASSERT_TRUE(jwt.ok());
  EXPECT_TRUE(jwt->jwk_has_private_members);
}

TEST(SignedJwtTest, RejectsMalformedInput) {
  const crypto::PrivateKey& key = TestKey(Algorithm::kES256);
  ExpectFailure(ParseSignedJwt("a.b", kMax), TokenFailure::kMalformed, "malformed token");
  ExpectFailure(ParseSignedJwt("a.b.c.d", kMax), TokenFailure::kMalformed, "malformed token");
  ExpectFailure(ParseSignedJwt(std::string(100, 'a'), 10), TokenFailure::kTooLarge,
                "token too large");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"kid":"k"})", "{}"), kMax),
                TokenFailure::kMalformed, "malformed token");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"alg":"ES256","kid":1})", "{}"), kMax),
                TokenFailure::kMalformed, "malformed token");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"alg":"ES256","jwk":"x"})", "{}"), kMax),
                TokenFailure::kMalformed, "malformed token");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"alg":"ES256","alg":"none"})", "{}"), kMax),
                TokenFailure::kDuplicateMember, "duplicate JSON key");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"alg":"ES256"})", "[1]"), kMax),
                TokenFailure::kMalformed, "malformed token");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"alg":"ES256"})", R"({"exp":"soon"})"), kMax),
                TokenFailure::kInvalidClaim, "invalid claim: exp");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"alg":"ES256"})", R"({"jti":7})"), kMax),
                TokenFailure::kInvalidClaim, "invalid claim: jti");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"alg":"ES256"})", R"({"aud":[1]})"), kMax),
                TokenFailure::kInvalidClaim, "invalid claim: aud");
  ExpectFailure(ParseSignedJwt(SignRaw(key, R"({"alg":"ES256"})", R"({"iat":1e300})"), kMax),
                TokenFailure::kInvalidClaim, "invalid claim: iat");
}

}  // namespace
}  // namespace lakegate::jose
