#include "http/request_parser.h"

#include <string>
#include <string_view>

#include "common/strings.h"

namespace lakegate::http::internal {

void RequestParser::on_request_impl(bhttp::verb, beast::string_view method,
                                    beast::string_view target, int version, ErrorCode&) {
  request_.method_text.assign(method.data(), method.size());
  request_.method = ParseMethod(request_.method_text);
  request_.target.assign(target.data(), target.size());
  size_t q = request_.target.find('?');
  if (q == std::string::npos) {
    request_.path = request_.target;
  } else {
    request_.path.assign(request_.target, 0, q);
    request_.query.assign(request_.target, q + 1);
  }
  request_.version = version;
}

void RequestParser::on_response_impl(int, beast::string_view, int, ErrorCode& ec) {
  ec = bhttp::error::bad_method;  // unreachable for a request parser
}

void RequestParser::on_field_impl(bhttp::field f, beast::string_view name, beast::string_view value,
                                  ErrorCode& ec) {
  if (request_.headers.size() >= kMaxHeaderCount) {
    ec = bhttp::error::header_limit;
    return;
  }
  request_.headers.push_back(
      Header{std::string(name.data(), name.size()), std::string(value.data(), value.size())});
  switch (f) {
    case bhttp::field::expect:
      if (EqualsIgnoreCase(std::string_view(value.data(), value.size()), "100-continue")) {
        expect_continue_ = true;
      }
      break;
    case bhttp::field::transfer_encoding:
      saw_transfer_encoding_ = true;
      break;
    case bhttp::field::host:
      // Two Host headers make the request ambiguous (RFC 9112 §3.2).
      if (++host_count_ > 1) ec = bhttp::error::bad_field;
      break;
    default:
      break;
  }
}

void RequestParser::on_header_impl(ErrorCode& ec) {
  // A Transfer-Encoding whose final coding is not chunked leaves the request
  // length unknowable (RFC 9112 §6.3): refuse instead of guessing the framing.
  if (saw_transfer_encoding_ && !chunked()) {
    ec = bhttp::error::bad_transfer_encoding;
    return;
  }
  routes_ = router_.FindPath(request_.path);
  limit_ = RouteOptions{}.max_body_bytes;
  if (routes_ != nullptr) {
    if (const Route* route = routes_->Find(request_.method)) {
      limit_ = route->options.max_body_bytes;
    }
  }
  // Decided from Content-Length before any body byte is read.
  auto length = content_length();
  if (length && *length > limit_) {
    ec = bhttp::error::body_limit;
    return;
  }
  if (length && *length > 0) request_.body.reserve(static_cast<size_t>(*length));
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>&, ErrorCode&) {}

std::size_t RequestParser::on_body_impl(beast::string_view body, ErrorCode& ec) {
  return Append(body, ec);
}

void RequestParser::on_chunk_header_impl(std::uint64_t size, beast::string_view, ErrorCode& ec) {
  if (size > limit_ - request_.body.size()) ec = bhttp::error::body_limit;
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                              ErrorCode& ec) {
  return Append(body, ec);
}

void RequestParser::on_finish_impl(ErrorCode&) {}

size_t RequestParser::Append(beast::string_view body, ErrorCode& ec) {
  if (body.size() > limit_ - request_.body.size()) {
    ec = bhttp::error::body_limit;
    return 0;
  }
  request_.body.append(body.data(), body.size());
  return body.size();
}

}  // namespace lakegate::http::internal
