// private_key_jwt at the token endpoint: every acceptance and every rejection
// path of a client assertion, asserted by its error and description.
#include "oauth/private_key_jwt.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "http/error_response.h"
#include "jose/jwk.h"
#include "jose/jwt.h"
#include "jose/test_keys.h"
#include "oauth/authorization_server.h"
#include "oauth/client_secret.h"
#include "oauth/form.h"
#include "store/fault_injecting_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/state_cache.h"

namespace lakegate::oauth {
namespace {

using crypto::Algorithm;
using jose::testing::SignRaw;
using jose::testing::TestKey;
using nlohmann::json;

constexpr char kIssuer[] = "https://auth.example.test";
constexpr char kTokenUrl[] = "https://auth.example.test/oauth2/token";
constexpr char kClientId[] = "key-id";
constexpr char kAssertionType[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct Answer {
  int status = 0;
  json body;
  std::string www_authenticate;
  std::string error() const { return body.value("error", ""); }
  std::string description() const { return body.value("error_description", ""); }
};

class PrivateKeyJwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = store::NewInMemoryStore();
    store_ = std::make_unique<store::FaultInjectingStore>(std::move(base));
    ASSERT_TRUE(store_->PutResourceServer({"athena-api", "Athena", {{"query.read", ""}}}).ok());
    // Keys of every algorithm; the RSA key is registered twice, once per alg.
    std::vector<jose::Jwk> keys = {
        {.kid = "es", .key = TestKey(Algorithm::kES256).Public()},
        {.kid = "ed", .key = TestKey(Algorithm::kEdDSA).Public()},
        {.kid = "rs", .key = TestKey(Algorithm::kRS256).Public()},
        {.kid = "ps", .key = TestKey(Algorithm::kPS256).Public()},
    };
    store::ClientRecord key_client;
    key_client.client_id = kClientId;
    key_client.name = "keyjwt-service";
    key_client.scopes = {"athena-api/query.read"};
    key_client.auth_method = "private_key_jwt";
    key_client.jwks = jose::JwksToJson(keys);
    ASSERT_TRUE(store_->InsertClient(key_client).ok());
    secret_ = GenerateClientSecret();
    store::ClientRecord secret_client;
    secret_client.client_id = "secret-id";
    secret_client.name = "secret-service";
    secret_client.scopes = {"athena-api/query.read"};
    secret_client.secret_hash = SecretHasher(hash_key_).Hash(secret_.Reveal());
    ASSERT_TRUE(store_->InsertClient(secret_client).ok());
    dir_ = std::filesystem::temp_directory_path() / ("lg-pkjwt-" + RandomHex(6));
    std::filesystem::create_directories(dir_);
    audit_ = std::move(*audit::AuditLog::Open((dir_ / "audit.log").string()));
    state_ = std::make_unique<store::StateCache>(*store_);
    AuthServerOptions options;
    options.issuer = kIssuer;
    server_ = std::make_unique<AuthorizationServer>(
        options, *store_, *state_, SecretHasher(hash_key_), clock_, audit_.get(), &metrics_);
    ASSERT_TRUE(server_->Maintain(/*at_startup=*/true).ok());
  }
  void TearDown() override {
    server_.reset();
    state_.reset();
    audit_.reset();
    std::filesystem::remove_all(dir_);
  }

  int64_t Now() const { return clock_.NowSeconds(); }

  // Claims of a good assertion, to be varied by each test.
  json GoodClaims() const {
    return {{"iss", kClientId},    {"sub", kClientId}, {"aud", kTokenUrl},
            {"jti", RandomHex(8)}, {"iat", Now()},     {"exp", Now() + 60}};
  }
  static std::string Sign(const json& claims, const std::string& kid = "es",
                          Algorithm alg = Algorithm::kES256, json extra_header = json::object()) {
    json header = {{"alg", std::string(crypto::AlgorithmName(alg))}, {"typ", "JWT"}};
    if (!kid.empty()) header["kid"] = kid;
    for (auto& [k, v] : extra_header.items()) header[k] = v;
    return SignRaw(TestKey(alg), header.dump(), claims.dump());
  }

