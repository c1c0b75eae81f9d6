#include "jose/token_failure.h"

#include <iterator>

namespace lakegate::jose {
namespace {

constexpr std::string_view kInvalid = "the access token is invalid";

constexpr ReasonInfo Invalid(std::string_view name) {
  return {.name = name,
          .public_code = "invalid_token",
          .public_message = kInvalid,
          .challenge_error = "invalid_token"};
}

// Indexed by TokenFailure.
constexpr ReasonInfo kInfos[] = {
    {.name = "missing",
     .public_code = "unauthorized",
     .public_message = "a Bearer access token is required"},
    Invalid("malformed"),
    Invalid("too_large"),
    Invalid("duplicate_member"),
    Invalid("unsupported_algorithm"),
    Invalid("critical_header"),
    Invalid("unknown_key"),
    Invalid("algorithm_mismatch"),
    Invalid("bad_signature"),
    Invalid("wrong_type"),
    Invalid("invalid_claim"),
    {.name = "expired",
     .public_code = "invalid_token",
     .public_message = "the access token expired",
     .challenge_error = "invalid_token"},
    Invalid("not_yet_valid"),
    Invalid("issued_in_future"),
    Invalid("wrong_issuer"),
    Invalid("wrong_audience"),
    Invalid("wrong_token_use"),
    Invalid("missing_client_id"),
    Invalid("unknown_issuer"),
    Invalid("keys_unavailable"),
    Invalid("revoked"),
    Invalid("client_unknown"),
    Invalid("client_disabled"),
};
static_assert(std::size(kInfos) == static_cast<size_t>(TokenFailure::kClientDisabled) + 1,
              "one ReasonInfo per TokenFailure");

constexpr ReasonDomain kDomain("token", kInfos, static_cast<int>(std::size(kInfos)));

}  // namespace

const ReasonDomain& ReasonDomainOf(TokenFailure) { return kDomain; }

Status TokenError(TokenFailure reason, std::string message) {
  return Status(StatusCode::kUnauthenticated, reason, std::move(message));
}

}  // namespace lakegate::jose
