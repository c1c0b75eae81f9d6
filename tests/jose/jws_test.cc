#include "jose/jws.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>

#include "common/base64url.h"
#include "crypto/ecdsa_der.h"
#include "crypto/hash.h"
#include "jose/claims.h"
#include "jose/jwk.h"
#include "test_keys.h"

namespace lakegate::jose {
namespace {

using crypto::Algorithm;
using crypto::PrivateKey;
using testing::SignRaw;
using testing::TestKey;

constexpr int64_t kNow = 1'800'000'000;
constexpr std::string_view kIssuer = "https://auth.lakegate.test";

const PrivateKey& Es() { return TestKey(Algorithm::kES256); }
const PrivateKey& Ed() { return TestKey(Algorithm::kEdDSA); }
const PrivateKey& Rs() { return TestKey(Algorithm::kRS256); }

KeySet TestKeys() {
  return KeySet({Jwk{.kid = "es", .key = Es().Public()}, Jwk{.kid = "ed", .key = Ed().Public()},
                 Jwk{.kid = "rs", .key = Rs().Public()}});
}

AccessTokenClaims GoodClaims() {
  AccessTokenClaims c;
  c.iss = std::string(kIssuer);
  c.sub = "etl-service";
  c.aud = {"athena-api"};
  c.client_id = "etl-service";
  c.scope = "query.read query.write";
  c.token_use = "access";
  c.iat = kNow - 10;
  c.exp = kNow + 3600;
  c.jti = "jti-1";
  c.version = 2;
  return c;
}

VerifyOptions StrictOptions() {
  VerifyOptions o;
  o.issuer = std::string(kIssuer);
  o.audience = "athena-api";
  o.token_use = "access";
  o.require_at_jwt_typ = true;
  return o;
}

std::string Payload(const AccessTokenClaims& c) { return EncodeAccessTokenClaims(c); }

// A header as our Signer writes it.
std::string Header(std::string_view alg, std::string_view kid, std::string_view extra = "") {
  return R"({"alg":")" + std::string(alg) + R"(","kid":")" + std::string(kid) +
         R"(","typ":"at+jwt")" + std::string(extra) + "}";
}

std::string GoodToken() { return SignRaw(Es(), Header("ES256", "es"), Payload(GoodClaims())); }

// The reason each documented message of Verify() goes with.
TokenFailure ExpectedReason(std::string_view message) {
  if (message.starts_with("invalid claim: ") || message == "missing claim: exp") {
    return TokenFailure::kInvalidClaim;
  }
  static const std::map<std::string_view, TokenFailure> kByMessage = {
      {"token too large", TokenFailure::kTooLarge},
      {"malformed token", TokenFailure::kMalformed},
      {"duplicate JSON key", TokenFailure::kDuplicateMember},
      {"unsupported algorithm", TokenFailure::kUnsupportedAlgorithm},
      {"critical header not supported", TokenFailure::kCriticalHeader},
      {"unknown key id", TokenFailure::kUnknownKey},
      {"algorithm does not match key", TokenFailure::kAlgorithmMismatch},
      {"bad signature", TokenFailure::kBadSignature},
      {"wrong token type", TokenFailure::kWrongType},
      {"token expired", TokenFailure::kExpired},
      {"token not yet valid", TokenFailure::kNotYetValid},
      {"token issued in the future", TokenFailure::kIssuedInFuture},
      {"issuer mismatch", TokenFailure::kWrongIssuer},
      {"audience mismatch", TokenFailure::kWrongAudience},
      {"token_use mismatch", TokenFailure::kWrongTokenUse},
      {"missing client_id", TokenFailure::kMissingClientId},
  };
  auto it = kByMessage.find(message);
  EXPECT_NE(it, kByMessage.end()) << "undocumented message: " << message;
  return it == kByMessage.end() ? TokenFailure::kMissing : it->second;
}

