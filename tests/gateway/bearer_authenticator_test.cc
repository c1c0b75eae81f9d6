// BearerAuthenticator tests: header parsing, own tokens checked against the
// state snapshot (with the verified-token cache), and external issuers whose
// JWKS a loopback http::Server serves to the real HTTP fetcher.
#include "gateway/bearer_authenticator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base64url.h"
#include "common/random.h"
#include "crypto/hash.h"
#include "fakes.h"
#include "gateway/certificate_binding.h"
#include "gateway/jwks_fetcher.h"
#include "http/error_response.h"
#include "http/server.h"
#include "jose/claims.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "jose/test_keys.h"
#include "oauth/dpop.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/status_matchers.h"

namespace lakegate::gateway {
namespace {

using namespace std::chrono_literals;
using jose::TokenFailure;
using lakegate::testing::HasReason;
using testing::Claims;
using testing::MakeAuthenticator;
using testing::OwnState;
using testing::TestIssuerKey;

constexpr char kOwnIssuer[] = "https://lakegate.test";

// ---------------------------------------------------------------------------
// Header parsing.

TEST(ExtractBearerTokenTest, AcceptsBearerCaseInsensitively) {
  auto t = ExtractBearerToken("bearer abc.def.ghi");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, "abc.def.ghi");
  auto padded = ExtractBearerToken("Bearer  abc+/~_-.==  ");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(*padded, "abc+/~_-.==");
}

TEST(ExtractBearerTokenTest, MissingOrOtherSchemeIsNoCredentials) {
  for (std::string_view header : {"", "   ", "Basic dXNlcjpwYXNz", "Token abc", "Bearerabc"}) {
    auto t = ExtractBearerToken(header);
    ASSERT_FALSE(t.ok()) << header;
    EXPECT_EQ(t.status().code(), StatusCode::kUnauthenticated);
    EXPECT_TRUE(HasReason(t.status(), TokenFailure::kMissing)) << header;
  }
}

TEST(ExtractBearerTokenTest, MalformedTokenIsRejected) {
  for (std::string_view header : {"Bearer", "Bearer ", "Bearer a b", "Bearer ab=c", "Bearer =abc",
                                  "Bearer a\"b", "Bearer a,b"}) {
    auto t = ExtractBearerToken(header);
    ASSERT_FALSE(t.ok()) << header;
    EXPECT_TRUE(HasReason(t.status(), TokenFailure::kMalformed)) << header;
    EXPECT_EQ(t.status().message(), "malformed bearer credentials") << header;
  }
}

TEST(JwksUrlTest, HttpsOrLoopbackHttpOnly) {
  EXPECT_TRUE(
      CheckJwksUrl("https://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/jwks.json", false)
          .ok());
  EXPECT_TRUE(CheckJwksUrl("http://127.0.0.1:8080/.well-known/jwks.json", false).ok());
  EXPECT_TRUE(CheckJwksUrl("http://localhost:1/jwks", false).ok());
  EXPECT_TRUE(CheckJwksUrl("http://[::1]:1/jwks", false).ok());
  Status plain = CheckJwksUrl("http://issuer.example/jwks", false);
  EXPECT_EQ(plain.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plain.message(), "JWKS URI must use https (http only to a loopback address)");
  EXPECT_TRUE(CheckJwksUrl("http://issuer.example/jwks", true).ok());
  EXPECT_EQ(CheckJwksUrl("ftp://127.0.0.1/jwks", true).message(), "JWKS URI must use https");
  EXPECT_EQ(CheckJwksUrl("not a url", false).code(), StatusCode::kInvalidArgument);
  // A host that merely starts with "127." is not loopback.
  EXPECT_FALSE(CheckJwksUrl("http://127.0.0.1.evil.example/jwks", false).ok());
}

TEST(CacheControlTest, MaxAge) {
  EXPECT_EQ(ParseCacheControlMaxAge("public, max-age=3600"), 3600);
  EXPECT_EQ(ParseCacheControlMaxAge("MAX-AGE=\"5\""), 5);
  EXPECT_EQ(ParseCacheControlMaxAge("no-store"), 0);
  EXPECT_EQ(ParseCacheControlMaxAge("max-age=100, no-cache"), 0);
  EXPECT_EQ(ParseCacheControlMaxAge("public"), std::nullopt);
  EXPECT_EQ(ParseCacheControlMaxAge("max-age=-1"), std::nullopt);
  EXPECT_EQ(ParseCacheControlMaxAge("max-age=99999999999999999999999"), INT64_MAX);
}

TEST(ExtractAccessTokenTest, BearerOrDpopScheme) {
  auto bearer = ExtractAccessToken("Bearer abc");
  ASSERT_TRUE(bearer.ok());
  EXPECT_FALSE(bearer->dpop);
  auto dpop = ExtractAccessToken("dpop abc.def");
  ASSERT_TRUE(dpop.ok());
  EXPECT_TRUE(dpop->dpop);
  EXPECT_EQ(dpop->token, "abc.def");
  EXPECT_TRUE(HasReason(ExtractAccessToken("DPoP a b").status(), TokenFailure::kMalformed));
  // A DPoP header value is no bearer credential.
  EXPECT_TRUE(HasReason(ExtractBearerToken("DPoP abc").status(), TokenFailure::kMissing));
}

// ---------------------------------------------------------------------------
// Own tokens: keys, revocations and clients from the state snapshot.

class OwnTokenTest : public ::testing::Test {
 protected:
  OwnTokenTest() : key_(TestIssuerKey::Make("own-1")) {
    state_.AddKey(key_);
    state_.AddClient("cid-etl", "etl-service");
    state_.Refresh();
  }

