#include "oauth/authorization_server.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/files.h"
#include "common/random.h"
#include "common/strings.h"
#include "http/error_response.h"
#include "jose/claims.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "jose/test_keys.h"
#include "oauth/client_auth.h"
#include "oauth/client_secret.h"
#include "oauth/client_secret_auth.h"
#include "oauth/dpop.h"
#include "oauth/form.h"
#include "oauth/oauth_error.h"
#include "oauth/rate_limiter.h"
#include "store/sqlite/sqlite_store.h"
#include "store/state_cache.h"
#include "testing/status_matchers.h"

namespace lakegate::oauth {
namespace {

using nlohmann::json;
using testing::HasReason;

constexpr char kIssuer[] = "https://auth.example.test";

class AuthorizationServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::NewInMemoryStore();
    ASSERT_TRUE(
        store_
            ->PutResourceServer({"athena-api", "Athena", {{"query.read", ""}, {"query.write", ""}}})
            .ok());
    etl_secret_ = AddClient("etl-id", "etl-service",
                            {"athena-api/query.read", "athena-api/query.write"}, 3600);
    rep_secret_ = AddClient("rep-id", "reporting-service", {"athena-api/query.read"}, 900);
    dir_ = std::filesystem::temp_directory_path() / ("lg-oauth-" + RandomHex(6));
    std::filesystem::create_directories(dir_);
    audit_ = std::move(*audit::AuditLog::Open((dir_ / "audit.log").string()));
    MakeServer(AuthServerOptions{});
  }
  void TearDown() override {
    server_.reset();
    state_.reset();
    audit_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A fresh server (and state cache) with `options`, counting into `metrics`
  // (default: metrics_).
  void MakeServer(AuthServerOptions options, audit::Metrics* metrics = nullptr) {
    options.issuer = kIssuer;
    server_.reset();
    state_ = std::make_unique<store::StateCache>(*store_);
    server_ = std::make_unique<AuthorizationServer>(options, *store_, *state_,
                                                    SecretHasher(hash_key_), clock_, audit_.get(),
                                                    metrics != nullptr ? metrics : &metrics_);
    ASSERT_TRUE(server_->Maintain(/*at_startup=*/true).ok());
  }
  // What another process's write looks like to this server: the next refresh.
  void Refresh() { ASSERT_TRUE(state_->Refresh().ok()); }

  // The HTTP answer for an endpoint result, errors rendered as the server
  // renders them (RFC 6749 §5.2).
  static EndpointResponse Rendered(EndpointResult result) {
    if (result.ok()) return std::move(result).value();
    http::Response r = http::ErrorResponse(result.status(), http::ErrorFamily::kOAuth);
    EndpointResponse out;
    out.status = r.status;
    out.body = r.body;
    for (auto& h : r.headers) out.headers.emplace_back(h.name, h.value);
    return out;
  }
  // Whether introspection by the token's own client calls it active.
  bool Active(const std::string& token, const std::string& client_id, const std::string& secret) {
    std::string body = "token=" + token;
    std::string auth = Basic(client_id, secret);
    EndpointResult r = server_->Introspect({"application/x-www-form-urlencoded", auth, body, "x"});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && json::parse(r->body)["active"] == true;
  }

  std::string AddClient(const std::string& id, const std::string& name,
                        std::vector<std::string> scopes, int64_t ttl) {
    SecretString secret = GenerateClientSecret();
    store::ClientRecord r;
    r.client_id = id;
    r.name = name;
    r.scopes = std::move(scopes);
    r.token_ttl_seconds = ttl;
    r.secret_hash = SecretHasher(hash_key_).Hash(secret.Reveal());
    EXPECT_TRUE(store_->InsertClient(r).ok());
    return std::string(secret.Reveal());
  }

  static std::string Basic(std::string_view id, std::string_view secret) {
    return "Basic " + Base64Encode(UrlEncode(id) + ":" + UrlEncode(secret));
  }

  EndpointResponse TokenRequest(std::string body, std::string authorization,
                                std::string remote = "10.0.0.1",
                                std::string content_type = "application/x-www-form-urlencoded") {
    body_ = std::move(body);
    auth_ = std::move(authorization);
    remote_ = std::move(remote);
    ct_ = std::move(content_type);
    return Rendered(server_->Token({ct_, auth_, body_, remote_}));
  }
  EndpointResponse EtlToken(std::string body = "grant_type=client_credentials") {
    return TokenRequest(std::move(body), Basic("etl-id", etl_secret_));
  }
  static std::string Header(const EndpointResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (EqualsIgnoreCase(k, name)) return v;
    return "";
  }
  static std::string ErrorOf(const EndpointResponse& r) {
    return json::parse(r.body).value("error", "");
  }
  // The jti claim of a compact JWS (unverified).
  static std::string JtiOf(const std::string& token) {
    size_t first = token.find('.'), second = token.rfind('.');
    return json::parse(*Base64UrlDecode(token.substr(first + 1, second - first - 1)))["jti"];
  }
  static std::string AccessToken(const EndpointResponse& r) {
    return json::parse(r.body).at("access_token").get<std::string>();
  }

  Result<jose::VerifiedToken> VerifyWithJwks(const std::string& token) {
    auto keys = jose::ParseJwks(server_->JwksJson());
    EXPECT_TRUE(keys.ok());
    jose::VerifyOptions options;
    options.issuer = kIssuer;
    options.require_at_jwt_typ = true;
    options.token_use = "access";
    return jose::Verify(token, jose::KeySet(*keys), options, clock_.NowSeconds());
  }

  FakeClock clock_;
  SecretString hash_key_{RandomBytes(32)};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::StateCache> state_;
  std::filesystem::path dir_;
  std::unique_ptr<audit::AuditLog> audit_;
  audit::Metrics metrics_;
  std::unique_ptr<AuthorizationServer> server_;
  std::string etl_secret_, rep_secret_;
  std::string body_, auth_, remote_, ct_;
};

TEST_F(AuthorizationServerTest, IssuesRfc9068TokenWithBasicAuth) {
  EndpointResponse r = EtlToken();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  json body = json::parse(r.body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_EQ(body["scope"], "athena-api/query.read athena-api/query.write");

  auto verified = VerifyWithJwks(body["access_token"]);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  const auto& c = verified->claims;
  EXPECT_EQ(verified->typ, "at+jwt");
  EXPECT_EQ(verified->algorithm, crypto::Algorithm::kES256);
  EXPECT_EQ(c.iss, kIssuer);
  EXPECT_EQ(c.sub, "etl-id");
  EXPECT_EQ(c.client_id, "etl-id");
  EXPECT_EQ(c.token_use, "access");
  EXPECT_EQ(c.version, 2);
  EXPECT_EQ(c.aud, std::vector<std::string>{"athena-api"});
  EXPECT_EQ(c.exp - c.iat, 3600);
  EXPECT_EQ(c.iat, clock_.NowSeconds());
  EXPECT_GE(c.jti.size(), 20u);
}

TEST_F(AuthorizationServerTest, ClientSecretPostAndPerClientLifetime) {
  EndpointResponse r = TokenRequest(
      "grant_type=client_credentials&client_id=rep-id&client_secret=" + UrlEncode(rep_secret_), "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["expires_in"], 900);
}

TEST_F(AuthorizationServerTest, BothAuthMethodsIsInvalidRequest) {
  EndpointResponse r = TokenRequest(
      "grant_type=client_credentials&client_id=etl-id&client_secret=" + UrlEncode(etl_secret_),
      Basic("etl-id", etl_secret_));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "invalid_request");
}

TEST_F(AuthorizationServerTest, MissingCredentialsIsInvalidClientWithChallenge) {
  EndpointResponse r = TokenRequest("grant_type=client_credentials", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorOf(r), "invalid_client");
  EXPECT_NE(Header(r, "WWW-Authenticate").find("Basic"), std::string::npos);
}

TEST_F(AuthorizationServerTest, WrongSecretAndUnknownClientAreInvalidClient) {
  EndpointResponse wrong =
      TokenRequest("grant_type=client_credentials", Basic("etl-id", rep_secret_));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(ErrorOf(wrong), "invalid_client");
  EndpointResponse unknown =
      TokenRequest("grant_type=client_credentials", Basic("nobody", etl_secret_));
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(ErrorOf(unknown), "invalid_client");
  // The same description: nothing tells whether the id exists.
  EXPECT_EQ(json::parse(wrong.body)["error_description"],
            json::parse(unknown.body)["error_description"]);
}

TEST_F(AuthorizationServerTest, NonFormBodyIsInvalidRequest) {
  EndpointResponse r = TokenRequest("{\"grant_type\":\"client_credentials\"}",
                                    Basic("etl-id", etl_secret_), "10.0.0.1", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "invalid_request");
}

TEST_F(AuthorizationServerTest, RepeatedParameterIsInvalidRequest) {
  EndpointResponse r = EtlToken("grant_type=client_credentials&grant_type=client_credentials");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "invalid_request");
}

TEST_F(AuthorizationServerTest, MissingAndUnsupportedGrantType) {
  EndpointResponse missing = EtlToken("scope=athena-api/query.read");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(ErrorOf(missing), "invalid_request");
  EndpointResponse password = EtlToken("grant_type=password&username=a&password=b");
  EXPECT_EQ(password.status, 400);
  EXPECT_EQ(ErrorOf(password), "unsupported_grant_type");
}

TEST_F(AuthorizationServerTest, ScopeNarrowingAndInvalidScope) {
  EndpointResponse narrowed =
      EtlToken("grant_type=client_credentials&scope=athena-api%2Fquery.read");
  ASSERT_EQ(narrowed.status, 200);
  EXPECT_EQ(json::parse(narrowed.body)["scope"], "athena-api/query.read");
  auto verified = VerifyWithJwks(AccessToken(narrowed));
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->claims.scope, "athena-api/query.read");

