#include "gateway/token_issuer.h"

#include <algorithm>

#include "common/log.h"

namespace lakegate::gateway {
namespace {

constexpr int64_t kMinJwksTtlSeconds = 60;
constexpr int64_t kMaxJwksTtlSeconds = 24 * 3600;
constexpr int64_t kDefaultJwksTtlSeconds = 300;  // no Cache-Control from the issuer

}  // namespace

bool Identity::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

Status TokenIssuer::CheckStanding(const Identity&, std::string*) const { return Status::Ok(); }

namespace {

// The claim rules of a trusted issuer's tokens.
jose::VerifyOptions RulesOf(const TrustedIssuer& config, const GatewayOptions& options) {
  jose::VerifyOptions verify;
  verify.issuer = config.issuer;
  verify.audience = config.audience;
  verify.token_use = config.token_use;
  verify.require_at_jwt_typ = config.require_at_jwt_typ;
  verify.require_client_id = config.require_client_id;
  verify.leeway_seconds = options.leeway_seconds;
  verify.max_token_bytes = options.max_token_bytes;
  return verify;
}

}  // namespace

RemoteIssuer::RemoteIssuer(const TrustedIssuer& config, const GatewayOptions& options,
                           JwksFetcher& fetcher, const Clock& clock)
    : config_(config), verify_(RulesOf(config, options)), fetcher_(fetcher), clock_(clock) {}

Result<std::shared_ptr<const jose::KeySet>> RemoteIssuer::KeysFor(std::string_view kid) {
  const int64_t min_interval_ms = std::max<int64_t>(0, config_.refresh_min_interval.count()) * 1000;
  MutexLock lock(mu_);
  while (true) {
    const int64_t now = clock_.NowMillis();
    const bool have = keys_ != nullptr;
    const bool fresh = have && now < fresh_until_ms_;
    if (fresh && keys_->Find(kid) != nullptr) return keys_;
    if (fetching_) {
      // Someone else is fetching: wait for that result instead of fetching too.
      fetch_done_.Wait(mu_, [&]() REQUIRES(mu_) { return !fetching_; });
      continue;
    }
    // Stale keys, or a kid we do not know (a key rollover, or a forged kid):
    // fetch, but at most once per interval.
    const bool may_fetch = !attempted_ || now - last_attempt_ms_ >= min_interval_ms;
    if (!may_fetch) {
      if (have) return keys_;  // Verify() reports the unknown kid
      return jose::TokenError(jose::TokenFailure::kKeysUnavailable,
                              "issuer keys unavailable: " + last_error_);
    }
    fetching_ = true;
    attempted_ = true;
    last_attempt_ms_ = now;
    lock.Unlock();

    fetches_.fetch_add(1);
    Result<FetchedDocument> doc = fetcher_.Fetch(config_.jwks_uri, jose::kMaxJwksBytes);
    Result<std::vector<jose::Jwk>> parsed =
        doc.ok() ? jose::ParseJwks(doc->body) : Result<std::vector<jose::Jwk>>(doc.status());

    lock.Lock();
    fetching_ = false;
    if (parsed.ok()) {
      int64_t ttl = doc->max_age_seconds.value_or(kDefaultJwksTtlSeconds);
      ttl = std::clamp(ttl, kMinJwksTtlSeconds, kMaxJwksTtlSeconds);
      keys_ = std::make_shared<const jose::KeySet>(std::move(parsed).value());
      fresh_until_ms_ = clock_.NowMillis() + ttl * 1000;
      last_error_.clear();
    } else {
      last_error_ = parsed.status().message();
      log::Warn("JWKS refresh for issuer " + config_.issuer + " failed: " + last_error_ +
                (keys_ ? " (keeping the previous keys)" : ""));
    }
    fetch_done_.NotifyAll();
    // Loop: the new keys are fresh, or the attempt just made forbids another.
  }
}

}  // namespace lakegate::gateway