  std::unique_ptr<BearerAuthenticator> Make() {
    return MakeAuthenticator(options_, kOwnIssuer, &state_, *fetcher_, clock_);
  }

  jose::AccessTokenClaims EtlClaims(int64_t lifetime = 3600) {
    return Claims(kOwnIssuer, "cid-etl", "athena-api/query.read athena-api/query.write",
                  clock_.NowSeconds(), lifetime);
  }
  std::string Token(int64_t lifetime = 3600) { return "Bearer " + key_.Sign(EtlClaims(lifetime)); }

  FakeClock clock_;
  GatewayOptions options_;
  OwnState state_;
  TestIssuerKey key_;
  std::unique_ptr<JwksFetcher> fetcher_ = MakeCurlJwksFetcher({});
};

TEST_F(OwnTokenTest, AcceptsAndDescribesTheCaller) {
  auto auth = Make();
  auto id = auth->Authenticate(Token());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE((*id)->own);
  EXPECT_EQ((*id)->issuer, kOwnIssuer);
  EXPECT_EQ((*id)->client_id, "cid-etl");
  EXPECT_EQ((*id)->client_name, "etl-service");
  EXPECT_EQ((*id)->scopes,
            (std::vector<std::string>{"athena-api/query.read", "athena-api/query.write"}));
  EXPECT_TRUE((*id)->HasScope("athena-api/query.write"));
  EXPECT_FALSE((*id)->HasScope("athena-api/query.admin"));
}

// DPoP-bound own tokens at the query API (RFC 9449 §7).
class DpopBoundTokenTest : public OwnTokenTest {
 protected:
  DpopBoundTokenTest()
      : replay_store_(store::NewInMemoryStore()),
        verifier_(oauth::DpopOptions{.base_urls = {kOwnIssuer}}, *replay_store_, clock_),
        auth_(MakeAuthenticator(options_, kOwnIssuer, &state_, *fetcher_, clock_, &verifier_)) {}

  static const crypto::PrivateKey& ClientKey() {
    return jose::testing::TestKey(crypto::Algorithm::kES256);
  }
  std::string BoundToken(const crypto::PrivateKey& key = ClientKey()) {
    jose::AccessTokenClaims claims = EtlClaims();
    claims.cnf_jkt = jose::Thumbprint(key.Public());
    return key_.Sign(claims);
  }
  std::string Proof(const std::string& token, const crypto::PrivateKey& key = ClientKey(),
                    const std::string& method = "POST",
                    const std::string& url = std::string(kOwnIssuer) + "/v1/query") {
    return *jose::MakeDpopProof(key, method, url, token, "", clock_.NowSeconds());
  }
  static http::Request Request(const std::string& authorization, std::vector<std::string> proofs) {
    http::Request r;
    r.method = http::Method::kPost;
    r.method_text = "POST";
    r.target = r.path = "/v1/query";
    r.headers.push_back({"Authorization", authorization});
    for (std::string& p : proofs) r.headers.push_back({"DPoP", std::move(p)});
    return r;
  }
  Status Presented(const std::string& authorization, std::vector<std::string> proofs) {
    return auth_->Authenticate(Request(authorization, std::move(proofs))).status();
  }

  std::unique_ptr<store::Store> replay_store_;
  oauth::DpopVerifier verifier_;
  std::unique_ptr<BearerAuthenticator> auth_;
};

TEST_F(DpopBoundTokenTest, BoundTokenWithAFreshProofIsAccepted) {
  const std::string token = BoundToken();
  auto id = auth_->Authenticate(Request("DPoP " + token, {Proof(token)}));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ((*id)->cnf_jkt, jose::Thumbprint(ClientKey().Public()));
  // Served from the cache the second time, and the proof is still required.
  EXPECT_TRUE(Presented("DPoP " + token, {Proof(token)}).ok());
  EXPECT_EQ(auth_->signature_verifications(), 1u);
  EXPECT_TRUE(HasReason(Presented("DPoP " + token, {}), oauth::DpopFailure::kMissing));
}

TEST_F(DpopBoundTokenTest, BoundTokenAsBearerIsRefused) {
  const std::string token = BoundToken();
  Status s = Presented("Bearer " + token, {Proof(token)});
  EXPECT_TRUE(HasReason(s, oauth::DpopFailure::kBoundTokenAsBearer));
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.reason_info().challenge_error, "invalid_token");
  EXPECT_TRUE(oauth::IsDpopFailure(s));
  EXPECT_TRUE(HasReason(auth_->Authenticate("Bearer " + token).status(),
                        oauth::DpopFailure::kBoundTokenAsBearer));
}

