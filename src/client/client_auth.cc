#include "client/client_auth.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/files.h"
#include "common/random.h"
#include "crypto/keys.h"
#include "jose/jws.h"

namespace lakegate::client {

Status ClientSecretBasic::Authenticate(TokenRequest& request) const {
  std::string secret = UrlEncode(secret_.Reveal());
  std::string userpass = UrlEncode(request.client_id) + ":" + secret;
  request.headers.push_back({"Authorization", "Basic " + Base64Encode(userpass)});
  std::fill(secret.begin(), secret.end(), '\0');
  std::fill(userpass.begin(), userpass.end(), '\0');
  return Status::Ok();
}

Status ClientTlsAuth::Authenticate(TokenRequest& request) const {
  request.form.emplace_back("client_id", request.client_id);
  return Status::Ok();
}

namespace {

constexpr int64_t kAssertionLifetimeSeconds = 60;

class PrivateKeyJwt final : public ClientAuthenticator {
 public:
  PrivateKeyJwt(std::string kid, crypto::PrivateKey key, const Clock& clock)
      : signer_(std::move(kid), std::move(key), "JWT"), clock_(clock) {}

  Status Authenticate(TokenRequest& request) const override {
    const int64_t now = clock_.NowSeconds();
    nlohmann::json claims = {{"iss", request.client_id},
                             {"sub", request.client_id},
                             {"aud", request.token_url},
                             {"jti", RandomToken(16)},
                             {"iat", now},
                             {"exp", now + kAssertionLifetimeSeconds}};
    LG_ASSIGN_OR_RETURN(std::string assertion, signer_.SignCompact(claims.dump()));
    request.form.emplace_back("client_assertion_type",
                              "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    request.form.emplace_back("client_assertion", std::move(assertion));
    return Status::Ok();
  }

 private:
  const jose::Signer signer_;
  const Clock& clock_;
};

}  // namespace

Result<KeyFile> ReadKeyFile(const std::string& path) {
  LG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::fill(text.begin(), text.end(), '\0');  // it holds the private key
  auto string_member = [&](const char* name) {
    return doc.is_object() && doc.contains(name) && doc[name].is_string();
  };
  if (!string_member("client_id") || !string_member("kid") || !string_member("private_key_pem")) {
    return InvalidArgumentError("key file " + path +
                                " must be a JSON object with strings \"client_id\", \"kid\" "
                                "and \"private_key_pem\"");
  }
  KeyFile file;
  file.client_id = doc["client_id"].get<std::string>();
  file.kid = doc["kid"].get<std::string>();
  file.private_key_pem = SecretString(doc["private_key_pem"].get<std::string>());
  return file;
}

Result<std::unique_ptr<ClientAuthenticator>> MakePrivateKeyJwt(const KeyFile& key,
                                                               const Clock& clock) {
  for (crypto::Algorithm algorithm :
       {crypto::Algorithm::kES256, crypto::Algorithm::kEdDSA, crypto::Algorithm::kRS256}) {
    Result<crypto::PrivateKey> private_key =
        crypto::PrivateKey::FromPem(algorithm, key.private_key_pem.Reveal());
    if (private_key.ok()) {
      return std::unique_ptr<ClientAuthenticator>(
          std::make_unique<PrivateKeyJwt>(key.kid, std::move(private_key).value(), clock));
    }
  }
  return InvalidArgumentError(
      "private_key_pem is not an unencrypted PKCS#8 EC P-256, Ed25519 or RSA private key");
}

}  // namespace lakegate::client
