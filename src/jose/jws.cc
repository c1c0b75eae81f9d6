#include "jose/jws.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "common/base64url.h"
#include "common/strings.h"

namespace lakegate::jose {
namespace {

using nlohmann::json;

// Bounds on what an unauthenticated header (or a payload) may make us do.
constexpr size_t kMaxJsonDepth = 16;
constexpr size_t kMaxMembersPerObject = 128;
constexpr int64_t kMaxLeewaySeconds = 24 * 3600;

// A top-level member value of a flat JSON object. Arrays holding anything but
// strings are kept only as kOther; an object keeps its members' names, with
// the values of those that are strings (a claim such as "cnf").
struct Value {
  enum class Kind { kNull, kBool, kInteger, kFloat, kString, kStringArray, kObject, kOther };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  double number = 0;
  std::string string;
  std::vector<std::string> strings;
  // kObject: each member's name and, when it is a string, its value.
  std::vector<std::pair<std::string, std::optional<std::string>>> object;

  static Value Of(Kind kind) {
    Value v;
    v.kind = kind;
    return v;
  }
  static Value Integer(int64_t i) {
    Value v = Of(Kind::kInteger);
    v.integer = i;
    return v;
  }
  static Value Float(double d) {
    Value v = Of(Kind::kFloat);
    v.number = d;
    return v;
  }
  static Value String(std::string s) {
    Value v = Of(Kind::kString);
    v.string = std::move(s);
    return v;
  }
};

struct Member {
  std::string name;
  Value value;
};

enum class ParseFailure { kNone, kMalformed, kDuplicate };

// nlohmann SAX handler that reads a JSON object into its top-level members
// without building a DOM, and rejects duplicate member names at any depth
// (parsers disagree on which duplicate wins, so a token carrying two "exp"
// could mean different things to different verifiers).
class FlatObjectReader {
 public:
  std::vector<Member>& members() { return members_; }
  ParseFailure failure() const { return failure_; }

  bool null() { return Scalar(Value{}); }
  bool boolean(bool) { return Scalar(Value::Of(Value::Kind::kBool)); }
  bool number_integer(json::number_integer_t v) { return Scalar(Value::Integer(v)); }
  bool number_unsigned(json::number_unsigned_t v) {
    if (v <= static_cast<json::number_unsigned_t>(std::numeric_limits<int64_t>::max())) {
      return Scalar(Value::Integer(static_cast<int64_t>(v)));
    }
    return Scalar(Value::Float(static_cast<double>(v)));
  }
  bool number_float(json::number_float_t v, const json::string_t&) {
    return Scalar(Value::Float(v));
  }
  bool string(json::string_t& v) {
    if (depth() == 2 && top_array_open_) {
      Value& array = members_.back().value;
      if (array.kind == Value::Kind::kStringArray) array.strings.push_back(std::move(v));
      return true;
    }
    if (InTopObject()) {
      members_.back().value.object.back().second = std::move(v);
      return true;
    }
    return Scalar(Value::String(std::move(v)));
  }
  bool binary(json::binary_t&) { return Fail(ParseFailure::kMalformed); }

  bool start_object(std::size_t) {
    MarkNested();
    if (depth() == 1) members_.back().value.kind = Value::Kind::kObject;
    open_.push_back(true);
    object_keys_.emplace_back();
    return depth() <= kMaxJsonDepth || Fail(ParseFailure::kMalformed);
  }
  bool key(json::string_t& name) {
    std::vector<std::string>& keys = object_keys_.back();
    if (keys.size() >= kMaxMembersPerObject) return Fail(ParseFailure::kMalformed);
    for (const std::string& k : keys) {
      if (k == name) return Fail(ParseFailure::kDuplicate);
    }
    keys.push_back(name);
    if (depth() == 1) members_.push_back(Member{.name = name, .value = {}});
    if (InTopObject()) members_.back().value.object.emplace_back(name, std::nullopt);
    return true;
  }
  bool end_object() {
    open_.pop_back();
    object_keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    if (depth() == 0) return Fail(ParseFailure::kMalformed);  // not an object
    if (depth() == 1) {
      members_.back().value.kind = Value::Kind::kStringArray;
      top_array_open_ = true;
    } else {
      MarkNested();
    }
    open_.push_back(false);
    return depth() <= kMaxJsonDepth || Fail(ParseFailure::kMalformed);
  }
  bool end_array() {
    open_.pop_back();
    if (depth() == 1) top_array_open_ = false;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception&) {
    return Fail(ParseFailure::kMalformed);
  }