TEST_F(DpopBoundTokenTest, UnboundTokenWithTheDpopSchemeIsRefused) {
  const std::string token = key_.Sign(EtlClaims());
  EXPECT_TRUE(HasReason(Presented("DPoP " + token, {Proof(token)}), oauth::DpopFailure::kNotBound));
  EXPECT_TRUE(Presented("Bearer " + token, {}).ok());
}

TEST_F(DpopBoundTokenTest, ProofMustFitTheRequestAndTheToken) {
  const std::string token = BoundToken();
  EXPECT_TRUE(HasReason(Presented("DPoP " + token, {Proof(token), Proof(token)}),
                        oauth::DpopFailure::kMultiple));
  EXPECT_TRUE(HasReason(Presented("DPoP " + token, {Proof("another token")}),
                        oauth::DpopFailure::kWrongAth));
  EXPECT_TRUE(HasReason(Presented("DPoP " + token, {Proof(token, ClientKey(), "GET")}),
                        oauth::DpopFailure::kWrongMethod));
  EXPECT_TRUE(HasReason(
      Presented("DPoP " + token, {Proof(token, ClientKey(), "POST",
                                        std::string(kOwnIssuer) + "/query-client-creds")}),
      oauth::DpopFailure::kWrongUrl));
  // Signed by a key other than the bound one.
  const crypto::PrivateKey& other = jose::testing::TestKey(crypto::Algorithm::kEdDSA);
  EXPECT_TRUE(HasReason(Presented("DPoP " + token, {Proof(token, other)}),
                        oauth::DpopFailure::kKeyMismatch));
  // A token bound to the other key with its proof works.
  const std::string other_token = BoundToken(other);
  EXPECT_TRUE(Presented("DPoP " + other_token, {Proof(other_token, other)}).ok());
}

TEST_F(DpopBoundTokenTest, ReplayedOrStaleProofIsRefused) {
  const std::string token = BoundToken();
  const std::string proof = Proof(token);
  EXPECT_TRUE(Presented("DPoP " + token, {proof}).ok());
  EXPECT_TRUE(HasReason(Presented("DPoP " + token, {proof}), oauth::DpopFailure::kReplayed));
  const std::string old = Proof(token);
  clock_.Advance(std::chrono::seconds(oauth::kProofWindowSeconds + 1));
  EXPECT_TRUE(HasReason(Presented("DPoP " + token, {old}), oauth::DpopFailure::kStale));
}

TEST_F(OwnTokenTest, RepeatedTokenIsServedFromTheCache) {
  auto auth = Make();
  std::string token = Token();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(auth->Authenticate(token).ok());
  EXPECT_EQ(auth->signature_verifications(), 1u);
  EXPECT_EQ(auth->cached_tokens(), 1u);
}

TEST_F(OwnTokenTest, RevocationStopsACachedTokenOnItsNextUse) {
  auto auth = Make();
  std::string token = Token();
  ASSERT_TRUE(auth->Authenticate(token).ok());
  ASSERT_TRUE(state_.store->AddRevocation(EtlClaims().jti, clock_.NowSeconds() + 3600).ok());
  // Not yet in the snapshot: still accepted.
  ASSERT_TRUE(auth->Authenticate(token).ok());
  state_.Refresh();
  auto id = auth->Authenticate(token);
  EXPECT_TRUE(HasReason(id.status(), TokenFailure::kRevoked));
  EXPECT_EQ(auth->cached_tokens(), 0u);
  EXPECT_EQ(auth->signature_verifications(), 1u);  // decided without verifying again
  // And a fresh verification says the same.
  EXPECT_TRUE(HasReason(auth->Authenticate(token).status(), TokenFailure::kRevoked));
}

TEST_F(OwnTokenTest, DisabledOrDeletedClientIsCutOff) {
  auto auth = Make();
  std::string token = Token();
  ASSERT_TRUE(auth->Authenticate(token).ok());
  state_.UpdateClient("cid-etl", [](store::ClientRecord& c) { c.enabled = false; });
  state_.Refresh();
  EXPECT_TRUE(HasReason(auth->Authenticate(token).status(), TokenFailure::kClientDisabled));
  state_.UpdateClient("cid-etl", [](store::ClientRecord& c) { c.enabled = true; });
  state_.Refresh();
  ASSERT_TRUE(auth->Authenticate(token).ok());
  ASSERT_TRUE(state_.store->DeleteClient("cid-etl").ok());
  state_.Refresh();
  EXPECT_TRUE(HasReason(auth->Authenticate(token).status(), TokenFailure::kClientUnknown));
}

