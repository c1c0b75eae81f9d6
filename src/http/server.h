// Server: an HTTP/1.1 (and HTTP/1.0) server over plain TCP or TLS, built on
// Boost.Beast/Asio (which stay inside src/http's .cc files and private headers).
//
// Design: `threads` shards, each one io_context run by one thread with its own
// SO_REUSEPORT listener, so the kernel spreads connections and a connection never
// changes thread. Network threads never block: handlers that need to block hand
// the Exchange to a worker pool and answer from there. Timeouts are enforced by a
// coarse sweep (once a second per shard) rather than per-operation timers.
//
// Limits (each rejection closes the connection after the response):
//   request line + headers > max_header_bytes         -> 431
//   body > route's max_body_bytes (Content-Length is checked before any body byte
//   is read; chunked bodies as the chunks arrive)     -> 413
//   malformed request, conflicting Content-Length, control characters in header
//   values, Transfer-Encoding other than exactly "chunked", Transfer-Encoding
//   with Content-Length or in HTTP/1.0                -> 400
//   unknown path -> 404, known path with another method -> 405 + Allow
//   (OPTIONS on a known path without an OPTIONS route -> 204 + Allow)
//   handler exception -> 500 {"error":"server_error"}
//
// Thread-safety: Start() and Stop() are called from one controlling thread;
// port() is safe from any thread after Start() succeeded.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/router.h"

namespace lakegate::http {

// Called on the network thread after each response is fully written (or failed to
// be). Must be cheap and thread-safe (several network threads call it at once).
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // `route` is the matched route path, or "unmatched" for 404s and requests
  // rejected before routing.
  virtual void OnRequest(std::string_view route, int status, double latency_seconds) = 0;
};

struct ServerOptions {
  std::string address = "127.0.0.1";        // IPv4 or IPv6 literal
  uint16_t port = 0;                        // 0 = ephemeral; port() tells which
  int threads = 2;                          // shards (io_context + listener + thread each)
  size_t max_header_bytes = 8 * 1024;       // request line + headers
  std::chrono::seconds header_timeout{10};  // the whole request must arrive within this
  std::chrono::seconds idle_timeout{60};    // keep-alive idle; also write progress
  size_t max_connections = 10000;           // more are accepted and closed at once
  std::string tls_cert_file, tls_key_file;  // both set = serve HTTPS (PEM files)
  // HTTPS: ask every client for a certificate (optional for the client; any
  // certificate, self-signed too, is accepted at the TLS layer and handed to
  // handlers in Request::client_certificates for them to judge: RFC 8705).
  bool request_client_certificates = false;
  std::string server_header = "lakegate";    // empty: no Server header
  size_t stream_high_water_bytes = 1 << 20;  // Exchange::Write blocks above this
};

class Server {
 public:
  // `observer` may be null; it must outlive the server.
  Server(ServerOptions options, Router router, RequestObserver* observer);
  ~Server();  // Stop(0) if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners and starts the network threads. Returns InvalidArgument
  // for a bad address, TLS file or option, Unavailable when the address cannot be
  // bound (the message names the address and the fix). Call at most once.
  Status Start();

  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;

  // Stops accepting, closes idle keep-alive connections, lets in-flight requests
  // finish (their responses carry Connection: close) for up to `grace`, then closes
  // whatever is left and joins the threads. Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakegate::http