class VerifyTest : public ::testing::Test {
 protected:
  Result<VerifiedToken> Check(std::string_view token, const VerifyOptions& options) {
    return Verify(token, keys_, options, kNow);
  }
  Result<VerifiedToken> Check(std::string_view token) { return Check(token, StrictOptions()); }

  void ExpectRejected(std::string_view token, std::string_view message,
                      const VerifyOptions& options) {
    Result<VerifiedToken> r = Check(token, options);
    ASSERT_FALSE(r.ok()) << "accepted: " << token;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message(), message);
    EXPECT_TRUE(r.status().Is(ExpectedReason(message))) << r.status().ToString();
  }
  void ExpectRejected(std::string_view token, std::string_view message) {
    ExpectRejected(token, message, StrictOptions());
  }
  void ExpectAccepted(std::string_view token, const VerifyOptions& options) {
    Result<VerifiedToken> r = Check(token, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
  void ExpectAccepted(std::string_view token) { ExpectAccepted(token, StrictOptions()); }

  KeySet keys_ = TestKeys();
};

// ---- Round trips ---------------------------------------------------------------

class SignerRoundTripTest : public VerifyTest, public ::testing::WithParamInterface<Algorithm> {};

TEST_P(SignerRoundTripTest, SignedTokensVerifyWithTheirClaims) {
  const std::string kid = GetParam() == Algorithm::kES256   ? "es"
                          : GetParam() == Algorithm::kEdDSA ? "ed"
                                                            : "rs";
  Signer signer(kid, TestKey(GetParam()));
  EXPECT_EQ(signer.kid(), kid);
  EXPECT_EQ(signer.algorithm(), GetParam());

  AccessTokenClaims claims = GoodClaims();
  claims.nbf = kNow - 5;
  claims.auth_time = kNow - 100;
  claims.aud = {"athena-api", "other-api"};
  Result<std::string> token = signer.SignCompact(Payload(claims));
  ASSERT_TRUE(token.ok()) << token.status().ToString();

  Result<VerifiedToken> v = Check(*token);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->kid, kid);
  EXPECT_EQ(v->algorithm, GetParam());
  EXPECT_EQ(v->typ, "at+jwt");
  EXPECT_EQ(v->claims, claims);

  size_t dot = token->find('.');
  EXPECT_EQ(Base64UrlDecode(token->substr(0, dot)),
            R"({"alg":")" + std::string(crypto::AlgorithmName(GetParam())) + R"(","kid":")" + kid +
                R"(","typ":"at+jwt"})");
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, SignerRoundTripTest,
                         ::testing::Values(Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kRS256),
                         [](const auto& param_info) {
                           return std::string(crypto::AlgorithmName(param_info.param));
                         });

TEST_F(VerifyTest, SignerWithoutTypOmitsIt) {
  Signer signer("es", Es(), "");
  Result<std::string> token = signer.SignCompact(Payload(GoodClaims()));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(Base64UrlDecode(token->substr(0, token->find('.'))), R"({"alg":"ES256","kid":"es"})");
  VerifyOptions lax = StrictOptions();
  lax.require_at_jwt_typ = false;
  Result<VerifiedToken> v = Check(*token, lax);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->typ, "");
  ExpectRejected(*token, "wrong token type");
}

TEST_F(VerifyTest, SignerEscapesTheKid) {
  Signer signer("a\"b\\c", Es());
  KeySet keys({Jwk{.kid = "a\"b\\c", .key = Es().Public()}});
  Result<std::string> token = signer.SignCompact(Payload(GoodClaims()));
  ASSERT_TRUE(token.ok());
  Result<VerifiedToken> v = Verify(*token, keys, StrictOptions(), kNow);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->kid, "a\"b\\c");
}

TEST_F(VerifyTest, UnknownClaimsOfAnyTypeAreIgnored) {
  std::string payload = Payload(GoodClaims());
  payload.pop_back();
  payload +=
      R"(,"cnf":{"jkt":"x","n":{"deep":[1,2,{"a":null}]}},"roles":["a",1,true],"f":1.5,"z":null})";
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), payload));
}

