// Fuzzes what reads requests off the wire: http::internal::RequestParser (Beast's
// parser with our callbacks: header count, duplicate Host, Transfer-Encoding,
// per-route body limits), driven the way a connection drives it — bytes arrive
// in pieces, put() is called on whatever is buffered, and pipelined requests
// follow one another on the same buffer.
//
// Input: one byte choosing the read size (1..256 bytes per read), then the bytes
// the client sends.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_target.h"
#include "http/message.h"
#include "http/request_parser.h"
#include "http/router.h"

namespace {

using lakegate::http::Method;
using lakegate::http::Request;
using lakegate::http::Router;
using lakegate::http::internal::kMaxHeaderCount;
using lakegate::http::internal::RequestParser;

constexpr size_t kMaxHeaderBytes = 1024;  // small, so the fuzzer reaches the limit
constexpr int kMaxRequests = 8;

// Routes with a small and a larger body limit; the handlers are never called.
Router MakeRouter() {
  Router router;
  lakegate::http::RouteOptions small;
  small.max_body_bytes = 64;
  lakegate::http::RouteOptions large;
  large.max_body_bytes = 4096;
  router.Add(Method::kPost, "/oauth2/token", nullptr, small);
  router.Add(Method::kPost, "/v1/query", nullptr, large);
  router.Add(Method::kGet, "/healthz", nullptr);
  return router;
}

const Router& TheRouter() {
  static const Router router = MakeRouter();
  return router;
}

// Checks what a finished request must satisfy whatever the bytes were.
void CheckRequest(const Request& request, const RequestParser& parser) {
  FUZZ_CHECK(request.headers.size() <= kMaxHeaderCount);
  FUZZ_CHECK(request.body.size() <= parser.limit());
  FUZZ_CHECK(request.CountHeader("host") <= 1);
  FUZZ_CHECK(request.path.size() <= request.target.size());
  if (parser.routes() != nullptr) FUZZ_CHECK(TheRouter().FindPath(request.path) == parser.routes());
  (void)request.GetHeader("content-type");
  (void)parser.keep_alive();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lakegate::fuzz::Input input(data, size);
  const size_t read_size = 1 + input.TakeByte();
  const std::string_view wire = input.rest();

  std::string buffer;  // received, not yet consumed by the parser
  size_t sent = 0;
  for (int n = 0; n < kMaxRequests; ++n) {
    Request request;
    RequestParser parser(request, TheRouter(), kMaxHeaderBytes);
    bool finished = false;
    bool failed = false;
    while (!finished && !failed) {
      // Parse what is buffered, as Session::Parse does.
      while (!buffer.empty()) {
        RequestParser::ErrorCode ec;
        size_t used = parser.put(boost::asio::const_buffer(buffer.data(), buffer.size()), ec);
        FUZZ_CHECK(used <= buffer.size());
        buffer.erase(0, used);
        if (ec == boost::beast::http::error::need_more) break;
        if (ec) {
          failed = true;
          break;
        }
        if (parser.is_done()) {
          finished = true;
          break;
        }
        if (used == 0) break;
      }
      if (finished || failed) break;
      if (sent == wire.size()) {  // the client closed the connection
        if (parser.got_some()) {
          RequestParser::ErrorCode ec;
          parser.put_eof(ec);
        }
        return 0;
      }
      size_t chunk = std::min(read_size, wire.size() - sent);
      buffer.append(wire.substr(sent, chunk));
      sent += chunk;
    }
    if (failed) return 0;  // the connection answers 4xx and closes
    CheckRequest(request, parser);
    if (!parser.keep_alive()) return 0;
  }
  return 0;
}
