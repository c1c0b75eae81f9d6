#include "oauth/client_auth.h"

#include <algorithm>

#include "oauth/oauth_error.h"

namespace lakegate::oauth {

ClientAuthenticator::ClientAuthenticator(std::vector<std::unique_ptr<ClientAuthMethod>> methods,
                                         ClientAuthLimits limits, const Clock& clock)
    : methods_(std::move(methods)),
      clock_(clock),
      client_limiter_(limits.failed_per_minute_per_client, limits.max_tracked_keys),
      address_limiter_(limits.failed_per_minute_per_address, limits.max_tracked_keys) {}

std::vector<std::string> ClientAuthenticator::method_names() const {
  std::vector<std::string> names;
  for (const auto& method : methods_) names.emplace_back(method->name());
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
                        "(client_secret_post), or a signed client_assertion (private_key_jwt)");
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

  // Refuse before checking anything: a locked-out key learns nothing more.
  const int64_t now_ms = clock_.NowMillis();
  const std::string client_key = "c:" + claimed_client_id;
  const std::string address_key = "a:" + std::string(request.remote_address);
  const int64_t retry_after = std::max(client_limiter_.RetryAfter(client_key, now_ms),
                                       address_limiter_.RetryAfter(address_key, now_ms));
  if (retry_after > 0) {
    return OAuthFailure(OAuthError::kRateLimited,
                        "too many failed client authentications; retry after " +
                            std::to_string(retry_after) + " s")
        .WithRetryAfter(retry_after);
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
    if (verified.reason<OAuthError>() && client != nullptr) return verified;
    client_limiter_.RecordFailure(client_key, now_ms);
    address_limiter_.RecordFailure(address_key, now_ms);
    return OAuthFailure(OAuthError::kInvalidClient, "invalid client credentials");
  }
  return Authenticated{client, used->name()};
}

}  // namespace lakegate::oauth