TEST_F(VerifyTest, FractionalNumericDatesAreAccepted) {
  std::string payload = R"({"iss":"https://auth.lakegate.test","aud":"athena-api","client_id":"c",)"
                        R"("token_use":"access","iat":1799999990.5,"exp":1800003600.75})";
  Result<VerifiedToken> v = Check(SignRaw(Es(), Header("ES256", "es"), payload));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->claims.exp, 1800003600);
  EXPECT_EQ(v->claims.iat, 1799999990);
}

TEST_F(VerifyTest, ExtremeExpDoesNotOverflow) {
  AccessTokenClaims c = GoodClaims();
  c.exp = std::numeric_limits<int64_t>::max();
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)));
  c.exp = std::numeric_limits<int64_t>::min();
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "token expired");
  std::string payload = Payload(GoodClaims());
  size_t at = payload.find("\"exp\":");
  ASSERT_NE(at, std::string::npos);
  // 2^64: beyond int64, so not a usable NumericDate.
  std::string huge =
      payload.substr(0, at) + R"("exp":18446744073709551616,"x":)" + payload.substr(at + 6);
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), huge), "invalid claim: exp");
}

// ---- Forged and malformed tokens ---------------------------------------------------

TEST_F(VerifyTest, AlgNoneIsRejected) {
  std::string unsigned_token = Base64UrlEncode(R"({"alg":"none","kid":"es","typ":"at+jwt"})") +
                               "." + Base64UrlEncode(Payload(GoodClaims())) + ".";
  ExpectRejected(unsigned_token, "unsupported algorithm");
  ExpectRejected(SignRaw(Es(), Header("none", "es"), Payload(GoodClaims())),
                 "unsupported algorithm");
  ExpectRejected(SignRaw(Es(), Header("None", "es"), Payload(GoodClaims())),
                 "unsupported algorithm");
}

TEST_F(VerifyTest, HmacWithThePublicKeyAsSecretIsRejected) {
  // The classic key-confusion forgery: HS256 keyed with whatever public form of
  // our key a verifier might hand to HMAC.
  std::string input =
      Base64UrlEncode(Header("HS256", "es")) + "." + Base64UrlEncode(Payload(GoodClaims()));
  crypto::PublicKeyParams p = Es().Public().Params();
  for (const std::string& secret :
       {Es().Public().ToPem(), JwkToJson(Jwk{.kid = "es", .key = Es().Public()}), p.x + p.y,
        std::string("\x04") + p.x + p.y}) {
    std::string token = input + "." + Base64UrlEncode(crypto::HmacSha256(secret, input));
    ExpectRejected(token, "unsupported algorithm");
  }
}

TEST_F(VerifyTest, OtherAlgorithmsAreRejected) {
  for (std::string_view alg :
       {"HS384", "HS512", "ES384", "ES512", "PS384", "RS512", "es256", "ES256 ", "Ed25519", ""}) {
    ExpectRejected(SignRaw(Es(), Header(alg, "es"), Payload(GoodClaims())),
                   "unsupported algorithm");
  }
}

TEST_F(VerifyTest, AlgorithmSwapIsRejected) {
  // alg names a different algorithm than the key behind kid, whichever key signed.
  ExpectRejected(SignRaw(Ed(), Header("EdDSA", "es"), Payload(GoodClaims())),
                 "algorithm does not match key");
  ExpectRejected(SignRaw(Rs(), Header("RS256", "es"), Payload(GoodClaims())),
                 "algorithm does not match key");
  ExpectRejected(SignRaw(Es(), Header("ES256", "ed"), Payload(GoodClaims())),
                 "algorithm does not match key");
  ExpectRejected(SignRaw(Es(), Header("ES256", "rs"), Payload(GoodClaims())),
                 "algorithm does not match key");
  ExpectRejected(SignRaw(Rs(), Header("RS256", "ed"), Payload(GoodClaims())),
                 "algorithm does not match key");
}

