#include "oauth/private_key_jwt.h"

#include <unordered_map>

#include "common/strings.h"
#include "common/thread_annotations.h"
#include "jose/jwt.h"
#include "oauth/oauth_error.h"

namespace lakegate::oauth {
namespace {

constexpr size_t kMaxJtiBytes = 256;

Status Refuse(std::string description) {
  return OAuthFailure(OAuthError::kInvalidClient, std::move(description));
}

std::string Quote(std::string_view s) { return "\"" + std::string(s.substr(0, 64)) + "\""; }

// A typ that says "client assertion": none, JWT, or the media type of the
// client-authentication JWT profile. Access tokens and DPoP proofs are not.
bool IsAssertionType(std::string_view typ) {
  return typ.empty() || EqualsIgnoreCase(typ, "JWT") || EqualsIgnoreCase(typ, "application/jwt") ||
         EqualsIgnoreCase(typ, "client-authentication+jwt");
}

// Inline JWK Sets parsed once per client and registration (the registration
// may change with any snapshot); jwks_uri keys through the fetcher's cache.
class ClientKeys {
 public:
  explicit ClientKeys(JwksUriKeys jwks_uri_keys) : jwks_uri_keys_(std::move(jwks_uri_keys)) {}

  Result<std::shared_ptr<const jose::KeySet>> KeysFor(const store::ClientRecord& client,
                                                      std::string_view kid) EXCLUDES(mu_) {
    if (!client.jwks_uri.empty()) {
      if (!jwks_uri_keys_) return UnavailableError("jwks_uri keys are not fetched by this server");
      return jwks_uri_keys_(client.jwks_uri, kid);
    }
    MutexLock lock(mu_);
    auto it = inline_.find(client.client_id);
    if (it != inline_.end() && it->second.jwks == client.jwks) return it->second.keys;
    Result<std::vector<jose::Jwk>> parsed = jose::ParseJwks(client.jwks);
    if (!parsed.ok()) return parsed.status();
    auto keys = std::make_shared<const jose::KeySet>(std::move(parsed).value());
    // Bounded by the number of clients; a deleted client's entry is replaced
    // when the map would grow past it.
    if (inline_.size() >= kMaxEntries) inline_.clear();
    inline_[client.client_id] = Entry{client.jwks, keys};
    return keys;
  }

 private:
  static constexpr size_t kMaxEntries = 10000;
  struct Entry {
    std::string jwks;
    std::shared_ptr<const jose::KeySet> keys;
  };
  const JwksUriKeys jwks_uri_keys_;
  Mutex mu_;
  std::unordered_map<std::string, Entry> inline_ GUARDED_BY(mu_);
};

class PrivateKeyJwtMethod final : public ClientAuthMethod {
 public:
  PrivateKeyJwtMethod(PrivateKeyJwtOptions options, store::Store& store)
      : options_(std::move(options)), keys_(options_.jwks_uri_keys), store_(store) {}

  std::string_view name() const override { return kPrivateKeyJwt; }
  bool blocks() const override { return true; }

  bool Present(const FormRequest& request) const override {
    return request.Has("client_assertion") || request.Has("client_assertion_type");
  }

  Result<std::string> Claim(const FormRequest& request) const override {
    LG_ASSIGN_OR_RETURN(std::optional<std::string> type, request.Single("client_assertion_type"));
    LG_ASSIGN_OR_RETURN(std::optional<std::string> assertion, request.Single("client_assertion"));
    LG_ASSIGN_OR_RETURN(std::optional<std::string> form_id, request.Single("client_id"));
    if (!type) {
      return Refuse("client_assertion_type is missing; send client_assertion_type=" +
                    std::string(kJwtBearerAssertionType));
    }
    if (*type != kJwtBearerAssertionType) {
      return Refuse("client_assertion_type must be " + std::string(kJwtBearerAssertionType));
    }
    if (!assertion || assertion->empty()) {
      return Refuse("client_assertion is missing; send a JWT signed with a registered key");
    }
    LG_ASSIGN_OR_RETURN(jose::SignedJwt jwt, Parse(*assertion));
    if (!jwt.claims.sub || jwt.claims.sub->empty()) {
      return Refuse("client_assertion has no sub; set iss and sub to the client_id");
    }
    // RFC 7521 §4.2: a client_id, when sent, names the same client.
    if (form_id && *form_id != *jwt.claims.sub) {
      return Refuse("client_id does not match the client_assertion's sub");
    }
    return *jwt.claims.sub;
  }

  Status Verify(const FormRequest& request, const store::ClientRecord& client,
                int64_t now) const override {
    if (client.auth_method != kPrivateKeyJwt) {
      return Refuse("client '" + client.name +
                    "' is not registered for private_key_jwt; it authenticates with its client "
                    "secret");
    }
    LG_ASSIGN_OR_RETURN(std::optional<std::string> assertion, request.Single("client_assertion"));
    LG_ASSIGN_OR_RETURN(jose::SignedJwt jwt, Parse(assertion.value_or("")));
    LG_RETURN_IF_ERROR(CheckSignature(jwt, client));
    LG_RETURN_IF_ERROR(CheckClaims(jwt.claims, client, now));
    // Last, so that an assertion failing any other check does not use up its jti.
    const int64_t expires_at = *jwt.claims.exp + kAssertionClockSkewSeconds;
    Result<bool> fresh = store_.RememberOnce(
        "private_key_jwt " + client.client_id + " " + *jwt.claims.jti, expires_at, now);
    if (!fresh.ok()) {
      return OAuthFailure(OAuthError::kUnavailable,
                          "the client assertion could not be checked for replay; retry");
    }
    if (!*fresh) return Refuse("client_assertion jti was already used (a replayed assertion)");
    return Status::Ok();
  }

