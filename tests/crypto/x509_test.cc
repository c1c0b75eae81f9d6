#include "crypto/x509.h"

#include <gtest/gtest.h>

#include <ctime>

#include "common/base64url.h"
#include "crypto/hash.h"

namespace lakegate::crypto {
namespace {

Certificate Leaf(const IssuedCertificate& issued) {
  Result<std::vector<Certificate>> certs = Certificate::ListFromPem(issued.certificate_pem);
  EXPECT_TRUE(certs.ok()) << certs.status().ToString();
  return (*certs)[0];
}

IssuedCertificate Ca(std::string_view name = "test CA") {
  Result<IssuedCertificate> ca = MakeCertificateAuthority(name, 30);
  EXPECT_TRUE(ca.ok()) << ca.status().ToString();
  return *ca;
}

IssuedCertificate ClientCert(const IssuedCertificate* ca, CertificateRequest request) {
  request.server = false;
  Result<IssuedCertificate> issued = IssueCertificate(ca, request);
  EXPECT_TRUE(issued.ok()) << issued.status().ToString();
  return *issued;
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

TEST(CertificateTest, ThumbprintIsBase64UrlSha256OfTheDer) {
  IssuedCertificate ca = Ca();
  Certificate cert = Leaf(ca);
  EXPECT_EQ(cert.Thumbprint(), Base64UrlEncode(Sha256(cert.der())));
  Result<Certificate> again = Certificate::FromDer(cert.der());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Thumbprint(), cert.Thumbprint());
  EXPECT_EQ(cert.KeyType(), "EC");
}

TEST(CertificateTest, FromDerRefusesGarbageAndTrailingBytes) {
  EXPECT_EQ(Certificate::FromDer("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Certificate::FromDer("not a certificate").status().code(),
            StatusCode::kInvalidArgument);
  Certificate cert = Leaf(Ca());
  EXPECT_EQ(Certificate::FromDer(cert.der() + "x").status().code(), StatusCode::kInvalidArgument);
}

TEST(CertificateTest, ListFromPemNeedsACertificate) {
  Result<std::vector<Certificate>> none = Certificate::ListFromPem("hello");
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST(CertificateTest, SubjectDnMatchesRfc4514InReverseOrder) {
  IssuedCertificate ca = Ca();
  Certificate cert = Leaf(ClientCert(
      &ca, {.subject = {{"C", "DE"}, {"O", "Example, Inc."}, {"CN", "billing"}}, .days = 1}));
  EXPECT_EQ(cert.SubjectDn(), "CN=billing,O=Example\\, Inc.,C=DE");
  EXPECT_TRUE(cert.SubjectDnMatches("CN=billing,O=Example\\, Inc.,C=DE"));
  // Attribute types by any name or OID; values ignore case and spaces around.
  EXPECT_TRUE(cert.SubjectDnMatches("cn=Billing, organizationName=Example\\2C Inc., 2.5.4.6=de"));
  // Order, missing or extra RDNs, other values: no match.
  EXPECT_FALSE(cert.SubjectDnMatches("C=DE,O=Example\\, Inc.,CN=billing"));
  EXPECT_FALSE(cert.SubjectDnMatches("CN=billing,O=Example\\, Inc."));
  EXPECT_FALSE(cert.SubjectDnMatches("CN=billing,O=Example\\, Inc.,C=DE,DC=x"));
  EXPECT_FALSE(cert.SubjectDnMatches("CN=billing2,O=Example\\, Inc.,C=DE"));
  EXPECT_FALSE(cert.SubjectDnMatches("CN=billing,O=Example,C=DE"));
  // Malformed strings never match.
  EXPECT_FALSE(cert.SubjectDnMatches(""));
  EXPECT_FALSE(cert.SubjectDnMatches("billing"));
  EXPECT_FALSE(cert.SubjectDnMatches("CN=#0403616263"));
  EXPECT_FALSE(cert.SubjectDnMatches("XYZ=billing,O=Example\\, Inc.,C=DE"));
}

TEST(CertificateTest, IsDistinguishedName) {
  EXPECT_TRUE(IsDistinguishedName("CN=a,O=b"));
  EXPECT_TRUE(IsDistinguishedName("CN=a+UID=7,O=b"));
  EXPECT_FALSE(IsDistinguishedName("a"));
  EXPECT_FALSE(IsDistinguishedName("NOPE=a"));
  EXPECT_FALSE(IsDistinguishedName("CN=a,"));
}

TEST(CertificateTest, SubjectAltNamesByType) {
  IssuedCertificate ca = Ca();
  Certificate cert = Leaf(ClientCert(&ca, {.subject = {{"CN", "svc"}},
                                           .dns_names = {"svc.example.com"},
                                           .ip_addresses = {"10.1.2.3", "2001:db8::1"},
                                           .uris = {"spiffe://example.com/svc"},
                                           .emails = {"svc@example.com"}}));
  EXPECT_EQ(cert.SubjectAltNames(SanType::kDns), std::vector<std::string>{"svc.example.com"});
  EXPECT_EQ(cert.SubjectAltNames(SanType::kIp),
            (std::vector<std::string>{"10.1.2.3", "2001:db8::1"}));
  EXPECT_EQ(cert.SubjectAltNames(SanType::kUri),
            std::vector<std::string>{"spiffe://example.com/svc"});
  EXPECT_EQ(cert.SubjectAltNames(SanType::kEmail), std::vector<std::string>{"svc@example.com"});
  EXPECT_TRUE(Leaf(ca).SubjectAltNames(SanType::kDns).empty());
}

TEST(CertificateTest, IpAddressBytes) {
  EXPECT_EQ(IpAddressBytes("127.0.0.1").size(), 4u);
  EXPECT_EQ(IpAddressBytes("::1"), IpAddressBytes("0:0::1"));
  EXPECT_EQ(IpAddressBytes("::1").size(), 16u);
  EXPECT_TRUE(IpAddressBytes("localhost").empty());
}

TEST(TrustAnchorsTest, VerifiesAChainToAnAnchor) {
  IssuedCertificate ca = Ca();
  Result<TrustAnchors> anchors = TrustAnchors::FromPem(ca.certificate_pem);
  ASSERT_TRUE(anchors.ok()) << anchors.status().ToString();
  Certificate client = Leaf(ClientCert(&ca, {.subject = {{"CN", "svc"}}}));
  EXPECT_TRUE(anchors->VerifyClientChain({client.der()}, Now()).ok());
}

TEST(TrustAnchorsTest, RefusesAnotherCaASelfSignedCertificateAndNone) {
  IssuedCertificate ca = Ca();
  IssuedCertificate other = Ca("other CA");
  Result<TrustAnchors> anchors = TrustAnchors::FromPem(ca.certificate_pem);
  ASSERT_TRUE(anchors.ok());
  Certificate foreign = Leaf(ClientCert(&other, {.subject = {{"CN", "svc"}}}));
  Status refused = anchors->VerifyClientChain({foreign.der()}, Now());
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("does not chain to a trusted certificate authority"),
            std::string::npos)
      << refused.message();
  Certificate self_signed = Leaf(ClientCert(nullptr, {.subject = {{"CN", "svc"}}}));
  EXPECT_EQ(anchors->VerifyClientChain({self_signed.der()}, Now()).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(anchors->VerifyClientChain({}, Now()).code(), StatusCode::kPermissionDenied);
}

TEST(TrustAnchorsTest, RefusesAnExpiredCertificate) {
  IssuedCertificate ca = Ca();
  Result<TrustAnchors> anchors = TrustAnchors::FromPem(ca.certificate_pem);
  ASSERT_TRUE(anchors.ok());
  Certificate client = Leaf(ClientCert(&ca, {.subject = {{"CN", "svc"}}, .days = 1}));
  Status refused = anchors->VerifyClientChain({client.der()}, Now() + 3 * 86400);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("expired"), std::string::npos) << refused.message();
}

TEST(TrustAnchorsTest, RefusesAServerOnlyCertificateForClientAuthentication) {
  IssuedCertificate ca = Ca();
  Result<TrustAnchors> anchors = TrustAnchors::FromPem(ca.certificate_pem);
  ASSERT_TRUE(anchors.ok());
  Result<IssuedCertificate> server = IssueServerCertificate(ca, {"localhost"}, {"127.0.0.1"}, 1);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(anchors->VerifyClientChain({Leaf(*server).der()}, Now()).code(),
            StatusCode::kPermissionDenied);
}

TEST(TrustAnchorsTest, FromPemNeedsCertificates) {
  EXPECT_EQ(TrustAnchors::FromPem("").status().code(), StatusCode::kInvalidArgument);
}

TEST(IssueServerCertificateTest, NamesTheHostsAndChainsToTheCa) {
  IssuedCertificate ca = Ca();
  Result<IssuedCertificate> server =
      IssueServerCertificate(ca, {"localhost"}, {"127.0.0.1", "::1"}, 2);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  Certificate cert = Leaf(*server);
  EXPECT_EQ(cert.SubjectDn(), "CN=localhost");
  EXPECT_EQ(cert.SubjectAltNames(SanType::kIp), (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_NE(server->key_pem.Reveal().find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(IssueServerCertificate(ca, {}, {"not-an-ip"}, 1).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakegate::crypto