  EndpointResponse r = TokenRequest(
      "grant_type=client_credentials&scope=athena-api/query.read athena-api/query.write",
      Basic("rep-id", rep_secret_));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "invalid_scope");
  EXPECT_NE(r.body.find("athena-api/query.write"), std::string::npos);
}

TEST_F(AuthorizationServerTest, ScopeRequiredWhenConfigured) {
  AuthServerOptions options;
  options.scope_omitted_grants_all = false;
  MakeServer(options);
  EndpointResponse r = EtlToken();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "invalid_scope");
}

TEST_F(AuthorizationServerTest, DisabledClientIsUnauthorizedAndItsTokensStop) {
  std::string token = AccessToken(EtlToken());
  EXPECT_TRUE(Active(token, "etl-id", etl_secret_));
  auto record = **store_->FindClient("etl-id");
  record.enabled = false;
  ASSERT_TRUE(store_->UpdateClient(record).ok());
  Refresh();
  EndpointResponse r = EtlToken();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "unauthorized_client");
  EXPECT_TRUE(
      HasReason(server_
                    ->Token({"application/x-www-form-urlencoded", Basic("etl-id", etl_secret_),
                             "grant_type=client_credentials", "x"})
                    .status(),
                OAuthError::kUnauthorizedClient));
  // Its live token is no longer active (the caller here is the disabled
  // client itself, which may still introspect nothing: it cannot authenticate
  // a token of its own as active).
  EXPECT_FALSE(Active(token, "etl-id", etl_secret_));
}

