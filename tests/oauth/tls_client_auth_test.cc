// Mutual TLS at the token endpoint (RFC 8705): tls_client_auth by subject DN
// and by each SAN type, self_signed_tls_client_auth, certificate-bound tokens,
// the metadata, and every rejection path asserted by its error and
// description.
#include "oauth/tls_client_auth.h"

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/x509.h"
#include "http/error_response.h"
#include "jose/jws.h"
#include "oauth/authorization_server.h"
#include "oauth/client_secret.h"
#include "store/sqlite/sqlite_store.h"
#include "store/state_cache.h"

namespace lakegate::oauth {
namespace {

using nlohmann::json;

constexpr char kIssuer[] = "http://auth.example.test";

struct Answer {
  int status = 0;
  json body;
  std::string error() const { return body.value("error", ""); }
  std::string description() const { return body.value("error_description", ""); }
};

crypto::IssuedCertificate Issue(const crypto::IssuedCertificate* ca,
                                crypto::CertificateRequest request) {
  request.server = false;
  Result<crypto::IssuedCertificate> issued = crypto::IssueCertificate(ca, request);
  EXPECT_TRUE(issued.ok()) << issued.status().ToString();
  return *issued;
}

std::string Der(const crypto::IssuedCertificate& issued) {
  Result<std::vector<crypto::Certificate>> certs =
      crypto::Certificate::ListFromPem(issued.certificate_pem);
  EXPECT_TRUE(certs.ok());
  return (*certs)[0].der();
}

class TlsClientAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = *crypto::MakeCertificateAuthority("client CA", 30);
    other_ca_ = *crypto::MakeCertificateAuthority("other CA", 30);
    store_ = store::NewInMemoryStore();
    ASSERT_TRUE(store_->PutResourceServer({"athena-api", "Athena", {{"query.read", ""}}}).ok());
    AddTlsClient("dn-id", "dn-service", "tls_client_auth_subject_dn",
                 "CN=dn-service,O=Example\\, Inc.,C=DE");
    AddTlsClient("dns-id", "dns-service", "tls_client_auth_san_dns", "svc.example.com");
    AddTlsClient("uri-id", "uri-service", "tls_client_auth_san_uri", "spiffe://example.com/svc");
    AddTlsClient("ip-id", "ip-service", "tls_client_auth_san_ip", "2001:db8::1");
    AddTlsClient("email-id", "email-service", "tls_client_auth_san_email", "svc@example.com");
    self_signed_ = Issue(nullptr, {.subject = {{"CN", "self"}}});
    store::ClientRecord self;
    self.client_id = "self-id";
    self.name = "self-service";
    self.scopes = {"athena-api/query.read"};
    self.auth_method = "self_signed_tls_client_auth";
    self.jwks = SelfSignedJwks(*crypto::Certificate::ListFromPem(self_signed_.certificate_pem));
    ASSERT_TRUE(ValidateSelfSignedJwks(self.jwks).ok());
    ASSERT_TRUE(store_->InsertClient(self).ok());
    secret_ = GenerateClientSecret();
    store::ClientRecord secret_client;
    secret_client.client_id = "secret-id";
    secret_client.name = "secret-service";
    secret_client.scopes = {"athena-api/query.read"};
    secret_client.secret_hash = SecretHasher(hash_key_).Hash(secret_.Reveal());
    ASSERT_TRUE(store_->InsertClient(secret_client).ok());
    secret_client.client_id = "bound-id";
    secret_client.name = "bound-service";
    secret_client.tls_client_certificate_bound_access_tokens = true;
    ASSERT_TRUE(store_->InsertClient(secret_client).ok());
    Start(/*bind_all_tokens=*/false, /*with_anchors=*/true);
  }

  void Start(bool bind_all_tokens, bool with_anchors) {
    server_.reset();
    state_ = std::make_unique<store::StateCache>(*store_);
    AuthServerOptions options;
    options.issuer = kIssuer;
    options.mtls.enabled = true;
    options.mtls.endpoint_base = "https://auth.example.test:8443";
    options.mtls.bind_all_tokens = bind_all_tokens;
    if (with_anchors) {
      options.mtls.trust_anchors = std::make_shared<const crypto::TrustAnchors>(
          *crypto::TrustAnchors::FromPem(ca_.certificate_pem));
    }
    server_ = std::make_unique<AuthorizationServer>(
        options, *store_, *state_, SecretHasher(hash_key_), clock_, nullptr, nullptr);
    ASSERT_TRUE(server_->Maintain(/*at_startup=*/true).ok());
  }

