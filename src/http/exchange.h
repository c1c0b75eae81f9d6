// Exchange: one in-flight HTTP request and the means to answer it.
//
// Thread-safety: every member may be called from any thread. The server hands a
// handler a shared_ptr<Exchange>; the handler answers either synchronously (inside
// the handler call: the fast path, no extra post or allocation) or later from any
// thread (for example a worker pool), by keeping the shared_ptr.
//
// Exactly one answer per request: the first Respond() or BeginStream() wins and
// later calls are ignored (BeginStream returns false). If the last reference is
// dropped without an answer the client gets 500 {"error":"server_error"}; a stream
// abandoned without End() is cut off (the connection closes, so the client can
// see the body is incomplete).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/message.h"

namespace lakegate::http {

class Exchange {
 public:
  virtual ~Exchange() = default;

  virtual const Request& request() const = 0;

  // Sends a complete response. For HEAD requests the body is not sent, but its
  // length is announced in Content-Length.
  virtual void Respond(Response response) = 0;

  // Streaming with chunked transfer encoding (plain close-delimited body for an
  // HTTP/1.0 client). Returns false if the request was already answered or the
  // client is gone.
  virtual bool BeginStream(int status, std::string content_type, std::vector<Header> headers) = 0;
  // Queues one piece of the body. For WORKER threads: blocks the caller while more
  // than the server's high-water mark (ServerOptions::stream_high_water_bytes,
  // 1 MiB by default) is queued and unsent, so memory stays bounded however large
  // the result. Never blocks when called on a network thread (inside the handler
  // call). Returns false once the client has gone, the server is stopping hard, or
  // the request is a HEAD (no body is sent): the caller should stop producing.
  virtual bool Write(std::string chunk) = 0;
  // Finishes the stream (sends the last chunk). Idempotent.
  virtual void End() = 0;

  // True once a write to the client failed or the connection was closed (timeout,
  // server stop). Not detected while nothing is being written.
  virtual bool ClientGone() const = 0;
};

using Handler = std::function<void(std::shared_ptr<Exchange>)>;

}  // namespace lakegate::http