TEST_F(AuthorizationServerTest, StrangerCannotLockOutAClient) {
  // Defaults: 20 failures a minute per client, per (client, address), 60 per address.
  const std::string stranger = "192.0.2.66";
  for (int i = 0; i < 50; ++i) {
    EndpointResponse r =
        TokenRequest("grant_type=client_credentials", Basic("etl-id", "wrong"), stranger);
    ASSERT_EQ(r.status, i < 20 ? 401 : 429) << i;
  }
  // The client's correct secret from its own address still works.
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", Basic("etl-id", etl_secret_), "10.0.0.9")
                .status,
            200);
  // The stranger's address stays throttled for this client, whatever it sends.
  EndpointResponse refused =
      TokenRequest("grant_type=client_credentials", Basic("etl-id", "wrong"), stranger);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(ErrorOf(refused), "temporarily_unavailable");
  EXPECT_GE(std::stoi(Header(refused, "Retry-After")), 1);
  EXPECT_EQ(
      TokenRequest("grant_type=client_credentials", Basic("etl-id", etl_secret_), stranger).status,
      429);
  // Another client from the stranger's address is not refused (20 < 60 per address).
  EXPECT_EQ(
      TokenRequest("grant_type=client_credentials", Basic("rep-id", rep_secret_), stranger).status,
      200);
  // One token refills every 3 s (20 a minute).
  clock_.Advance(std::chrono::seconds(3));
  EXPECT_EQ(
      TokenRequest("grant_type=client_credentials", Basic("etl-id", etl_secret_), stranger).status,
      200);
}

TEST_F(AuthorizationServerTest, FailuresForAClientFromEverywhereAreSlowedNotBlocked) {
  AuthServerOptions options;
  options.client_auth.failed_per_minute_per_client = 10;
  MakeServer(options);
  // Ten honest mistakes a minute never trip anything.
  for (int i = 0; i < 10; ++i) {
    EndpointResponse r = TokenRequest("grant_type=client_credentials", Basic("etl-id", "wrong"),
                                      "10.0.1." + std::to_string(i));
    ASSERT_EQ(r.status, 401) << i;
  }
  // Beyond them, failures from any address are told to back off ...
  EndpointResponse slowed =
      TokenRequest("grant_type=client_credentials", Basic("etl-id", "wrong"), "10.0.2.1");
  EXPECT_EQ(slowed.status, 429);
  EXPECT_EQ(ErrorOf(slowed), "temporarily_unavailable");
  EXPECT_GE(std::stoi(Header(slowed, "Retry-After")), 1);
  // ... but the correct secret is checked and accepted, from anywhere.
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", Basic("etl-id", etl_secret_), "10.0.2.1")
                .status,
            200);
  EXPECT_EQ(EtlToken().status, 200);
  // Another client is unaffected.
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", Basic("rep-id", rep_secret_)).status,
            200);
  // Refilled (10 a minute: one every 6 s), a failure is a plain 401 again.
  clock_.Advance(std::chrono::seconds(13));
  EXPECT_EQ(
      TokenRequest("grant_type=client_credentials", Basic("etl-id", "wrong"), "10.0.2.2").status,
      401);
}

TEST_F(AuthorizationServerTest, FailedAuthIsRateLimitedPerClientAndAddressThenRecovers) {
  AuthServerOptions options;
  options.client_auth.failed_per_minute_per_client = 1000;
  options.client_auth.failed_per_minute_per_client_address = 10;
  MakeServer(options);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(TokenRequest("grant_type=client_credentials", Basic("etl-id", "wrong")).status, 401)
        << i;
  }
  EndpointResponse locked = EtlToken();
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(ErrorOf(locked), "temporarily_unavailable");
  EXPECT_GE(std::stoi(Header(locked, "Retry-After")), 1);
  clock_.Advance(std::chrono::seconds(7));
  EXPECT_EQ(EtlToken().status, 200);
}

