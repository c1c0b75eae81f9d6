// HTTP request and response values handed between the server and handlers.
//
// Plain value types with no third-party types; thread-compatible (a Request is
// read-only once the server hands it to a handler, so any number of threads may
// read it concurrently).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lakegate::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
inline constexpr size_t kMethodCount = 8;

// "GET", "HEAD", ...; "OTHER" for kOther.
std::string_view MethodName(Method method);
// Exact (case-sensitive, RFC 9110 §9.1) match of a method token; kOther when unknown.
Method ParseMethod(std::string_view text);

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  Method method = Method::kOther;
  std::string method_text;  // as received, e.g. "GET"
  std::string target;       // request-target as received
  std::string path;         // target without the query string
  std::string query;        // after '?', raw (not decoded)
  int version = 11;         // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::vector<Header> headers;
  std::string body;
  std::string remote_address;  // peer IP, without port
  bool secure = false;         // arrived over TLS
  // The certificates the TLS client presented (DER, its own first, then the
  // intermediates it sent), as received: the TLS layer accepts any, so whoever
  // reads them makes the trust decision. Null when none (or plain TCP). Shared
  // by every request of the connection.
  std::shared_ptr<const std::vector<std::string>> client_certificates;

  // Value of the first header named `name` (ASCII case-insensitive), or "" when absent.
  std::string_view GetHeader(std::string_view name) const;
  // How many headers are named `name` (ASCII case-insensitive).
  size_t CountHeader(std::string_view name) const;
};

struct Response {
  int status = 200;                               // 200..599; anything else is answered as 500
  std::string content_type = "application/json";  // empty: no Content-Type header
  // Extra headers. Framing headers (Content-Length, Transfer-Encoding, Connection)
  // are owned by the server and ignored here; a name or value with characters
  // that could split the response turns the response into a 500.
  std::vector<Header> headers;
  std::string body;
};

// Standard reason phrase for a status code ("OK", "Not Found"); "Unknown" otherwise.
std::string_view StatusReason(int status);

// True when a Content-Type header value names application/json (parameters
// such as "; charset=utf-8" allowed; case-insensitive).
bool IsJsonContentType(std::string_view content_type);

// `{"error":"<error>","error_description":"<description>"}` with JSON escaping;
// the description is left out when empty.
std::string JsonError(std::string_view error, std::string_view description = {});

}  // namespace lakegate::http
