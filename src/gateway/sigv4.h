// AWS Signature Version 4 (AWS4-HMAC-SHA256) as AWS services other than S3
// compute it: the Authorization header's parts, the canonical request, the
// string to sign and the signing key. Pure functions with no state; the
// authenticator that uses them against clients' access keys is
// sigv4_authenticator.h. Thread-safe.
//
// Canonical request (AWS "Create a canonical request for Signature Version 4"):
//   METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//   - CanonicalURI: the path as received, with dot segments and repeated
//     slashes removed, then every byte but the unreserved ones (A-Z a-z 0-9
//     - _ . ~) and '/' percent-encoded again (so "%20" on the wire signs as
//     "%2520": non-S3 services encode the path twice);
//   - CanonicalQuery: each name and value percent-decoded then encoded with
//     the unreserved set ('+' stays a plus: %2B), sorted by name then value,
//     a missing value as "";
//   - CanonicalHeaders: "name:value\n" for each signed header in the order of
//     SignedHeaders (lower-case, sorted), the values of repeated headers
//     joined with ',', each trimmed and with runs of spaces collapsed;
//   - PayloadHash: lower-case hex SHA-256 of the body, which the verifier
//     computes itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace lakegate::gateway::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kTerminator = "aws4_request";

// Credential=<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request
struct Credential {
  std::string access_key_id;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;

  // "<date>/<region>/<service>/aws4_request"
  std::string Scope() const;
};

struct Authorization {
  Credential credential;
  std::vector<std::string> signed_headers;  // as listed: lower-case, sorted, unique
  std::string signed_headers_text;          // "host;x-amz-date"
  std::string signature;                    // 64 lower-case hex digits
};

// Parses an Authorization header value of the AWS4-HMAC-SHA256 scheme:
// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
// kInvalidArgument, saying what is wrong, when a part is missing, repeated
// or malformed (a signed-header list that is not lower-case, sorted and
// without repeats; a credential without five parts or another terminator).
Result<Authorization> ParseAuthorization(std::string_view value);

// True when `authorization` uses the AWS4-HMAC-SHA256 scheme at all.
bool IsSigV4(std::string_view authorization);

// The canonical URI of a raw request path, e.g. "/a%20b" → "/a%2520b".
std::string CanonicalUri(std::string_view raw_path);

// The canonical query string of a raw query (after '?').
std::string CanonicalQuery(std::string_view raw_query);

// The canonical headers block (each line ending in '\n') of `request` for
// `signed_headers`. kInvalidArgument naming the header when a signed header
// is absent from the request.
Result<std::string> CanonicalHeaders(const http::Request& request,
                                     const std::vector<std::string>& signed_headers);

// The whole canonical request; `payload_hash_hex` is the hex SHA-256 of the
// body. Fails as CanonicalHeaders.
Result<std::string> CanonicalRequest(const http::Request& request, const Authorization& auth,
                                     std::string_view payload_hash_hex);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical request>"
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// HMAC chain "AWS4"+secret → date → region → service → "aws4_request" (raw bytes).
std::string SigningKey(std::string_view secret, const Credential& credential);

// Lower-case hex HMAC-SHA256 of `string_to_sign` under `signing_key`.
std::string Signature(std::string_view signing_key, std::string_view string_to_sign);

// Parses an ISO 8601 basic date-time "YYYYMMDDTHHMMSSZ" to Unix seconds;
// false when malformed.
bool ParseAmzDate(std::string_view text, int64_t& unix_seconds);
// Unix seconds → "YYYYMMDDTHHMMSSZ".
std::string FormatAmzDate(int64_t unix_seconds);

}  // namespace lakegate::gateway::sigv4
