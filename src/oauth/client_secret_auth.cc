#include "oauth/client_secret_auth.h"

#include "common/base64url.h"
#include "common/strings.h"
#include "oauth/oauth_error.h"
#include "oauth/private_key_jwt.h"

namespace lakegate::oauth {
namespace {

constexpr size_t kMaxSecretBytes = 1024;

// The decoded id and secret of an `Authorization: Basic` header.
struct BasicCredentials {
  std::string client_id;
  std::string secret;
};

Result<std::optional<BasicCredentials>> ReadBasic(const FormRequest& request) {
  if (request.authorization.empty()) return std::optional<BasicCredentials>();
  std::string_view h = TrimWhitespace(request.authorization);
  size_t space = h.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoreCase(h.substr(0, space), "basic")) {
    return OAuthFailure(OAuthError::kInvalidRequest,
                        "unsupported Authorization scheme; use Basic (client_secret_basic) or send "
                        "client_id and client_secret in the form body");
  }
  std::optional<std::string> decoded = Base64Decode(TrimWhitespace(h.substr(space + 1)));
  if (!decoded) {
    return OAuthFailure(OAuthError::kInvalidRequest, "malformed Basic credentials (not base64)");
  }
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return OAuthFailure(OAuthError::kInvalidRequest,
                        "malformed Basic credentials (expected client_id:client_secret)");
  }
  std::optional<std::string> id = FormUrlDecode(std::string_view(*decoded).substr(0, colon));
  std::optional<std::string> secret = FormUrlDecode(std::string_view(*decoded).substr(colon + 1));
  if (!id || !secret) {
    return OAuthFailure(OAuthError::kInvalidRequest,
                        "malformed percent-encoding in Basic credentials");
  }
  return std::optional<BasicCredentials>(BasicCredentials{std::move(*id), std::move(*secret)});
}

// The secret a request presents with `method`; "" when it presents none.
std::string PresentedSecret(const FormRequest& request, bool basic) {
  if (basic) {
    Result<std::optional<BasicCredentials>> credentials = ReadBasic(request);
    return credentials.ok() && *credentials ? (*credentials)->secret : std::string();
  }
  Result<std::optional<std::string>> secret = request.Single("client_secret");
  return secret.ok() && *secret ? **secret : std::string();
}

class ClientSecretMethod final : public ClientAuthMethod {
 public:
  ClientSecretMethod(const SecretHasher& hasher, bool basic) : hasher_(hasher), basic_(basic) {}

  std::string_view name() const override {
    return basic_ ? "client_secret_basic" : "client_secret_post";
  }

  bool Present(const FormRequest& request) const override {
    return basic_ ? !request.authorization.empty() : request.Has("client_secret");
  }

  Result<std::string> Claim(const FormRequest& request) const override {
    LG_ASSIGN_OR_RETURN(std::optional<std::string> form_id, request.Single("client_id"));
    if (basic_) {
      LG_ASSIGN_OR_RETURN(std::optional<BasicCredentials> credentials, ReadBasic(request));
      if (!credentials) return std::string();
      // A client_id in the body must agree with the one in the header.
      if (form_id && *form_id != credentials->client_id) {
        return OAuthFailure(OAuthError::kInvalidRequest,
                            "client_id in the body does not match the Authorization header");
      }
      return std::move(credentials->client_id);
    }
    LG_RETURN_IF_ERROR(request.Single("client_secret").status());
    return form_id.value_or("");
  }

  Status Verify(const FormRequest& request, const store::ClientRecord& client,
                int64_t now_seconds) const override {
    std::string secret = PresentedSecret(request, basic_);
    if (client.auth_method == kPrivateKeyJwt || client.secret_hash.empty()) {
      // A key client has no secret: it must not be reachable by one.
      hasher_.DummyVerify(secret);
      return UnauthenticatedError("the client does not authenticate with a secret");
    }
    if (secret.empty() || secret.size() > kMaxSecretBytes) {
      hasher_.DummyVerify(secret);
      return UnauthenticatedError("invalid client secret");
    }
    if (hasher_.Verify(secret, client.secret_hash)) return Status::Ok();
    if (!client.previous_secret_hash.empty() && now_seconds < client.previous_secret_expires_at &&
        hasher_.Verify(secret, client.previous_secret_hash)) {
      return Status::Ok();  // the rotation's grace period
    }
    return UnauthenticatedError("invalid client secret");
  }

  void VerifyUnknown(const FormRequest& request) const override {
    hasher_.DummyVerify(PresentedSecret(request, basic_));
  }

 private:
  const SecretHasher& hasher_;
  const bool basic_;
};

}  // namespace

std::unique_ptr<ClientAuthMethod> MakeClientSecretBasic(const SecretHasher& hasher) {
  return std::make_unique<ClientSecretMethod>(hasher, /*basic=*/true);
}

std::unique_ptr<ClientAuthMethod> MakeClientSecretPost(const SecretHasher& hasher) {
  return std::make_unique<ClientSecretMethod>(hasher, /*basic=*/false);
}

}  // namespace lakegate::oauth