  Answer Post(const std::string& body, const std::string& authorization = "") {
    body_ = body;
    auth_ = authorization;
    EndpointResult r =
        server_->Token({"application/x-www-form-urlencoded", auth_, body_, "1.2.3.4"});
    Answer a;
    if (r.ok()) {
      a.status = r->status;
      a.body = json::parse(r->body);
      return a;
    }
    http::Response rendered = http::ErrorResponse(r.status(), http::ErrorFamily::kOAuth);
    a.status = rendered.status;
    a.body = json::parse(rendered.body);
    for (const auto& h : rendered.headers) {
      if (EqualsIgnoreCase(h.name, "WWW-Authenticate")) a.www_authenticate = h.value;
    }
    return a;
  }
  static std::string Form(const std::string& assertion, const std::string& type = kAssertionType) {
    return "grant_type=client_credentials&client_assertion_type=" + UrlEncode(type) +
           "&client_assertion=" + UrlEncode(assertion);
  }
  Answer WithAssertion(const std::string& assertion) { return Post(Form(assertion)); }

  void ExpectRefused(const Answer& a, std::string_view description) {
    EXPECT_EQ(a.status, 401) << a.body.dump();
    EXPECT_EQ(a.error(), "invalid_client") << a.body.dump();
    EXPECT_NE(a.description().find(description), std::string::npos)
        << "want \"" << description << "\" in: " << a.description();
  }