 private:
  size_t depth() const { return open_.size(); }
  // Directly inside an object that is a top-level member's value.
  bool InTopObject() const {
    return depth() == 2 && open_[1] && members_.back().value.kind == Value::Kind::kObject;
  }

  bool Fail(ParseFailure failure) {
    if (failure_ == ParseFailure::kNone) failure_ = failure;
    return false;
  }
  bool Scalar(Value v) {
    if (depth() == 0) return Fail(ParseFailure::kMalformed);  // not an object
    if (depth() == 1) {
      members_.back().value = std::move(v);
    } else if (depth() == 2 && top_array_open_) {
      members_.back().value.kind = Value::Kind::kOther;  // not an array of strings
    }
    return true;
  }
  // An object or array opens: below the top level, the member holding it is
  // no longer a plain value (or array of strings).
  void MarkNested() {
    if (depth() == 1 || (depth() == 2 && top_array_open_)) {
      members_.back().value.kind = Value::Kind::kOther;
    }
  }

  std::vector<Member> members_;
  std::vector<bool> open_;  // open containers: true = object, false = array
  std::vector<std::vector<std::string>> object_keys_;
  bool top_array_open_ = false;
  ParseFailure failure_ = ParseFailure::kNone;
};

// Reads decoded JSON `text` as a flat JSON object.
Result<std::vector<Member>> ReadObject(std::string_view text) {
  FlatObjectReader reader;
  bool ok = false;
  try {
    ok = json::sax_parse(text, &reader);
  } catch (const std::exception&) {  // allocation failure; nothing else throws here
    ok = false;
  }
  if (!ok || reader.failure() != ParseFailure::kNone) {
    return reader.failure() == ParseFailure::kDuplicate
               ? TokenError(TokenFailure::kDuplicateMember, "duplicate JSON key")
               : TokenError(TokenFailure::kMalformed, "malformed token");
  }
  return std::move(reader.members());
}

struct Parts {
  std::string_view header, payload, signature, signing_input;
};

// Exactly three dot-separated parts.
std::optional<Parts> Split(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  return Parts{.header = token.substr(0, first),
               .payload = token.substr(first + 1, second - first - 1),
               .signature = token.substr(second + 1),
               .signing_input = token.substr(0, second)};
}

struct Header {
  std::string alg, kid, typ;
  bool crit = false;
};

Result<Header> ReadHeader(std::string_view token, size_t max_token_bytes, Parts* parts) {
  if (token.size() > max_token_bytes) return TokenError(TokenFailure::kTooLarge, "token too large");
  std::optional<Parts> split = Split(token);
  if (!split) return TokenError(TokenFailure::kMalformed, "malformed token");
  *parts = *split;
  std::optional<std::string> text = Base64UrlDecode(parts->header);
  if (!text) return TokenError(TokenFailure::kMalformed, "malformed token");
  LG_ASSIGN_OR_RETURN(std::vector<Member> members, ReadObject(*text));
  Header header;
  bool has_alg = false, has_kid = false;
  for (Member& m : members) {
    if (m.name == "alg" || m.name == "kid" || m.name == "typ") {
      if (m.value.kind != Value::Kind::kString)
        return TokenError(TokenFailure::kMalformed, "malformed token");
      if (m.name == "alg") {
        header.alg = std::move(m.value.string);
        has_alg = true;
      } else if (m.name == "kid") {
        header.kid = std::move(m.value.string);
        has_kid = true;
      } else {
        header.typ = std::move(m.value.string);
      }
    } else if (m.name == "crit") {
      header.crit = true;
    }
    // Everything else, including "jku", "x5u", "jwk" and "x5c", is ignored on
    // purpose: keys come only from the caller's key set.
  }
  if (!has_alg || !has_kid) return TokenError(TokenFailure::kMalformed, "malformed token");
  return header;
}

// A NumericDate (RFC 7519 §2): any JSON number; fractions are dropped.
std::optional<int64_t> ToSeconds(const Value& v) {
  if (v.kind == Value::Kind::kInteger) return v.integer;
  if (v.kind == Value::Kind::kFloat && std::isfinite(v.number) && v.number > -9.2e18 &&
      v.number < 9.2e18) {
    return static_cast<int64_t>(std::floor(v.number));
  }
  return std::nullopt;
}

// The string field for claim `name`, or nullptr when it is not a string claim.
std::string* StringClaim(AccessTokenClaims* c, std::string_view name) {
  if (name == "iss") return &c->iss;
  if (name == "sub") return &c->sub;
  if (name == "client_id") return &c->client_id;
  if (name == "scope") return &c->scope;
  if (name == "token_use") return &c->token_use;
  if (name == "jti") return &c->jti;
  return nullptr;
}

Status InvalidClaim(std::string_view name) {
  return TokenError(TokenFailure::kInvalidClaim, "invalid claim: " + std::string(name));
}

// Reads the claims we know; others are ignored. Wrong JSON types are errors:
// a string "exp" must not turn into "no expiry".
Status ReadClaims(std::vector<Member>& members, AccessTokenClaims* c, bool* has_exp) {
  for (Member& m : members) {
    const std::string& name = m.name;
    Value& v = m.value;
    if (std::string* text = StringClaim(c, name)) {
      if (v.kind != Value::Kind::kString) return InvalidClaim(name);
      *text = std::move(v.string);
    } else if (name == "aud") {
      if (v.kind == Value::Kind::kString) {
        c->aud.assign(1, std::move(v.string));
      } else if (v.kind == Value::Kind::kStringArray) {
        c->aud = std::move(v.strings);
      } else {
        return InvalidClaim(name);
      }
    } else if (name == "cnf") {
      // RFC 7800: an object of confirmation methods. A certificate or key
      // thumbprint that is not a string must not read as "not bound".
      if (v.kind != Value::Kind::kObject) return InvalidClaim(name);
      for (auto& [method, value] : v.object) {
        if (method != "x5t#S256" && method != "jkt") continue;
        if (!value || value->empty()) return InvalidClaim("cnf");
        (method == "jkt" ? c->cnf_jkt : c->cnf_x5t_s256) = std::move(*value);
      }
    } else if (name == "exp" || name == "iat" || name == "nbf" || name == "auth_time" ||
               name == "version") {
      std::optional<int64_t> seconds = ToSeconds(v);
      if (!seconds) return InvalidClaim(name);
      if (name == "exp") {
        c->exp = *seconds;
        *has_exp = true;
      } else if (name == "iat") {
        c->iat = *seconds;
      } else if (name == "nbf") {
        c->nbf = *seconds;
      } else if (name == "auth_time") {
        c->auth_time = *seconds;
      } else {
        c->version = *seconds;
      }
    }
  }
  return Status::Ok();
}

bool IsAtJwtType(std::string_view typ) {
  // Media type names are case-insensitive (RFC 7515 §4.1.9).
  return EqualsIgnoreCase(typ, "at+jwt") || EqualsIgnoreCase(typ, "application/at+jwt");
}

}  // namespace

// ---- Signer ------------------------------------------------------------------

Signer::Signer(std::string kid, crypto::PrivateKey key, std::string typ)
    : kid_(std::move(kid)), key_(std::move(key)) {
  std::string header = R"({"alg":")" + std::string(crypto::AlgorithmName(key_.algorithm())) +
                       R"(","kid":)" + JsonQuote(kid_);
  if (!typ.empty()) header += R"(,"typ":)" + JsonQuote(typ);
  header += '}';
  header_b64_ = Base64UrlEncode(header);
}

