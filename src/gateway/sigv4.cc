#include "gateway/sigv4.h"

#include <algorithm>
#include <ctime>
#include <optional>
#include <utility>

#include "common/strings.h"
#include "crypto/hash.h"

namespace lakegate::gateway::sigv4 {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// AWS's UriEncode: every byte but the unreserved ones as %XX (upper-case
// hex); '/' kept when `keep_slash`.
void UriEncode(std::string_view in, bool keep_slash, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding that keeps '+' and a malformed escape as they are (the
// signer encoded what it meant; we must reproduce its bytes, not judge them).
std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

// RFC 3986 §5.2.4 dot-segment removal, with empty segments dropped as AWS
// services (and botocore) do; always absolute ("" becomes "/").
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> kept;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
    start = end + 1;
  }
  // The canonical URI is an absolute path even when the target was not.
  std::string out = "/";
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(kept[i]);
  }
  if (path.back() == '/' && !kept.empty()) out.push_back('/');
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Trims and collapses runs of spaces and tabs into one space.
void AppendTrimmedValue(std::string_view value, std::string& out) {
  value = TrimWhitespace(value);
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

Status Malformed(std::string message) {
  return InvalidArgumentError("Authorization header: " + std::move(message));
}

}  // namespace

std::string Credential::Scope() const {
  return date + "/" + region + "/" + service + "/" + std::string(kTerminator);
}

bool IsSigV4(std::string_view authorization) {
  authorization = TrimWhitespace(authorization);
  return authorization.size() >= kAlgorithm.size() &&
         authorization.substr(0, kAlgorithm.size()) == kAlgorithm &&
         (authorization.size() == kAlgorithm.size() || authorization[kAlgorithm.size()] == ' ');
}

Result<Authorization> ParseAuthorization(std::string_view value) {
  value = TrimWhitespace(value);
  if (!IsSigV4(value)) return Malformed("the scheme must be AWS4-HMAC-SHA256");
  std::string_view rest = value.substr(kAlgorithm.size());
  std::optional<std::string_view> credential;
  std::optional<std::string_view> signed_headers;
  std::optional<std::string_view> signature;
  for (std::string_view part : SplitNonEmpty(rest, ',')) {
    part = TrimWhitespace(part);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Malformed("\"" + std::string(part.substr(0, 64)) + "\" is not name=value");
    }
    const std::string_view name = part.substr(0, eq);
    const std::string_view v = part.substr(eq + 1);
    std::optional<std::string_view>* slot = name == "Credential"      ? &credential
                                            : name == "SignedHeaders" ? &signed_headers
                                            : name == "Signature"     ? &signature
                                                                      : nullptr;
    if (slot == nullptr) {
      return Malformed("unknown part \"" + std::string(name.substr(0, 64)) +
                       "\"; expected Credential, SignedHeaders and Signature");
    }
    if (slot->has_value()) return Malformed(std::string(name) + " is given twice");
    *slot = v;
  }
  if (!credential) return Malformed("Credential is missing");
  if (!signed_headers) return Malformed("SignedHeaders is missing");
  if (!signature) return Malformed("Signature is missing");