TEST_F(OwnTokenTest, RenamedClientIsSeenOnTheNextUse) {
  auto auth = Make();
  std::string token = Token();
  ASSERT_EQ((*auth->Authenticate(token))->client_name, "etl-service");
  state_.UpdateClient("cid-etl", [](store::ClientRecord& c) { c.name = "etl-renamed"; });
  state_.Refresh();
  auto id = auth->Authenticate(token);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*id)->client_name, "etl-renamed");
  EXPECT_EQ(auth->signature_verifications(), 1u);
}

TEST_F(OwnTokenTest, KeyRotatedElsewhereIsFoundByOneRateLimitedRefresh) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate(Token()).ok());
  // Another process rotates; this process has not refreshed yet.
  TestIssuerKey next = TestIssuerKey::Make("own-2");
  state_.AddKey(next, /*created_at=*/2);
  auto id = auth->Authenticate("Bearer " + next.Sign(EtlClaims()));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // Within the refresh interval an unknown kid reads the store no more: a key
  // added now stays unknown until the interval has passed.
  TestIssuerKey third = TestIssuerKey::Make("own-3");
  state_.AddKey(third, /*created_at=*/3);
  for (int i = 0; i < 20; ++i) {
    TestIssuerKey random = TestIssuerKey::Make(RandomHex(8));
    EXPECT_TRUE(HasReason(auth->Authenticate("Bearer " + random.Sign(EtlClaims())).status(),
                          TokenFailure::kUnknownKey));
  }
  EXPECT_TRUE(HasReason(auth->Authenticate("Bearer " + third.Sign(EtlClaims())).status(),
                        TokenFailure::kUnknownKey));
  clock_.Advance(1100ms);
  EXPECT_TRUE(auth->Authenticate("Bearer " + third.Sign(EtlClaims())).ok());
}

TEST_F(OwnTokenTest, RetiredKeyVerifiesUntilItsPublicationEnds) {
  auto auth = Make();
  std::string token = Token();
  auto keys = *state_.store->ListSigningKeys();
  keys[0].retired_at = clock_.NowSeconds();
  keys[0].publish_until = clock_.NowSeconds() + 60;
  ASSERT_TRUE(state_.store->UpdateSigningKey(keys[0]).ok());
  state_.Refresh();
  ASSERT_TRUE(auth->Authenticate(token).ok());
  clock_.Advance(61s);
  state_.UpdateClient("cid-etl", [](store::ClientRecord& c) { c.name = "etl-2"; });
  state_.Refresh();  // the next snapshot no longer publishes the key
  jose::AccessTokenClaims later = EtlClaims();
  later.jti = "another";
  EXPECT_TRUE(HasReason(auth->Authenticate("Bearer " + key_.Sign(later)).status(),
                        TokenFailure::kUnknownKey));
}

TEST_F(OwnTokenTest, CacheEntryEndsAtExpiry) {
  auto auth = Make();
  std::string token = Token(/*lifetime=*/2);
  ASSERT_TRUE(auth->Authenticate(token).ok());
  clock_.Advance(2500ms);  // past exp, within the 60 s leeway: a fresh verification accepts it
  ASSERT_TRUE(auth->Authenticate(token).ok());
  EXPECT_EQ(auth->signature_verifications(), 2u);
  clock_.Advance(61s);
  auto id = auth->Authenticate(token);
  EXPECT_TRUE(HasReason(id.status(), TokenFailure::kExpired));
  EXPECT_EQ(id.status().message(), "token expired");
}

TEST_F(OwnTokenTest, CacheIsBounded) {
  options_.token_cache_entries = 3;
  auto auth = Make();
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(1s);  // a distinct iat makes a distinct token
    ASSERT_TRUE(auth->Authenticate(Token()).ok());
  }
  EXPECT_EQ(auth->cached_tokens(), 3u);
}

TEST_F(OwnTokenTest, TooLargeTokenIsRejectedBeforeAnyWork) {
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " + std::string(9000, 'a'));
  EXPECT_TRUE(HasReason(id.status(), TokenFailure::kTooLarge));
  EXPECT_EQ(auth->signature_verifications(), 0u);
}

TEST_F(OwnTokenTest, GarbageTokenIsMalformed) {
  auto auth = Make();
  for (std::string_view bad : {"Bearer abc", "Bearer a.b.c", "Bearer a.b.c.d"}) {
    auto id = auth->Authenticate(bad);
    EXPECT_TRUE(HasReason(id.status(), TokenFailure::kMalformed)) << bad;
  }
  // A payload that is JSON but names no issuer.
  std::string no_iss = Base64UrlEncode("{\"alg\":\"ES256\",\"kid\":\"x\"}") + "." +
                       Base64UrlEncode("{\"sub\":\"x\"}") + ".c2ln";
  auto id = auth->Authenticate("Bearer " + no_iss);
  EXPECT_TRUE(HasReason(id.status(), TokenFailure::kInvalidClaim));
  EXPECT_EQ(id.status().message(), "missing claim: iss");
}

