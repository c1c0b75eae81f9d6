#include "jose/jwk.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/base64url.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "jose/strict_json.h"

namespace lakegate::jose {
namespace {

using crypto::Algorithm;
using nlohmann::json;

// The string member `name`, or nullopt when absent or not a string.
std::optional<std::string_view> StringMember(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return std::string_view(it->get_ref<const std::string&>());
}

// Decodes base64url member `name`; nullopt when absent, not a string or not
// strict base64url.
std::optional<std::string> BinaryMember(const json& object, const char* name) {
  std::optional<std::string_view> text = StringMember(object, name);
  if (!text) return std::nullopt;
  return Base64UrlDecode(*text);
}

// One JWKS entry, or nullopt when it is not a key we can use (skipped).
std::optional<Jwk> ParseKey(const json& entry) {
  if (!entry.is_object()) return std::nullopt;
  std::optional<std::string_view> kid = StringMember(entry, "kid");
  if (!kid || kid->empty()) return std::nullopt;
  std::optional<crypto::PublicKey> key = PublicKeyOfJwk(entry);
  if (!key) return std::nullopt;
  return Jwk{.kid = std::string(*kid), .key = std::move(*key), .use = "sig"};
}

void AppendMember(std::string& out, std::string_view name, std::string_view value) {
  out.push_back('"');
  out.append(name);
  out.append("\":");
  out.push_back('"');
  AppendJsonEscaped(out, value);
  out.push_back('"');
}

}  // namespace

std::optional<crypto::PublicKey> PublicKeyOfJwk(const json& entry) {
  if (!entry.is_object()) return std::nullopt;
  if (entry.contains("use")) {
    std::optional<std::string_view> use = StringMember(entry, "use");
    if (!use || *use != "sig") return std::nullopt;
  }
  std::optional<std::string_view> kty = StringMember(entry, "kty");
  if (!kty) return std::nullopt;

  crypto::PublicKeyParams params;
  if (*kty == "EC") {
    if (StringMember(entry, "crv") != "P-256") return std::nullopt;
    std::optional<std::string> x = BinaryMember(entry, "x");
    std::optional<std::string> y = BinaryMember(entry, "y");
    if (!x || !y) return std::nullopt;
    params = crypto::PublicKeyParams::Es256(std::move(*x), std::move(*y));
  } else if (*kty == "OKP") {
    if (StringMember(entry, "crv") != "Ed25519") return std::nullopt;
    std::optional<std::string> x = BinaryMember(entry, "x");
    if (!x) return std::nullopt;
    params = crypto::PublicKeyParams::EdDsa(std::move(*x));
  } else if (*kty == "RSA") {
    std::optional<std::string> n = BinaryMember(entry, "n");
    std::optional<std::string> e = BinaryMember(entry, "e");
    if (!n || !e) return std::nullopt;
    params = crypto::PublicKeyParams::Rs256(std::move(*n), std::move(*e));
  } else {
    return std::nullopt;
  }
  // An explicit alg must be one we use with this key type ("ES384" on a P-256
  // key is a key we do not support); an RSA key serves RS256, or PS256 when
  // its alg says so.
  if (entry.contains("alg")) {
    std::optional<std::string_view> alg = StringMember(entry, "alg");
    std::optional<Algorithm> named = alg ? crypto::ParseAlgorithm(*alg) : std::nullopt;
    if (!named) return std::nullopt;
    if (crypto::IsRsa(*named) && crypto::IsRsa(params.algorithm)) params.algorithm = *named;
    if (*named != params.algorithm) return std::nullopt;
  }
  Result<crypto::PublicKey> key = crypto::PublicKey::FromParams(params);
  if (!key.ok()) return std::nullopt;
  return std::move(key).value();
}

std::string JwkToJson(const Jwk& jwk) {
  crypto::PublicKeyParams p = jwk.key.Params();
  std::string out = "{";
  switch (p.algorithm) {
    case Algorithm::kES256:
      out += R"("kty":"EC","crv":"P-256",)";
      AppendMember(out, "x", Base64UrlEncode(p.x));
      out += ',';
      AppendMember(out, "y", Base64UrlEncode(p.y));
      break;
    case Algorithm::kEdDSA:
      out += R"("kty":"OKP","crv":"Ed25519",)";
      AppendMember(out, "x", Base64UrlEncode(p.x));
      break;
    case Algorithm::kRS256:
    case Algorithm::kPS256:
      out += R"("kty":"RSA",)";
      AppendMember(out, "n", Base64UrlEncode(p.n));
      out += ',';
      AppendMember(out, "e", Base64UrlEncode(p.e));
      break;
  }
  out += ',';
  AppendMember(out, "kid", jwk.kid);
  out += ',';
  AppendMember(out, "alg", crypto::AlgorithmName(p.algorithm));
  if (!jwk.use.empty()) {
    out += ',';
    AppendMember(out, "use", jwk.use);
  }
  out += '}';
  return out;
}

std::string JwksToJson(const std::vector<Jwk>& jwks) {
  std::string out = R"({"keys":[)";
  for (size_t i = 0; i < jwks.size(); ++i) {
    if (i > 0) out += ',';
    out += JwkToJson(jwks[i]);
  }
  out += "]}";
  return out;
}

std::string Thumbprint(const crypto::PublicKey& key) {
  // RFC 7638 §3.2: only the required members, in lexicographic order, no
  // whitespace. base64url output needs no escaping.
  crypto::PublicKeyParams p = key.Params();
  std::string canonical;
  switch (p.algorithm) {
    case Algorithm::kES256:
      canonical = R"({"crv":"P-256","kty":"EC","x":")" + Base64UrlEncode(p.x) + R"(","y":")" +
                  Base64UrlEncode(p.y) + R"("})";
      break;
    case Algorithm::kEdDSA:  // RFC 8037 §2
      canonical = R"({"crv":"Ed25519","kty":"OKP","x":")" + Base64UrlEncode(p.x) + R"("})";
      break;
    case Algorithm::kRS256:
    case Algorithm::kPS256:
      canonical = R"({"e":")" + Base64UrlEncode(p.e) + R"(","kty":"RSA","n":")" +
                  Base64UrlEncode(p.n) + R"("})";
      break;
  }
  return Base64UrlEncode(crypto::Sha256(canonical));
}

