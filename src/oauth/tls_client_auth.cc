#include "oauth/tls_client_auth.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "common/base64url.h"
#include "common/strings.h"
#include "common/thread_annotations.h"
#include "crypto/hash.h"
#include "jose/jwk.h"
#include "oauth/oauth_error.h"

namespace lakegate::oauth {
namespace {

constexpr size_t kMaxRegisteredValueBytes = 1024;

Status Refuse(std::string description) {
  return OAuthFailure(OAuthError::kInvalidClient, std::move(description));
}

std::string Quote(std::string_view s) { return "\"" + std::string(s.substr(0, 256)) + "\""; }

crypto::SanType SanTypeOf(std::string_view field) {
  if (field == "tls_client_auth_san_uri") return crypto::SanType::kUri;
  if (field == "tls_client_auth_san_ip") return crypto::SanType::kIp;
  if (field == "tls_client_auth_san_email") return crypto::SanType::kEmail;
  return crypto::SanType::kDns;
}

// Whether a subject alternative name of the certificate is the registered
// value: DNS names ignore ASCII case (RFC 4343), IP addresses compare as
// addresses (so "::1" and "0:0::1" agree), URIs and e-mail addresses exactly.
bool SanMatches(crypto::SanType type, const std::string& presented, std::string_view registered) {
  switch (type) {
    case crypto::SanType::kDns:
      return EqualsIgnoreCase(presented, registered);
    case crypto::SanType::kIp: {
      const std::string a = crypto::IpAddressBytes(presented);
      return !a.empty() && a == crypto::IpAddressBytes(registered);
    }
    case crypto::SanType::kUri:
    case crypto::SanType::kEmail:
      return presented == registered;
  }
  return false;
}

// The registered certificates of self_signed_tls_client_auth clients (x5c of
// their inline JWK Set), parsed once per client and registration.
class RegisteredCertificates {
 public:
  Result<std::shared_ptr<const std::vector<std::string>>> For(const store::ClientRecord& client)
      EXCLUDES(mu_) {
    MutexLock lock(mu_);
    auto it = by_client_.find(client.client_id);
    if (it != by_client_.end() && it->second.jwks == client.jwks) return it->second.certificates;
    LG_ASSIGN_OR_RETURN(std::vector<std::string> der, jose::JwksCertificates(client.jwks));
    auto certificates = std::make_shared<const std::vector<std::string>>(std::move(der));
    // Bounded by the number of clients; a deleted client's entry goes when
    // the map would grow past it.
    if (by_client_.size() >= kMaxEntries) by_client_.clear();
    by_client_[client.client_id] = Entry{client.jwks, certificates};
    return certificates;
  }

 private:
  static constexpr size_t kMaxEntries = 10000;
  struct Entry {
    std::string jwks;
    std::shared_ptr<const std::vector<std::string>> certificates;
  };
  Mutex mu_;
  std::unordered_map<std::string, Entry> by_client_ GUARDED_BY(mu_);
};

class MutualTlsMethod final : public ClientAuthMethod {
 public:
  explicit MutualTlsMethod(MutualTlsOptions options) : options_(std::move(options)) {}

  std::string_view name() const override { return kTlsClientAuth; }
  std::vector<std::string_view> metadata_names() const override {
    return {kTlsClientAuth, kSelfSignedTlsClientAuth};
  }
  bool counts_failures() const override { return true; }

  // A certificate and a client_id with no other credential: what RFC 8705 §2
  // clients send. A certificate next to a secret or an assertion is not a
  // second method (the TLS layer asks every client for one): that request is
  // the other method's, and the certificate may still bind its token.
  bool Present(const FormRequest& request) const override {
    if (request.client_certificates == nullptr || request.client_certificates->empty()) {
      return false;
    }
    return request.Has("client_id") && !request.Has("client_secret") &&
           !request.Has("client_assertion") && !request.Has("client_assertion_type") &&
           request.authorization.empty();
  }

  Result<std::string> Claim(const FormRequest& request) const override {
    LG_ASSIGN_OR_RETURN(std::optional<std::string> id, request.Single("client_id"));
    return id.value_or("");
  }

  Status Verify(const FormRequest& request, const store::ClientRecord& client,
                int64_t now) const override {
    const std::vector<std::string>& chain = *request.client_certificates;
    if (client.auth_method == kTlsClientAuth) return VerifyPki(chain, client, now);
    if (client.auth_method == kSelfSignedTlsClientAuth) return VerifySelfSigned(chain, client);
    return Refuse("client '" + client.name + "' is not registered for tls_client_auth or " +
                  "self_signed_tls_client_auth; it authenticates with " + client.auth_method);
  }

  void VerifyUnknown(const FormRequest&) const override {}

