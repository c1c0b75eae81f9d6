// RequestParser: Beast's basic_parser with callbacks that fill our Request
// directly (no intermediate beast::http::fields) and enforce the route's body
// limit before any body byte is accepted.
//
// Private to src/http (Beast stays inside this module). Not thread-safe: one
// parser per request, used by the connection's network thread only.
#pragma once

// clang-format off
// <utility> must come before Boost (Boost 1.74 headers use std::exchange).
#include <utility>
// clang-format on

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "http/message.h"
#include "http/router.h"

namespace lakegate::http::internal {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// More header fields than this is answered like an oversized header (431).
inline constexpr size_t kMaxHeaderCount = 100;

class RequestParser final : public bhttp::basic_parser<true> {
 public:
  using ErrorCode = boost::system::error_code;

  // Fills `request`, which must outlive the parser. `router` decides each
  // route's body limit once the headers are in.
  RequestParser(Request& request, const Router& router, size_t max_header_bytes)
      : request_(request), router_(router) {
    eager(true);
    header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    // Enforced per route by on_header_impl. Not boost::none: Beast 1.74 compares
    // `len > body_limit_` with an empty optional as true and refuses every body.
    body_limit(std::numeric_limits<std::uint64_t>::max());
  }

  // The routes of the request's path (null: no such path) and the body limit
  // that applies; both valid once the header is done.
  const PathRoutes* routes() const { return routes_; }
  size_t limit() const { return limit_; }
  bool expect_continue() const { return expect_continue_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, ErrorCode&) override;
  void on_response_impl(int, beast::string_view, int, ErrorCode& ec) override;
  void on_field_impl(bhttp::field f, beast::string_view name, beast::string_view value,
                     ErrorCode& ec) override;
  void on_header_impl(ErrorCode& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>&, ErrorCode&) override;
  std::size_t on_body_impl(beast::string_view body, ErrorCode& ec) override;
  void on_chunk_header_impl(std::uint64_t size, beast::string_view, ErrorCode& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, ErrorCode& ec) override;
  void on_finish_impl(ErrorCode&) override;

  // Appends a piece of the body; body_limit past the route's limit.
  size_t Append(beast::string_view body, ErrorCode& ec);

  Request& request_;
  const Router& router_;
  const PathRoutes* routes_ = nullptr;
  size_t limit_ = 0;
  int host_count_ = 0;
  bool expect_continue_ = false;
  bool saw_transfer_encoding_ = false;
  bool saw_content_length_ = false;
  std::string transfer_encoding_;  // every Transfer-Encoding field, comma-joined
};

}  // namespace lakegate::http::internal