  void AddTlsClient(const std::string& id, const std::string& name, const std::string& field,
                    const std::string& value) {
    ASSERT_TRUE(ValidateTlsClientAuth(field, value).ok()) << field;
    store::ClientRecord c;
    c.client_id = id;
    c.name = name;
    c.scopes = {"athena-api/query.read"};
    c.auth_method = "tls_client_auth";
    c.tls_client_auth_field = field;
    c.tls_client_auth_value = value;
    ASSERT_TRUE(store_->InsertClient(c).ok());
  }

  Answer Post(const std::string& body, const std::vector<std::string>* chain,
              const std::string& authorization = "") {
    body_ = body;
    auth_ = authorization;
    EndpointResult r =
        server_->Token({"application/x-www-form-urlencoded", auth_, body_, "1.2.3.4", chain});
    Answer a;
    if (r.ok()) {
      a.status = r->status;
      a.body = json::parse(r->body);
      return a;
    }
    http::Response rendered = http::ErrorResponse(r.status(), http::ErrorFamily::kOAuth);
    a.status = rendered.status;
    a.body = json::parse(rendered.body);
    return a;
  }
  Answer WithCertificate(const std::string& client_id, const std::string& der) {
    chain_ = {der};
    return Post("grant_type=client_credentials&client_id=" + client_id, &chain_);
  }
  std::string Basic(const std::string& id) const {
    return "Basic " + Base64Encode(id + ":" + std::string(secret_.Reveal()));
  }

  static json Claims(const Answer& a) {
    std::string token = a.body.value("access_token", "");
    size_t first = token.find('.');
    size_t second = token.find('.', first + 1);
    return json::parse(*Base64UrlDecode(token.substr(first + 1, second - first - 1)));
  }

  void ExpectRefused(const Answer& a, std::string_view description) {
    EXPECT_EQ(a.status, 401) << a.body.dump();
    EXPECT_EQ(a.error(), "invalid_client") << a.body.dump();
    EXPECT_NE(a.description().find(description), std::string::npos)
        << "want \"" << description << "\" in: " << a.description();
  }

  crypto::IssuedCertificate ca_, other_ca_, self_signed_;
  std::unique_ptr<store::Store> store_;
  SecretString hash_key_{RandomBytes(32)};
  SecretString secret_;
  FakeClock clock_{static_cast<int64_t>(std::time(nullptr))};
  std::unique_ptr<store::StateCache> state_;
  std::unique_ptr<AuthorizationServer> server_;
  std::string body_, auth_;
  std::vector<std::string> chain_;
};

TEST_F(TlsClientAuthTest, SubjectDnMatchIssuesATokenBoundToTheCertificate) {
  std::string der =
      Der(Issue(&ca_, {.subject = {{"C", "DE"}, {"O", "Example, Inc."}, {"CN", "dn-service"}}}));
  Answer a = WithCertificate("dn-id", der);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body.value("token_type", ""), "Bearer");
  // A tls_client_auth token is bound when the server binds all or the client
  // asks; here neither: no cnf.
  EXPECT_FALSE(Claims(a).contains("cnf"));
  Start(/*bind_all_tokens=*/true, /*with_anchors=*/true);
  a = WithCertificate("dn-id", der);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(Claims(a)["cnf"]["x5t#S256"], CertificateThumbprint(der));
}

