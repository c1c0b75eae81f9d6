#include "http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>

#include "common/strings.h"

namespace lakegate::http {
namespace {

constexpr ReasonInfo kClientFailureInfos[] = {
    {.name = "bad_url", .public_message = "an upstream URL is not valid"},
    {.name = "invalid_request", .public_message = "an upstream request could not be sent"},
    {.name = "connect", .public_message = "an upstream service could not be reached"},
    {.name = "tls", .public_message = "an upstream service could not be reached securely"},
    {.name = "timeout", .public_message = "an upstream service did not answer in time"},
    {.name = "too_large", .public_message = "an upstream response was too large"},
    {.name = "transfer", .public_message = "an upstream service could not be reached"},
};
constexpr ReasonDomain kClientFailureDomain("http_client", kClientFailureInfos,
                                            static_cast<int>(std::size(kClientFailureInfos)));

constexpr size_t kMaxResponseHeaderBytes = 64 * 1024;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// libcurl takes timeouts as long milliseconds.
long ToCurlMillis(std::chrono::milliseconds duration) {
  return static_cast<long>(std::clamp<std::chrono::milliseconds::rep>(
      duration.count(), 1, std::numeric_limits<long>::max()));
}

// "512 MiB", "64 KiB" or "1000 bytes": the cap as a reader would write it.
std::string FormatSize(size_t bytes) {
  constexpr size_t kKiB = 1024;
  constexpr size_t kMiB = kKiB * kKiB;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + " bytes";
}

// A header that libcurl would put on the wire as is: a token name and a value
// without CR, LF or NUL, so no request can be split or smuggled through it.
bool IsSendableHeader(const Header& header) {
  if (header.name.empty()) return false;
  for (char c : header.name) {
    if (c <= ' ' || c == ':' || c == 0x7F) return false;
  }
  return header.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

void Wipe(std::string& s) { std::fill(s.begin(), s.end(), '\0'); }

// Owns the header list handed to libcurl and wipes the copies it made.
struct HeaderList {
  curl_slist* list = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() {
    for (curl_slist* item = list; item != nullptr; item = item->next) {
      std::memset(item->data, 0, std::strlen(item->data));
    }
    curl_slist_free_all(list);
  }
  bool Append(const std::string& line) {
    curl_slist* grown = curl_slist_append(list, line.c_str());
    if (grown == nullptr) return false;
    list = grown;
    return true;
  }
};

// What the callbacks collect during one transfer.
struct Transfer {
  ClientResponse response;
  size_t max_body_bytes = 0;
  size_t header_bytes = 0;
  bool body_too_large = false;
  bool headers_too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (n > t->max_body_bytes - t->response.body.size()) {
    t->body_too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (the final one after a 100 Continue): forget earlier headers.
    t->response.headers.clear();
    t->header_bytes = 0;
    return n;
  }
  t->header_bytes += n;
  if (t->header_bytes > kMaxResponseHeaderBytes) {
    t->headers_too_large = true;
    return 0;
  }
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    // obs-fold (RFC 9112 §5.2): the line continues the previous value.
    if (!t->response.headers.empty()) {
      t->response.headers.back().value += ' ';
      t->response.headers.back().value += TrimWhitespace(line);
    }
    return n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    t->response.headers.push_back(Header{std::string(TrimWhitespace(line.substr(0, colon))),
                                         std::string(TrimWhitespace(line.substr(colon + 1)))});
  }
  return n;
}

ClientFailure FailureOf(CURLcode rc) {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return ClientFailure::kBadUrl;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return ClientFailure::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return ClientFailure::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return ClientFailure::kTls;
    case CURLE_FILESIZE_EXCEEDED:
      return ClientFailure::kTooLarge;
    default:
      return ClientFailure::kTransfer;
  }
}

StatusCode CodeOf(ClientFailure failure) {
  switch (failure) {
    case ClientFailure::kBadUrl:
    case ClientFailure::kInvalidRequest:
      return StatusCode::kInvalidArgument;
    case ClientFailure::kTimeout:
      return StatusCode::kDeadlineExceeded;
    case ClientFailure::kTooLarge:
      return StatusCode::kResourceExhausted;
    case ClientFailure::kConnect:
    case ClientFailure::kTls:
    case ClientFailure::kTransfer:
      return StatusCode::kUnavailable;
  }
  return StatusCode::kUnavailable;
}

Status Failure(ClientFailure failure, std::string message) {
  return Status(CodeOf(failure), failure, std::move(message));
}

}  // namespace