namespace {

// The "keys" array of a JWK Set's text, within the size limits.
Result<json> ParseJwksKeys(std::string_view text) {
  if (text.size() > kMaxJwksBytes) return InvalidArgumentError("JWKS too large");
  json doc;
  bool duplicate = false;
  if (!ParseStrict(text, &doc, &duplicate)) {
    return InvalidArgumentError(duplicate ? "JWKS has a duplicate JSON key"
                                          : "JWKS is not valid JSON");
  }
  if (!doc.is_object()) return InvalidArgumentError("JWKS is not a JSON object");
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) return InvalidArgumentError("JWKS has no keys array");
  if (keys->size() > kMaxJwksKeys) return InvalidArgumentError("JWKS has too many keys");
  return std::move(*keys);
}

}  // namespace

Result<std::vector<Jwk>> ParseJwks(std::string_view text) {
  LG_ASSIGN_OR_RETURN(json keys, ParseJwksKeys(text));
  std::vector<Jwk> out;
  for (const json& entry : keys) {
    if (std::optional<Jwk> jwk = ParseKey(entry)) out.push_back(std::move(*jwk));
  }
  return out;
}

Result<std::vector<std::string>> JwksCertificates(std::string_view text) {
  LG_ASSIGN_OR_RETURN(json keys, ParseJwksKeys(text));
  std::vector<std::string> out;
  for (const json& entry : keys) {
    if (!entry.is_object()) return InvalidArgumentError("a JWKS key is not a JSON object");
    auto x5c = entry.find("x5c");
    if (x5c == entry.end()) continue;
    // RFC 7517 §4.7: an array of base64 (not base64url) DER certificates,
    // the key's own first.
    if (!x5c->is_array() || x5c->empty() || !(*x5c)[0].is_string()) {
      return InvalidArgumentError("x5c must be a non-empty array of base64 DER certificates");
    }
    std::optional<std::string> der = Base64Decode((*x5c)[0].get<std::string>());
    if (!der || der->empty()) return InvalidArgumentError("x5c[0] is not base64");
    out.push_back(std::move(*der));
  }
  return out;
}

KeySet::KeySet(std::vector<Jwk> keys) {
  keys_.reserve(keys.size());
  for (Jwk& jwk : keys) {
    if (Find(jwk.kid) == nullptr) keys_.push_back(std::move(jwk));
  }
}

const Jwk* KeySet::Find(std::string_view kid) const {
  // Key sets are small (a handful, at most kMaxJwksKeys): a scan beats a map.
  for (const Jwk& jwk : keys_) {
    if (jwk.kid == kid) return &jwk;
  }
  return nullptr;
}

}  // namespace lakegate::jose