TEST_F(VerifyTest, UnknownKidIsRejected) {
  ExpectRejected(SignRaw(Es(), Header("ES256", "nope"), Payload(GoodClaims())), "unknown key id");
  ExpectRejected(SignRaw(Es(), Header("ES256", ""), Payload(GoodClaims())), "unknown key id");
}

TEST_F(VerifyTest, HeaderShapeIsEnforced) {
  const std::string payload = Payload(GoodClaims());
  ExpectRejected(SignRaw(Es(), R"({"kid":"es","typ":"at+jwt"})", payload), "malformed token");
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","typ":"at+jwt"})", payload), "malformed token");
  ExpectRejected(SignRaw(Es(), R"({"alg":256,"kid":"es"})", payload), "malformed token");
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","kid":["es"]})", payload), "malformed token");
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","kid":"es","typ":1})", payload),
                 "malformed token");
  ExpectRejected(SignRaw(Es(), R"(["ES256","es"])", payload), "malformed token");
  ExpectRejected(SignRaw(Es(), R"("ES256")", payload), "malformed token");
  ExpectRejected(SignRaw(Es(), "", payload), "malformed token");
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","kid":"es"} x)", payload), "malformed token");
  ExpectRejected(SignRaw(Es(), "{\"alg\":\"ES256\",\"kid\":\"\xff\"}", payload),
                 "malformed token");  // not UTF-8
}

TEST_F(VerifyTest, DuplicateHeaderMembersAreRejected) {
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","kid":"es","alg":"none"})", Payload(GoodClaims())),
                 "duplicate JSON key");
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","kid":"es","kid":"es"})", Payload(GoodClaims())),
                 "duplicate JSON key");
}

TEST_F(VerifyTest, CritHeaderIsRejected) {
  ExpectRejected(
      SignRaw(Es(), Header("ES256", "es", R"(,"crit":["exp"],"exp":1)"), Payload(GoodClaims())),
      "critical header not supported");
  ExpectRejected(SignRaw(Es(), Header("ES256", "es", R"(,"crit":[])"), Payload(GoodClaims())),
                 "critical header not supported");
  ExpectRejected(
      SignRaw(Es(), Header("ES256", "es", R"(,"b64":false,"crit":["b64"])"), Payload(GoodClaims())),
      "critical header not supported");
}

TEST_F(VerifyTest, KeyUrlAndEmbeddedKeyHeadersAreNeverFollowed) {
  Result<PrivateKey> attacker = PrivateKey::Generate(Algorithm::kES256);
  ASSERT_TRUE(attacker.ok());
  std::string attacker_jwk = JwkToJson(Jwk{.kid = "es", .key = attacker->Public()});
  const std::string extra =
      R"(,"jku":"https://evil.example/jwks.json","x5u":"https://evil.example/c",)"
      R"("x5c":["MIIB"],"jwk":)" +
      attacker_jwk;
  // Signed by the attacker's key, which the header carries: still only our "es" key counts.
  ExpectRejected(SignRaw(*attacker, Header("ES256", "es", extra), Payload(GoodClaims())),
                 "bad signature");
  // An embedded key under a kid we do not have is not a key either.
  ExpectRejected(SignRaw(*attacker, Header("ES256", "evil", extra), Payload(GoodClaims())),
                 "unknown key id");
  // The same headers on a token our key signed are harmless noise.
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es", extra), Payload(GoodClaims())));
}