TEST_F(AuthorizationServerTest, MetricsNameNoClientUnlessConfigured) {
  ASSERT_EQ(EtlToken().status, 200);
  std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("lakegate_token_requests_total{outcome=\"issued\"} 1"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("etl-id"), std::string::npos) << text;

  // Opted in (a metrics endpoint strangers cannot reach): labelled by client.
  audit::Metrics labelled;
  AuthServerOptions options;
  options.metrics_client_labels = true;
  MakeServer(options, &labelled);
  ASSERT_EQ(EtlToken().status, 200);
  EXPECT_NE(labelled.RenderPrometheus().find("client=\"etl-id\""), std::string::npos);
}

TEST_F(AuthorizationServerTest, FailedAuthIsRateLimitedPerAddress) {
  AuthServerOptions options;
  options.client_auth.failed_per_minute_per_client = 1000;
  options.client_auth.failed_per_minute_per_address = 5;
  MakeServer(options);
  for (int i = 0; i < 5; ++i) {
    TokenRequest("grant_type=client_credentials", Basic("id" + std::to_string(i), "x"),
                 "192.0.2.7");
  }
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", Basic("etl-id", etl_secret_), "192.0.2.7")
                .status,
            429);
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", Basic("etl-id", etl_secret_), "192.0.2.8")
                .status,
            200);
}

TEST_F(AuthorizationServerTest, RotatedSecretKeepsOldOneForGracePeriod) {
  SecretHasher hasher(hash_key_);
  auto record = **store_->FindClient("etl-id");
  std::string new_secret(GenerateClientSecret().Reveal());
  record.previous_secret_hash = record.secret_hash;
  record.previous_secret_expires_at = clock_.NowSeconds() + 3600;
  record.secret_hash = hasher.Hash(new_secret);
  ASSERT_TRUE(store_->UpdateClient(record).ok());
  Refresh();
  EXPECT_EQ(EtlToken().status, 200);  // old secret, inside the grace period
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", Basic("etl-id", new_secret)).status, 200);
  clock_.Advance(std::chrono::seconds(3601));
  EXPECT_EQ(EtlToken().status, 401);
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", Basic("etl-id", new_secret)).status, 200);
}

TEST_F(AuthorizationServerTest, IntrospectionShowsOnlyTheCallersActiveTokens) {
  std::string token = AccessToken(EtlToken());
  std::string body = "token=" + token;
  std::string own_auth = Basic("etl-id", etl_secret_);
  EndpointRequest own{"application/x-www-form-urlencoded", own_auth, body, "10.0.0.1"};
  EndpointResponse r = Rendered(server_->Introspect(own));
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);
  EXPECT_EQ(j["active"], true);
  EXPECT_EQ(j["client_id"], "etl-id");
  EXPECT_EQ(j["token_type"], "Bearer");
  EXPECT_EQ(j["scope"], "athena-api/query.read athena-api/query.write");

  std::string other_auth = Basic("rep-id", rep_secret_);
  EndpointResponse other = Rendered(
      server_->Introspect({"application/x-www-form-urlencoded", other_auth, body, "10.0.0.1"}));
  EXPECT_EQ(other.body, "{\"active\":false}");

  std::string garbage = "token=abc.def.ghi";
  EXPECT_EQ(
      Rendered(server_->Introspect({"application/x-www-form-urlencoded", own_auth, garbage, "x"}))
          .body,
      "{\"active\":false}");
  EndpointResponse unauthenticated =
      Rendered(server_->Introspect({"application/x-www-form-urlencoded", "", body, "x"}));
  EXPECT_EQ(unauthenticated.status, 401);
  EndpointResponse missing =
      Rendered(server_->Introspect({"application/x-www-form-urlencoded", own_auth, "", "x"}));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(ErrorOf(missing), "invalid_request");

  clock_.Advance(std::chrono::seconds(3600 + 61));
  EXPECT_EQ(Rendered(server_->Introspect(own)).body, "{\"active\":false}");
}

TEST_F(AuthorizationServerTest, RevocationIsRememberedAndOnlyForTheOwner) {
  std::string token = AccessToken(EtlToken());
  std::string body = "token=" + token + "&token_type_hint=access_token";
  std::string rep_auth = Basic("rep-id", rep_secret_);
  EndpointResponse foreign =
      Rendered(server_->Revoke({"application/x-www-form-urlencoded", rep_auth, body, "x"}));
  EXPECT_EQ(foreign.status, 400);
  EXPECT_EQ(ErrorOf(foreign), "unauthorized_client");
  ASSERT_TRUE(Active(token, "etl-id", etl_secret_));

  std::string etl_auth = Basic("etl-id", etl_secret_);
  EndpointResponse r =
      Rendered(server_->Revoke({"application/x-www-form-urlencoded", etl_auth, body, "x"}));
  EXPECT_EQ(r.status, 200);
  // In effect at once, without waiting for a refresh: the revoking server
  // refreshes its state before it answers.
  EXPECT_TRUE(state_->Current()->IsRevoked(JtiOf(token)));
  EXPECT_FALSE(Active(token, "etl-id", etl_secret_));
  // A fresh server (restart) still knows: the revocation is in the store.
  MakeServer(AuthServerOptions{});
  EXPECT_FALSE(Active(token, "etl-id", etl_secret_));
  // Unknown tokens: 200 as RFC 7009 §2.2 says.
  std::string junk = "token=not-a-token";
  EXPECT_EQ(
      Rendered(server_->Revoke({"application/x-www-form-urlencoded", etl_auth, junk, "x"})).status,
      200);
}

