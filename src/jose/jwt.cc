#include "jose/jwt.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "jose/jwk.h"
#include "jose/strict_json.h"
#include "jose/token_failure.h"

namespace lakegate::jose {
namespace {

using nlohmann::json;

// Members of a JWK that only a private key has (RFC 7518 §6.2.2, §6.3.2,
// §6.4; RFC 8037 §2).
constexpr const char* kPrivateJwkMembers[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

Status Malformed() { return TokenError(TokenFailure::kMalformed, "malformed token"); }

Result<json> DecodeObject(std::string_view part) {
  std::optional<std::string> text = Base64UrlDecode(part);
  if (!text) return Malformed();
  json doc;
  bool duplicate = false;
  if (!ParseStrict(*text, &doc, &duplicate)) {
    return duplicate ? TokenError(TokenFailure::kDuplicateMember, "duplicate JSON key")
                     : Malformed();
  }
  if (!doc.is_object()) return Malformed();
  return doc;
}

Status InvalidClaim(std::string_view name) {
  return TokenError(TokenFailure::kInvalidClaim, "invalid claim: " + std::string(name));
}

Status ReadString(const json& claims, const char* name, std::optional<std::string>* out) {
  auto it = claims.find(name);
  if (it == claims.end()) return Status::Ok();
  if (!it->is_string()) return InvalidClaim(name);
  *out = it->get<std::string>();
  return Status::Ok();
}

// A NumericDate (RFC 7519 §2): any JSON number; fractions are dropped.
Status ReadSeconds(const json& claims, const char* name, std::optional<int64_t>* out) {
  auto it = claims.find(name);
  if (it == claims.end()) return Status::Ok();
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() &&
        it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidClaim(name);
    }
    *out = it->get<int64_t>();
    return Status::Ok();
  }
  if (it->is_number_float()) {
    double v = it->get<double>();
    if (!std::isfinite(v) || v <= -9.2e18 || v >= 9.2e18) return InvalidClaim(name);
    *out = static_cast<int64_t>(std::floor(v));
    return Status::Ok();
  }
  return InvalidClaim(name);
}

Result<JwtClaims> ReadClaims(const json& doc) {
  JwtClaims c;
  LG_RETURN_IF_ERROR(ReadString(doc, "iss", &c.iss));
  LG_RETURN_IF_ERROR(ReadString(doc, "sub", &c.sub));
  LG_RETURN_IF_ERROR(ReadString(doc, "jti", &c.jti));
  LG_RETURN_IF_ERROR(ReadString(doc, "htm", &c.htm));
  LG_RETURN_IF_ERROR(ReadString(doc, "htu", &c.htu));
  LG_RETURN_IF_ERROR(ReadString(doc, "ath", &c.ath));
  LG_RETURN_IF_ERROR(ReadString(doc, "nonce", &c.nonce));
  LG_RETURN_IF_ERROR(ReadSeconds(doc, "exp", &c.exp));
  LG_RETURN_IF_ERROR(ReadSeconds(doc, "iat", &c.iat));
  LG_RETURN_IF_ERROR(ReadSeconds(doc, "nbf", &c.nbf));
  if (auto it = doc.find("aud"); it != doc.end()) {
    if (it->is_string()) {
      c.aud.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const json& a : *it) {
        if (!a.is_string()) return InvalidClaim("aud");
        c.aud.push_back(a.get<std::string>());
      }
    } else {
      return InvalidClaim("aud");
    }
  }
  return c;
}

}  // namespace

Result<SignedJwt> ParseSignedJwt(std::string_view token, size_t max_bytes) {
  if (token.size() > max_bytes) return TokenError(TokenFailure::kTooLarge, "token too large");
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Malformed();
  }
  LG_ASSIGN_OR_RETURN(json header, DecodeObject(token.substr(0, first)));
  LG_ASSIGN_OR_RETURN(json payload, DecodeObject(token.substr(first + 1, second - first - 1)));
  std::optional<std::string> signature = Base64UrlDecode(token.substr(second + 1));
  if (!signature) return Malformed();

  SignedJwt jwt;
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return Malformed();
  jwt.alg = alg->get<std::string>();
  if (auto kid = header.find("kid"); kid != header.end()) {
    if (!kid->is_string()) return Malformed();
    jwt.kid = kid->get<std::string>();
  }
  if (auto typ = header.find("typ"); typ != header.end()) {
    if (!typ->is_string()) return Malformed();
    jwt.typ = typ->get<std::string>();
  }
  jwt.crit = header.contains("crit");
  if (auto jwk = header.find("jwk"); jwk != header.end()) {
    if (!jwk->is_object()) return Malformed();
    jwt.has_jwk = true;
    for (const char* member : kPrivateJwkMembers) {
      jwt.jwk_has_private_members = jwt.jwk_has_private_members || jwk->contains(member);
    }
    jwt.jwk = PublicKeyOfJwk(*jwk);
  }
  LG_ASSIGN_OR_RETURN(jwt.claims, ReadClaims(payload));
  jwt.signing_input = std::string(token.substr(0, second));
  jwt.signature = std::move(*signature);
  return jwt;
}

bool VerifySignature(const SignedJwt& jwt, const crypto::PublicKey& key) {
  // The key decides the algorithm; the header only has to agree. This is
  // what keeps "none" and HS256-keyed-with-the-public-key out.
  std::optional<crypto::Algorithm> alg = crypto::ParseAlgorithm(jwt.alg);
  if (!alg || *alg != key.algorithm()) return false;
  return key.Verify(jwt.signing_input, jwt.signature);
}

Result<std::string> MakeDpopProof(const crypto::PrivateKey& key, std::string_view method,
                                  std::string_view url, std::string_view access_token,
                                  std::string_view nonce, int64_t now_seconds) {
  // The public JWK, nothing else: no private member can slip in.
  std::string jwk = jose::JwkToJson({.kid = "", .key = key.Public()});
  std::string header = R"({"typ":"dpop+jwt","alg":")" +
                       std::string(crypto::AlgorithmName(key.algorithm())) + R"(","jwk":)" + jwk +
                       "}";
  std::string_view htu = url.substr(0, url.find_first_of("?#"));
  std::string payload = R"({"jti":)" + JsonQuote(RandomToken(16)) + R"(,"htm":)" +
                        JsonQuote(method) + R"(,"htu":)" + JsonQuote(htu) + R"(,"iat":)" +
                        std::to_string(now_seconds);
  if (!access_token.empty()) {
    payload += R"(,"ath":)" + JsonQuote(Base64UrlEncode(crypto::Sha256(access_token)));
  }
  if (!nonce.empty()) payload += R"(,"nonce":)" + JsonQuote(nonce);
  payload += '}';
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  LG_ASSIGN_OR_RETURN(std::string signature, key.Sign(input));
  return input + "." + Base64UrlEncode(signature);
}

}  // namespace lakegate::jose