TEST_F(TlsClientAuthTest, EverySanTypeMatches) {
  const std::pair<const char*, crypto::CertificateRequest> cases[] = {
      {"dns-id", {.subject = {{"CN", "x"}}, .dns_names = {"SVC.example.com"}}},
      {"uri-id", {.subject = {{"CN", "x"}}, .uris = {"spiffe://example.com/svc"}}},
      {"ip-id", {.subject = {{"CN", "x"}}, .ip_addresses = {"2001:db8:0::1"}}},
      {"email-id", {.subject = {{"CN", "x"}}, .emails = {"svc@example.com"}}},
  };
  for (const auto& [id, request] : cases) {
    Answer a = WithCertificate(id, Der(Issue(&ca_, request)));
    EXPECT_EQ(a.status, 200) << id << ": " << a.body.dump();
  }
}

TEST_F(TlsClientAuthTest, WrongSubjectOrSanIsInvalidClient) {
  ExpectRefused(WithCertificate("dn-id", Der(Issue(&ca_, {.subject = {{"CN", "dn-service"}}}))),
                "is not the tls_client_auth_subject_dn registered for client 'dn-service'");
  ExpectRefused(WithCertificate("dns-id", Der(Issue(&ca_, {.subject = {{"CN", "x"}},
                                                           .dns_names = {"other.example.com"}}))),
                "no subject alternative name matching the tls_client_auth_san_dns");
  ExpectRefused(
      WithCertificate(
          "ip-id", Der(Issue(&ca_, {.subject = {{"CN", "x"}}, .ip_addresses = {"2001:db8::2"}}))),
      "tls_client_auth_san_ip");
  ExpectRefused(
      WithCertificate("uri-id", Der(Issue(&ca_, {.subject = {{"CN", "x"}},
                                                 .dns_names = {"spiffe://example.com/svc"}}))),
      "tls_client_auth_san_uri");
}

TEST_F(TlsClientAuthTest, CertificateOfAnotherCaOrSelfSignedIsInvalidClient) {
  ExpectRefused(
      WithCertificate("dns-id", Der(Issue(&other_ca_, {.subject = {{"CN", "x"}},
                                                       .dns_names = {"svc.example.com"}}))),
      "does not chain to a trusted certificate authority");
  ExpectRefused(WithCertificate("dns-id", Der(Issue(nullptr, {.subject = {{"CN", "x"}},
                                                              .dns_names = {"svc.example.com"}}))),
                "does not chain to a trusted certificate authority");
}

TEST_F(TlsClientAuthTest, NoTrustAnchorsSaysSo) {
  Start(/*bind_all_tokens=*/false, /*with_anchors=*/false);
  ExpectRefused(
      WithCertificate(
          "dns-id", Der(Issue(&ca_, {.subject = {{"CN", "x"}}, .dns_names = {"svc.example.com"}}))),
      "no certificate authorities for client certificates");
}

TEST_F(TlsClientAuthTest, SelfSignedRegisteredCertificateIsAcceptedAnotherIsNot) {
  Answer a = WithCertificate("self-id", Der(self_signed_));
  EXPECT_EQ(a.status, 200) << a.body.dump();
  ExpectRefused(WithCertificate("self-id", Der(Issue(nullptr, {.subject = {{"CN", "self"}}}))),
                "is not one registered for client 'self-service'");
  // A CA-issued certificate is not the registered one either.
  ExpectRefused(WithCertificate("self-id", Der(Issue(&ca_, {.subject = {{"CN", "self"}}}))),
                "is not one registered");
}

TEST_F(TlsClientAuthTest, NoCertificateIsNotMutualTls) {
  Answer a = Post("grant_type=client_credentials&client_id=dns-id", nullptr);
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.error(), "invalid_client");
  EXPECT_NE(a.description().find("TLS client certificate (tls_client_auth"), std::string::npos)
      << a.description();
}

TEST_F(TlsClientAuthTest, OtherClientsCannotUseACertificate) {
  // A secret client sending only client_id and a certificate.
  ExpectRefused(WithCertificate("secret-id", Der(self_signed_)),
                "'secret-service' is not registered for tls_client_auth");
  // An mTLS client cannot use a secret (it has none).
  chain_ = {Der(self_signed_)};
  Answer a = Post("grant_type=client_credentials", &chain_, Basic("self-id"));
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.description(), "invalid client credentials");
}

