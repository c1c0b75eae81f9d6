#include "gateway/sigv4_authenticator.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "common/strings.h"
#include "crypto/hash.h"

namespace lakegate::gateway {
namespace {

// Indexed by SigV4Failure.
constexpr ReasonInfo kInfos[] = {
    {.name = "sigv4_incomplete", .public_code = "IncompleteSignatureException", .http_status = 400},
    {.name = "sigv4_unknown_key",
     .public_code = "UnrecognizedClientException",
     .public_message = "The security token included in the request is invalid.",
     .http_status = 403},
    {.name = "sigv4_bad_signature",
     .public_code = "InvalidSignatureException",
     .public_message =
         "The request signature we calculated does not match the signature you provided. Check "
         "your AWS Secret Access Key and signing method. Consult the service documentation for "
         "details.",
     .http_status = 403},
    {.name = "sigv4_expired", .public_code = "InvalidSignatureException", .http_status = 403},
    {.name = "sigv4_wrong_scope", .public_code = "InvalidSignatureException", .http_status = 403},
    {.name = "sigv4_payload_hash", .public_code = "InvalidSignatureException", .http_status = 400},
    {.name = "sigv4_rate_limited", .public_code = "ThrottlingException", .http_status = 400},
    {.name = "sigv4_key_unreadable",
     .public_code = "InternalFailure",
     .public_message = "the server cannot read this access key; the operator must check its keys",
     .http_status = 500},
};
static_assert(std::size(kInfos) == static_cast<size_t>(SigV4Failure::kKeyUnreadable) + 1,
              "one ReasonInfo per SigV4Failure");

constexpr ReasonDomain kDomain("sigv4", kInfos, static_cast<int>(std::size(kInfos)));

StatusCode CodeOf(SigV4Failure reason) {
  switch (reason) {
    case SigV4Failure::kRateLimited:
      return StatusCode::kResourceExhausted;
    case SigV4Failure::kKeyUnreadable:
      return StatusCode::kInternal;
    default:
      return StatusCode::kUnauthenticated;
  }
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

const ReasonDomain& ReasonDomainOf(SigV4Failure) { return kDomain; }

Status SigV4Error(SigV4Failure reason, std::string message) {
  return Status(CodeOf(reason), reason, std::move(message));
}

SigV4Authenticator::SigV4Authenticator(SigV4Options options, StateProvider state,
                                       oauth::AccessKeySealer sealer, std::string issuer,
                                       const Clock& clock)
    : options_(std::move(options)),
      state_(std::move(state)),
      sealer_(std::move(sealer)),
      issuer_(std::move(issuer)),
      clock_(clock),
      limits_(options_.failed_auth != nullptr ? options_.failed_auth
                                              : std::make_shared<oauth::FailedAuthLimits>()) {}

size_t SigV4Authenticator::cached_signing_keys() const {
  MutexLock lock(mutex_);
  return signing_keys_.size();
}

Result<std::shared_ptr<const Identity>> SigV4Authenticator::Authenticate(
    const http::Request& request) {
  const std::shared_ptr<const store::StateSnapshot> state = state_();
  // Who the failure limits charge: the key's client when the key is known,
  // else the key id the request named.
  std::string limiter_client;
  const int64_t now_ms = clock_.NowMillis();
  Result<std::shared_ptr<const Identity>> result = Check(request, *state, limiter_client);
  if (result.ok()) return result;
  const Status& failure = result.status();
  if (failure.Is(SigV4Failure::kRateLimited) || failure.Is(SigV4Failure::kKeyUnreadable)) {
    return failure;
  }
  // As at the token endpoint: the first failures a minute keep their own answer.
  const int64_t slow_down = limits_->RecordFailure(limiter_client, request.remote_address, now_ms);
  if (slow_down > 0) {
    return SigV4Error(SigV4Failure::kRateLimited,
                      "Rate exceeded: too many failed signatures for this access key's client; "
                      "retry after " +
                          std::to_string(slow_down) + " s (" + failure.message() + ")")
        .WithRetryAfter(slow_down);
  }
  return failure;
}

Result<std::shared_ptr<const Identity>> SigV4Authenticator::Check(const http::Request& request,
                                                                  const store::StateSnapshot& state,
                                                                  std::string& limiter_client) {
  if (request.CountHeader("authorization") != 1) {
    return SigV4Error(SigV4Failure::kIncompleteSignature, "send exactly one Authorization header");
  }
  Result<sigv4::Authorization> parsed =
      sigv4::ParseAuthorization(request.GetHeader("authorization"));
  if (!parsed.ok()) {
    return SigV4Error(SigV4Failure::kIncompleteSignature, parsed.status().message());
  }
  const sigv4::Authorization& auth = *parsed;
  const sigv4::Credential& credential = auth.credential;
  limiter_client = credential.access_key_id.substr(0, 128);

  // Refused before any secret is touched: the address learns nothing more.
  const int64_t now_ms = clock_.NowMillis();
  if (const store::AccessKeyRecord* key = state.FindAccessKey(credential.access_key_id)) {
    limiter_client = key->client_id;
  }
  const int64_t refused_for = limits_->RefusedFor(limiter_client, request.remote_address, now_ms);
  if (refused_for > 0) {
    return SigV4Error(SigV4Failure::kRateLimited,
                      "Rate exceeded: too many failed signatures from this address; retry after " +
                          std::to_string(refused_for) + " s")
        .WithRetryAfter(refused_for);
  }

  if (!Contains(auth.signed_headers, "host")) {
    return SigV4Error(SigV4Failure::kIncompleteSignature,
                      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (!Contains(auth.signed_headers, "x-amz-date")) {
    return SigV4Error(SigV4Failure::kIncompleteSignature,
                      "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (request.CountHeader("x-amz-date") != 1) {
    return SigV4Error(SigV4Failure::kIncompleteSignature,
                      "send exactly one X-Amz-Date header (the signing time, YYYYMMDDTHHMMSSZ)");
  }
  const std::string_view amz_date = request.GetHeader("x-amz-date");
  int64_t signed_at = 0;
  if (!sigv4::ParseAmzDate(amz_date, signed_at)) {
    return SigV4Error(SigV4Failure::kIncompleteSignature,
                      "X-Amz-Date must be an ISO 8601 basic date-time, YYYYMMDDTHHMMSSZ");
  }

  const store::AccessKeyRecord* key = state.FindAccessKey(credential.access_key_id);
  const store::ClientRecord* client = key == nullptr ? nullptr : state.FindClient(key->client_id);
  if (key == nullptr || client == nullptr || !client->enabled) {
    return SigV4Error(SigV4Failure::kUnknownAccessKey,
                      key == nullptr ? "no access key " + limiter_client
                                     : "the client of access key " + key->access_key_id +
                                           " is disabled or deleted");
  }

  const int64_t now = clock_.NowSeconds();
  if (signed_at < now - options_.max_skew_seconds) {
    return SigV4Error(SigV4Failure::kExpired,
                      "Signature expired: " + std::string(amz_date) + " is now earlier than " +
                          sigv4::FormatAmzDate(now - options_.max_skew_seconds) + " (" +
                          sigv4::FormatAmzDate(now) + " - " +
                          std::to_string(options_.max_skew_seconds / 60) + " min.)");
  }
  if (signed_at > now + options_.max_skew_seconds) {
    return SigV4Error(SigV4Failure::kExpired,
                      "Signature not yet current: " + std::string(amz_date) +
                          " is still later than " +
                          sigv4::FormatAmzDate(now + options_.max_skew_seconds) + " (" +
                          sigv4::FormatAmzDate(now) + " + " +
                          std::to_string(options_.max_skew_seconds / 60) + " min.)");
  }
  if (credential.date != amz_date.substr(0, 8)) {
    return SigV4Error(SigV4Failure::kWrongScope,
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                      "date from HTTP: '" +
                          credential.date + "' != '" + std::string(amz_date.substr(0, 8)) +
                          "', from 'x-amz-date'.");
  }
  if (credential.service != options_.service) {
    return SigV4Error(
        SigV4Failure::kWrongScope,
        "Credential should be scoped to correct service: '" + options_.service + "'.");
  }

  // The payload hash is always the server's own; a client's claim is only
  // compared with it, never used.
  const std::string payload_hash = HexEncode(crypto::Sha256(request.body));
  if (request.CountHeader("x-amz-content-sha256") > 0) {
    if (request.CountHeader("x-amz-content-sha256") != 1 ||
        !crypto::ConstantTimeEquals(request.GetHeader("x-amz-content-sha256"), payload_hash)) {
      return SigV4Error(SigV4Failure::kPayloadHashMismatch,
                        "The provided 'x-amz-content-sha256' header does not match what was "
                        "computed.");
    }
  }

  Result<std::string> canonical = sigv4::CanonicalRequest(request, auth, payload_hash);
  if (!canonical.ok()) {
    return SigV4Error(SigV4Failure::kIncompleteSignature, canonical.status().message());
  }
  LG_ASSIGN_OR_RETURN(std::string signing_key, SigningKeyFor(*key, credential));
  const std::string expected =
      sigv4::Signature(signing_key, sigv4::StringToSign(amz_date, credential.Scope(), *canonical));
  if (!crypto::ConstantTimeEquals(expected, auth.signature)) {
    return SigV4Error(SigV4Failure::kSignatureMismatch,
                      "signature mismatch for access key " + key->access_key_id);
  }

  auto identity = std::make_shared<Identity>();
  identity->issuer = issuer_;
  identity->client_id = client->client_id;
  identity->client_name = client->name;
  identity->scopes = client->scopes;
  identity->expires_at = signed_at + options_.max_skew_seconds;
  identity->own = true;
  return std::shared_ptr<const Identity>(std::move(identity));
}

Result<std::string> SigV4Authenticator::SigningKeyFor(const store::AccessKeyRecord& record,
                                                      const sigv4::Credential& credential) {
  // The sealed secret names the secret (a fresh nonce per seal): a key
  // deleted and re-created under the same id never finds the old entry.
  std::string cache_key = record.access_key_id + "\n" + record.secret_ciphertext + "\n" +
                          credential.date + "/" + credential.region + "/" + credential.service;
  {
    MutexLock lock(mutex_);
    auto it = signing_keys_.find(cache_key);
    if (it != signing_keys_.end()) return it->second;
  }
  Result<SecretString> secret = sealer_.Open(record);
  if (!secret.ok()) return SigV4Error(SigV4Failure::kKeyUnreadable, secret.status().message());
  std::string signing_key = sigv4::SigningKey(secret->Reveal(), credential);
  MutexLock lock(mutex_);
  // Entries live a day each (the date is in the key); dropping them all now
  // and then is simpler than an LRU and costs four HMACs per key.
  if (signing_keys_.size() >= options_.max_cached_signing_keys) signing_keys_.clear();
  signing_keys_.emplace(std::move(cache_key), signing_key);
  return signing_key;
}

}  // namespace lakegate::gateway
