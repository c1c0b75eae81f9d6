// Sessions: one accepted connection served request after request (plain TCP
// or TLS). A session reads and parses a request, hands it to its route's
// handler, writes the answer (whole or streamed), then parses the next request
// from the buffer (pipelining) or waits for more bytes; the shard's sweep
// enforces its deadlines.
//
// Private to src/http.
#pragma once

#include <memory>

#include "http/shard.h"

namespace lakegate::http::internal {

// Serves `socket`, just accepted by `shard` (counted in its active() and in
// the server's connections), over TLS when the server has a TLS context and
// plain TCP otherwise, until the connection closes. Shard thread only.
void StartSession(std::shared_ptr<Shard> shard, tcp::socket socket);

}  // namespace lakegate::http::internal
