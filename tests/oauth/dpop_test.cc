// DPoP proofs (RFC 9449 §4.3): every acceptance and every rejection path of
// the proof check, each asserted by its reason; nonces, replay across
// verifiers sharing a store, and the URL normalisation htu is compared after.
#include "oauth/dpop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/random.h"
#include "crypto/hash.h"
#include "jose/jwk.h"
#include "jose/test_keys.h"
#include "store/fault_injecting_store.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/status_matchers.h"

namespace lakegate::oauth {
namespace {

using crypto::Algorithm;
using jose::testing::SignRaw;
using jose::testing::TestKey;
using lakegate::testing::HasReason;
using nlohmann::json;

constexpr char kBase[] = "https://auth.example.test";
constexpr char kUrl[] = "https://auth.example.test/oauth2/token";
constexpr char kPath[] = "/oauth2/token";

json PublicJwk(Algorithm alg) {
  json jwk = json::parse(jose::JwkToJson({.kid = "k", .key = TestKey(alg).Public()}));
  jwk.erase("kid");
  jwk.erase("use");
  jwk.erase("alg");
  return jwk;
}

class DpopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<store::FaultInjectingStore>(store::NewInMemoryStore());
    options_.base_urls = {kBase, "http://127.0.0.1:8080"};
    options_.nonce_key = RandomBytes(32);
    verifier_ = std::make_unique<DpopVerifier>(options_, *store_, clock_);
  }

  int64_t Now() const { return clock_.NowSeconds(); }

  json Header(Algorithm alg = Algorithm::kES256) const {
    return {{"typ", "dpop+jwt"},
            {"alg", std::string(crypto::AlgorithmName(alg))},
            {"jwk", PublicJwk(alg)}};
  }
  json Claims() const {
    return {{"jti", RandomHex(8)}, {"htm", "POST"}, {"htu", kUrl}, {"iat", Now()}};
  }
  static std::string Sign(const json& header, const json& claims,
                          Algorithm alg = Algorithm::kES256) {
    return SignRaw(TestKey(alg), header.dump(), claims.dump());
  }
  std::string Good() const { return Sign(Header(), Claims()); }

  DpopRequest Request(const std::string& proof, std::string_view token = {}) const {
    return {
        .method = "POST", .path = kPath, .proof_headers = 1, .proof = proof, .access_token = token};
  }
  Status Check(const std::string& proof, std::string_view token = {}) const {
    return CheckDpopProof(Request(proof, token), options_, Now()).status();
  }

  std::unique_ptr<store::FaultInjectingStore> store_;
  FakeClock clock_;
  DpopOptions options_;
  std::unique_ptr<DpopVerifier> verifier_;
};

TEST_F(DpopTest, EveryAlgorithmIsAcceptedAndBindsTheKeyThumbprint) {
  for (Algorithm alg :
       {Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kRS256, Algorithm::kPS256}) {
    Result<std::string> jkt = verifier_->Verify(Request(Sign(Header(alg), Claims(), alg)));
    ASSERT_TRUE(jkt.ok()) << crypto::AlgorithmName(alg) << ": " << jkt.status().ToString();
    EXPECT_EQ(*jkt, jose::Thumbprint(TestKey(alg).Public()));
  }
}

TEST_F(DpopTest, MakeDpopProofBuildsWhatTheVerifierAccepts) {
  for (Algorithm alg : {Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kPS256}) {
    Result<std::string> proof =
        jose::MakeDpopProof(TestKey(alg), "POST", std::string(kUrl) + "?x=1#f", "tok", "", Now());
    ASSERT_TRUE(proof.ok());
    Result<std::string> jkt = verifier_->Verify(Request(*proof, "tok"));
    ASSERT_TRUE(jkt.ok()) << jkt.status().ToString();
    EXPECT_EQ(*jkt, jose::Thumbprint(TestKey(alg).Public()));
  }
}

TEST_F(DpopTest, MissingAndRepeatedHeadersAreRefused) {
  DpopRequest none = Request("");
  none.proof_headers = 0;
  EXPECT_TRUE(HasReason(CheckDpopProof(none, options_, Now()).status(), DpopFailure::kMissing));
  DpopRequest two = Request(Good());
  two.proof_headers = 2;
  EXPECT_TRUE(HasReason(CheckDpopProof(two, options_, Now()).status(), DpopFailure::kMultiple));
}

