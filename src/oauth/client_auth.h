// Client authentication input (RFC 6749 §2.3.1): extracts the client's
// credentials from an Authorization: Basic header or from the form body.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/secret_string.h"
#include "common/status.h"
#include "common/strings.h"

namespace lakegate::oauth {

enum class AuthMethod { kNone, kClientSecretBasic, kClientSecretPost };

struct ClientCredentials {
  AuthMethod method = AuthMethod::kNone;
  std::string client_id;
  SecretString secret;
};

// Returns the presented credentials (method kNone when there are none).
// InvalidArgument when both methods are used at once (RFC 6749 §2.3: "MUST NOT
// use more than one authentication method in each request"), when the Basic
// header is malformed, or when a form credential appears twice.
// Per RFC 6749 §2.3.1 the id and secret inside Basic are form-urlencoded.
Result<ClientCredentials> ExtractClientCredentials(std::string_view authorization_header,
                                                   const FormFields& form);

// The value of a form field that must appear at most once. Returns "" when
// absent, InvalidArgument naming the field when repeated (RFC 6749 §3.2).
Result<std::string> SingleFormValue(const FormFields& form, std::string_view name);

}  // namespace lakegate::oauth
