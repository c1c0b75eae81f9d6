#include "oauth/client_auth.h"

#include "common/base64url.h"

namespace lakegate::oauth {

Result<std::string> SingleFormValue(const FormFields& form, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [key, value] : form) {
    if (key != name) continue;
    if (found) return InvalidArgumentError("parameter '" + std::string(name) + "' is repeated");
    found = &value;
  }
  return found ? *found : std::string();
}

Result<ClientCredentials> ExtractClientCredentials(std::string_view authorization_header,
                                                   const FormFields& form) {
  LG_ASSIGN_OR_RETURN(std::string form_id, SingleFormValue(form, "client_id"));
  LG_ASSIGN_OR_RETURN(std::string form_secret, SingleFormValue(form, "client_secret"));
  bool has_form_secret = false;
  for (const auto& field : form) has_form_secret |= field.first == "client_secret";

  ClientCredentials out;
  if (!authorization_header.empty()) {
    std::string_view h = TrimWhitespace(authorization_header);
    size_t space = h.find(' ');
    if (space == std::string_view::npos || !EqualsIgnoreCase(h.substr(0, space), "basic")) {
      return InvalidArgumentError(
          "unsupported Authorization scheme; use Basic (client_secret_basic) or send "
          "client_id and client_secret in the form body");
    }
    if (has_form_secret) {
      return InvalidArgumentError(
          "client credentials sent both in the Authorization header and in the body; use one "
          "method");
    }
    auto decoded = Base64Decode(TrimWhitespace(h.substr(space + 1)));
    if (!decoded) return InvalidArgumentError("malformed Basic credentials (not base64)");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) {
      return InvalidArgumentError("malformed Basic credentials (expected client_id:client_secret)");
    }
    auto id = FormUrlDecode(std::string_view(*decoded).substr(0, colon));
    auto secret = FormUrlDecode(std::string_view(*decoded).substr(colon + 1));
    if (!id || !secret) return InvalidArgumentError("malformed percent-encoding in Basic credentials");
    // A client_id in the body must agree with the one in the header.
    if (!form_id.empty() && form_id != *id) {
      return InvalidArgumentError("client_id in the body does not match the Authorization header");
    }
    out.method = AuthMethod::kClientSecretBasic;
    out.client_id = std::move(*id);
    out.secret = SecretString(std::move(*secret));
    return out;
  }
  if (has_form_secret) {
    out.method = AuthMethod::kClientSecretPost;
    out.client_id = std::move(form_id);
    out.secret = SecretString(std::move(form_secret));
    return out;
  }
  out.client_id = std::move(form_id);  // a public client's id alone: not enough to authenticate
  return out;
}

}  // namespace lakegate::oauth
