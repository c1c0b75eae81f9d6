// Client: a blocking HTTP/1.1 client for outgoing requests (the JWKS of a
// trusted issuer, the CLI's token and query calls). libcurl stays inside
// client.cc.
//
// What every request gets, whoever sends it: http:// and https:// only;
// redirects are never followed (a 3xx is returned as the response it is, so a
// request cannot be steered to another host); TLS peers are verified (chain and
// host name) against the system trust store or ClientOptions::ca_file; the
// response body is capped (ClientRequest::max_response_bytes, counted after
// content decoding, so a compressed bomb is cut off too) and so are the
// response headers (64 KiB); the whole exchange has a deadline.
//
// Thread-safety: a Client is immutable after construction and every Send()
// uses its own connection, so any number of threads may share one. Send()
// blocks for up to the request's timeout: call it from a worker or CLI thread,
// never from a network thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace lakegate::http {

// Why an outgoing request got no complete response.
enum class ClientFailure {
  kBadUrl,          // not an absolute http:// or https:// URL (InvalidArgument)
  kInvalidRequest,  // a method that cannot be sent, or a header that could split the
                    // request (InvalidArgument)
  kConnect,         // the host name did not resolve or the connection was refused (Unavailable)
  kTls,             // TLS handshake failed or the peer's certificate is not trusted (Unavailable)
  kTimeout,         // the connect timeout or the request's timeout passed (DeadlineExceeded)
  kTooLarge,        // the response body or headers exceed the cap (ResourceExhausted)
  kTransfer,        // the connection broke or the peer did not speak HTTP (Unavailable)
};
const ReasonDomain& ReasonDomainOf(ClientFailure);

struct ClientRequest {
  Method method = Method::kGet;  // kOther cannot be sent (kInvalidRequest)
  std::string url;
  // Sent as given, after the ones libcurl adds (Host, User-Agent, Accept-Encoding).
  // They may carry credentials: Send() wipes its copies after the transfer.
  std::vector<Header> headers;
  std::string body;                          // sent for POST, PUT and PATCH (with Content-Length)
  std::chrono::milliseconds timeout{30000};  // the whole exchange, connect included
  size_t max_response_bytes = 1 << 20;       // larger bodies fail with kTooLarge
};

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;  // of the final response (not of a 100 Continue), in order
  std::string body;

  // Value of the first header named `name` (ASCII case-insensitive), or "" when absent.
  std::string_view GetHeader(std::string_view name) const;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::string ca_file;  // PEM bundle of trusted CAs; "" = the system trust store
  // A TLS client certificate (PEM, the client's own first) and its private key
  // (PEM), presented to servers that ask for one (mutual TLS, RFC 8705);
  // both or neither.
  std::string cert_file = {};
  std::string key_file = {};
  std::string user_agent = "lakegate";
  // Hosts reached without a proxy even when the environment names one
  // (comma-separated host names or addresses; "*" = every host). It replaces the
  // environment's no_proxy; "" leaves proxy choice to the environment.
  std::string no_proxy;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});

  // Performs one exchange. Any HTTP status is a response: what a 4xx or 5xx
  // means is the caller's business. Returns a status with a ClientFailure
  // reason when no complete response arrived; its message says what went wrong
  // (not which URL: callers add that context) and never holds a header value.
  // `request` is taken by value so that its credentials can be wiped.
  Result<ClientResponse> Send(ClientRequest request) const;

 private:
  const ClientOptions options_;
};

// The parts of an absolute URL that callers make policy decisions on.
struct UrlParts {
  std::string scheme;  // lower case: "https"
  std::string host;    // lower case, without brackets for IPv6: "::1"
};

// Parses an absolute URL (any scheme, with a host). InvalidArgument with reason
// kBadUrl otherwise.
Result<UrlParts> ParseUrl(std::string_view url);

}  // namespace lakegate::http