const ReasonDomain& ReasonDomainOf(ClientFailure) { return kClientFailureDomain; }

std::string_view ClientResponse::GetHeader(std::string_view name) const {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

Client::Client(ClientOptions options) : options_(std::move(options)) { GlobalInitOnce(); }

Result<ClientResponse> Client::Send(ClientRequest request) const {
  struct WipeOnExit {
    ClientRequest& request;
    ~WipeOnExit() {
      for (Header& h : request.headers) Wipe(h.value);
      Wipe(request.body);
    }
  } wipe_on_exit{request};

  LG_ASSIGN_OR_RETURN(UrlParts url, ParseUrl(request.url));
  if (url.scheme != "http" && url.scheme != "https") {
    return Failure(ClientFailure::kBadUrl, "URL scheme must be http or https");
  }
  if (request.method == Method::kOther) {
    return Failure(ClientFailure::kInvalidRequest, "the request method cannot be sent");
  }
  HeaderList headers;
  for (const Header& h : request.headers) {
    if (!IsSendableHeader(h)) {
      return Failure(ClientFailure::kInvalidRequest,
                     "header \"" + h.name + "\" has characters that cannot be sent");
    }
    std::string line = h.name + ": " + h.value;
    const bool appended = headers.Append(line);
    Wipe(line);
    if (!appended) return InternalError("out of memory building request headers");
  }

  std::unique_ptr<CURL, void (*)(CURL*)> handle(curl_easy_init(), curl_easy_cleanup);
  if (!handle) return InternalError("cannot initialize libcurl");
  CURL* curl = handle.get();
  Transfer transfer;
  transfer.max_body_bytes = request.max_response_bytes;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options_.cert_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options_.key_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (!options_.no_proxy.empty()) {
    curl_easy_setopt(curl, CURLOPT_NOPROXY, options_.no_proxy.c_str());
  }
  if (!options_.user_agent.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ToCurlMillis(options_.connect_timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ToCurlMillis(request.timeout));
  // Refused up front when the server announces a larger Content-Length.
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(std::min<size_t>(
                       request.max_response_bytes,
                       static_cast<size_t>(std::numeric_limits<curl_off_t>::max()))));
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl can decode
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const bool has_body = request.method == Method::kPost || request.method == Method::kPut ||
                        request.method == Method::kPatch;
  if (has_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  if (request.method == Method::kHead) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != Method::kGet && request.method != Method::kPost) {
    const std::string method(MethodName(request.method));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  const CURLcode rc = curl_easy_perform(curl);
  if (transfer.body_too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return Failure(ClientFailure::kTooLarge,
                   "response larger than " + FormatSize(request.max_response_bytes));
  }
  if (transfer.headers_too_large) {
    return Failure(ClientFailure::kTooLarge,
                   "response headers larger than " + FormatSize(kMaxResponseHeaderBytes));
  }
  if (rc != CURLE_OK) {
    return Failure(FailureOf(rc), error[0] != '\0' ? error : curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 100 || status > 999) {
    return Failure(ClientFailure::kTransfer, "the response has no valid HTTP status");
  }
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

Result<UrlParts> ParseUrl(std::string_view url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> handle(curl_url(), curl_url_cleanup);
  if (!handle) return InternalError("cannot initialize libcurl's URL parser");
  const std::string copy(url);
  UrlParts parts;
  if (curl_url_set(handle.get(), CURLUPART_URL, copy.c_str(), 0) == CURLUE_OK) {
    char* scheme = nullptr;
    char* host = nullptr;
    if (curl_url_get(handle.get(), CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) {
      parts.scheme = AsciiLower(scheme);
    }
    if (curl_url_get(handle.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK) {
      parts.host = AsciiLower(host);
    }
    curl_free(scheme);
    curl_free(host);
  }
  if (parts.scheme.empty() || parts.host.empty()) {
    return Failure(ClientFailure::kBadUrl, "not an absolute URL");
  }
  if (parts.host.size() > 2 && parts.host.front() == '[' && parts.host.back() == ']') {
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  }
  return parts;
}

}  // namespace lakegate::http