TEST_F(DpopTest, MalformedProofsAreRefused) {
  for (const std::string& proof :
       {std::string("abc"), std::string("a.b.c"),
        Base64UrlEncode("[]") + "." + Base64UrlEncode("{}") + ".", Good() + ".x"}) {
    EXPECT_TRUE(HasReason(Check(proof), DpopFailure::kMalformed)) << proof;
  }
  json claims = Claims();
  claims["iat"] = "now";
  EXPECT_TRUE(HasReason(Check(Sign(Header(), claims)), DpopFailure::kMalformed));
  claims = Claims();
  claims["jti"] = std::string(300, 'j');
  EXPECT_TRUE(HasReason(Check(Sign(Header(), claims)), DpopFailure::kMalformed));
}

TEST_F(DpopTest, WrongTypeIsRefused) {
  for (const char* typ : {"JWT", "at+jwt", ""}) {
    json header = Header();
    header["typ"] = typ;
    EXPECT_TRUE(HasReason(Check(Sign(header, Claims())), DpopFailure::kWrongType)) << typ;
  }
  json header = Header();
  header.erase("typ");
  EXPECT_TRUE(HasReason(Check(Sign(header, Claims())), DpopFailure::kWrongType));
}

TEST_F(DpopTest, NoneAndHmacAreRefused) {
  json header = Header();
  header["alg"] = "none";
  std::string unsigned_proof =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump()) + ".";
  EXPECT_TRUE(HasReason(Check(unsigned_proof), DpopFailure::kUnsupportedAlgorithm));
  // HS256 keyed with the public key's bytes: the classic confusion.
  header["alg"] = "HS256";
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump());
  std::string mac = crypto::HmacSha256(TestKey(Algorithm::kES256).Public().ToPem(), input);
  EXPECT_TRUE(
      HasReason(Check(input + "." + Base64UrlEncode(mac)), DpopFailure::kUnsupportedAlgorithm));
  header["alg"] = "ES384";
  EXPECT_TRUE(HasReason(Check(Sign(header, Claims())), DpopFailure::kUnsupportedAlgorithm));
}

TEST_F(DpopTest, CritHeaderIsRefused) {
  json header = Header();
  header["crit"] = json::array({"exp"});
  EXPECT_TRUE(HasReason(Check(Sign(header, Claims())), DpopFailure::kCriticalHeader));
}

TEST_F(DpopTest, MissingOrUnusableKeyIsRefused) {
  json header = Header();
  header.erase("jwk");
  EXPECT_TRUE(HasReason(Check(Sign(header, Claims())), DpopFailure::kBadKey));
  header = Header();
  header["jwk"] = {{"kty", "oct"}, {"k", "c2VjcmV0"}};
  // "k" is a private (symmetric) member: refused as a private key.
  EXPECT_TRUE(HasReason(Check(Sign(header, Claims())), DpopFailure::kPrivateKey));
  header["jwk"] = {{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}};
  EXPECT_TRUE(HasReason(Check(Sign(header, Claims())), DpopFailure::kBadKey));
}

TEST_F(DpopTest, PrivateKeyInTheHeaderIsRefused) {
  json header = Header();
  header["jwk"]["d"] = Base64UrlEncode(std::string(32, '\x01'));
  EXPECT_TRUE(HasReason(Check(Sign(header, Claims())), DpopFailure::kPrivateKey));
}

TEST_F(DpopTest, SignatureByAnotherKeyOrAlgIsRefused) {
  // Header says ES256 with the ES key, signed by another P-256 key.
  Result<crypto::PrivateKey> other = crypto::PrivateKey::Generate(Algorithm::kES256);
  ASSERT_TRUE(other.ok());
  std::string forged = SignRaw(*other, Header().dump(), Claims().dump());
  EXPECT_TRUE(HasReason(Check(forged), DpopFailure::kBadSignature));
  // EdDSA header with a P-256 jwk.
  json header = Header();
  header["alg"] = "EdDSA";
  EXPECT_TRUE(
      HasReason(Check(Sign(header, Claims(), Algorithm::kEdDSA)), DpopFailure::kBadSignature));
  // A tampered payload.
  std::string good = Good();
  std::string tampered = good.substr(0, good.find('.') + 1) + Base64UrlEncode(Claims().dump()) +
                         good.substr(good.rfind('.'));
  EXPECT_TRUE(HasReason(Check(tampered), DpopFailure::kBadSignature));
}