TEST_F(AuthorizationServerTest, KeyRotationKeepsOldTokensVerifiableUntilTheyExpire) {
  std::string old_token = AccessToken(EtlToken());
  std::string old_kid = *jose::PeekKid(old_token);
  auto kid = KeyManager::Rotate(*store_, clock_, crypto::Algorithm::kES256, 3600);
  ASSERT_TRUE(kid.ok());
  Refresh();
  std::string new_token = AccessToken(EtlToken());
  EXPECT_EQ(*jose::PeekKid(new_token), *kid);
  EXPECT_NE(*kid, old_kid);
  EXPECT_TRUE(VerifyWithJwks(old_token).ok());
  EXPECT_TRUE(VerifyWithJwks(new_token).ok());
  EXPECT_NE(server_->JwksJson().find(old_kid), std::string::npos);

  clock_.Advance(std::chrono::seconds(3600 + kKeyPublishLeewaySeconds + 1));
  ASSERT_TRUE(server_->Maintain(/*at_startup=*/false).ok());
  EXPECT_EQ(server_->JwksJson().find(old_kid), std::string::npos);
  EXPECT_NE(server_->JwksJson().find(*kid), std::string::npos);
}

TEST_F(AuthorizationServerTest, AlgorithmsAreSelectable) {
  for (auto alg : {crypto::Algorithm::kEdDSA, crypto::Algorithm::kRS256}) {
    AuthServerOptions options;
    options.algorithm = alg;
    MakeServer(options);
    auto verified = VerifyWithJwks(AccessToken(EtlToken()));
    ASSERT_TRUE(verified.ok()) << crypto::AlgorithmName(alg);
    EXPECT_EQ(verified->algorithm, alg);
  }
}

TEST_F(AuthorizationServerTest, AuditHasOneLinePerRequestAndNoSecrets) {
  std::string token = AccessToken(EtlToken());
  TokenRequest("grant_type=client_credentials", Basic("etl-id", "wrong-secret-value"));
  audit_->Flush();
  std::string log = *ReadFile((dir_ / "audit.log").string());
  std::vector<std::string_view> lines = SplitNonEmpty(log, '\n');
  ASSERT_EQ(lines.size(), 2u);
  json issued = json::parse(lines[0]);
  EXPECT_EQ(issued["event"], "token");
  EXPECT_EQ(issued["client_id"], "etl-id");
  EXPECT_EQ(issued["outcome"], "issued");
  EXPECT_EQ(issued["granted_scope"], "athena-api/query.read athena-api/query.write");
  EXPECT_EQ(issued["remote"], "10.0.0.1");
  json failed = json::parse(lines[1]);
  EXPECT_EQ(failed["outcome"], "invalid_client");
  EXPECT_EQ(log.find(etl_secret_), std::string::npos);
  EXPECT_EQ(log.find("wrong-secret-value"), std::string::npos);
  EXPECT_EQ(log.find(token), std::string::npos);
  EXPECT_NE(metrics_.RenderPrometheus().find("outcome=\"issued\""), std::string::npos);
}

TEST_F(AuthorizationServerTest, ServersStartingOnOneStoreMakeOneKeyAndServeOneJwks) {
  store::StateCache other_state(*store_);
  AuthServerOptions options;
  options.issuer = kIssuer;
  AuthorizationServer other(options, *store_, other_state, SecretHasher(hash_key_), clock_, nullptr,
                            nullptr);
  ASSERT_TRUE(other.Maintain(/*at_startup=*/true).ok());
  EXPECT_EQ(store_->ListSigningKeys()->size(), 1u);
  EXPECT_EQ(other.JwksJson(), server_->JwksJson());
  // A token from one verifies with the other's keys.
  auto verified = VerifyWithJwks(AccessToken(EtlToken()));
  EXPECT_TRUE(verified.ok());
  auto keys = jose::ParseJwks(other.JwksJson());
  ASSERT_TRUE(keys.ok());
  jose::VerifyOptions verify;
  verify.issuer = kIssuer;
  EXPECT_TRUE(
      jose::Verify(AccessToken(EtlToken()), jose::KeySet(*keys), verify, clock_.NowSeconds()).ok());
}

