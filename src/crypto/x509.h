// X.509 certificates for mutual TLS (RFC 8705): a client certificate's
// thumbprint, subject and subject alternative names, the check of its chain
// against configured trust anchors, and the small certificate authority the
// demo makes for its HTTPS port. OpenSSL stays inside this module.
//
// Certificate and TrustAnchors are immutable once made and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret_string.h"
#include "common/status.h"

namespace lakegate::crypto {

// The subject alternative name types RFC 8705 §2.1.2 matches on.
enum class SanType { kDns, kUri, kIp, kEmail };

class Certificate {
 public:
  // One DER-encoded certificate. InvalidArgument when `der` is not exactly that.
  static Result<Certificate> FromDer(std::string_view der);
  // Every certificate of PEM text, in order. InvalidArgument when the text
  // holds none or a malformed one.
  static Result<std::vector<Certificate>> ListFromPem(std::string_view pem);

  Certificate(const Certificate&) = default;
  Certificate& operator=(const Certificate&) = default;
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  ~Certificate();

  const std::string& der() const;
  // base64url(SHA-256(DER)): the x5t#S256 confirmation of RFC 8705 §3.1.
  std::string Thumbprint() const;
  // The subject as an RFC 4514 string (UTF-8), e.g. "CN=svc,O=Example,C=DE".
  std::string SubjectDn() const;
  // Whether the subject equals the RFC 4514 string `dn`: the same RDNs in the
  // same order, attribute types by OID (short names, long names or dotted
  // OIDs), values compared ignoring ASCII case and surrounding spaces (the
  // caseIgnoreMatch most DN attributes use). False when `dn` does not parse.
  bool SubjectDnMatches(std::string_view dn) const;
  // The subject alternative names of `type`: dNSName, uniformResourceIdentifier
  // and rfc822Name as their text, iPAddress as its textual form ("10.0.0.1",
  // "2001:db8::1").
  std::vector<std::string> SubjectAltNames(SanType type) const;
  // "EC", "RSA" or "OKP" (the JWK kty of its public key); "" for others.
  std::string KeyType() const;
  std::string ToPem() const;

 private:
  friend class TrustAnchors;
  struct Impl;
  explicit Certificate(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Whether an RFC 4514 string parses as a distinguished name (for registration).
bool IsDistinguishedName(std::string_view dn);
// The canonical binary form of an IPv4 or IPv6 address text; "" when `text`
// is neither.
std::string IpAddressBytes(std::string_view text);

// Certificate authorities that client certificates must chain to.
class TrustAnchors {
 public:
  // The certificates of a PEM file's text. InvalidArgument when it holds none
  // or a malformed one.
  static Result<TrustAnchors> FromPem(std::string_view pem);
  TrustAnchors(TrustAnchors&&) noexcept;
  TrustAnchors& operator=(TrustAnchors&&) noexcept;
  ~TrustAnchors();

  // Verifies `chain` (DER, the leaf first, then the intermediates the client
  // sent) up to one of the anchors at Unix time `now`, for TLS client
  // authentication (an extendedKeyUsage, when present, must allow clientAuth).
  // PermissionDenied saying why when it does not verify.
  Status VerifyClientChain(const std::vector<std::string>& chain, int64_t now) const;

 private:
  struct Impl;
  explicit TrustAnchors(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A certificate and its private key (PKCS#8), both PEM.
struct IssuedCertificate {
  std::string certificate_pem;
  SecretString key_pem;
};

// A self-signed certificate authority (EC P-256, basicConstraints CA:TRUE,
// keyCertSign) named `common_name`, valid for `days`.
Result<IssuedCertificate> MakeCertificateAuthority(std::string_view common_name, int days);

// What a new end-entity certificate says.
struct CertificateRequest {
  // The subject's attributes in encoding order (the reverse of RFC 4514's),
  // e.g. {{"C", "DE"}, {"O", "Example"}, {"CN", "svc"}}; each its own RDN.
  std::vector<std::pair<std::string, std::string>> subject = {};
  // subjectAltName entries.
  std::vector<std::string> dns_names = {}, ip_addresses = {}, uris = {}, emails = {};
  bool server = true;  // extendedKeyUsage serverAuth; false: clientAuth
  int days = 365;
};

// An end-entity certificate (EC P-256) for `request`, signed by `ca`, or
// self-signed when `ca` is null. InvalidArgument when `ca` does not load or
// a subject attribute or IP address does not parse.
Result<IssuedCertificate> IssueCertificate(const IssuedCertificate* ca,
                                           const CertificateRequest& request);

// A TLS server certificate signed by `ca` for the DNS names and IP addresses
// given (subjectAltName; the first one is the CN), valid for `days`.
Result<IssuedCertificate> IssueServerCertificate(const IssuedCertificate& ca,
                                                 const std::vector<std::string>& dns_names,
                                                 const std::vector<std::string>& ip_addresses,
                                                 int days);

}  // namespace lakegate::crypto