TEST_F(OwnTokenTest, ForgedOwnTokenIsRejected) {
  auto auth = Make();
  TestIssuerKey forger = TestIssuerKey::Make("own-1");  // same kid, other key
  auto id = auth->Authenticate(
      "Bearer " +
      forger.Sign(Claims(kOwnIssuer, "cid-etl", "athena-api/query.admin", clock_.NowSeconds())));
  EXPECT_TRUE(HasReason(id.status(), TokenFailure::kBadSignature));
}

TEST_F(OwnTokenTest, OwnTokensMustBeAccessTokensOfTheAtJwtType) {
  auto auth = Make();
  EXPECT_TRUE(HasReason(auth->Authenticate("Bearer " + key_.Sign(EtlClaims(), "JWT")).status(),
                        TokenFailure::kWrongType));
  jose::AccessTokenClaims id_token = EtlClaims();
  id_token.token_use = "id";
  EXPECT_TRUE(HasReason(auth->Authenticate("Bearer " + key_.Sign(id_token)).status(),
                        TokenFailure::kWrongTokenUse));
}

TEST_F(OwnTokenTest, UnknownIssuerIsRejected) {
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " +
                               key_.Sign(Claims("https://elsewhere.test", "cid",
                                                "athena-api/query.read", clock_.NowSeconds())));
  EXPECT_TRUE(HasReason(id.status(), TokenFailure::kUnknownIssuer));
  EXPECT_EQ(auth->signature_verifications(), 0u);
}

// ---------------------------------------------------------------------------
// External issuers, with a JWKS served over loopback HTTP.

class JwksServer {
 public:
  JwksServer() {
    http::Router router;
    router.Add(http::Method::kGet, "/jwks.json", [this](std::shared_ptr<http::Exchange> ex) {
      fetches_.fetch_add(1);
      std::this_thread::sleep_for(delay_.load());
      http::Response r;
      {
        std::lock_guard<std::mutex> lock(mu_);
        r.status = status_;
        r.body = body_;
        if (!cache_control_.empty()) r.headers.push_back({"Cache-Control", cache_control_});
      }
      ex->Respond(std::move(r));
    });
    http::ServerOptions options;
    options.threads = 1;
    server_ = std::make_unique<http::Server>(options, std::move(router), nullptr);
    Status s = server_->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~JwksServer() { server_->Stop(0ms); }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/jwks.json";
  }
  void Serve(const std::vector<jose::Jwk>& keys) {
    std::lock_guard<std::mutex> lock(mu_);
    body_ = jose::JwksToJson(keys);
  }
  void SetBody(std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    body_ = std::move(body);
  }
  void SetStatus(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
  }
  void SetCacheControl(std::string value) {
    std::lock_guard<std::mutex> lock(mu_);
    cache_control_ = std::move(value);
  }
  void SetDelay(std::chrono::milliseconds d) { delay_ = d; }
  int fetches() const { return fetches_.load(); }

 private:
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::string body_ = "{\"keys\":[]}";
  int status_ = 200;
  std::string cache_control_;
  std::atomic<int> fetches_{0};
  std::atomic<std::chrono::milliseconds> delay_{0ms};
};

constexpr char kCognito[] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST";

class ExternalIssuerTest : public ::testing::Test {
 protected:
  ExternalIssuerTest() : key_(TestIssuerKey::Make("kid-1")) {
    server_.Serve({key_.Jwk()});
    TrustedIssuer cognito;
    cognito.issuer = kCognito;
    cognito.jwks_uri = server_.url();
    cognito.token_use = "access";
    cognito.refresh_min_interval = 60s;
    options_.trusted_issuers.push_back(cognito);
  }

  std::unique_ptr<BearerAuthenticator> Make() {
    return MakeAuthenticator(options_, kOwnIssuer, nullptr, *fetcher_, clock_);
  }
  jose::AccessTokenClaims CognitoClaims() {
    // Cognito access tokens: no aud, token_use "access", client_id, typ not at+jwt.
    jose::AccessTokenClaims c =
        Claims(kCognito, "5abc123def456", "athena-api/query.read", clock_.NowSeconds());
    c.aud.clear();
    return c;
  }

  FakeClock clock_;
  JwksServer server_;
  GatewayOptions options_;
  TestIssuerKey key_;
  std::unique_ptr<JwksFetcher> fetcher_ = MakeCurlJwksFetcher({});
};

TEST_F(ExternalIssuerTest, AcceptsCognitoStyleTokenWithoutAudience) {
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), ""));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_FALSE((*id)->own);
  EXPECT_EQ((*id)->issuer, kCognito);
  EXPECT_EQ((*id)->client_id, "5abc123def456");
  EXPECT_EQ((*id)->client_name, "");
  EXPECT_EQ((*id)->scopes, std::vector<std::string>{"athena-api/query.read"});
  EXPECT_EQ(server_.fetches(), 1);
}

TEST_F(ExternalIssuerTest, RepeatedTokenCostsNoVerificationOrFetch) {
  auto auth = Make();
  std::string token = "Bearer " + key_.Sign(CognitoClaims(), "");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(auth->Authenticate(token).ok());
  EXPECT_EQ(auth->signature_verifications(), 1u);
  EXPECT_EQ(server_.fetches(), 1);
}

