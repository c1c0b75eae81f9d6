// Client authentication at the token endpoint (RFC 6749 §2.3): how a client
// proves who it is when it asks for an access token.
//
// Each method is one ClientAuthenticator. The token request (TokenClient)
// builds the grant's form and calls Authenticate(), which adds what the
// method needs: a header (client_secret_basic), form fields (a
// private_key_jwt client assertion, RFC 7523), or nothing beyond client_id
// when the proof is in the TLS handshake (mTLS, RFC 8705, with the client
// certificate in http::ClientOptions). So a new method is one new class.
//
// Thread-safety: authenticators are immutable; any number of threads may use
// one at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/secret_string.h"
#include "common/status.h"
#include "common/strings.h"
#include "http/message.h"

namespace lakegate::client {

// Form fields in the order they are sent (names may repeat).
using FormFields = std::vector<std::pair<std::string, std::string>>;

// A token request being built.
struct TokenRequest {
  std::string token_url;  // where it goes (also the audience of a client assertion)
  std::string client_id;
  FormFields form;                    // grant_type, scope, ...; sent form-urlencoded
  std::vector<http::Header> headers;  // may carry credentials: wiped after sending
};

class ClientAuthenticator {
 public:
  virtual ~ClientAuthenticator() = default;
  // Adds this method's credentials to `request`. A non-OK status (for
  // example a key that cannot sign) stops the request before it is sent.
  virtual Status Authenticate(TokenRequest& request) const = 0;
};

// client_secret_basic: client id and secret, each form-urlencoded first
// (RFC 6749 §2.3.1), in an HTTP Basic Authorization header.
class ClientSecretBasic final : public ClientAuthenticator {
 public:
  explicit ClientSecretBasic(SecretString secret) : secret_(std::move(secret)) {}
  Status Authenticate(TokenRequest& request) const override;

 private:
  const SecretString secret_;
};

// tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2): the proof
// is the certificate presented in the TLS handshake (http::ClientOptions);
// the request carries only client_id in the form.
class ClientTlsAuth final : public ClientAuthenticator {
 public:
  Status Authenticate(TokenRequest& request) const override;
};

// A private_key_jwt client's key file, as `lakegate demo` writes it for
// keyjwt-service: {"client_id", "kid", "private_key_pem"} (PKCS#8 PEM of an
// EC P-256, Ed25519 or RSA key).
struct KeyFile {
  std::string client_id;
  std::string kid;
  SecretString private_key_pem;
};

// Reads a key file. The status of ReadFile when it cannot be read;
// InvalidArgument naming the file when it is not a JSON object with string
// "client_id", "kid" and "private_key_pem".
Result<KeyFile> ReadKeyFile(const std::string& path);

// private_key_jwt (RFC 7523 §2.2): a client assertion signed with the key,
// iss = sub = client_id, aud = the token URL, a fresh random jti, exp one
// minute after iat. The key's algorithm follows its type (ES256, EdDSA,
// RS256). InvalidArgument when the PEM does not hold a usable private key.
// `clock` must outlive the authenticator.
Result<std::unique_ptr<ClientAuthenticator>> MakePrivateKeyJwt(const KeyFile& key,
                                                               const Clock& clock);

}  // namespace lakegate::client
