#include "oauth/client_auth.h"

#include <algorithm>

#include "oauth/oauth_error.h"

namespace lakegate::oauth {

ClientAuthenticator::ClientAuthenticator(std::vector<std::unique_ptr<ClientAuthMethod>> methods,
                                         std::shared_ptr<FailedAuthLimits> limits,
                                         const Clock& clock)
    : methods_(std::move(methods)), clock_(clock), limits_(std::move(limits)) {}

std::vector<std::string> ClientAuthenticator::method_names() const {
  std::vector<std::string> names;
  for (const auto& method : methods_) {
    for (std::string_view name : method->metadata_names()) names.emplace_back(name);
  }
  return names;
}

bool ClientAuthenticator::MayBlock(const FormRequest& request) const {
  for (const auto& method : methods_) {
    if (method->blocks() && method->Present(request)) return true;
  }
  return false;
}

Result<ClientAuthenticator::Authenticated> ClientAuthenticator::Authenticate(
    const FormRequest& request, const store::StateSnapshot& state, std::string& claimed_client_id) {
  const ClientAuthMethod* used = nullptr;
  for (const auto& method : methods_) {
    if (!method->Present(request)) continue;
    if (used != nullptr) {
      return OAuthFailure(OAuthError::kInvalidRequest,
                          "client credentials sent with more than one method (" +
                              std::string(used->name()) + " and " + std::string(method->name()) +
                              "); use one");
    }
    used = method.get();
  }
  if (used == nullptr) {
    // A client_id alone (a public client) authenticates nothing.
    if (auto id = request.Single("client_id"); id.ok() && *id) claimed_client_id = **id;
    return OAuthFailure(OAuthError::kInvalidClient,
                        "client authentication required: send client_id and client_secret with "
                        "HTTP Basic (client_secret_basic) or in the form body "
                        "(client_secret_post), a signed client_assertion (private_key_jwt), or "
                        "client_id with a TLS client certificate (tls_client_auth, "
                        "self_signed_tls_client_auth)");
  }
  {
    Result<std::string> claimed = used->Claim(request);
    if (!claimed.ok()) {
      if (auto id = request.Single("client_id"); id.ok() && *id) claimed_client_id = **id;
      return claimed.status();
    }
    claimed_client_id = std::move(*claimed);
  }
  if (claimed_client_id.empty() || claimed_client_id.size() > 256) {
    return OAuthFailure(OAuthError::kInvalidClient, "invalid client credentials");
  }

  // An address that failed too often (for any client, or for this one) is
  // refused before anything is checked: it learns nothing more.
  const int64_t now_ms = clock_.NowMillis();
  const std::string_view address = request.remote_address;
  const int64_t refused_for = limits_->RefusedFor(claimed_client_id, address, now_ms);
  if (refused_for > 0) {
    return OAuthFailure(OAuthError::kRateLimited,
                        "too many failed client authentications from this address; retry after " +
                            std::to_string(refused_for) + " s")
        .WithRetryAfter(refused_for);
  }

  const store::ClientRecord* client = state.FindClient(claimed_client_id);
  Status verified = UnauthenticatedError("unknown client");
  if (client == nullptr) {
    used->VerifyUnknown(request);
  } else {
    verified = used->Verify(request, *client, clock_.NowSeconds());
  }
  if (!verified.ok()) {
    // A described failure (a malformed or expired assertion, a key fetch or
    // the replay store failing) is a mistake or our trouble, never a guessed
    // secret: it goes back as it is and does not count toward the limits.
    const bool described = verified.reason<OAuthError>() && client != nullptr;
    if (described && !used->counts_failures()) return verified;
    // The first `failed_per_minute_per_client` failures a minute stay 401.
    const int64_t slow_down = limits_->RecordFailure(claimed_client_id, address, now_ms);
    if (slow_down > 0) {
      // Failures in this client's name come from many places: tell every
      // guesser to back off, without refusing the client's correct secret.
      return OAuthFailure(OAuthError::kRateLimited,
                          "too many failed authentications for this client; retry after " +
                              std::to_string(slow_down) + " s")
          .WithRetryAfter(slow_down);
    }
    if (described) return verified;
    return OAuthFailure(OAuthError::kInvalidClient, "invalid client credentials");
  }
  // A method serving several names reports the one the client registered.
  std::string_view method = used->name();
  for (std::string_view name : used->metadata_names()) {
    if (name == client->auth_method) method = name;
  }
  return Authenticated{client, method};
}

}  // namespace lakegate::oauth