TEST_F(TlsClientAuthTest, FailuresCountTowardTheLimits) {
  std::string wrong = Der(Issue(nullptr, {.subject = {{"CN", "nobody"}}}));
  int refused = 0, limited = 0;
  for (int i = 0; i < 40; ++i) {
    Answer a = WithCertificate("self-id", wrong);
    if (a.error() == "invalid_client") ++refused;
    if (a.status == 429) ++limited;
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(limited, 0) << "certificate failures must be rate limited like wrong secrets";
}

TEST_F(TlsClientAuthTest, SecretClientOverTlsGetsABoundTokenWhenTheServerBindsAll) {
  chain_ = {Der(self_signed_)};
  Answer a = Post("grant_type=client_credentials", &chain_, Basic("secret-id"));
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_FALSE(Claims(a).contains("cnf"));
  Start(/*bind_all_tokens=*/true, /*with_anchors=*/true);
  a = Post("grant_type=client_credentials", &chain_, Basic("secret-id"));
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(Claims(a)["cnf"]["x5t#S256"], CertificateThumbprint(chain_[0]));
  // Without a certificate: an ordinary token.
  a = Post("grant_type=client_credentials", nullptr, Basic("secret-id"));
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_FALSE(Claims(a).contains("cnf"));
}

TEST_F(TlsClientAuthTest, ClientRegisteredForBoundTokensNeedsACertificate) {
  Answer a = Post("grant_type=client_credentials", nullptr, Basic("bound-id"));
  EXPECT_EQ(a.status, 400) << a.body.dump();
  EXPECT_EQ(a.error(), "invalid_request");
  EXPECT_NE(a.description().find("tls_client_certificate_bound_access_tokens"), std::string::npos);
  chain_ = {Der(self_signed_)};
  a = Post("grant_type=client_credentials", &chain_, Basic("bound-id"));
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(Claims(a)["cnf"]["x5t#S256"], CertificateThumbprint(chain_[0]));
}

TEST_F(TlsClientAuthTest, IntrospectionShowsTheConfirmation) {
  Start(/*bind_all_tokens=*/true, /*with_anchors=*/true);
  chain_ = {Der(self_signed_)};
  Answer a = Post("grant_type=client_credentials", &chain_, Basic("secret-id"));
  ASSERT_EQ(a.status, 200);
  body_ = "token=" + a.body.value("access_token", "");
  auth_ = Basic("secret-id");
  EndpointResult r =
      server_->Introspect({"application/x-www-form-urlencoded", auth_, body_, "1.2.3.4", nullptr});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  json doc = json::parse(r->body);
  EXPECT_EQ(doc["active"], true);
  EXPECT_EQ(doc["cnf"]["x5t#S256"], CertificateThumbprint(chain_[0]));
}

TEST_F(TlsClientAuthTest, MetadataListsTheMethodsBindingAndAliases) {
  json doc = json::parse(server_->MetadataJson());
  std::vector<std::string> methods = doc["token_endpoint_auth_methods_supported"];
  EXPECT_NE(std::find(methods.begin(), methods.end(), "tls_client_auth"), methods.end());
  EXPECT_NE(std::find(methods.begin(), methods.end(), "self_signed_tls_client_auth"),
            methods.end());
  EXPECT_EQ(doc["tls_client_certificate_bound_access_tokens"], true);
  EXPECT_EQ(doc["mtls_endpoint_aliases"]["token_endpoint"],
            "https://auth.example.test:8443/oauth2/token");
  EXPECT_EQ(doc["issuer"], kIssuer);
}

TEST(TlsClientAuthRegistrationTest, ValidatesFieldAndValue) {
  EXPECT_TRUE(ValidateTlsClientAuth("tls_client_auth_subject_dn", "CN=a,O=b").ok());
  EXPECT_EQ(ValidateTlsClientAuth("tls_client_auth_subject_dn", "a b").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTlsClientAuth("tls_client_auth_san_ip", "host").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTlsClientAuth("tls_client_auth_cn", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTlsClientAuth("tls_client_auth_san_dns", "").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateSelfSignedJwks("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateSelfSignedJwks(R"({"keys":[{"kty":"EC"}]})").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateSelfSignedJwks(R"({"keys":[{"kty":"EC","x5c":["AAAA"]}]})").code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakegate::oauth
