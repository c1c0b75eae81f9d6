// Fuzzes the AWS Signature Version 4 parsing and canonicalisation a signed
// request goes through (gateway/sigv4.h): the Authorization header, the
// X-Amz-Date value, the canonical URI and query, and the canonical request.
//
// Input: the Authorization header value, X-Amz-Date, the raw path and the raw
// query, one a line, then the body.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_target.h"
#include "gateway/sigv4.h"

namespace sigv4 = lakegate::gateway::sigv4;

namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

bool IsUnreservedOrEscape(std::string_view s, bool allow_slash) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (allow_slash && c == '/')) {
      continue;
    }
    if (c == '%' && i + 2 < s.size() && IsHex(s[i + 1]) && IsHex(s[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lakegate::fuzz::Input input(data, size);
  const std::string_view authorization = input.TakeLine();
  const std::string_view amz_date = input.TakeLine();
  const std::string_view path = input.TakeLine();
  const std::string_view query = input.TakeLine();

  // A parsed header holds only what the verifier relies on.
  auto auth = sigv4::ParseAuthorization(authorization);
  if (auth.ok()) {
    FUZZ_CHECK(auth->signature.size() == 64);
    FUZZ_CHECK(auth->credential.date.size() == 8);
    FUZZ_CHECK(!auth->credential.access_key_id.empty() && !auth->credential.region.empty() &&
               !auth->credential.service.empty());
    FUZZ_CHECK(!auth->signed_headers.empty());
    for (size_t i = 1; i < auth->signed_headers.size(); ++i) {
      FUZZ_CHECK(auth->signed_headers[i - 1] < auth->signed_headers[i]);
    }
  }

  // A date that parses formats back to itself.
  int64_t t = 0;
  if (sigv4::ParseAmzDate(amz_date, t)) FUZZ_CHECK(sigv4::FormatAmzDate(t) == amz_date);

  // Canonical forms use only unreserved characters and escapes, and the
  // canonical query is a fixed point.
  const std::string uri = sigv4::CanonicalUri(path);
  FUZZ_CHECK(!uri.empty() && uri.front() == '/');
  FUZZ_CHECK(IsUnreservedOrEscape(uri, /*allow_slash=*/true));
  const std::string canonical_query = sigv4::CanonicalQuery(query);
  FUZZ_CHECK(sigv4::CanonicalQuery(canonical_query) == canonical_query);

  if (auth.ok()) {
    lakegate::http::Request request;
    request.method_text = "POST";
    request.path = std::string(path);
    request.query = std::string(query);
    request.headers = {{"Host", "127.0.0.1"}, {"X-Amz-Date", std::string(amz_date)}};
    request.body = std::string(input.rest());
    auto canonical = sigv4::CanonicalRequest(request, *auth, std::string(64, '0'));
    if (canonical.ok()) {
      FUZZ_CHECK(canonical->find(uri) != std::string::npos);
      (void)sigv4::StringToSign(amz_date, auth->credential.Scope(), *canonical);
    }
  }
  return 0;
}
