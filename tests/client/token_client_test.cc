// TokenClient against a fake lakegate on loopback: the request on the wire,
// the cache, the authenticator seam, and one test per failure reason.
#include "client/token_client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "client/api_failure.h"
#include "common/base64url.h"
#include "crypto/hash.h"
#include "fake_lakegate.h"
#include "jose/jwk.h"
#include "jose/jwt.h"
#include "testing/status_matchers.h"

namespace lakegate::client {
namespace {

using ::lakegate::testing::HasReason;
using ::lakegate::testing::HasStatus;
using testing::FakeJwt;
using testing::FakeLakegate;
using testing::TempDir;

class TokenClientTest : public ::testing::Test {
 protected:
  TokenClient Make(std::string scope = "",
                   std::unique_ptr<const ClientAuthenticator> auth =
                       std::make_unique<ClientSecretBasic>(SecretString("s3cret")),
                   bool cached = true, bool dpop = false) const {
    TokenClientOptions options;
    options.dpop = dpop;
    options.endpoint = api_.endpoint();
    options.client_id = "c1";
    options.scope = std::move(scope);
    return TokenClient(options, http_, std::move(auth),
                       TokenCache(cached ? dir_.path() : "", clock_), clock_);
  }

  FakeLakegate api_;
  TempDir dir_;
  FakeClock clock_{1'800'000'000};
  const http::Client http_;
};

TEST_F(TokenClientTest, RequestsWithClientSecretBasicAndCachesUntilExpiry) {
  const TokenClient tokens = Make("athena-api/query.read athena-api/query.write");
  Result<AccessToken> first = tokens.Get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->from_cache);
  EXPECT_EQ(first->expires_at, 1'800'003'600);  // the JWT's exp
  std::vector<testing::RecordedRequest> sent = api_.Requests("/oauth2/token");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].Header("authorization"), "Basic " + Base64Encode("c1:s3cret"));
  EXPECT_EQ(sent[0].Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(sent[0].Header("accept"), "application/json");
  EXPECT_EQ(
      sent[0].body,
      "grant_type=client_credentials&scope=athena-api%2Fquery.read%20athena-api%2Fquery.write");

  Result<AccessToken> second = tokens.Get();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(second->value.Reveal(), first->value.Reveal());
  EXPECT_EQ(api_.TokensIssued(), 1u);

  clock_.Advance(std::chrono::seconds(3600 - 60));  // inside the slack: a new token
  Result<AccessToken> third = tokens.Get();
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_FALSE(third->from_cache);
  EXPECT_EQ(api_.TokensIssued(), 2u);
}

// A DPoP token response for `exp`, as lakegate answers a request with a proof.
http::Response DpopTokenResponse(int64_t exp) {
  return FakeLakegate::Json(200, R"({"access_token":")" +
                                     FakeJwt(R"({"exp":)" + std::to_string(exp) + "}") +
                                     R"(","token_type":"DPoP","expires_in":3600})");
}