  Authorization auth;
  std::vector<std::string_view> scope;
  {
    size_t start = 0;
    for (;;) {
      const size_t slash = credential->find('/', start);
      scope.push_back(credential->substr(start, slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
  }
  if (scope.size() != 5 || scope[4] != kTerminator) {
    return Malformed(
        "Credential must be <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request");
  }
  for (std::string_view piece : scope) {
    if (piece.empty()) return Malformed("Credential has an empty part");
  }
  if (scope[1].size() != 8 || !IsDigits(scope[1])) {
    return Malformed("the Credential's date must be YYYYMMDD");
  }
  auth.credential = Credential{.access_key_id = std::string(scope[0]),
                               .date = std::string(scope[1]),
                               .region = std::string(scope[2]),
                               .service = std::string(scope[3])};
  auth.signed_headers_text = std::string(*signed_headers);
  if (signed_headers->empty()) return Malformed("SignedHeaders is empty");
  {
    size_t start = 0;
    for (;;) {
      const size_t semi = signed_headers->find(';', start);
      std::string_view name = signed_headers->substr(start, semi - start);
      if (name.empty()) return Malformed("SignedHeaders has an empty name");
      for (char c : name) {
        if (c >= 'A' && c <= 'Z') return Malformed("SignedHeaders must be lower-case");
      }
      if (!auth.signed_headers.empty() && !(auth.signed_headers.back() < name)) {
        return Malformed("SignedHeaders must be sorted and without repeats");
      }
      auth.signed_headers.emplace_back(name);
      if (semi == std::string_view::npos) break;
      start = semi + 1;
    }
  }
  if (signature->size() != 64 || !IsLowerHex(*signature)) {
    return Malformed("Signature must be 64 lower-case hex digits");
  }
  auth.signature = std::string(*signature);
  return auth;
}

std::string CanonicalUri(std::string_view raw_path) {
  std::string out;
  UriEncode(NormalizePath(raw_path), /*keep_slash=*/true, out);
  return out;
}

std::string CanonicalQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::string_view item : SplitNonEmpty(raw_query, '&')) {
    const size_t eq = item.find('=');
    std::string name;
    std::string value;
    UriEncode(PercentDecode(item.substr(0, eq)), /*keep_slash=*/false, name);
    if (eq != std::string_view::npos) {
      UriEncode(PercentDecode(item.substr(eq + 1)), /*keep_slash=*/false, value);
    }
    pairs.emplace_back(std::move(name), std::move(value));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

Result<std::string> CanonicalHeaders(const http::Request& request,
                                     const std::vector<std::string>& signed_headers) {
  std::string out;
  for (const std::string& name : signed_headers) {
    out += name;
    out.push_back(':');
    bool found = false;
    for (const http::Header& header : request.headers) {
      if (!EqualsIgnoreCase(header.name, name)) continue;
      if (found) out.push_back(',');
      found = true;
      AppendTrimmedValue(header.value, out);
    }
    if (!found) {
      return InvalidArgumentError("the signed header \"" + name + "\" is not in the request");
    }
    out.push_back('\n');
  }
  return out;
}

Result<std::string> CanonicalRequest(const http::Request& request, const Authorization& auth,
                                     std::string_view payload_hash_hex) {
  LG_ASSIGN_OR_RETURN(std::string headers, CanonicalHeaders(request, auth.signed_headers));
  std::string out;
  out.reserve(256 + headers.size());
  out += request.method_text;
  out.push_back('\n');
  out += CanonicalUri(request.path);
  out.push_back('\n');
  out += CanonicalQuery(request.query);
  out.push_back('\n');
  out += headers;
  out.push_back('\n');
  out += auth.signed_headers_text;
  out.push_back('\n');
  out += payload_hash_hex;
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.push_back('\n');
  out += amz_date;
  out.push_back('\n');
  out += scope;
  out.push_back('\n');
  out += HexEncode(crypto::Sha256(canonical_request));
  return out;
}

std::string SigningKey(std::string_view secret, const Credential& credential) {
  std::string key = crypto::HmacSha256("AWS4" + std::string(secret), credential.date);
  key = crypto::HmacSha256(key, credential.region);
  key = crypto::HmacSha256(key, credential.service);
  return crypto::HmacSha256(key, kTerminator);
}

std::string Signature(std::string_view signing_key, std::string_view string_to_sign) {
  return HexEncode(crypto::HmacSha256(signing_key, string_to_sign));
}

bool ParseAmzDate(std::string_view text, int64_t& unix_seconds) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z' || !IsDigits(text.substr(0, 8)) ||
      !IsDigits(text.substr(9, 6))) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = ToInt(text.substr(0, 4)) - 1900;
  tm.tm_mon = ToInt(text.substr(4, 2)) - 1;
  tm.tm_mday = ToInt(text.substr(6, 2));
  tm.tm_hour = ToInt(text.substr(9, 2));
  tm.tm_min = ToInt(text.substr(11, 2));
  tm.tm_sec = ToInt(text.substr(13, 2));
  // Years before the epoch are no signing time (and would not format back).
  if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59) {
    return false;
  }
  const int day = tm.tm_mday;
  const time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1) || tm.tm_mday != day) return false;  // e.g. February 30
  unix_seconds = static_cast<int64_t>(t);
  return true;
}

std::string FormatAmzDate(int64_t unix_seconds) {
  const auto t = static_cast<time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace lakegate::gateway::sigv4
