// JwksFetcher: fetches an issuer's JWK Set over HTTP(S) through http::Client,
// adding what is JWKS-specific: which URLs may be fetched and how long the
// answer may be cached. Fetch() blocks: call it only on a worker thread, never
// on a network thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lakegate::gateway {

struct FetchedDocument {
  std::string body;
  // Cache-Control max-age in seconds when the response carried one; 0 for
  // no-cache / no-store.
  std::optional<int64_t> max_age_seconds;
};

class JwksFetcher {
 public:
  virtual ~JwksFetcher() = default;
  // GETs `url`. Returns Unavailable when the server cannot be reached, times
  // out, answers with a status other than 200 or with a body larger than
  // `max_bytes` (with the http::ClientFailure reason when the transfer
  // failed); InvalidArgument when the URL is not acceptable (see
  // CheckJwksUrl). Thread-safe.
  virtual Result<FetchedDocument> Fetch(const std::string& url, size_t max_bytes) = 0;
};

struct CurlFetcherOptions {
  std::chrono::milliseconds timeout{5000};  // whole transfer
  std::chrono::milliseconds connect_timeout{2000};
  bool allow_insecure_http = false;  // http:// to non-loopback hosts
};

// A fetcher over http::Client (libcurl): no redirects, http/https only, TLS
// verified, no proxy for loopback hosts.
std::unique_ptr<JwksFetcher> MakeCurlJwksFetcher(CurlFetcherOptions options);

// OK when `url` is https://, or http:// to 127.0.0.0/8, ::1 or localhost (or
// to any host when `allow_insecure_http`). InvalidArgument naming the problem
// otherwise.
Status CheckJwksUrl(std::string_view url, bool allow_insecure_http);

// The max-age of a Cache-Control header value: nullopt when absent, 0 for
// no-cache / no-store, else the number of seconds.
std::optional<int64_t> ParseCacheControlMaxAge(std::string_view value);

}  // namespace lakegate::gateway
