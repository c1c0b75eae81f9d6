// private_key_jwt client authentication (RFC 7523 §2.2 and §3, OpenID Connect
// Core §9): the client proves who it is with a JWT signed by one of its
// registered private keys, sent as
//   client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
//   client_assertion=<compact JWS>
// The assertion must say iss = sub = the client_id, aud = the token endpoint
// URL or the issuer, carry a jti never used before (remembered in the state
// store until the assertion expires, so a replay fails on every node sharing
// it) and an exp at most kMaxAssertionLifetimeSeconds ahead; its header must
// name a registered key by kid and use that key's algorithm (ES256, EdDSA,
// RS256 or PS256; never "none" or HMAC).
//
// Every failure is invalid_client with an error_description that says what to
// fix (an assertion reveals no secret when it fails); a failure of the key
// fetch or of the replay store is temporarily_unavailable.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "jose/jwk.h"
#include "oauth/client_auth.h"
#include "store/store.h"

namespace lakegate::oauth {

inline constexpr std::string_view kPrivateKeyJwt = "private_key_jwt";
inline constexpr std::string_view kJwtBearerAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
inline constexpr int64_t kMaxAssertionLifetimeSeconds = 300;
// Clock skew tolerated on exp, nbf and iat.
inline constexpr int64_t kAssertionClockSkewSeconds = 5;

// The JWS algorithms an assertion may use, for the metadata.
inline constexpr std::string_view kAssertionAlgorithms[] = {"ES256", "EdDSA", "RS256", "PS256"};

// The keys behind a jwks_uri, fetched and cached (the gateway's fetcher and
// cache for trusted issuers, wired by the composition root). May block.
// Returns the key set to look `kid` up in, or a failure whose message says
// why the keys are unavailable.
using JwksUriKeys = std::function<Result<std::shared_ptr<const jose::KeySet>>(
    const std::string& jwks_uri, std::string_view kid)>;

struct PrivateKeyJwtOptions {
  std::string issuer;          // an accepted "aud"
  std::string token_endpoint;  // the other accepted "aud"
  // null: clients with a jwks_uri cannot authenticate (their keys are
  // unavailable).
  JwksUriKeys jwks_uri_keys;
  size_t max_assertion_bytes = 8192;
};

// `store` (for the jti records) must outlive the method.
std::unique_ptr<ClientAuthMethod> MakePrivateKeyJwt(PrivateKeyJwtOptions options,
                                                    store::Store& store);

// Checks a client's registered keys (at registration: stack file, CLI):
// exactly one of an inline JWK Set, which must parse and hold at least one
// usable signing key with a kid, and a jwks_uri (whose scheme and host the
// fetcher checks). InvalidArgument saying what is wrong.
Status ValidateClientKeys(std::string_view jwks, std::string_view jwks_uri);

}  // namespace lakegate::oauth