TEST_F(VerifyTest, TamperedTokensAreRejected) {
  const std::string token = GoodToken();
  ExpectAccepted(token);
  size_t dot1 = token.find('.');
  size_t dot2 = token.find('.', dot1 + 1);
  std::string header = token.substr(0, dot1);
  std::string payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string signature = token.substr(dot2 + 1);

  AccessTokenClaims escalated = GoodClaims();
  escalated.scope = "query.admin";
  ExpectRejected(header + "." + Base64UrlEncode(Payload(escalated)) + "." + signature,
                 "bad signature");
  ExpectRejected(
      Base64UrlEncode(Header("ES256", "es", R"(,"x":1)")) + "." + payload + "." + signature,
      "bad signature");
  std::string raw_sig = *Base64UrlDecode(signature);
  raw_sig[10] ^= 0x20;
  ExpectRejected(header + "." + payload + "." + Base64UrlEncode(raw_sig), "bad signature");
  ExpectRejected(header + "." + payload + "." + Base64UrlEncode(raw_sig.substr(0, 63)),
                 "bad signature");
  ExpectRejected(header + "." + payload + ".", "bad signature");
  // Signed by another key of the right type under our kid.
  Result<PrivateKey> other = PrivateKey::Generate(Algorithm::kES256);
  ASSERT_TRUE(other.ok());
  ExpectRejected(SignRaw(*other, Header("ES256", "es"), Payload(GoodClaims())), "bad signature");
  // A signature over the payload alone, or over the whole token, is not ours.
  ExpectRejected(header + "." + payload + "." + Base64UrlEncode(*Es().Sign(payload)),
                 "bad signature");
}

TEST_F(VerifyTest, DerEncodedEs256SignatureIsRejected) {
  const std::string token = GoodToken();
  size_t dot2 = token.rfind('.');
  std::string raw = *Base64UrlDecode(token.substr(dot2 + 1));
  uint8_t der[crypto::MaxEcdsaDerSize(32)];
  size_t len = crypto::EcdsaRawToDer(raw, 32, der);
  ASSERT_GT(len, 0u);
  ExpectRejected(
      token.substr(0, dot2 + 1) + Base64UrlEncode(std::string(reinterpret_cast<char*>(der), len)),
      "bad signature");
}

TEST_F(VerifyTest, NonStrictBase64IsRejected) {
  const std::string token = GoodToken();
  size_t dot1 = token.find('.');
  size_t dot2 = token.rfind('.');
  std::string header = token.substr(0, dot1);
  std::string payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string signature = token.substr(dot2 + 1);
  // 64-byte signature: 86 characters, so standard base64 would pad with "==".
  ExpectRejected(token + "==", "malformed token");
  ExpectRejected(header + "=." + payload + "." + signature, "malformed token");
  ExpectRejected(header + "." + payload + "=." + signature, "malformed token");
  std::string std_alphabet = signature;
  for (char& c : std_alphabet) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (std_alphabet != signature) {
    ExpectRejected(header + "." + payload + "." + std_alphabet, "malformed token");
  }
  ExpectRejected(
      header + "." + payload + "." + signature.substr(0, 40) + "+" + signature.substr(41),
      "malformed token");
  ExpectRejected(header + " ." + payload + "." + signature, "malformed token");
  ExpectRejected(header + "." + payload + "." + signature + "\n", "malformed token");
  // Non-canonical trailing bits: the last character of an 86-character
  // signature carries 2 unused bits; setting them gives the same bytes.
  std::string last_bits = signature;
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t v = alphabet.find(last_bits.back());
  last_bits.back() = alphabet[v ^ 1];
  ExpectRejected(header + "." + payload + "." + last_bits, "malformed token");
}

TEST_F(VerifyTest, WrongNumberOfPartsIsRejected) {
  const std::string token = GoodToken();
  size_t dot2 = token.rfind('.');
  ExpectRejected(token + ".", "malformed token");
  ExpectRejected(token + ".e30", "malformed token");
  ExpectRejected(token.substr(0, dot2), "malformed token");
  ExpectRejected(token.substr(0, token.find('.')), "malformed token");
  ExpectRejected("", "malformed token");
  ExpectRejected("..", "malformed token");
  ExpectRejected("...", "malformed token");
  ExpectRejected("e30.e30.e30", "malformed token");  // {} header: no alg
}