Result<std::string> Signer::SignCompact(std::string_view payload_json) const {
  std::string token;
  // header . payload . signature (RSA-8192 at most 1,366 characters).
  token.reserve(header_b64_.size() + 2 + (payload_json.size() * 4 + 2) / 3 + 1400);
  token += header_b64_;
  token += '.';
  token += Base64UrlEncode(payload_json);
  LG_ASSIGN_OR_RETURN(std::string signature, key_.Sign(token));
  token += '.';
  token += Base64UrlEncode(signature);
  return token;
}

// ---- Verify --------------------------------------------------------------------

Result<VerifiedToken> Verify(std::string_view token, const KeySet& keys,
                             const VerifyOptions& options, int64_t now_seconds) {
  Parts parts;
  LG_ASSIGN_OR_RETURN(Header header, ReadHeader(token, options.max_token_bytes, &parts));

  // The algorithm allow-list: "none", HS* (HMAC keyed with a public key) and
  // anything else we do not implement end here.
  std::optional<crypto::Algorithm> algorithm = crypto::ParseAlgorithm(header.alg);
  if (!algorithm) return TokenError(TokenFailure::kUnsupportedAlgorithm, "unsupported algorithm");
  // We implement no extensions, so every critical one is unknown (RFC 7515 §4.1.11).
  if (header.crit)
    return TokenError(TokenFailure::kCriticalHeader, "critical header not supported");
  const Jwk* jwk = keys.Find(header.kid);
  if (jwk == nullptr) return TokenError(TokenFailure::kUnknownKey, "unknown key id");
  // The key decides the algorithm; the token only has to agree.
  if (jwk->key.algorithm() != *algorithm)
    return TokenError(TokenFailure::kAlgorithmMismatch, "algorithm does not match key");

  // Strict base64url for every part (one encoding per token); decoding is not
  // parsing, the payload's JSON is read only once the signature holds.
  std::optional<std::string> payload = Base64UrlDecode(parts.payload);
  std::optional<std::string> signature = Base64UrlDecode(parts.signature);
  if (!payload || !signature) return TokenError(TokenFailure::kMalformed, "malformed token");
  if (!jwk->key.Verify(parts.signing_input, *signature))
    return TokenError(TokenFailure::kBadSignature, "bad signature");

  // Only now is anything in the token trusted.
  if (options.require_at_jwt_typ && !IsAtJwtType(header.typ)) {
    return TokenError(TokenFailure::kWrongType, "wrong token type");
  }
  LG_ASSIGN_OR_RETURN(std::vector<Member> members, ReadObject(*payload));
  VerifiedToken out;
  bool has_exp = false;
  LG_RETURN_IF_ERROR(ReadClaims(members, &out.claims, &has_exp));
  const AccessTokenClaims& c = out.claims;

  if (!has_exp) return TokenError(TokenFailure::kInvalidClaim, "missing claim: exp");
  int64_t leeway = options.leeway_seconds < 0                   ? 0
                   : options.leeway_seconds > kMaxLeewaySeconds ? kMaxLeewaySeconds
                                                                : options.leeway_seconds;
  // Written so that nothing overflows whatever the token says (now is a sane
  // clock reading, leeway is bounded).
  if (c.exp <= now_seconds - leeway) return TokenError(TokenFailure::kExpired, "token expired");
  if (c.nbf && *c.nbf > now_seconds + leeway)
    return TokenError(TokenFailure::kNotYetValid, "token not yet valid");
  if (c.iat > now_seconds + leeway)
    return TokenError(TokenFailure::kIssuedInFuture, "token issued in the future");

  if (!options.issuer.empty() && c.iss != options.issuer)
    return TokenError(TokenFailure::kWrongIssuer, "issuer mismatch");
  if (options.audience) {
    bool found = false;
    for (const std::string& aud : c.aud) found = found || aud == *options.audience;
    if (!found) return TokenError(TokenFailure::kWrongAudience, "audience mismatch");
  }
  if (options.token_use && c.token_use != *options.token_use) {
    return TokenError(TokenFailure::kWrongTokenUse, "token_use mismatch");
  }
  if (options.require_client_id && c.client_id.empty())
    return TokenError(TokenFailure::kMissingClientId, "missing client_id");

  out.kid = std::move(header.kid);
  out.algorithm = *algorithm;
  out.typ = std::move(header.typ);
  return out;
}

Result<std::string> PeekKid(std::string_view token, size_t max_token_bytes) {
  Parts parts;
  LG_ASSIGN_OR_RETURN(Header header, ReadHeader(token, max_token_bytes, &parts));
  return std::move(header.kid);
}

}  // namespace lakegate::jose
