// Form requests of the OAuth endpoints (application/x-www-form-urlencoded,
// RFC 6749 §4.4.2, RFC 7662 §2.1, RFC 7009 §2.1), parsed once into a typed
// value that client authentication and the endpoints read. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace lakegate::oauth {

// What an endpoint receives from the HTTP layer. Views into the request.
struct EndpointRequest {
  std::string_view content_type;
  std::string_view authorization;  // the Authorization header, "" if absent
  std::string_view body;
  std::string_view remote_address;
  // The TLS client certificates (DER, the client's own first), or null when
  // the request came without one (or over plain HTTP).
  const std::vector<std::string>* client_certificates = nullptr;
  // The DPoP header (RFC 9449): how many the request has, and the first one.
  size_t dpop_proofs = 0;
  std::string_view dpop_proof = {};
};

// Every name with all its values, in order.
using FormFields = std::vector<std::pair<std::string, std::string>>;

// Decodes one form component ('+' is a space, %XX escapes); nullopt on a
// malformed escape.
std::optional<std::string> FormUrlDecode(std::string_view s);

// Parses a form body. InvalidArgument on a malformed escape or more than
// `max_fields` fields.
Result<FormFields> ParseForm(std::string_view body, size_t max_fields = 64);

// A parsed form request.
struct FormRequest {
  FormFields fields;
  std::string_view authorization;
  std::string_view remote_address;
  const std::vector<std::string>* client_certificates = nullptr;  // as EndpointRequest's

  // The value of a field that may appear at most once (RFC 6749 §3.2); nullopt
  // when absent; InvalidArgument naming the field when repeated.
  Result<std::optional<std::string>> Single(std::string_view name) const;
  bool Has(std::string_view name) const;
};

// Checks the content type and parses the body. Failures are
// OAuthError::kInvalidRequest saying what to send instead.
Result<FormRequest> ParseFormRequest(const EndpointRequest& request);

}  // namespace lakegate::oauth
