#include "jose/jwk.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base64url.h"
#include "crypto/hash.h"
#include "test_keys.h"

namespace lakegate::jose {
namespace {

using crypto::Algorithm;
using crypto::PublicKey;
using crypto::PublicKeyParams;
using testing::TestKey;
using namespace std::string_literals;

// RFC 7515 appendix A.3 (P-256).
constexpr std::string_view kEcX = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr std::string_view kEcY = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
// RFC 8037 appendix A.2 (Ed25519).
constexpr std::string_view kEdX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
// RFC 7638 section 3.1 (RSA).
constexpr std::string_view kRsaN =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWK"
    "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMic"
    "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
    "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

PublicKey EcKey() {
  return *PublicKey::FromParams(
      PublicKeyParams::Es256(*Base64UrlDecode(kEcX), *Base64UrlDecode(kEcY)));
}
PublicKey EdKey() { return *PublicKey::FromParams(PublicKeyParams::EdDsa(*Base64UrlDecode(kEdX))); }
PublicKey RsaKey() {
  return *PublicKey::FromParams(PublicKeyParams::Rs256(*Base64UrlDecode(kRsaN), "\x01\x00\x01"s));
}

// ---- Serialisation and thumbprints ---------------------------------------------

TEST(JwkToJsonTest, EcKey) {
  EXPECT_EQ(JwkToJson(Jwk{.kid = "k1", .key = EcKey()}),
            R"({"kty":"EC","crv":"P-256","x":")" + std::string(kEcX) + R"(","y":")" +
                std::string(kEcY) + R"(","kid":"k1","alg":"ES256","use":"sig"})");
}

TEST(JwkToJsonTest, OkpKey) {
  EXPECT_EQ(JwkToJson(Jwk{.kid = "k2", .key = EdKey()}),
            R"({"kty":"OKP","crv":"Ed25519","x":")" + std::string(kEdX) +
                R"(","kid":"k2","alg":"EdDSA","use":"sig"})");
}

TEST(JwkToJsonTest, RsaKeyAndEscapedKid) {
  EXPECT_EQ(JwkToJson(Jwk{.kid = "2011-04-29\"", .key = RsaKey()}),
            R"({"kty":"RSA","n":")" + std::string(kRsaN) +
                R"(","e":"AQAB","kid":"2011-04-29\"","alg":"RS256","use":"sig"})");
}

TEST(JwksToJsonTest, WrapsKeys) {
  EXPECT_EQ(JwksToJson({}), R"({"keys":[]})");
  std::string two = JwksToJson({Jwk{.kid = "a", .key = EdKey()}, Jwk{.kid = "b", .key = EdKey()}});
  EXPECT_EQ(two, R"({"keys":[)" + JwkToJson(Jwk{.kid = "a", .key = EdKey()}) + "," +
                     JwkToJson(Jwk{.kid = "b", .key = EdKey()}) + "]}");
}

TEST(ThumbprintTest, Rfc7638RsaExample) {
  EXPECT_EQ(Thumbprint(RsaKey()), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(ThumbprintTest, Rfc8037Ed25519Example) {
  EXPECT_EQ(Thumbprint(EdKey()), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

TEST(ThumbprintTest, EcUsesRequiredMembersInOrder) {
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + std::string(kEcX) + R"(","y":")" +
                          std::string(kEcY) + R"("})";
  EXPECT_EQ(Thumbprint(EcKey()), Base64UrlEncode(crypto::Sha256(canonical)));
}

// ---- Parsing ---------------------------------------------------------------------

TEST(ParseJwksTest, RoundTripsEveryAlgorithm) {
  std::vector<Jwk> keys = {Jwk{.kid = "es", .key = TestKey(Algorithm::kES256).Public()},
                           Jwk{.kid = "ed", .key = TestKey(Algorithm::kEdDSA).Public()},
                           Jwk{.kid = "rs", .key = TestKey(Algorithm::kRS256).Public()}};
  Result<std::vector<Jwk>> parsed = ParseJwks(JwksToJson(keys));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 3u);
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*parsed)[i].kid, keys[i].kid);
    EXPECT_TRUE((*parsed)[i].key == keys[i].key);
    EXPECT_EQ((*parsed)[i].use, "sig");
  }
}

