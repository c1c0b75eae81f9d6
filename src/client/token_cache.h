// TokenCache: access tokens kept on disk between runs of a client, so that a
// script calling `lakegate query` in a loop asks for one token, not one per
// call.
//
// One file per (endpoint, client_id, scope) in one directory, created 0700:
// <dir>/token-<first 32 hex digits of SHA-256(endpoint "\n" client_id "\n"
// scope [ "\n" dpop])>.json holding {"access_token", "expires_at", "endpoint",
// "client_id", "scope"}, written atomically with mode 0600. Never the client
// secret. A DPoP-bound token made with a one-off key keeps that private key
// beside it ("dpop_key_pem"): the token is useless without it, and the file
// is as private as the token. A
// token is reused until kExpirySlack before it expires; a file that another
// user owns or could read or write is ignored, since a planted token would
// make this client send its queries under someone else's identity.
//
// Caching is best effort: a directory that cannot be written only means the
// next run asks for a new token. Thread-safe (files are replaced atomically;
// concurrent writers of one key leave one of their tokens).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/secret_string.h"

namespace lakegate::client {

// Which token a cache entry holds.
struct TokenKey {
  std::string endpoint;  // as normalized by NormalizeEndpoint
  std::string client_id;
  std::string scope;  // as requested; "" = all the client may have
  // The TLS client certificate the token was requested with (its file), ""
  // = none: a certificate-bound token works only with its certificate.
  std::string certificate = {};
  // "" = a bearer token; else which DPoP key the token is bound to:
  // "ephemeral" (a key made for it) or the thumbprint of a key file's key.
  std::string dpop = {};
};

struct CachedToken {
  SecretString access_token;
  int64_t expires_at = 0;          // Unix seconds
  SecretString dpop_key_pem = {};  // the one-off DPoP key (PKCS#8 PEM), "" when none
};

class TokenCache {
 public:
  // A cached token is dropped this long before it expires.
  static constexpr std::chrono::seconds kExpirySlack{60};

  // `dir` "" disables the cache (nothing is read or written). `clock` must
  // outlive the cache.
  TokenCache(std::string dir, const Clock& clock);

  // $XDG_CACHE_HOME/lakegate, else $HOME/.cache/lakegate; "" when neither
  // variable is set.
  static std::string DefaultDir();

  // The entry for `key` when it is safe to use and good for more than
  // kExpirySlack; nullopt otherwise.
  std::optional<CachedToken> Find(const TokenKey& key) const;
  // Writes (replaces) the entry for `key`. Failures are ignored (see above).
  void Store(const TokenKey& key, std::string_view access_token, int64_t expires_at,
             std::string_view dpop_key_pem = {}) const;
  // Removes the entry for `key`, if any.
  void Drop(const TokenKey& key) const;

  // The file of `key`; "" when the cache is disabled.
  std::string PathFor(const TokenKey& key) const;

 private:
  const std::string dir_;
  const Clock& clock_;
};

}  // namespace lakegate::client
