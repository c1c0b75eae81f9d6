#include "gateway/jwks_fetcher.h"

#include <curl/curl.h>

#include <charconv>
#include <mutex>

#include "common/strings.h"

namespace lakegate::gateway {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UrlParts {
  std::string scheme, host;
};

Result<UrlParts> SplitUrl(std::string_view url) {
  CURLU* handle = curl_url();
  if (handle == nullptr) return InternalError("curl_url failed");
  UrlParts parts;
  std::string copy(url);
  CURLUcode rc = curl_url_set(handle, CURLUPART_URL, copy.c_str(), 0);
  if (rc == CURLUE_OK) {
    char* scheme = nullptr;
    char* host = nullptr;
    if (curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) parts.scheme = scheme;
    if (curl_url_get(handle, CURLUPART_HOST, &host, 0) == CURLUE_OK) parts.host = host;
    curl_free(scheme);
    curl_free(host);
  }
  curl_url_cleanup(handle);
  if (rc != CURLUE_OK || parts.host.empty()) {
    return InvalidArgumentError("JWKS URI is not a valid absolute URL");
  }
  parts.scheme = AsciiLower(parts.scheme);
  parts.host = AsciiLower(parts.host);
  return parts;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
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

struct Transfer {
  std::string body;
  size_t max_bytes = 0;
  bool too_large = false;
  std::optional<int64_t> max_age;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->body.size() + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  t->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos &&
      EqualsIgnoreCase(TrimWhitespace(line.substr(0, colon)), "cache-control")) {
    t->max_age = ParseCacheControlMaxAge(line.substr(colon + 1));
  } else if (line.substr(0, 5) == "HTTP/") {
    t->max_age.reset();  // a new response (after 100 Continue): forget earlier headers
  }
  return n;
}

class CurlJwksFetcher final : public JwksFetcher {
 public:
  explicit CurlJwksFetcher(CurlFetcherOptions options) : options_(options) { GlobalInitOnce(); }

  Result<FetchedDocument> Fetch(const std::string& url, size_t max_bytes) override {
    LG_RETURN_IF_ERROR(CheckJwksUrl(url, options_.allow_insecure_http));
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return UnavailableError("curl_easy_init failed");
    Transfer transfer;
    transfer.max_bytes = max_bytes;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect could leave the allowed hosts
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "lakegate");
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // "identity" + whatever libcurl decodes
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    CURLcode rc = curl_easy_perform(curl);
    long http_status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
    curl_easy_cleanup(curl);

    if (transfer.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
      return UnavailableError("JWKS document larger than " + std::to_string(max_bytes) + " bytes");
    }
    if (rc != CURLE_OK) return UnavailableError(std::string("JWKS fetch failed: ") + curl_easy_strerror(rc));
    if (http_status != 200) {
      return UnavailableError("JWKS fetch answered HTTP " + std::to_string(http_status));
    }
    return FetchedDocument{std::move(transfer.body), transfer.max_age};
  }

 private:
  const CurlFetcherOptions options_;
};

}  // namespace

Status CheckJwksUrl(std::string_view url, bool allow_insecure_http) {
  LG_ASSIGN_OR_RETURN(UrlParts parts, SplitUrl(url));
  if (parts.scheme == "https") return Status::Ok();
  if (parts.scheme != "http") return InvalidArgumentError("JWKS URI must use https");
  // Keys fetched in clear text could be replaced by anyone on the path, and
  // then any token would verify: plain http only to this machine.
  if (!allow_insecure_http && !IsLoopbackHost(parts.host)) {
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
  return std::make_unique<CurlJwksFetcher>(options);
}

}  // namespace lakegate::gateway