TEST_F(AuthorizationServerTest, FailuresCarryTypedReasons) {
  auto token = [&](std::string body, std::string authorization) {
    return server_->Token({"application/x-www-form-urlencoded", authorization, body, "10.0.0.1"})
        .status();
  };
  EXPECT_TRUE(HasReason(token("grant_type=client_credentials", Basic("etl-id", "wrong")),
                        OAuthError::kInvalidClient));
  EXPECT_TRUE(HasReason(token("grant_type=password", Basic("etl-id", etl_secret_)),
                        OAuthError::kUnsupportedGrantType));
  EXPECT_TRUE(
      HasReason(token("grant_type=client_credentials&scope=nope", Basic("etl-id", etl_secret_)),
                OAuthError::kInvalidScope));
  EXPECT_TRUE(HasReason(token("grant_type=client_credentials&client_id=etl-id&client_secret=x",
                              Basic("etl-id", etl_secret_)),
                        OAuthError::kInvalidRequest));
  AuthServerOptions options;
  options.client_auth.failed_per_minute_per_client_address = 1;
  MakeServer(options);
  token("grant_type=client_credentials", Basic("etl-id", "wrong")).IgnoreError();
  Status limited = token("grant_type=client_credentials", Basic("etl-id", etl_secret_));
  EXPECT_TRUE(HasReason(limited, OAuthError::kRateLimited));
  EXPECT_GE(limited.retry_after(), 1);
}

TEST_F(AuthorizationServerTest, MetadataNamesEndpointsAndScopes) {
  json m = json::parse(server_->MetadataJson());
  EXPECT_EQ(m["issuer"], kIssuer);
  EXPECT_EQ(m["token_endpoint"], std::string(kIssuer) + "/oauth2/token");
  EXPECT_EQ(m["jwks_uri"], std::string(kIssuer) + "/.well-known/jwks.json");
  EXPECT_EQ(m["introspection_endpoint"], std::string(kIssuer) + "/oauth2/introspect");
  EXPECT_EQ(m["revocation_endpoint"], std::string(kIssuer) + "/oauth2/revoke");
  EXPECT_EQ(m["grant_types_supported"], json::array({"client_credentials"}));
  EXPECT_EQ(m["scopes_supported"].size(), 2u);
  EXPECT_EQ(m["token_endpoint_auth_methods_supported"],
            json::array({"client_secret_basic", "client_secret_post", "private_key_jwt"}));
  EXPECT_EQ(m["token_endpoint_auth_signing_alg_values_supported"],
            json::array({"ES256", "EdDSA", "RS256", "PS256"}));
}

TEST_F(AuthorizationServerTest, MetadataListsDpopAlgorithms) {
  json m = json::parse(server_->MetadataJson());
  EXPECT_EQ(m["dpop_signing_alg_values_supported"],
            json::array({"ES256", "EdDSA", "RS256", "PS256"}));
}

// A token request of etl-service carrying `proofs` as DPoP headers.
class DpopTokenTest : public AuthorizationServerTest {
 protected:
  EndpointResponse DpopToken(std::vector<std::string> proofs,
                             const std::string& client_id = "etl-id",
                             const std::string& secret = "") {
    proofs_ = std::move(proofs);
    body_ = "grant_type=client_credentials";
    auth_ = Basic(client_id, secret.empty() ? etl_secret_ : secret);
    EndpointRequest request{.content_type = "application/x-www-form-urlencoded",
                            .authorization = auth_,
                            .body = body_,
                            .remote_address = "10.0.0.1",
                            .dpop_proofs = proofs_.size(),
                            .dpop_proof = proofs_.empty() ? std::string_view() : proofs_[0]};
    return Rendered(server_->Token(request));
  }
  std::string Proof(crypto::Algorithm alg = crypto::Algorithm::kES256,
                    const std::string& url = std::string(kIssuer) + "/oauth2/token",
                    const std::string& nonce = "") {
    return *jose::MakeDpopProof(jose::testing::TestKey(alg), "POST", url, "", nonce,
                                clock_.NowSeconds());
  }
  std::vector<std::string> proofs_;
};

TEST_F(DpopTokenTest, ValidProofBindsTheTokenToItsKey) {
  EndpointResponse r = DpopToken({Proof()});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["token_type"], "DPoP");
  const std::string token = AccessToken(r);
  Result<jose::VerifiedToken> verified = VerifyWithJwks(token);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  const std::string jkt =
      jose::Thumbprint(jose::testing::TestKey(crypto::Algorithm::kES256).Public());
  EXPECT_EQ(verified->claims.cnf_jkt, jkt);
  // The raw payload says cnf: {"jkt": ...} (RFC 9449 §6.1).
  size_t first = token.find('.'), second = token.rfind('.');
  json payload = json::parse(*Base64UrlDecode(token.substr(first + 1, second - first - 1)));
  EXPECT_EQ(payload["cnf"], json({{"jkt", jkt}}));
  // Introspection reports the binding (RFC 9449 §6.2).
  std::string body = "token=" + token;
  std::string auth = Basic("etl-id", etl_secret_);
  EndpointResponse introspected =
      Rendered(server_->Introspect({.content_type = "application/x-www-form-urlencoded",
                                    .authorization = auth,
                                    .body = body,
                                    .remote_address = "x"}));
  json i = json::parse(introspected.body);
  EXPECT_EQ(i["active"], true);
  EXPECT_EQ(i["token_type"], "DPoP");
  EXPECT_EQ(i["cnf"]["jkt"], jkt);
  // Without a proof the same client gets a bearer token.
  EndpointResponse bearer = EtlToken();
  EXPECT_EQ(json::parse(bearer.body)["token_type"], "Bearer");
  EXPECT_FALSE(
      json::parse(Rendered(server_->Introspect({.content_type = "application/x-www-form-urlencoded",
                                                .authorization = auth,
                                                .body = "token=" + AccessToken(bearer),
                                                .remote_address = "x"}))
                      .body)
          .contains("cnf"));
}

