// Mutual-TLS client authentication (RFC 8705 §2): the client proves who it is
// with the certificate it presented in the TLS handshake, and sends its
// client_id in the form (and no other credential).
//   tls_client_auth (§2.1): the certificate chains to one of the configured
//     trust anchors and holds the one value the client registered: its subject
//     DN (tls_client_auth_subject_dn, RFC 4514) or a subject alternative name
//     (tls_client_auth_san_dns / _san_uri / _san_ip / _san_email).
//   self_signed_tls_client_auth (§2.2): the certificate is one the client
//     registered (x5c of a key in its inline JWK Set); no chain is checked.
// One method object serves both (the request looks the same; the client's
// registration says which applies). Every failure is invalid_client with an
// error_description that says what to fix, and is counted toward the
// failed-authentication limits like a wrong secret.
//
// Also here: the registration checks (stack file, CLI) and the x5t#S256
// thumbprint of RFC 8705 §3.1 for certificate-bound tokens.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/x509.h"
#include "oauth/client_auth.h"

namespace lakegate::oauth {

inline constexpr std::string_view kTlsClientAuth = "tls_client_auth";
inline constexpr std::string_view kSelfSignedTlsClientAuth = "self_signed_tls_client_auth";

// The client metadata names of RFC 8705 §2.1.2, one of which a tls_client_auth
// client registers.
inline constexpr std::string_view kTlsClientAuthFields[] = {
    "tls_client_auth_subject_dn", "tls_client_auth_san_dns", "tls_client_auth_san_uri",
    "tls_client_auth_san_ip", "tls_client_auth_san_email"};

struct MutualTlsOptions {
  // The certificate authorities tls_client_auth certificates must chain to;
  // null: no tls_client_auth client can authenticate (the description says
  // the server has none configured). self_signed_tls_client_auth needs none.
  std::shared_ptr<const crypto::TrustAnchors> trust_anchors;
};

std::unique_ptr<ClientAuthMethod> MakeMutualTls(MutualTlsOptions options);

// Whether `method` is one of the two mutual-TLS methods.
bool IsMutualTlsMethod(std::string_view method);

// Checks a tls_client_auth registration: `field` is one of
// kTlsClientAuthFields and `value` is well-formed for it (an RFC 4514 DN, an
// IP address, a non-empty name). InvalidArgument saying what is wrong.
Status ValidateTlsClientAuth(std::string_view field, std::string_view value);

// Checks a self_signed_tls_client_auth registration: an inline JWK Set with
// at least one key whose x5c holds a certificate (its first element, base64
// DER, is what the client must present). InvalidArgument saying what is wrong.
Status ValidateSelfSignedJwks(std::string_view jwks);

// The JWK Set registering `certificates` for self_signed_tls_client_auth: one
// key per certificate with its kty, x5c and x5t#S256.
std::string SelfSignedJwks(const std::vector<crypto::Certificate>& certificates);

// RFC 8705 §3.1: base64url(SHA-256(DER of the client certificate)).
std::string CertificateThumbprint(std::string_view der);

}  // namespace lakegate::oauth