TEST_F(VerifyTest, HugeTokenIsRejectedBeforeParsing) {
  AccessTokenClaims c = GoodClaims();
  c.scope = std::string(9000, 's');
  std::string token = SignRaw(Es(), Header("ES256", "es"), Payload(c));
  ExpectRejected(token, "token too large");
  ExpectRejected(std::string(8193, 'a'), "token too large");
  VerifyOptions big = StrictOptions();
  big.max_token_bytes = 64 * 1024;
  ExpectAccepted(token, big);
  VerifyOptions small = StrictOptions();
  small.max_token_bytes = 100;
  ExpectRejected(GoodToken(), "token too large", small);
}

TEST_F(VerifyTest, DeepNestingIsRejected) {
  std::string payload = Payload(GoodClaims());
  payload.pop_back();
  payload += R"(,"x":)" + std::string(40, '[') + std::string(40, ']') + "}";
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), payload), "malformed token");
  std::string header = Header("ES256", "es");
  header.pop_back();
  header += R"(,"x":)" + std::string(200, '[') + std::string(200, ']') + "}";
  ExpectRejected(SignRaw(Es(), header, Payload(GoodClaims())), "malformed token");
}

// ---- Payload shape and claim types ---------------------------------------------

TEST_F(VerifyTest, NonObjectPayloadIsRejected) {
  for (std::string_view payload : {"[]", "[1,2]", "\"claims\"", "123", "null", "true", "", "{",
                                   "{}{}", "{\"exp\":1800003600", "\xef\xbb"}) {
    ExpectRejected(SignRaw(Es(), Header("ES256", "es"), payload), "malformed token");
  }
}

TEST_F(VerifyTest, DuplicateClaimsAreRejected) {
  std::string payload = Payload(GoodClaims());
  payload.pop_back();
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), payload + R"(,"exp":9999999999})"),
                 "duplicate JSON key");
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), payload + R"(,"iss":"https://evil"})"),
                 "duplicate JSON key");
  // Inside a nested object too.
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), payload + R"(,"cnf":{"a":1,"a":2}})"),
                 "duplicate JSON key");
  // The same name at different levels is fine.
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), payload + R"(,"cnf":{"exp":1}})"));
}