TEST_F(ExternalIssuerTest, IssuerNotConfiguredIsRejectedWithoutFetching) {
  options_.trusted_issuers.clear();
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), ""));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(), "unknown issuer");
  EXPECT_EQ(server_.fetches(), 0);
}

TEST_F(ExternalIssuerTest, TokenUseIsChecked) {
  auto auth = Make();
  jose::AccessTokenClaims c = CognitoClaims();
  c.token_use = "id";
  auto id = auth->Authenticate("Bearer " + key_.Sign(c, ""));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(), "token_use mismatch");
}

TEST_F(ExternalIssuerTest, AudienceIsCheckedWhenConfigured) {
  options_.trusted_issuers[0].audience = "lakegate-api";
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), ""));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(), "audience mismatch");
  jose::AccessTokenClaims c = CognitoClaims();
  c.aud = {"lakegate-api"};
  EXPECT_TRUE(auth->Authenticate("Bearer " + key_.Sign(c, "")).ok());
}

TEST_F(ExternalIssuerTest, RequiredTypIsChecked) {
  options_.trusted_issuers[0].require_at_jwt_typ = true;
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), "JWT"));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(), "wrong token type");
  EXPECT_TRUE(auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), "at+jwt")).ok());
}

TEST_F(ExternalIssuerTest, ClientIdMayComeFromSubWhenNotRequired) {
  jose::AccessTokenClaims c = CognitoClaims();
  c.client_id.clear();
  c.sub = "service-account-7";
  {
    auto auth = Make();
    EXPECT_EQ(auth->Authenticate("Bearer " + key_.Sign(c, "")).status().message(),
              "missing client_id");
  }
  options_.trusted_issuers[0].require_client_id = false;
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " + key_.Sign(c, ""));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ((*id)->client_id, "service-account-7");
}

TEST_F(ExternalIssuerTest, ExpiredTokenIsRejected) {
  auto auth = Make();
  jose::AccessTokenClaims c = CognitoClaims();
  c.iat = clock_.NowSeconds() - 7200;
  c.exp = clock_.NowSeconds() - 3600;
  auto id = auth->Authenticate("Bearer " + key_.Sign(c, ""));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(), "token expired");
  EXPECT_TRUE(HasReason(id.status(), TokenFailure::kExpired));
}

TEST_F(ExternalIssuerTest, ForgedTokenIsRejected) {
  auto auth = Make();
  TestIssuerKey forger = TestIssuerKey::Make("kid-1");
  auto id = auth->Authenticate("Bearer " + forger.Sign(CognitoClaims(), ""));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(), "bad signature");
  // A tampered payload under a genuine signature.
  std::string genuine = key_.Sign(CognitoClaims(), "");
  size_t dot1 = genuine.find('.'), dot2 = genuine.rfind('.');
  jose::AccessTokenClaims admin = CognitoClaims();
  admin.scope = "athena-api/query.admin";
  std::string tampered = genuine.substr(0, dot1 + 1) +
                         Base64UrlEncode(jose::EncodeAccessTokenClaims(admin)) +
                         genuine.substr(dot2);
  EXPECT_EQ(auth->Authenticate("Bearer " + tampered).status().message(), "bad signature");
}

TEST_F(ExternalIssuerTest, KeyRolloverTriggersOneRefresh) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), "")).ok());
  EXPECT_EQ(server_.fetches(), 1);

  TestIssuerKey next = TestIssuerKey::Make("kid-2");
  server_.Serve({key_.Jwk(), next.Jwk()});
  clock_.Advance(61s);  // the refresh interval has passed since the first fetch
  auto id = auth->Authenticate("Bearer " + next.Sign(CognitoClaims(), ""));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(server_.fetches(), 2);
  // Both keys now verify without another fetch.
  ASSERT_TRUE(auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), "")).ok());
  ASSERT_TRUE(auth->Authenticate("Bearer " + next.Sign(CognitoClaims(), "")).ok());
  EXPECT_EQ(server_.fetches(), 2);
}

TEST_F(ExternalIssuerTest, FloodOfRandomKidsFetchesAtMostOncePerInterval) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), "")).ok());
  ASSERT_EQ(server_.fetches(), 1);
  auto flood = [&] {
    for (int i = 0; i < 50; ++i) {
      TestIssuerKey random = TestIssuerKey::Make(RandomHex(8));
      auto id = auth->Authenticate("Bearer " + random.Sign(CognitoClaims(), ""));
      ASSERT_FALSE(id.ok());
      EXPECT_EQ(id.status().message(), "unknown key id");
      clock_.Advance(100ms);  // 5 s in all: well inside one interval
    }
  };
  flood();
  EXPECT_EQ(server_.fetches(), 1);  // the first fetch was under a minute ago
  clock_.Advance(60s);
  flood();
  EXPECT_EQ(server_.fetches(), 2);  // exactly one more
}

