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
      if (saw_transfer_encoding_) transfer_encoding_.push_back(',');
      transfer_encoding_.append(value.data(), value.size());
      saw_transfer_encoding_ = true;
      break;
    case bhttp::field::content_length:
      saw_content_length_ = true;
      break;
    case bhttp::field::host:
      // Two Host headers make the request ambiguous (RFC 9112 §3.2).
      if (++host_count_ > 1) ec = bhttp::error::bad_field;
      break;
    default:
      break;
  }
}

namespace {

// True when a Transfer-Encoding list is exactly the one coding "chunked".
// Anything else is refused (RFC 9112 §6.1 lets a server refuse codings it
// does not understand): a proxy in front that decodes "gzip, chunked" or
// drops a repeated "chunked" would frame the body differently from us, and
// two parties disagreeing on where a request ends is request smuggling.
bool IsExactlyChunked(std::string_view list) {
  int codings = 0;
  bool chunked = false;
  for (std::string_view element : SplitNonEmpty(list, ',')) {
    element = TrimWhitespace(element);
    if (element.empty()) continue;  // RFC 9110 §5.6.1: empty list elements do not count
    ++codings;
    chunked = EqualsIgnoreCase(element, "chunked");
  }
  return codings == 1 && chunked;
}

}  // namespace

void RequestParser::on_header_impl(ErrorCode& ec) {
  if (saw_transfer_encoding_) {
    // Content-Length beside Transfer-Encoding is how smuggling starts (RFC
    // 9112 §6.1: a server may reject it), and HTTP/1.0 has no transfer codings
    // (RFC 9112 §6.1: treat the framing as faulty).
    if (saw_content_length_ || request_.version < 11 || !IsExactlyChunked(transfer_encoding_)) {
      ec = bhttp::error::bad_transfer_encoding;
      return;
    }
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