  std::unique_ptr<store::FaultInjectingStore> store_;
  SecretString hash_key_{RandomBytes(32)};
  SecretString secret_;
  FakeClock clock_;
  audit::Metrics metrics_;
  std::filesystem::path dir_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<store::StateCache> state_;
  std::unique_ptr<AuthorizationServer> server_;
  std::string body_, auth_;
};

TEST_F(PrivateKeyJwtTest, EveryAlgorithmAndBothAudiencesAreAccepted) {
  const std::pair<const char*, Algorithm> keys[] = {{"es", Algorithm::kES256},
                                                    {"ed", Algorithm::kEdDSA},
                                                    {"rs", Algorithm::kRS256},
                                                    {"ps", Algorithm::kPS256}};
  for (const auto& [kid, alg] : keys) {
    for (const char* aud : {kTokenUrl, kIssuer}) {
      json claims = GoodClaims();
      claims["aud"] = aud;
      Answer a = WithAssertion(Sign(claims, kid, alg));
      EXPECT_EQ(a.status, 200) << kid << " " << aud << ": " << a.body.dump();
      EXPECT_EQ(a.body.value("token_type", ""), "Bearer");
      EXPECT_EQ(a.body.value("scope", ""), "athena-api/query.read");
    }
  }
  // aud as an array, a client_id parameter equal to sub, no typ at all.
  json claims = GoodClaims();
  claims["aud"] = json::array({"https://elsewhere", kTokenUrl});
  std::string assertion =
      SignRaw(TestKey(Algorithm::kES256), R"({"alg":"ES256","kid":"es"})", claims.dump());
  EXPECT_EQ(Post(Form(assertion) + "&client_id=" + kClientId).status, 200);
}

TEST_F(PrivateKeyJwtTest, ReplayedJtiIsRefusedUntilItExpires) {
  json claims = GoodClaims();
  std::string assertion = Sign(claims);
  EXPECT_EQ(WithAssertion(assertion).status, 200);
  ExpectRefused(WithAssertion(assertion), "jti was already used");
  // Another assertion with the same jti is a replay too.
  claims["iat"] = Now() + 1;
  ExpectRefused(WithAssertion(Sign(claims)), "jti was already used");
}

TEST_F(PrivateKeyJwtTest, RefusedAssertionDoesNotUseUpItsJti) {
  json claims = GoodClaims();
  json wrong = claims;
  wrong["aud"] = "https://other.example/token";
  ExpectRefused(WithAssertion(Sign(wrong)), "aud must be the token endpoint URL");
  EXPECT_EQ(WithAssertion(Sign(claims)).status, 200);
}

TEST_F(PrivateKeyJwtTest, ClaimsAreCheckedOneByOne) {
  json c = GoodClaims();
  c["aud"] = "https://auth.example.test/oauth2/introspect";
  ExpectRefused(WithAssertion(Sign(c)), "aud must be the token endpoint URL");
  c = GoodClaims();
  c.erase("aud");
  ExpectRefused(WithAssertion(Sign(c)), "aud must be the token endpoint URL");
  c = GoodClaims();
  c["exp"] = Now() - 60;
  ExpectRefused(WithAssertion(Sign(c)), "client_assertion expired");
  c = GoodClaims();
  c["exp"] = Now() + 600;
  ExpectRefused(WithAssertion(Sign(c)), "more than 300 seconds ahead");
  c = GoodClaims();
  c.erase("exp");
  ExpectRefused(WithAssertion(Sign(c)), "has no exp");
  c = GoodClaims();
  c["iss"] = "someone-else";
  ExpectRefused(WithAssertion(Sign(c)), "iss must be the client_id");
  c = GoodClaims();
  c["sub"] = "secret-id";  // a client that exists, but the assertion's iss differs
  ExpectRefused(WithAssertion(Sign(c)), "is not registered for private_key_jwt");
  c = GoodClaims();
  c.erase("jti");
  ExpectRefused(WithAssertion(Sign(c)), "has no jti");
  c = GoodClaims();
  c["nbf"] = Now() + 120;
  ExpectRefused(WithAssertion(Sign(c)), "not valid yet");
  c = GoodClaims();
  c["iat"] = Now() + 120;
  ExpectRefused(WithAssertion(Sign(c)), "iat is in the future");
  c = GoodClaims();
  c["exp"] = "soon";
  ExpectRefused(WithAssertion(Sign(c)), "invalid claim: exp");
  // Exactly 300 seconds ahead is fine.
  c = GoodClaims();
  c["exp"] = Now() + 300;
  EXPECT_EQ(WithAssertion(Sign(c)).status, 200);
}

TEST_F(PrivateKeyJwtTest, IssNotEqualToSubIsRefused) {
  // sub names the client (so its keys are used); iss names another.
  json c = GoodClaims();
  c["iss"] = "secret-id";
  ExpectRefused(WithAssertion(Sign(c)), "iss must be the client_id");
}

TEST_F(PrivateKeyJwtTest, KeysAndAlgorithmsAreCheckedAgainstTheRegistration) {
  json c = GoodClaims();
  ExpectRefused(WithAssertion(Sign(c, "nope")), "kid \"nope\" is not a registered key");
  ExpectRefused(WithAssertion(Sign(c, "")), "header has no kid");
  // Signed by a key that is not the registered "es" key.
  auto other = *crypto::PrivateKey::Generate(Algorithm::kES256);
  std::string forged = SignRaw(other, R"({"alg":"ES256","kid":"es"})", c.dump());
  ExpectRefused(WithAssertion(forged), "signature does not verify with key \"es\"");
  // The RSA key registered for RS256, presented as PS256 (and the PS256 one as RS256).
  std::string as_ps =
      SignRaw(TestKey(Algorithm::kPS256), R"({"alg":"PS256","kid":"rs"})", c.dump());
  ExpectRefused(WithAssertion(as_ps), "does not match the registered key \"rs\" (RS256)");
  // alg none, with and without a signature.
  std::string none =
      Base64UrlEncode(R"({"alg":"none","kid":"es"})") + "." + Base64UrlEncode(c.dump()) + ".";
  ExpectRefused(WithAssertion(none), "alg \"none\" is not accepted");
  // HS256 keyed with the registered public key, the classic confusion.
  std::string input =
      Base64UrlEncode(R"({"alg":"HS256","kid":"es"})") + "." + Base64UrlEncode(c.dump());
  std::string hmac =
      input + "." +
      Base64UrlEncode(crypto::HmacSha256(TestKey(Algorithm::kES256).Public().ToPem(), input));
  ExpectRefused(WithAssertion(hmac), "alg \"HS256\" is not accepted");
  ExpectRefused(WithAssertion(Sign(c, "es", Algorithm::kES256, {{"crit", {"exp"}}})),
                "crit header");
  ExpectRefused(WithAssertion(Sign(c, "es", Algorithm::kES256, {{"typ", "at+jwt"}})),
                "typ \"at+jwt\" is not a client assertion");
  ExpectRefused(WithAssertion("not.a.jwt"), "not a well-formed signed JWT");
}

TEST_F(PrivateKeyJwtTest, AssertionTypeAndParametersAreChecked) {
  std::string assertion = Sign(GoodClaims());
  ExpectRefused(Post(Form(assertion, "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")),
                "client_assertion_type must be");
  ExpectRefused(Post("grant_type=client_credentials&client_assertion=" + UrlEncode(assertion)),
                "client_assertion_type is missing");
  ExpectRefused(
      Post("grant_type=client_credentials&client_assertion_type=" + UrlEncode(kAssertionType)),
      "client_assertion is missing");
  ExpectRefused(Post(Form(assertion) + "&client_id=secret-id"),
                "client_id does not match the client_assertion's sub");
  json c = GoodClaims();
  c.erase("sub");
  ExpectRefused(WithAssertion(Sign(c)), "has no sub");
}

TEST_F(PrivateKeyJwtTest, AnAssertionWithAnySecretIsInvalidRequest) {
  std::string assertion = Sign(GoodClaims());
  Answer basic =
      Post(Form(assertion), "Basic " + Base64Encode("secret-id:" + std::string(secret_.Reveal())));
  EXPECT_EQ(basic.status, 400);
  EXPECT_EQ(basic.error(), "invalid_request");
  Answer post = Post(Form(assertion) + "&client_secret=x");
  EXPECT_EQ(post.status, 400);
  EXPECT_EQ(post.error(), "invalid_request");
  // Neither consumed the jti.
  EXPECT_EQ(WithAssertion(assertion).status, 200);
}

TEST_F(PrivateKeyJwtTest, EachClientUsesOnlyItsOwnMethod) {
  // A key client cannot use a secret, even an empty one.
  Answer a = Post("grant_type=client_credentials", "Basic " + Base64Encode("key-id:anything"));
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.error(), "invalid_client");
  a = Post("grant_type=client_credentials&client_id=key-id&client_secret=");
  EXPECT_EQ(a.error(), "invalid_client");
  // A secret client cannot use an assertion, whatever key signed it.
  json c = GoodClaims();
  c["iss"] = c["sub"] = "secret-id";
  ExpectRefused(WithAssertion(Sign(c)), "is not registered for private_key_jwt");
  // Its secret still works.
  EXPECT_EQ(Post("grant_type=client_credentials",
                 "Basic " + Base64Encode("secret-id:" + std::string(secret_.Reveal())))
                .status,
            200);
}