TEST_F(DpopTest, EachRequiredClaimIsRequired) {
  for (const char* claim : {"jti", "htm", "htu", "iat"}) {
    json claims = Claims();
    claims.erase(claim);
    Status s = Check(Sign(Header(), claims));
    EXPECT_TRUE(HasReason(s, DpopFailure::kMissingClaim)) << claim;
    EXPECT_NE(s.message().find(claim), std::string::npos) << s.message();
  }
}

TEST_F(DpopTest, WrongMethodIsRefused) {
  json claims = Claims();
  claims["htm"] = "GET";
  EXPECT_TRUE(HasReason(Check(Sign(Header(), claims)), DpopFailure::kWrongMethod));
  claims["htm"] = "post";  // methods are case-sensitive
  EXPECT_TRUE(HasReason(Check(Sign(Header(), claims)), DpopFailure::kWrongMethod));
}

TEST_F(DpopTest, HtuIsComparedAfterNormalisation) {
  for (const char* htu :
       {"https://AUTH.example.test/oauth2/token", "HTTPS://auth.example.test:443/oauth2/token",
        "https://auth.example.test/oauth2/token?a=b#frag", "http://127.0.0.1:8080/oauth2/token"}) {
    json claims = Claims();
    claims["htu"] = htu;
    EXPECT_TRUE(Check(Sign(Header(), claims)).ok()) << htu;
  }
  for (const char* htu :
       {"https://auth.example.test/oauth2/introspect", "https://evil.example/oauth2/token",
        "http://auth.example.test/oauth2/token", "https://auth.example.test:8443/oauth2/token",
        "https://auth.example.test/OAUTH2/token", "/oauth2/token",
        "https://user@auth.example.test/oauth2/token"}) {
    json claims = Claims();
    claims["htu"] = htu;
    EXPECT_TRUE(HasReason(Check(Sign(Header(), claims)), DpopFailure::kWrongUrl)) << htu;
  }
}

TEST_F(DpopTest, IatOutsideTheWindowIsRefused) {
  json claims = Claims();
  claims["iat"] = Now() - kProofWindowSeconds;
  EXPECT_TRUE(Check(Sign(Header(), claims)).ok());
  claims["iat"] = Now() + kProofWindowSeconds;
  EXPECT_TRUE(Check(Sign(Header(), claims)).ok());
  claims["iat"] = Now() - kProofWindowSeconds - 1;
  EXPECT_TRUE(HasReason(Check(Sign(Header(), claims)), DpopFailure::kStale));
  claims["iat"] = Now() + kProofWindowSeconds + 1;
  EXPECT_TRUE(HasReason(Check(Sign(Header(), claims)), DpopFailure::kFuture));
}

TEST_F(DpopTest, AthMustHashTheAccessToken) {
  const std::string token = "eyJ.access.token";
  json claims = Claims();
  EXPECT_TRUE(HasReason(Check(Sign(Header(), claims), token), DpopFailure::kMissingClaim));
  claims["ath"] = Base64UrlEncode(crypto::Sha256("another token"));
  EXPECT_TRUE(HasReason(Check(Sign(Header(), claims), token), DpopFailure::kWrongAth));
  claims["ath"] = Base64UrlEncode(crypto::Sha256(token));
  EXPECT_TRUE(Check(Sign(Header(), claims), token).ok());
}

TEST_F(DpopTest, ReplayedJtiIsRefusedByEveryVerifierSharingTheStore) {
  std::string proof = Good();
  ASSERT_TRUE(verifier_->Verify(Request(proof)).ok());
  EXPECT_TRUE(HasReason(verifier_->Verify(Request(proof)).status(), DpopFailure::kReplayed));
  // Another node (verifier) on the same store.
  DpopVerifier other(options_, *store_, clock_);
  EXPECT_TRUE(HasReason(other.Verify(Request(proof)).status(), DpopFailure::kReplayed));
}

TEST_F(DpopTest, FailedChecksDoNotUseUpTheJti) {
  json claims = Claims();
  std::string proof = Sign(Header(), claims);
  DpopRequest wrong_method = Request(proof);
  wrong_method.method = "GET";
  EXPECT_TRUE(HasReason(verifier_->Verify(wrong_method).status(), DpopFailure::kWrongMethod));
  EXPECT_TRUE(HasReason(verifier_->Verify(Request(proof), "not-this-key").status(),
                        DpopFailure::kKeyMismatch));
  EXPECT_TRUE(verifier_->Verify(Request(proof)).ok());
}