 private:
  Status VerifyPki(const std::vector<std::string>& chain, const store::ClientRecord& client,
                   int64_t now) const {
    if (!options_.trust_anchors) {
      return Refuse(
          "tls_client_auth is not available: this server has no certificate authorities for "
          "client certificates (mtls.ca_file)");
    }
    Status trusted = options_.trust_anchors->VerifyClientChain(chain, now);
    if (!trusted.ok()) return Refuse(trusted.message());
    Result<crypto::Certificate> leaf = crypto::Certificate::FromDer(chain[0]);
    if (!leaf.ok()) return Refuse("the client certificate does not parse");
    const std::string& field = client.tls_client_auth_field;
    const std::string& value = client.tls_client_auth_value;
    if (field == "tls_client_auth_subject_dn") {
      if (leaf->SubjectDnMatches(value)) return Status::Ok();
      return Refuse("the client certificate's subject " + Quote(leaf->SubjectDn()) +
                    " is not the tls_client_auth_subject_dn registered for client '" + client.name +
                    "'");
    }
    if (std::find(std::begin(kTlsClientAuthFields), std::end(kTlsClientAuthFields), field) ==
        std::end(kTlsClientAuthFields)) {
      return Refuse("client '" + client.name +
                    "' has no tls_client_auth subject or SAN registered; register one");
    }
    const crypto::SanType type = SanTypeOf(field);
    for (const std::string& san : leaf->SubjectAltNames(type)) {
      if (SanMatches(type, san, value)) return Status::Ok();
    }
    return Refuse("the client certificate has no subject alternative name matching the " + field +
                  " registered for client '" + client.name + "'");
  }

  Status VerifySelfSigned(const std::vector<std::string>& chain,
                          const store::ClientRecord& client) const {
    Result<std::shared_ptr<const std::vector<std::string>>> registered = certificates_.For(client);
    if (!registered.ok()) {
      return Refuse("the registered certificates of client '" + client.name +
                    "' are unusable: " + registered.status().message());
    }
    // Certificates are public: a plain comparison leaks nothing.
    for (const std::string& der : **registered) {
      if (der == chain[0]) return Status::Ok();
    }
    return Refuse("the client certificate is not one registered for client '" + client.name +
                  "' (x5c in its jwks)");
  }

  const MutualTlsOptions options_;
  mutable RegisteredCertificates certificates_;
};

}  // namespace

std::unique_ptr<ClientAuthMethod> MakeMutualTls(MutualTlsOptions options) {
  return std::make_unique<MutualTlsMethod>(std::move(options));
}

bool IsMutualTlsMethod(std::string_view method) {
  return method == kTlsClientAuth || method == kSelfSignedTlsClientAuth;
}

Status ValidateTlsClientAuth(std::string_view field, std::string_view value) {
  if (std::find(std::begin(kTlsClientAuthFields), std::end(kTlsClientAuthFields), field) ==
      std::end(kTlsClientAuthFields)) {
    return InvalidArgumentError(
        "a tls_client_auth client registers exactly one of tls_client_auth_subject_dn, "
        "tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip or "
        "tls_client_auth_san_email");
  }
  if (value.empty() || value.size() > kMaxRegisteredValueBytes) {
    return InvalidArgumentError(std::string(field) + " must be 1 to 1024 characters");
  }
  if (field == "tls_client_auth_subject_dn" && !crypto::IsDistinguishedName(value)) {
    return InvalidArgumentError(
        "tls_client_auth_subject_dn " + Quote(value) +
        " is not an RFC 4514 distinguished name; write it like \"CN=svc,O=Example,C=DE\"");
  }
  if (field == "tls_client_auth_san_ip" && crypto::IpAddressBytes(value).empty()) {
    return InvalidArgumentError("tls_client_auth_san_ip " + Quote(value) +
                                " is not an IPv4 or IPv6 address");
  }
  return Status::Ok();
}

Status ValidateSelfSignedJwks(std::string_view jwks) {
  if (jwks.empty()) {
    return InvalidArgumentError(
        "a self_signed_tls_client_auth client needs its certificate: a JWK Set whose keys carry "
        "it in x5c (lakegate client create --cert FILE writes one)");
  }
  Result<std::vector<std::string>> certificates = jose::JwksCertificates(jwks);
  if (!certificates.ok()) return InvalidArgumentError("jwks: " + certificates.status().message());
  if (certificates->empty()) {
    return InvalidArgumentError(
        "jwks has no key with x5c; self_signed_tls_client_auth needs the client's certificate "
        "in x5c");
  }
  for (const std::string& der : *certificates) {
    if (!crypto::Certificate::FromDer(der).ok()) {
      return InvalidArgumentError("jwks: an x5c certificate is not a DER X.509 certificate");
    }
  }
  return Status::Ok();
}

std::string SelfSignedJwks(const std::vector<crypto::Certificate>& certificates) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < certificates.size(); ++i) {
    const crypto::Certificate& cert = certificates[i];
    if (i > 0) out += ',';
    std::string kty = cert.KeyType();
    out += "{";
    if (!kty.empty()) out += "\"kty\":" + JsonQuote(kty) + ",";
    out += "\"use\":\"sig\",\"x5c\":[" + JsonQuote(Base64Encode(cert.der())) +
           "],\"x5t#S256\":" + JsonQuote(cert.Thumbprint()) + "}";
  }
  return out + "]}";
}

std::string CertificateThumbprint(std::string_view der) {
  return Base64UrlEncode(crypto::Sha256(der));
}

}  // namespace lakegate::oauth