TEST_F(PrivateKeyJwtTest, UnknownClientGetsTheGenericAnswer) {
  json c = GoodClaims();
  c["iss"] = c["sub"] = "nobody";
  Answer a = WithAssertion(Sign(c));
  EXPECT_EQ(a.error(), "invalid_client");
  EXPECT_EQ(a.description(), "invalid client credentials");
}

TEST_F(PrivateKeyJwtTest, DescribedFailuresDoNotTripTheFailureLimits) {
  json c = GoodClaims();
  c["aud"] = "https://wrong";
  for (int i = 0; i < 70; ++i) ExpectRefused(WithAssertion(Sign(c)), "aud must be");
  EXPECT_EQ(WithAssertion(Sign(GoodClaims())).status, 200);
}

TEST_F(PrivateKeyJwtTest, ReplayStoreFailureIsTemporarilyUnavailable) {
  store_->FailNextWrites(1);
  Answer a = WithAssertion(Sign(GoodClaims()));
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.error(), "temporarily_unavailable");
  EXPECT_EQ(WithAssertion(Sign(GoodClaims())).status, 200);
}

TEST_F(PrivateKeyJwtTest, MayBlockSpotsAssertions) {
  EXPECT_TRUE(AuthorizationServer::MayBlock({"", "", Form("x"), ""}));
  EXPECT_FALSE(AuthorizationServer::MayBlock({"", "", "grant_type=client_credentials", ""}));
}