TEST_F(DpopTest, KeyMustBeTheBoundOne) {
  const std::string bound = jose::Thumbprint(TestKey(Algorithm::kEdDSA).Public());
  EXPECT_TRUE(
      HasReason(verifier_->Verify(Request(Good()), bound).status(), DpopFailure::kKeyMismatch));
  EXPECT_TRUE(
      verifier_
          ->Verify(Request(Sign(Header(Algorithm::kEdDSA), Claims(), Algorithm::kEdDSA)), bound)
          .ok());
}

TEST_F(DpopTest, ReplayStoreFailureIsUnavailable) {
  store_->FailNextWrites(1);
  Status s = verifier_->Verify(Request(Good())).status();
  EXPECT_TRUE(HasReason(s, DpopFailure::kReplayCheckUnavailable));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST_F(DpopTest, NoncesWhenRequired) {
  options_.require_nonce = true;
  DpopVerifier verifier(options_, *store_, clock_);
  EXPECT_TRUE(verifier.nonces());
  const std::string nonce = verifier.CurrentNonce();
  ASSERT_FALSE(nonce.empty());
  EXPECT_TRUE(HasReason(verifier.Verify(Request(Good())).status(), DpopFailure::kUseNonce));
  json claims = Claims();
  claims["nonce"] = "made-up";
  EXPECT_TRUE(
      HasReason(verifier.Verify(Request(Sign(Header(), claims))).status(), DpopFailure::kUseNonce));
  claims["nonce"] = nonce;
  EXPECT_TRUE(verifier.Verify(Request(Sign(Header(), claims))).ok());
  // Still good one slot later; stale after two.
  clock_.Advance(std::chrono::seconds(kNonceSlotSeconds));
  claims["iat"] = Now();
  claims["jti"] = RandomHex(8);
  EXPECT_TRUE(verifier.Verify(Request(Sign(Header(), claims))).ok());
  clock_.Advance(std::chrono::seconds(kNonceSlotSeconds));
  claims["iat"] = Now();
  claims["jti"] = RandomHex(8);
  EXPECT_TRUE(
      HasReason(verifier.Verify(Request(Sign(Header(), claims))).status(), DpopFailure::kUseNonce));
  // A node with another key does not accept this node's nonces.
  DpopOptions other_options = options_;
  other_options.nonce_key = RandomBytes(32);
  DpopVerifier other(other_options, *store_, clock_);
  claims["nonce"] = verifier.CurrentNonce();
  claims["jti"] = RandomHex(8);
  EXPECT_TRUE(
      HasReason(other.Verify(Request(Sign(Header(), claims))).status(), DpopFailure::kUseNonce));
  // Off: no nonce is handed out.
  EXPECT_EQ(verifier_->CurrentNonce(), "");
}

TEST(NormalizeHttpUrlTest, NormalisesSchemeHostAndDefaultPort) {
  EXPECT_EQ(NormalizeHttpUrl("HTTP://Example.COM:80"), "http://example.com/");
  EXPECT_EQ(NormalizeHttpUrl("https://example.com:443/a/B?q#f"), "https://example.com/a/B");
  EXPECT_EQ(NormalizeHttpUrl("https://example.com:8443/x"), "https://example.com:8443/x");
  EXPECT_EQ(NormalizeHttpUrl("http://[::1]:8080/x"), "http://[::1]:8080/x");
  EXPECT_EQ(NormalizeHttpUrl("http://127.0.0.1:08080/x"), "http://127.0.0.1:8080/x");
  EXPECT_EQ(NormalizeHttpUrl("ftp://example.com/"), std::nullopt);
  EXPECT_EQ(NormalizeHttpUrl("https://u:p@example.com/"), std::nullopt);
  EXPECT_EQ(NormalizeHttpUrl("https:///x"), std::nullopt);
  EXPECT_EQ(NormalizeHttpUrl("https://example.com:8x/"), std::nullopt);
  EXPECT_EQ(NormalizeHttpUrl("example.com/x"), std::nullopt);
  // A colon in the host outside an IPv6 literal (found by the dpop_proof
  // fuzzer: "a:b:80" normalised to "a:b", which is not a URL again).
  EXPECT_EQ(NormalizeHttpUrl("http://a:b:80/x"), std::nullopt);
  EXPECT_EQ(NormalizeHttpUrl("http://a::8080/"), std::nullopt);
}

}  // namespace
}  // namespace lakegate::oauth
