#include "gateway/jwks_fetcher.h"

#include <charconv>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "http/client.h"

namespace lakegate::gateway {
namespace {

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8 as a dotted quad.
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

http::ClientOptions ClientOptionsFor(const CurlFetcherOptions& options) {
  http::ClientOptions client;
  client.connect_timeout = options.connect_timeout;
  client.user_agent = "lakegate";
  // An HTTP proxy must not sit between us and a local issuer's keys.
  client.no_proxy = "localhost,127.0.0.1,::1";
  return client;
}

// Every failure to get a document is Unavailable (the keys may come back);
// the http::ClientFailure reason stays on the status.
Status Unreachable(const Status& failure, size_t max_bytes) {
  std::optional<http::ClientFailure> reason = failure.reason<http::ClientFailure>();
  if (!reason) return UnavailableError(failure.WithPrefix("JWKS fetch failed").message());
  if (*reason == http::ClientFailure::kTooLarge) {
    return Status(StatusCode::kUnavailable, *reason,
                  "JWKS document larger than " + std::to_string(max_bytes) + " bytes");
  }
  return Status(StatusCode::kUnavailable, *reason,
                failure.WithPrefix("JWKS fetch failed").message());
}

class HttpJwksFetcher final : public JwksFetcher {
 public:
  explicit HttpJwksFetcher(CurlFetcherOptions options)
      : options_(options), client_(ClientOptionsFor(options)) {}

  Result<FetchedDocument> Fetch(const std::string& url, size_t max_bytes) override {
    LG_RETURN_IF_ERROR(CheckJwksUrl(url, options_.allow_insecure_http));
    http::ClientRequest request;
    request.url = url;
    request.timeout = options_.timeout;
    request.max_response_bytes = max_bytes;
    Result<http::ClientResponse> response = client_.Send(std::move(request));
    if (!response.ok()) return Unreachable(response.status(), max_bytes);
    if (response->status != 200) {
      return UnavailableError("JWKS fetch answered HTTP " + std::to_string(response->status));
    }
    // Several Cache-Control fields are one comma-separated list (RFC 9110 §5.3).
    std::vector<std::string> cache_control;
    for (const http::Header& h : response->headers) {
      if (EqualsIgnoreCase(h.name, "cache-control")) cache_control.push_back(h.value);
    }
    std::optional<int64_t> max_age;
    if (!cache_control.empty()) max_age = ParseCacheControlMaxAge(Join(cache_control, ","));
    return FetchedDocument{std::move(response->body), max_age};
  }

 private:
  const CurlFetcherOptions options_;
  const http::Client client_;
};

}  // namespace

Status CheckJwksUrl(std::string_view url, bool allow_insecure_http) {
  Result<http::UrlParts> parts = http::ParseUrl(url);
  if (!parts.ok()) return InvalidArgumentError("JWKS URI is not a valid absolute URL");
  if (parts->scheme == "https") return Status::Ok();
  if (parts->scheme != "http") return InvalidArgumentError("JWKS URI must use https");
  // Keys fetched in clear text could be replaced by anyone on the path, and
  // then any token would verify: plain http only to this machine.
  if (!allow_insecure_http && !IsLoopbackHost(parts->host)) {
    return InvalidArgumentError("JWKS URI must use https (http only to a loopback address)");
  }
  return Status::Ok();
}

std::optional<int64_t> ParseCacheControlMaxAge(std::string_view value) {
  std::optional<int64_t> result;
  for (std::string_view directive : SplitNonEmpty(value, ',')) {
    directive = TrimWhitespace(directive);
    std::string lower = AsciiLower(directive);
    if (lower == "no-cache" || lower == "no-store") return 0;
    if (lower.rfind("max-age=", 0) == 0) {
      std::string_view number = std::string_view(lower).substr(8);
      if (!number.empty() && number.front() == '"' && number.back() == '"' && number.size() >= 2) {
        number = number.substr(1, number.size() - 2);
      }
      int64_t seconds = 0;
      auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), seconds);
      if (ec == std::errc::result_out_of_range) {
        result = INT64_MAX;
      } else if (ec == std::errc() && end == number.data() + number.size() && seconds >= 0) {
        result = seconds;
      }
    }
  }
  return result;
}

std::unique_ptr<JwksFetcher> MakeCurlJwksFetcher(CurlFetcherOptions options) {
  return std::make_unique<HttpJwksFetcher>(options);
}

}  // namespace lakegate::gateway