TEST(ParseJwksTest, MissingAlgIsImpliedByKeyType) {
  std::string jwks = R"({"keys":[
      {"kty":"EC","crv":"P-256","x":")" +
                     std::string(kEcX) + R"(","y":")" + std::string(kEcY) +
                     R"(","kid":"ec"},
      {"kty":"OKP","crv":"Ed25519","x":")" +
                     std::string(kEdX) + R"(","kid":"ed"},
      {"kty":"RSA","n":")" +
                     std::string(kRsaN) + R"(","e":"AQAB","kid":"rsa"}]})";
  Result<std::vector<Jwk>> parsed = ParseJwks(jwks);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].key.algorithm(), Algorithm::kES256);
  EXPECT_EQ((*parsed)[1].key.algorithm(), Algorithm::kEdDSA);
  EXPECT_EQ((*parsed)[2].key.algorithm(), Algorithm::kRS256);
  EXPECT_TRUE((*parsed)[0].key == EcKey());
}

TEST(ParseJwksTest, SkipsKeysWeCannotUse) {
  const std::string ec = R"("kty":"EC","crv":"P-256","x":")" + std::string(kEcX) + R"(","y":")" +
                         std::string(kEcY) + R"(")";
  const std::string ec_x = R"("kty":"EC","crv":"P-256","x":")" + std::string(kEcX);
  const std::string bad_y = std::string(kEcY.substr(0, 42)) + (kEcY[42] == 'A' ? "B" : "A");
  const std::string rsa_n = R"("kty":"RSA","n":")" + std::string(kRsaN) + R"(","e":"AQAB")";
  const std::string rsa1024_n = Base64UrlEncode(std::string(128, '\xc5'));
  const std::vector<std::string> skipped = {
      R"({"kty":"oct","k":"c2VjcmV0","kid":"hmac","alg":"HS256"})",  // symmetric key
      R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA","kid":"p384"})",
      R"({"kty":"OKP","crv":"X25519","x":")" + std::string(kEdX) + R"(","kid":"x25519"})",
      "{" + ec + R"(,"kid":"es384","alg":"ES384"})",        // alg we do not implement
      "{" + ec + R"(,"kid":"eddsa-on-ec","alg":"EdDSA"})",  // alg of another key type
      "{" + rsa_n + R"(,"kid":"ps","alg":"PS384"})",
      "{" + ec + R"(,"kid":"ps-on-ec","alg":"PS256"})",  // an RSA alg on an EC key
      "{" + ec + R"(,"kid":"enc","use":"enc"})",         // not a signing key
      "{" + ec + R"(,"kid":"use-num","use":1})",
      "{" + ec + "}",              // no kid
      "{" + ec + R"(,"kid":""})",  // empty kid
      "{" + ec + R"(,"kid":7})",
      "{" + ec + R"(,"kid":"alg-num","alg":256})",
      "{" + ec_x + R"(=","y":")" + std::string(kEcY) + R"(","kid":"padded"})",
      "{" + ec_x + R"(","y":")" + bad_y + R"(","kid":"off-curve"})",
      "{" + ec_x + R"(","kid":"no-y"})",
      R"({"kty":"RSA","n":")" + rsa1024_n + R"(","e":"AQAB","kid":"rsa1024"})",
      R"({"crv":"P-256","x":"AA","kid":"no-kty"})",
      R"("a string")",
      "42",
      "null",
      "[]",
  };
  const std::string good =
      "{" + ec + R"(,"kid":"good","alg":"ES256","use":"sig","d":"ignored","key_ops":["verify"]})";
  std::string all = R"({"keys":[)";
  for (const std::string& entry : skipped) {
    Result<std::vector<Jwk>> alone = ParseJwks(R"({"keys":[)" + entry + "]}");
    ASSERT_TRUE(alone.ok()) << entry << ": " << alone.status().ToString();
    EXPECT_TRUE(alone->empty()) << "not skipped: " << entry;
    all += entry + ",";
  }
  Result<std::vector<Jwk>> parsed = ParseJwks(all + good + "]}");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].kid, "good");
  EXPECT_TRUE((*parsed)[0].key == EcKey());

  // An RSA key serves PS256 when its alg says so, RS256 otherwise.
  const std::string rsa_keys =
      R"({"keys":[{)" + rsa_n + R"(,"kid":"ps","alg":"PS256"},{)" + rsa_n + R"(,"kid":"rs"}]})";
  Result<std::vector<Jwk>> rsa = ParseJwks(rsa_keys);
  ASSERT_TRUE(rsa.ok());
  ASSERT_EQ(rsa->size(), 2u);
  EXPECT_EQ((*rsa)[0].key.algorithm(), crypto::Algorithm::kPS256);
  EXPECT_EQ((*rsa)[1].key.algorithm(), crypto::Algorithm::kRS256);
  EXPECT_NE(JwkToJson((*rsa)[0]).find(R"("alg":"PS256")"), std::string::npos);
}