TEST(ValidateClientKeysTest, NeedsExactlyOneUsableSource) {
  std::string jwks = jose::JwksToJson({{.kid = "k", .key = TestKey(Algorithm::kES256).Public()}});
  EXPECT_TRUE(ValidateClientKeys(jwks, "").ok());
  EXPECT_TRUE(ValidateClientKeys("", "https://keys.example/jwks.json").ok());
  EXPECT_EQ(ValidateClientKeys("", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateClientKeys(jwks, "https://x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateClientKeys(R"({"keys":[]})", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateClientKeys("not json", "").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakegate::oauth

namespace lakegate::oauth {
namespace {

std::string UrlDecodeForTest(const std::string& form) {
  std::string assertion = form.substr(form.find("client_assertion=") + 17);
  return *FormUrlDecode(assertion);
}

// The cost of one assertion-authenticated token request in one thread, by
// step (run with --gtest_also_run_disabled_tests; numbers are for
// docs/benchmarks.md, never asserted).
TEST_F(PrivateKeyJwtTest, DISABLED_BenchTokenWithAssertion) {
  constexpr int kN = 3000;
  std::vector<std::string> forms;
  for (int i = 0; i < kN; ++i) forms.push_back(Form(Sign(GoodClaims())));
  auto t0 = std::chrono::steady_clock::now();
  for (const std::string& f : forms) {
    EndpointResult r = server_->Token({"application/x-www-form-urlencoded", "", f, "1.2.3.4"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(*store_->RememberOnce("bench " + std::to_string(i), Now() + 60, Now()));
  }
  auto t2 = std::chrono::steady_clock::now();
  std::string basic = "Basic " + Base64Encode("secret-id:" + std::string(secret_.Reveal()));
  for (int i = 0; i < kN; ++i) {
    EndpointResult r = server_->Token(
        {"application/x-www-form-urlencoded", basic, "grant_type=client_credentials", "1.2.3.4"});
    ASSERT_TRUE(r.ok());
  }
  auto t3 = std::chrono::steady_clock::now();
  for (const std::string& f : forms) {
    auto jwt = jose::ParseSignedJwt(UrlDecodeForTest(f), 8192);
    ASSERT_TRUE(jwt.ok());
    ASSERT_TRUE(jose::VerifySignature(*jwt, TestKey(Algorithm::kES256).Public()));
  }
  auto t4 = std::chrono::steady_clock::now();
  for (const std::string& f : forms)
    ASSERT_TRUE(jose::ParseSignedJwt(UrlDecodeForTest(f), 8192).ok());
  auto t5 = std::chrono::steady_clock::now();
  auto us = [](auto d) { return std::chrono::duration<double, std::micro>(d).count(); };
  std::printf(
      "token with assertion: %.1f us; RememberOnce alone: %.1f us; token with secret: %.1f us; "
      "parse+verify: %.1f us; parse alone: %.1f us\n",
      us(t1 - t0) / kN, us(t2 - t1) / kN, us(t3 - t2) / kN, us(t4 - t3) / kN, us(t5 - t4) / kN);
}

}  // namespace
}  // namespace lakegate::oauth
