// Certificate-bound access tokens at the query API (RFC 8705 §3): a token
// whose "cnf" holds "x5t#S256" is accepted only over TLS from a client that
// presented the certificate with that SHA-256 thumbprint; a copy of the token
// is useless without the certificate's private key.
//
// Every refusal is kUnauthenticated with a CertificateBindingFailure reason:
// 401 with `WWW-Authenticate: Bearer error="invalid_token"` whose
// error_description says why (RFC 6750 §3.1). Pure; thread-safe.
#pragma once

#include "common/status.h"
#include "gateway/token_issuer.h"
#include "http/message.h"

namespace lakegate::gateway {

enum class CertificateBindingFailure {
  kNotTls,               // the bound token came over plain HTTP
  kNoCertificate,        // over TLS, but without a client certificate
  kCertificateMismatch,  // with another certificate than the one it is bound to
};

const ReasonDomain& ReasonDomainOf(CertificateBindingFailure);

// OK for a token that is not certificate-bound, or for a bound one presented
// with its certificate.
Status CheckCertificateBinding(const Identity& identity, const http::Request& request);

}  // namespace lakegate::gateway