TEST_F(TokenClientTest, DpopSendsAProofAndCachesTheKeyWithTheToken) {
  api_.QueueTokenResponse(DpopTokenResponse(1'800'003'600));
  const TokenClient tokens =
      Make("", std::make_unique<ClientSecretBasic>(SecretString("s3cret")), true, /*dpop=*/true);
  Result<AccessToken> first = tokens.Get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_NE(first->dpop_key, nullptr);
  std::vector<testing::RecordedRequest> sent = api_.Requests("/oauth2/token");
  ASSERT_EQ(sent.size(), 1u);
  Result<jose::SignedJwt> proof = jose::ParseSignedJwt(sent[0].Header("dpop"), 8192);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  EXPECT_EQ(proof->typ, "dpop+jwt");
  EXPECT_EQ(proof->claims.htm, "POST");
  EXPECT_EQ(proof->claims.htu, api_.endpoint() + "/oauth2/token");
  EXPECT_EQ(proof->claims.iat, 1'800'000'000);
  EXPECT_FALSE(proof->claims.ath.has_value());
  ASSERT_TRUE(proof->jwk.has_value());
  EXPECT_FALSE(proof->jwk_has_private_members);
  EXPECT_TRUE(jose::VerifySignature(*proof, *proof->jwk));
  EXPECT_EQ(*proof->jwk, first->dpop_key->Public());

  // The next run finds the token and the key it is bound to in the cache.
  Result<AccessToken> second = tokens.Get();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->from_cache);
  ASSERT_NE(second->dpop_key, nullptr);
  EXPECT_EQ(second->dpop_key->Public(), first->dpop_key->Public());
  // A bearer token of the same client is another cache entry.
  EXPECT_FALSE(Make().Get()->from_cache);
  // The proof for a request with the token carries its hash.
  Result<std::string> query_proof =
      DpopProofFor(*second, "POST", api_.endpoint() + "/v1/query?x=1", "n1", clock_);
  ASSERT_TRUE(query_proof.ok());
  Result<jose::SignedJwt> parsed = jose::ParseSignedJwt(*query_proof, 8192);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->claims.htu, api_.endpoint() + "/v1/query");
  EXPECT_EQ(parsed->claims.nonce, "n1");
  EXPECT_EQ(parsed->claims.ath, Base64UrlEncode(crypto::Sha256(second->value.Reveal())));
}

TEST_F(TokenClientTest, DpopRetriesOnceWithTheServersNonce) {
  http::Response nonce = FakeLakegate::Json(
      400, R"({"error":"use_dpop_nonce","error_description":"this server requires a nonce"})");
  nonce.headers.push_back({"DPoP-Nonce", "n-123"});
  api_.QueueTokenResponse(nonce);
  api_.QueueTokenResponse(DpopTokenResponse(1'800'003'600));
  const TokenClient tokens =
      Make("", std::make_unique<ClientSecretBasic>(SecretString("s3cret")), false, /*dpop=*/true);
  Result<AccessToken> token = tokens.Get();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  std::vector<testing::RecordedRequest> sent = api_.Requests("/oauth2/token");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_FALSE(jose::ParseSignedJwt(sent[0].Header("dpop"), 8192)->claims.nonce.has_value());
  EXPECT_EQ(jose::ParseSignedJwt(sent[1].Header("dpop"), 8192)->claims.nonce, "n-123");
  // Only once: a second use_dpop_nonce is the server's answer.
  api_.QueueTokenResponse(nonce);
  api_.QueueTokenResponse(nonce);
  EXPECT_TRUE(HasReason(tokens.Refresh().status(), ApiFailure::kTokenRefused));
}

TEST_F(TokenClientTest, DpopAnsweredWithABearerTokenIsRefused) {
  const TokenClient tokens =
      Make("", std::make_unique<ClientSecretBasic>(SecretString("s3cret")), false, /*dpop=*/true);
  Status s = tokens.Get().status();
  EXPECT_TRUE(HasReason(s, ApiFailure::kMalformedResponse));
  EXPECT_NE(s.message().find("does not support DPoP"), std::string::npos) << s.message();
}

TEST_F(TokenClientTest, NoScopeAsksForEverythingAllowed) {
  ASSERT_TRUE(Make().Get().ok());
  EXPECT_EQ(api_.Requests("/oauth2/token")[0].body, "grant_type=client_credentials");
}

TEST_F(TokenClientTest, RefreshDropsTheCachedTokenAndFetchesANewOne) {
  const TokenClient tokens = Make();
  Result<AccessToken> first = tokens.Get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<AccessToken> fresh = tokens.Refresh();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_FALSE(fresh->from_cache);
  EXPECT_NE(fresh->value.Reveal(), first->value.Reveal());
  // The new token is the cached one now.
  Result<AccessToken> again = tokens.Get();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(again->value.Reveal(), fresh->value.Reveal());
}

TEST_F(TokenClientTest, ExpiresInTimesAnOpaqueTokenAndNoExpiryMeansNoCaching) {
  api_.QueueTokenResponse(FakeLakegate::Json(200, R"({"access_token":"opaque","expires_in":600})"));
  const TokenClient tokens = Make();
  Result<AccessToken> token = tokens.Get();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->expires_at, clock_.NowSeconds() + 600);
  EXPECT_TRUE(tokens.Get()->from_cache);

  api_.QueueTokenResponse(FakeLakegate::Json(200, R"({"access_token":"forever"})"));
  const TokenClient scoped = Make("s");
  token = scoped.Get();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->expires_at, 0);
  EXPECT_FALSE(scoped.Get()->from_cache);
}

TEST_F(TokenClientTest, NoCacheNeverReadsOrWrites) {
  const TokenClient tokens = Make("", std::make_unique<ClientSecretBasic>(SecretString("s")),
                                  /*cached=*/false);
  ASSERT_TRUE(tokens.Get().ok());
  ASSERT_TRUE(tokens.Get().ok());
  EXPECT_EQ(api_.TokensIssued(), 2u);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(TokenClientTest, WithoutAnAuthenticatorOnlyACachedTokenWorks) {
  Result<AccessToken> none = Make("", nullptr).Get();
  EXPECT_TRUE(HasReason(none.status(), ApiFailure::kNoCredentials));
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(api_.Requests("/oauth2/token").empty());

  ASSERT_TRUE(Make().Get().ok());  // caches a token for the same key
  Result<AccessToken> cached = Make("", nullptr).Get();
  ASSERT_TRUE(cached.ok()) << cached.status().ToString();
  EXPECT_TRUE(cached->from_cache);
  EXPECT_TRUE(HasReason(Make("", nullptr).Refresh().status(), ApiFailure::kNoCredentials));
}

// A client-auth method that uses form fields, as private_key_jwt does.
class FormFieldAuthenticator final : public ClientAuthenticator {
 public:
  Status Authenticate(TokenRequest& request) const override {
    if (request.token_url.find("/oauth2/token") == std::string::npos) {
      return InvalidArgumentError("unexpected audience");
    }
    request.form.emplace_back("client_id", request.client_id);
    request.form.emplace_back("client_assertion", "a.b.c");
    return Status::Ok();
  }
};

class FailingAuthenticator final : public ClientAuthenticator {
 public:
  Status Authenticate(TokenRequest&) const override {
    return FailedPreconditionError("the signing key is unreadable");
  }
};

TEST_F(TokenClientTest, TheAuthenticatorDecidesHowTheClientProvesItself) {
  ASSERT_TRUE(Make("", std::make_unique<FormFieldAuthenticator>()).Get().ok());
  const testing::RecordedRequest sent = api_.Requests("/oauth2/token")[0];
  EXPECT_EQ(sent.body, "grant_type=client_credentials&client_id=c1&client_assertion=a.b.c");
  EXPECT_EQ(sent.Header("authorization"), "");

  Result<AccessToken> failed = Make("x", std::make_unique<FailingAuthenticator>()).Get();
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(api_.Requests("/oauth2/token").size(), 1u);  // nothing sent
}

TEST_F(TokenClientTest, OAuthErrorIsTokenRefused) {
  api_.QueueTokenResponse(FakeLakegate::Json(
      401, R"({"error":"invalid_client","error_description":"client authentication failed"})"));
  Result<AccessToken> token = Make().Get();
  EXPECT_TRUE(HasReason(token.status(), ApiFailure::kTokenRefused));
  EXPECT_TRUE(HasStatus(token.status(), StatusCode::kUnauthenticated,
                        "token request failed: invalid_client: client authentication failed"));
  api_.QueueTokenResponse(FakeLakegate::Json(400, R"({"error":"invalid_scope"})"));
  EXPECT_EQ(Make().Get().status().message(), "token request failed: invalid_scope");
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(TokenClientTest, OtherErrorStatusIsTokenEndpointError) {
  http::Response page = FakeLakegate::Json(502, "<html>bad gateway</html>");
  page.content_type = "text/html";
  api_.QueueTokenResponse(page);
  Result<AccessToken> token = Make().Get();
  EXPECT_TRUE(HasReason(token.status(), ApiFailure::kTokenEndpointError));
  EXPECT_TRUE(
      HasStatus(token.status(), StatusCode::kUnavailable,
                "token request failed: HTTP 502 from " + api_.endpoint() + "/oauth2/token"));
}

TEST_F(TokenClientTest, SuccessWithoutAccessTokenIsMalformed) {
  api_.QueueTokenResponse(FakeLakegate::Json(200, R"({"token_type":"Bearer"})"));
  Result<AccessToken> token = Make().Get();
  EXPECT_TRUE(HasReason(token.status(), ApiFailure::kMalformedResponse));
  EXPECT_TRUE(HasStatus(token.status(), StatusCode::kInternal,
                        "token request failed: the response has no access_token"));
}

TEST_F(TokenClientTest, UnreachableEndpointKeepsTheTransferReason) {
  TokenClientOptions options;
  options.endpoint = "http://127.0.0.1:1";
  options.client_id = "c1";
  const TokenClient tokens(options, http_, std::make_unique<ClientSecretBasic>(SecretString("s")),
                           TokenCache("", clock_), clock_);
  Result<AccessToken> token = tokens.Get();
  EXPECT_TRUE(HasReason(token.status(), http::ClientFailure::kConnect));
  EXPECT_EQ(token.status().message().rfind(
                "token request failed: cannot reach http://127.0.0.1:1/oauth2/token: ", 0),
            0u)
      << token.status().message();
}

}  // namespace
}  // namespace lakegate::client