TEST_F(DpopTokenTest, BadProofIsInvalidDpopProofEvenWithAValidSecret) {
  json header = {{"typ", "dpop+jwt"}, {"alg", "ES256"}};
  json claims = {{"jti", "j1"},
                 {"htm", "POST"},
                 {"htu", std::string(kIssuer) + "/oauth2/token"},
                 {"iat", clock_.NowSeconds()}};
  const std::string no_jwk = jose::testing::SignRaw(
      jose::testing::TestKey(crypto::Algorithm::kES256), header.dump(), claims.dump());
  for (const auto& [name, proofs] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"no jwk", {no_jwk}},
           {"wrong htu", {Proof(crypto::Algorithm::kES256, std::string(kIssuer) + "/other")}},
           {"two headers", {Proof(), Proof()}},
           {"garbage", {"not.a.jwt"}}}) {
    EndpointResponse r = DpopToken(proofs);
    EXPECT_EQ(r.status, 400) << name << ": " << r.body;
    EXPECT_EQ(ErrorOf(r), "invalid_dpop_proof") << name;
    EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  }
  // A replayed proof, too.
  const std::string proof = Proof();
  EXPECT_EQ(DpopToken({proof}).status, 200);
  EndpointResponse replay = DpopToken({proof});
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(ErrorOf(replay), "invalid_dpop_proof");
  EXPECT_NE(json::parse(replay.body).value("error_description", "").find("already used"),
            std::string::npos);
  // A wrong secret is still invalid_client first.
  EndpointResponse wrong_secret = DpopToken({Proof()}, "etl-id", "wrong");
  EXPECT_EQ(wrong_secret.status, 401);
  EXPECT_EQ(ErrorOf(wrong_secret), "invalid_client");
}

TEST_F(DpopTokenTest, DpopRequiredClientNeedsAProof) {
  auto record = store_->FindClient("etl-id");
  ASSERT_TRUE(record.ok() && record->has_value());
  store::ClientRecord bound = **record;
  bound.dpop_bound_access_tokens = true;
  ASSERT_TRUE(store_->UpdateClient(bound).ok());
  Refresh();
  EndpointResponse r = EtlToken();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "invalid_dpop_proof");
  EXPECT_NE(json::parse(r.body).value("error_description", "").find("dpop_bound_access_tokens"),
            std::string::npos);
  EndpointResponse ok = DpopToken({Proof(crypto::Algorithm::kEdDSA)});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["token_type"], "DPoP");
}

TEST_F(DpopTokenTest, ServerNoncesAreDemandedWhenOn) {
  AuthServerOptions options;
  options.dpop.require_nonce = true;
  options.dpop.nonce_key = RandomBytes(32);
  MakeServer(options);
  const std::string nonce = server_->DpopNonce();
  ASSERT_FALSE(nonce.empty());
  EndpointResponse r = DpopToken({Proof()});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorOf(r), "use_dpop_nonce");
  EndpointResponse ok =
      DpopToken({Proof(crypto::Algorithm::kES256, std::string(kIssuer) + "/oauth2/token", nonce)});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

FormRequest Form(FormFields fields, std::string_view authorization = "") {
  return FormRequest{std::move(fields), authorization, "10.0.0.1"};
}

TEST(ClientAuthTest, BasicCredentialsAreFormDecoded) {
  SecretHasher hasher(SecretString(RandomBytes(32)));
  auto basic = MakeClientSecretBasic(hasher);
  std::string header = "Basic " + Base64Encode("my%3Aid:s%2Bcret");
  auto claimed = basic->Claim(Form({}, header));
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_EQ(*claimed, "my:id");
  store::ClientRecord client;
  client.client_id = "my:id";
  client.secret_hash = hasher.Hash("s+cret");
  EXPECT_TRUE(basic->Verify(Form({}, header), client, 0).ok());
  client.secret_hash = hasher.Hash("other");
  EXPECT_EQ(basic->Verify(Form({}, header), client, 0).code(), StatusCode::kUnauthenticated);
  // Not this method: not present.
  EXPECT_FALSE(basic->Present(Form({{"client_id", "x"}, {"client_secret", "y"}})));
  EXPECT_FALSE(MakeClientSecretPost(hasher)->Present(Form({}, header)));
  EXPECT_TRUE(basic->Present(Form({}, header)));
}