TEST_F(ExternalIssuerTest, ConcurrentRefreshesCoalesce) {
  server_.SetDelay(200ms);
  auto auth = Make();
  std::string token = "Bearer " + key_.Sign(CognitoClaims(), "");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      // Distinct tokens, so the token cache does not hide the key cache.
      jose::AccessTokenClaims c = CognitoClaims();
      c.jti = "jti-" + std::to_string(i);
      if (auth->Authenticate("Bearer " + key_.Sign(c, "")).ok()) ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(server_.fetches(), 1);
}

TEST_F(ExternalIssuerTest, KeysAreRefetchedAfterMaxAgeBoundedBelowBy60s) {
  server_.SetCacheControl("max-age=5");  // raised to the 60 s floor
  auto auth = Make();
  auto fresh_token = [&](int i) {
    jose::AccessTokenClaims c = CognitoClaims();
    c.jti = "jti-" + std::to_string(i);
    return "Bearer " + key_.Sign(c, "");
  };
  ASSERT_TRUE(auth->Authenticate(fresh_token(1)).ok());
  clock_.Advance(30s);
  ASSERT_TRUE(auth->Authenticate(fresh_token(2)).ok());
  EXPECT_EQ(server_.fetches(), 1);
  clock_.Advance(31s);
  ASSERT_TRUE(auth->Authenticate(fresh_token(3)).ok());
  EXPECT_EQ(server_.fetches(), 2);
}

TEST_F(ExternalIssuerTest, MaxAgeIsHonoured) {
  server_.SetCacheControl("public, max-age=600");
  auto auth = Make();
  auto token_at = [&](int i) {
    jose::AccessTokenClaims c = CognitoClaims();
    c.jti = "jti-" + std::to_string(i);
    return "Bearer " + key_.Sign(c, "");
  };
  ASSERT_TRUE(auth->Authenticate(token_at(1)).ok());
  clock_.Advance(500s);
  ASSERT_TRUE(auth->Authenticate(token_at(2)).ok());
  EXPECT_EQ(server_.fetches(), 1);
  clock_.Advance(101s);
  ASSERT_TRUE(auth->Authenticate(token_at(3)).ok());
  EXPECT_EQ(server_.fetches(), 2);
}

TEST_F(ExternalIssuerTest, UnreachableKeysAreUnavailableAndRetriedOnlyPerInterval) {
  server_.SetStatus(500);
  auto auth = Make();
  std::string token = "Bearer " + key_.Sign(CognitoClaims(), "");
  auto id = auth->Authenticate(token);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(id.status().message(), "issuer keys unavailable: JWKS fetch answered HTTP 500");
  EXPECT_TRUE(HasReason(id.status(), TokenFailure::kKeysUnavailable));
  EXPECT_FALSE(auth->Authenticate(token).ok());
  EXPECT_EQ(server_.fetches(), 1);
  server_.SetStatus(200);
  clock_.Advance(60s);
  EXPECT_TRUE(auth->Authenticate(token).ok());
  EXPECT_EQ(server_.fetches(), 2);
}

TEST_F(ExternalIssuerTest, StaleKeysAreKeptWhenARefreshFails) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), "")).ok());
  server_.SetStatus(503);
  clock_.Advance(400s);  // past the default 300 s freshness
  jose::AccessTokenClaims c = CognitoClaims();
  c.jti = "another";
  EXPECT_TRUE(auth->Authenticate("Bearer " + key_.Sign(c, "")).ok());
  EXPECT_EQ(server_.fetches(), 2);
}

TEST_F(ExternalIssuerTest, OversizedJwksIsRefused) {
  server_.SetBody("{\"keys\":[],\"pad\":\"" + std::string(300 * 1024, 'x') + "\"}");
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), ""));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(),
            "issuer keys unavailable: JWKS document larger than 262144 bytes");
}

TEST_F(ExternalIssuerTest, NonLoopbackHttpJwksIsNeverFetched) {
  options_.trusted_issuers[0].jwks_uri = "http://issuer.invalid/jwks.json";
  auto auth = Make();
  auto id = auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), ""));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(),
            "issuer keys unavailable: JWKS URI must use https (http only to a loopback address)");
}

TEST_F(ExternalIssuerTest, OwnAndExternalIssuersCoexist) {
  OwnState own_state;
  TestIssuerKey own = TestIssuerKey::Make("own");
  own_state.AddKey(own);
  own_state.AddClient("cid-r", "reporting-service");
  own_state.Refresh();
  auto auth = MakeAuthenticator(options_, kOwnIssuer, &own_state, *fetcher_, clock_);
  auto mine =
      auth->Authenticate("Bearer " + own.Sign(Claims(kOwnIssuer, "cid-r", "athena-api/query.read",
                                                     clock_.NowSeconds())));
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_TRUE((*mine)->own);
  EXPECT_EQ((*mine)->client_name, "reporting-service");
  auto theirs = auth->Authenticate("Bearer " + key_.Sign(CognitoClaims(), ""));
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  EXPECT_FALSE((*theirs)->own);
  // A token claiming our issuer but signed by the external key is ours to verify: rejected.
  auto spoof =
      auth->Authenticate("Bearer " + key_.Sign(Claims(kOwnIssuer, "cid-r", "athena-api/query.admin",
                                                      clock_.NowSeconds())));
  EXPECT_TRUE(HasReason(spoof.status(), TokenFailure::kUnknownKey));
}

}  // namespace
}  // namespace lakegate::gateway

