#include "gateway/certificate_binding.h"

#include <iterator>

#include "common/base64url.h"
#include "crypto/hash.h"

namespace lakegate::gateway {
namespace {

// The description (the status message) is public: it names no secret, only
// what the client must do.
constexpr ReasonInfo Bound(std::string_view name) {
  return {.name = name, .public_code = "invalid_token", .challenge_error = "invalid_token"};
}

// Indexed by CertificateBindingFailure.
constexpr ReasonInfo kInfos[] = {
    Bound("certificate_bound_not_tls"),
    Bound("certificate_bound_no_certificate"),
    Bound("certificate_mismatch"),
};
static_assert(std::size(kInfos) ==
                  static_cast<size_t>(CertificateBindingFailure::kCertificateMismatch) + 1,
              "one ReasonInfo per CertificateBindingFailure");

constexpr ReasonDomain kDomain("certificate_binding", kInfos, static_cast<int>(std::size(kInfos)));

Status Refuse(CertificateBindingFailure reason, std::string message) {
  return Status(StatusCode::kUnauthenticated, reason, std::move(message));
}

}  // namespace

const ReasonDomain& ReasonDomainOf(CertificateBindingFailure) { return kDomain; }

Status CheckCertificateBinding(const Identity& identity, const http::Request& request) {
  if (identity.cnf_x5t_s256.empty()) return Status::Ok();
  if (!request.secure) {
    return Refuse(CertificateBindingFailure::kNotTls,
                  "the access token is bound to a TLS client certificate (RFC 8705); send it "
                  "over HTTPS with that certificate");
  }
  if (request.client_certificates == nullptr || request.client_certificates->empty()) {
    return Refuse(CertificateBindingFailure::kNoCertificate,
                  "the access token is bound to a TLS client certificate (RFC 8705) and none "
                  "was presented; connect with the certificate the token was issued to");
  }
  // Thumbprints of public certificates: a plain comparison leaks nothing.
  if (Base64UrlEncode(crypto::Sha256((*request.client_certificates)[0])) != identity.cnf_x5t_s256) {
    return Refuse(CertificateBindingFailure::kCertificateMismatch,
                  "the access token is bound to another TLS client certificate than the one "
                  "presented (cnf x5t#S256 does not match)");
  }
  return Status::Ok();
}

}  // namespace lakegate::gateway