TEST(ClientAuthTest, MalformedBasicIsInvalidRequest) {
  SecretHasher hasher(SecretString(RandomBytes(32)));
  auto basic = MakeClientSecretBasic(hasher);
  for (std::string header : {std::string("Basic !!!"), "Basic " + Base64Encode("nocolon"),
                             std::string("Bearer abc"), "Basic " + Base64Encode("%zz:secret")}) {
    EXPECT_TRUE(HasReason(basic->Claim(Form({}, header)).status(), OAuthError::kInvalidRequest))
        << header;
  }
}

TEST(ClientAuthTest, MismatchedBodyClientIdIsInvalidRequest) {
  SecretHasher hasher(SecretString(RandomBytes(32)));
  auto basic = MakeClientSecretBasic(hasher);
  EXPECT_TRUE(HasReason(
      basic->Claim(Form({{"client_id", "other"}}, "Basic " + Base64Encode("id:secret"))).status(),
      OAuthError::kInvalidRequest));
}

TEST(ClientAuthTest, RepeatedCredentialFieldIsInvalidRequest) {
  SecretHasher hasher(SecretString(RandomBytes(32)));
  auto post = MakeClientSecretPost(hasher);
  EXPECT_TRUE(HasReason(
      post->Claim(Form({{"client_id", "a"}, {"client_secret", "x"}, {"client_secret", "y"}}))
          .status(),
      OAuthError::kInvalidRequest));
}

TEST(FormTest, Parsing) {
  auto form = ParseForm("grant_type=client_credentials&scope=a%2Fb+c&empty=&flag");
  ASSERT_TRUE(form.ok());
  ASSERT_EQ(form->size(), 4u);
  EXPECT_EQ((*form)[1].second, "a/b c");
  EXPECT_EQ((*form)[2].second, "");
  EXPECT_EQ((*form)[3].first, "flag");
  EXPECT_EQ(ParseForm("a=%zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseForm("a=%4").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseForm("a=1&b=2&c=3", 2).status().code(), StatusCode::kInvalidArgument);
}

TEST(FormTest, RequestNeedsTheFormContentTypeAndRefusesRepeats) {
  EXPECT_TRUE(HasReason(ParseFormRequest({"application/json", "", "a=1", "x"}).status(),
                        OAuthError::kInvalidRequest));
  auto form = ParseFormRequest(
      {"Application/X-WWW-Form-Urlencoded; charset=utf-8", "", "a=1&b=2&b=3", "x"});
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(*form->Single("a"), std::optional<std::string>("1"));
  EXPECT_EQ(*form->Single("missing"), std::nullopt);
  EXPECT_TRUE(HasReason(form->Single("b").status(), OAuthError::kInvalidRequest));
  EXPECT_TRUE(form->Has("b"));
  EXPECT_FALSE(form->Has("c"));
}

TEST(SecretHasherTest, VerifiesOnlyTheRightSecretWithTheRightKey) {
  SecretHasher hasher(SecretString(RandomBytes(32)));
  std::string hash = hasher.Hash("s3cret");
  EXPECT_TRUE(hasher.Verify("s3cret", hash));
  EXPECT_FALSE(hasher.Verify("s3creT", hash));
  EXPECT_FALSE(hasher.Verify("s3cret", ""));
  EXPECT_FALSE(hasher.Verify("s3cret", "hs256$garbage"));
  EXPECT_NE(hasher.Hash("s3cret"), hash);  // salted
  SecretHasher other(SecretString(RandomBytes(32)));
  EXPECT_FALSE(other.Verify("s3cret", hash));
  EXPECT_EQ(GenerateClientSecret().size(), 43u);
  EXPECT_EQ(GenerateClientId().size(), 26u);
}

TEST(SecretHasherTest, HashKeyFileIsCreatedOnceWithMode0600) {
  auto dir = std::filesystem::temp_directory_path() / ("lg-key-" + RandomHex(6));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "hash.key").string();
  auto a = LoadOrCreateHashKey(path);
  auto b = LoadOrCreateHashKey(path);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Reveal(), b->Reveal());
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_TRUE(WriteFileAtomic(path, "short").ok());
  EXPECT_EQ(LoadOrCreateHashKey(path).status().code(), StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

TEST(FailureLimiterTest, BoundedMemoryEvictsLeastRecentlyUsed) {
  FailureLimiter limiter(2, 3);
  for (int i = 0; i < 10; ++i) limiter.RecordFailure("k" + std::to_string(i), 0);
  EXPECT_EQ(limiter.tracked_keys(), 3u);
  limiter.RecordFailure("k9", 0);
  EXPECT_GT(limiter.RetryAfter("k9", 0), 0);
  EXPECT_EQ(limiter.RetryAfter("k0", 0), 0);       // evicted
  EXPECT_EQ(limiter.RetryAfter("k9", 30'000), 0);  // refilled one token in 30 s
}

}  // namespace
}  // namespace lakegate::oauth