// ---------------------------------------------------------------------------
// Certificate-bound tokens (RFC 8705 §3): accepted only over TLS with the
// certificate they are bound to, cached or not.

namespace lakegate::gateway {
namespace {

class CertificateBoundTokenTest : public OwnTokenTest {
 protected:
  http::Request Request(std::string token, bool secure, const std::string* certificate) {
    http::Request r;
    r.headers.push_back({"Authorization", "Bearer " + std::move(token)});
    r.secure = secure;
    if (certificate != nullptr) {
      r.client_certificates = std::make_shared<const std::vector<std::string>>(
          std::vector<std::string>{*certificate, "an intermediate"});
    }
    return r;
  }
  std::string BoundToken() {
    jose::AccessTokenClaims claims = EtlClaims();
    claims.cnf_x5t_s256 = Base64UrlEncode(crypto::Sha256(certificate_));
    return key_.Sign(claims);
  }

  const std::string certificate_ = "DER of the client's certificate";
  const std::string other_ = "DER of another certificate";
};

TEST_F(CertificateBoundTokenTest, AcceptedWithItsCertificateOverTls) {
  auto auth = Make();
  const std::string token = BoundToken();
  for (int i = 0; i < 2; ++i) {  // verified, then from the cache
    auto identity = auth->Authenticate(Request(token, true, &certificate_));
    ASSERT_TRUE(identity.ok()) << identity.status().ToString();
    EXPECT_EQ((*identity)->cnf_x5t_s256, Base64UrlEncode(crypto::Sha256(certificate_)));
  }
  EXPECT_EQ(auth->signature_verifications(), 1u);
}

TEST_F(CertificateBoundTokenTest, RefusedOverPlainHttpWithoutOrWithAnotherCertificate) {
  auto auth = Make();
  const std::string token = BoundToken();
  ASSERT_TRUE(auth->Authenticate(Request(token, true, &certificate_)).ok());  // now cached
  struct Case {
    bool secure;
    const std::string* certificate;
    CertificateBindingFailure reason;
    std::string_view says;
  } cases[] = {
      {false, nullptr, CertificateBindingFailure::kNotTls, "send it over HTTPS"},
      {false, &certificate_, CertificateBindingFailure::kNotTls, "send it over HTTPS"},
      {true, nullptr, CertificateBindingFailure::kNoCertificate, "none was presented"},
      {true, &other_, CertificateBindingFailure::kCertificateMismatch, "another TLS client"},
  };
  for (const Case& c : cases) {
    auto identity = auth->Authenticate(Request(token, c.secure, c.certificate));
    ASSERT_FALSE(identity.ok()) << c.says;
    EXPECT_EQ(identity.status().code(), StatusCode::kUnauthenticated);
    EXPECT_TRUE(HasReason(identity.status(), c.reason)) << identity.status().ToString();
    EXPECT_NE(identity.status().message().find(c.says), std::string::npos)
        << identity.status().message();
    // Rendered as RFC 6750 invalid_token with the reason as description.
    http::Response r = http::ErrorResponse(identity.status(), http::ErrorFamily::kApi);
    EXPECT_EQ(r.status, 401);
    std::string challenge;
    for (const auto& h : r.headers) {
      if (h.name == "WWW-Authenticate") challenge = h.value;
    }
    EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos) << challenge;
    EXPECT_NE(challenge.find("error_description="), std::string::npos) << challenge;
  }
  // The failures did not evict the token: its owner still gets in.
  EXPECT_TRUE(auth->Authenticate(Request(token, true, &certificate_)).ok());
}

TEST_F(CertificateBoundTokenTest, UnboundTokenNeedsNoCertificate) {
  auto auth = Make();
  EXPECT_TRUE(auth->Authenticate(Request(key_.Sign(EtlClaims()), false, nullptr)).ok());
}

TEST_F(CertificateBoundTokenTest, NonStringThumbprintIsAnInvalidClaimNotUnbound) {
  auto auth = Make();
  std::string payload = jose::EncodeAccessTokenClaims(EtlClaims());
  payload.pop_back();
  payload += ",\"cnf\":{\"x5t#S256\":7}}";
  jose::Signer signer(key_.kid, key_.key, "at+jwt");
  auto identity = auth->Authenticate(Request(*signer.SignCompact(payload), false, nullptr));
  ASSERT_FALSE(identity.ok());
  EXPECT_TRUE(HasReason(identity.status(), TokenFailure::kInvalidClaim))
      << identity.status().ToString();
}

}  // namespace
}  // namespace lakegate::gateway