TEST_F(VerifyTest, ClaimsOfTheWrongTypeAreRejected) {
  auto with = [](std::string_view name, std::string_view json_value) {
    std::string payload = R"({"iss":"https://auth.lakegate.test","aud":"athena-api",)"
                          R"("client_id":"c","token_use":"access","iat":1799999990,)"
                          R"("exp":1800003600})";
    // Replace the claim if present, or add it.
    std::string key = "\"" + std::string(name) + "\":";
    size_t at = payload.find(key);
    if (at != std::string::npos) {
      size_t end = payload.find_first_of(",}", at);
      payload.replace(at, end - at, key + std::string(json_value));
    } else {
      payload.insert(payload.size() - 1, "," + key + std::string(json_value));
    }
    return SignRaw(Es(), Header("ES256", "es"), payload);
  };
  ExpectAccepted(with("exp", "1800003600"));
  ExpectRejected(with("exp", R"("1800003600")"), "invalid claim: exp");
  ExpectRejected(with("exp", "null"), "invalid claim: exp");
  ExpectRejected(with("exp", "true"), "invalid claim: exp");
  ExpectRejected(with("exp", "[1800003600]"), "invalid claim: exp");
  ExpectRejected(with("iat", R"("now")"), "invalid claim: iat");
  ExpectRejected(with("nbf", "{}"), "invalid claim: nbf");
  ExpectRejected(with("auth_time", R"("x")"), "invalid claim: auth_time");
  ExpectRejected(with("version", R"("2")"), "invalid claim: version");
  ExpectRejected(with("iss", "42"), "invalid claim: iss");
  ExpectRejected(with("sub", "null"), "invalid claim: sub");
  ExpectRejected(with("client_id", R"(["c"])"), "invalid claim: client_id");
  ExpectRejected(with("scope", R"(["query.read"])"), "invalid claim: scope");
  ExpectRejected(with("token_use", "1"), "invalid claim: token_use");
  ExpectRejected(with("jti", "{}"), "invalid claim: jti");
  ExpectRejected(with("aud", "1"), "invalid claim: aud");
  ExpectRejected(with("aud", R"(["athena-api",1])"), "invalid claim: aud");
  ExpectRejected(with("aud", R"(["athena-api",["x"]])"), "invalid claim: aud");
  ExpectRejected(with("aud", R"({"athena-api":true})"), "invalid claim: aud");
  ExpectAccepted(with("aud", R"(["x","athena-api"])"));
  // RFC 7800 cnf with a jkt (RFC 9449): a non-empty string.
  ExpectRejected(with("cnf", R"("jkt")"), "invalid claim: cnf");
  ExpectRejected(with("cnf", R"(["x"])"), "invalid claim: cnf");
  ExpectRejected(with("cnf", R"({"jkt":1})"), "invalid claim: cnf");
  ExpectRejected(with("cnf", R"({"jkt":""})"), "invalid claim: cnf");
  ExpectRejected(with("cnf", R"({"jkt":{"a":"b"}})"), "invalid claim: cnf");
  Result<VerifiedToken> bound = Check(with("cnf", R"({"x5t#S256":"abc","jkt":"thumb"})"));
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ(bound->claims.cnf_jkt, "thumb");
  EXPECT_EQ(bound->claims.cnf_x5t_s256, "abc");
  Result<VerifiedToken> other = Check(with("cnf", R"({"x5t#S256":"abc"})"));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE(other->claims.cnf_jkt.empty());
}

TEST_F(VerifyTest, ConfirmationClaimRoundTrips) {
  AccessTokenClaims claims = GoodClaims();
  claims.cnf_jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
  const std::string payload = Payload(claims);
  EXPECT_NE(payload.find(R"("cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})"),
            std::string::npos)
      << payload;
  Result<VerifiedToken> verified = Check(SignRaw(Es(), Header("ES256", "es"), payload));
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->claims, claims);
  EXPECT_EQ(Payload(GoodClaims()).find("cnf"), std::string::npos);
}

TEST_F(VerifyTest, MissingExpIsRejected) {
  std::string payload = R"({"iss":"https://auth.lakegate.test","aud":"athena-api",)"
                        R"("client_id":"c","token_use":"access","iat":1799999990})";
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), payload), "missing claim: exp");
}

// ---- Time ----------------------------------------------------------------------------

TEST_F(VerifyTest, ExpiryWithLeeway) {
  AccessTokenClaims c = GoodClaims();
  c.iat = kNow - 7200;
  c.exp = kNow - 30;  // within the 60 s leeway
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)));
  c.exp = kNow - 60;  // exactly at the edge: now >= exp + leeway
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "token expired");
  c.exp = kNow - 3600;
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "token expired");
  VerifyOptions no_leeway = StrictOptions();
  no_leeway.leeway_seconds = 0;
  c.exp = kNow;
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "token expired", no_leeway);
  c.exp = kNow + 1;
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)), no_leeway);
  VerifyOptions negative = StrictOptions();
  negative.leeway_seconds = -1000;  // treated as 0, never as extra strictness gone wrong
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)), negative);
}

TEST_F(VerifyTest, NotBeforeInTheFutureIsRejected) {
  AccessTokenClaims c = GoodClaims();
  c.nbf = kNow + 30;  // within leeway
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)));
  c.nbf = kNow + 61;
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "token not yet valid");
}

TEST_F(VerifyTest, IssuedInTheFutureIsRejected) {
  AccessTokenClaims c = GoodClaims();
  c.iat = kNow + 60;
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)));
  c.iat = kNow + 61;
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "token issued in the future");
}

// ---- Issuer, audience, token_use, typ, client_id --------------------------------------