  void VerifyUnknown(const FormRequest&) const override {}

 private:
  // Claim and Verify of one request run on one thread, one after the other:
  // the assertion parsed for Claim is kept per thread for Verify, so each
  // request parses it once.
  Result<jose::SignedJwt> Parse(std::string_view assertion) const {
    struct LastParsed {
      std::string assertion;
      Result<jose::SignedJwt> jwt = Status(StatusCode::kInternal, "nothing parsed");
    };
    thread_local LastParsed last;
    if (last.assertion != assertion) {
      last.assertion = std::string(assertion);
      last.jwt = jose::ParseSignedJwt(assertion, options_.max_assertion_bytes);
    }
    if (!last.jwt.ok()) {
      return Refuse("client_assertion is not a well-formed signed JWT (" +
                    last.jwt.status().message() + ")");
    }
    return last.jwt;
  }

  Status CheckSignature(const jose::SignedJwt& jwt, const store::ClientRecord& client) const {
    std::optional<crypto::Algorithm> alg = crypto::ParseAlgorithm(jwt.alg);
    if (!alg) {
      return Refuse("client_assertion alg " + Quote(jwt.alg) +
                    " is not accepted; sign with ES256, EdDSA, RS256 or PS256");
    }
    if (jwt.crit) return Refuse("client_assertion has a crit header; no extension is supported");
    if (!IsAssertionType(jwt.typ)) {
      return Refuse("client_assertion typ " + Quote(jwt.typ) +
                    " is not a client assertion; use \"JWT\" or leave typ out");
    }
    if (!jwt.kid || jwt.kid->empty()) {
      return Refuse("client_assertion header has no kid; name one of the client's registered keys");
    }
    Result<std::shared_ptr<const jose::KeySet>> keys = keys_.KeysFor(client, *jwt.kid);
    if (!keys.ok()) {
      return Refuse("the keys of client '" + client.name +
                    "' are unavailable: " + keys.status().message());
    }
    const jose::Jwk* jwk = (*keys)->Find(*jwt.kid);
    if (jwk == nullptr) {
      return Refuse("client_assertion kid " + Quote(*jwt.kid) +
                    " is not a registered key of client '" + client.name + "'");
    }
    if (jwk->key.algorithm() != *alg) {
      return Refuse("client_assertion alg " + jwt.alg + " does not match the registered key " +
                    Quote(*jwt.kid) + " (" +
                    std::string(crypto::AlgorithmName(jwk->key.algorithm())) + ")");
    }
    if (!jose::VerifySignature(jwt, jwk->key)) {
      return Refuse("client_assertion signature does not verify with key " + Quote(*jwt.kid));
    }
    return Status::Ok();
  }

  Status CheckClaims(const jose::JwtClaims& c, const store::ClientRecord& client,
                     int64_t now) const {
    if (c.iss != client.client_id) return Refuse("client_assertion iss must be the client_id");
    if (c.sub != client.client_id) return Refuse("client_assertion sub must be the client_id");
    bool audience = false;
    for (const std::string& aud : c.aud) {
      audience = audience || aud == options_.token_endpoint || aud == options_.issuer;
    }
    if (!audience) {
      return Refuse("client_assertion aud must be the token endpoint URL (" +
                    options_.token_endpoint + ") or the issuer (" + options_.issuer + ")");
    }
    if (!c.exp) return Refuse("client_assertion has no exp");
    if (*c.exp <= now - kAssertionClockSkewSeconds) return Refuse("client_assertion expired");
    if (*c.exp > now + kMaxAssertionLifetimeSeconds + kAssertionClockSkewSeconds) {
      return Refuse("client_assertion exp is more than " +
                    std::to_string(kMaxAssertionLifetimeSeconds) +
                    " seconds ahead; assertions must be short-lived");
    }
    if (c.nbf && *c.nbf > now + kAssertionClockSkewSeconds) {
      return Refuse("client_assertion is not valid yet (nbf is in the future)");
    }
    if (c.iat && *c.iat > now + kAssertionClockSkewSeconds) {
      return Refuse("client_assertion iat is in the future");
    }
    if (!c.jti || c.jti->empty()) {
      return Refuse("client_assertion has no jti; give every assertion a unique one");
    }
    if (c.jti->size() > kMaxJtiBytes) return Refuse("client_assertion jti is too long");
    return Status::Ok();
  }

  const PrivateKeyJwtOptions options_;
  mutable ClientKeys keys_;
  store::Store& store_;
};

}  // namespace

std::unique_ptr<ClientAuthMethod> MakePrivateKeyJwt(PrivateKeyJwtOptions options,
                                                    store::Store& store) {
  return std::make_unique<PrivateKeyJwtMethod>(std::move(options), store);
}

Status ValidateClientKeys(std::string_view jwks, std::string_view jwks_uri) {
  if (jwks.empty() == jwks_uri.empty()) {
    return InvalidArgumentError(
        "a private_key_jwt client needs its public keys: an inline JWK Set (jwks) or a "
        "jwks_uri, not both");
  }
  if (!jwks_uri.empty()) return Status::Ok();
  Result<std::vector<jose::Jwk>> keys = jose::ParseJwks(jwks);
  if (!keys.ok()) return InvalidArgumentError("jwks: " + keys.status().message());
  if (keys->empty()) {
    return InvalidArgumentError(
        "jwks holds no usable signing key; each key needs a kid and must be EC P-256, Ed25519 "
        "or RSA (2048 bits or more), with alg ES256, EdDSA, RS256 or PS256 if given");
  }
  return Status::Ok();
}

}  // namespace lakegate::oauth