TEST(ParseJwksTest, RejectsMalformedDocuments) {
  auto expect = [](std::string_view json, std::string_view message) {
    Result<std::vector<Jwk>> r = ParseJwks(json);
    ASSERT_FALSE(r.ok()) << json.substr(0, 80);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), message);
  };
  expect("", "JWKS is not valid JSON");
  expect("{", "JWKS is not valid JSON");
  expect(R"({"keys":[]} trailing)", "JWKS is not valid JSON");
  expect("{\"keys\":[],\"x\":\"\xff\"}", "JWKS is not valid JSON");
  expect(R"({"keys":[],"keys":[]})", "JWKS has a duplicate JSON key");
  expect(R"({"keys":[{"kid":"a","kid":"b"}]})", "JWKS has a duplicate JSON key");
  expect(R"({"keys":[)" + std::string(100, '[') + std::string(100, ']') + "]}",
         "JWKS is not valid JSON");
  expect("[]", "JWKS is not a JSON object");
  expect("\"keys\"", "JWKS is not a JSON object");
  expect("{}", "JWKS has no keys array");
  expect(R"({"keys":{}})", "JWKS has no keys array");
  std::string many = R"({"keys":[{})";
  for (int i = 0; i < 100; ++i) many += ",{}";
  expect(many + "]}", "JWKS has too many keys");
  std::string huge = R"({"keys":[],"pad":")" + std::string(kMaxJwksBytes, 'x') + "\"}";
  expect(huge, "JWKS too large");
}

TEST(ParseJwksTest, AcceptsTheLimits) {
  std::string hundred = R"({"keys":[{})";
  for (int i = 0; i < 99; ++i) hundred += ",{}";
  Result<std::vector<Jwk>> r = ParseJwks(hundred + "]}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->empty());
  EXPECT_TRUE(ParseJwks(R"({"keys":[]})").ok());
}

// ---- KeySet -------------------------------------------------------------------------

TEST(KeySetTest, FindsByKidAndKeepsTheFirstOfDuplicates) {
  KeySet set({Jwk{.kid = "a", .key = EcKey()}, Jwk{.kid = "b", .key = EdKey()},
              Jwk{.kid = "a", .key = RsaKey()}});
  ASSERT_EQ(set.keys().size(), 2u);
  ASSERT_NE(set.Find("a"), nullptr);
  EXPECT_TRUE(set.Find("a")->key == EcKey());
  ASSERT_NE(set.Find("b"), nullptr);
  EXPECT_EQ(set.Find("b")->key.algorithm(), Algorithm::kEdDSA);
  EXPECT_EQ(set.Find("c"), nullptr);
  EXPECT_EQ(set.Find(""), nullptr);
  EXPECT_EQ(set.Find("A"), nullptr);
  EXPECT_EQ(KeySet().Find("a"), nullptr);
}

}  // namespace
}  // namespace lakegate::jose