TEST_F(VerifyTest, IssuerMustMatchExactly) {
  AccessTokenClaims c = GoodClaims();
  c.iss = "https://auth.lakegate.test/";
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "issuer mismatch");
  c.iss = "https://evil.test";
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "issuer mismatch");
  c.iss = "";
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "issuer mismatch");
  VerifyOptions any_issuer = StrictOptions();
  any_issuer.issuer = "";
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)), any_issuer);
}

TEST_F(VerifyTest, AudienceMustBeListed) {
  AccessTokenClaims c = GoodClaims();
  c.aud = {"other-api"};
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "audience mismatch");
  c.aud = {};
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "audience mismatch");
  c.aud = {"x", "athena-api"};
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)));
  c.aud = {"ATHENA-API"};
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "audience mismatch");
  VerifyOptions no_audience = StrictOptions();
  no_audience.audience.reset();
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)), no_audience);
}

TEST_F(VerifyTest, TokenUseMustMatch) {
  AccessTokenClaims c = GoodClaims();
  c.token_use = "id";
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "token_use mismatch");
  c.token_use = "";
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "token_use mismatch");
  VerifyOptions any_use = StrictOptions();
  any_use.token_use.reset();
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)), any_use);
}

TEST_F(VerifyTest, AccessTokenTypeIsRequiredWhenAsked) {
  const std::string payload = Payload(GoodClaims());
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","kid":"es","typ":"JWT"})", payload),
                 "wrong token type");
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","kid":"es"})", payload), "wrong token type");
  ExpectRejected(SignRaw(Es(), R"({"alg":"ES256","kid":"es","typ":"at+jwt "})", payload),
                 "wrong token type");
  ExpectAccepted(
      SignRaw(Es(), R"({"alg":"ES256","kid":"es","typ":"application/at+jwt"})", payload));
  ExpectAccepted(SignRaw(Es(), R"({"alg":"ES256","kid":"es","typ":"AT+JWT"})", payload));
  VerifyOptions lax = StrictOptions();
  lax.require_at_jwt_typ = false;
  ExpectAccepted(SignRaw(Es(), R"({"alg":"ES256","kid":"es","typ":"JWT"})", payload), lax);
}

TEST_F(VerifyTest, ClientIdIsRequiredByDefault) {
  AccessTokenClaims c = GoodClaims();
  c.client_id = "";
  ExpectRejected(SignRaw(Es(), Header("ES256", "es"), Payload(c)), "missing client_id");
  VerifyOptions optional_client = StrictOptions();
  optional_client.require_client_id = false;
  ExpectAccepted(SignRaw(Es(), Header("ES256", "es"), Payload(c)), optional_client);
}

TEST_F(VerifyTest, EmptyKeySetAcceptsNothing) {
  KeySet empty;
  Result<VerifiedToken> r = Verify(GoodToken(), empty, StrictOptions(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unknown key id");
}

// ---- PeekKid ------------------------------------------------------------------------------

TEST(PeekKidTest, ReturnsTheKidWithoutVerifying) {
  EXPECT_EQ(PeekKid(GoodToken()).value(), "es");
  // No signature check: a garbage signature still yields the kid.
  std::string token = GoodToken();
  EXPECT_EQ(PeekKid(token.substr(0, token.rfind('.') + 1) + "AAAA").value(), "es");
}

TEST(PeekKidTest, RejectsMalformedInput) {
  auto expect = [](std::string_view token, std::string_view message) {
    Result<std::string> r = PeekKid(token);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message(), message);
    EXPECT_TRUE(r.status().Is(ExpectedReason(message))) << r.status().ToString();
  };
  expect(std::string(8193, 'a'), "token too large");
  expect("abc", "malformed token");
  expect(Base64UrlEncode(R"({"alg":"ES256"})") + ".e30.", "malformed token");
  expect(Base64UrlEncode(R"({"alg":"ES256","kid":"a","kid":"b"})") + ".e30.", "duplicate JSON key");
  Result<std::string> small = PeekKid(GoodToken(), 10);
  EXPECT_EQ(small.status().message(), "token too large");
}

}  // namespace
}  // namespace lakegate::jose
